package audit

// Every audit action is named "domain.verb", listed here once so the audit
// page can filter on them and no two spellings of one action exist.
const (
	// Staff accounts.
	SignIn      = "staff.signin"
	SignInFail  = "staff.signin_fail"
	SignInLock  = "staff.signin_locked"
	SignOut     = "staff.signout"
	UserCreated = "user.create"
	UserUpdate  = "user.update"
	UserDisable = "user.disable"
	UserEnable  = "user.enable"
	UserReset   = "user.password_reset"
	// UserPasswordChange is a user choosing a new password (after a reset).
	UserPasswordChange = "user.password_change"
	GroupMemberAdd     = "group.member_add"
	GroupMemberRemove  = "group.member_remove"
	GroupCreate        = "group.create"
	GroupUpdate        = "group.update"
	GroupDelete        = "group.delete"
	LabelCreate        = "label.create"
	LabelUpdate        = "label.update"
	LabelDelete        = "label.delete"
	LabelAdd           = "label.add"
	LabelRemove        = "label.remove"

	// Department settings.
	SettingsUpdate = "department.update"
	LogoUpdate     = "department.logo_update"
	LogoDelete     = "department.logo_delete"

	// The audit trail itself: a CSV export is recorded with its filter.
	AuditExport = "audit.export"
	// StudyAccessExport: a study's access log exported (a patient's GDPR request).
	StudyAccessExport = "study.access_export"

	// Buckets (what a reference number opens).
	BucketPrint       = "bucket.print"
	BucketLetter      = "bucket.letter"
	BucketUnlock      = "bucket.unlock"
	BucketRevoke      = "bucket.revoke"
	BucketExtend      = "bucket.extend"
	BucketRemoveStudy = "bucket.remove_study"
	BucketBlock       = "bucket.block"

	// Patient side.
	PatientSignIn     = "patient.signin"
	PatientSignInFail = "patient.signin_fail"
	PatientOTPSend    = "patient.otp_send"
	PatientOTPFail    = "patient.otp_fail"
	PatientSignOut    = "patient.signout"

	// Shares with a doctor (shared/buckets/share*.go).
	ShareCreate   = "share.create"
	ShareSend     = "share.send" // the link or a code sent to the doctor (channel, kind, outcome)
	ShareOpen     = "share.open" // the doctor's right code
	ShareCodeFail = "share.code_fail"
	ShareBlock    = "share.block"
	ShareRevoke   = "share.revoke"

	// Views of patient data (staff or patient: ActorKind tells).
	StudyView        = "study.view"
	SeriesView       = "series.view"
	ReportView       = "report.view"
	StudyDownload    = "study.download"
	InstanceDownload = "instance.download"

	// Keeping the patient informed (shared/informed, issue 17).
	NoticeReadySent  = "notice.ready_sent"  // a "result ready" message went out
	NoticeDeviceSent = "notice.device_sent" // a new-device alert went out
	NoticeAlertSet   = "notice.alert_set"   // the patient switched the alert on or off
	// Viewer links (DICOMweb per access).
	LinkCreate = "link.create"
	LinkRevoke = "link.revoke"

	// Machines and the command line.
	DICOMImport  = "dicom.import"
	DICOMStow    = "dicom.stow"
	ReportUpload = "report.upload"
)

// Actions lists every action, in the order the audit page offers them.
var Actions = []string{
	SignIn, SignInFail, SignInLock, SignOut,
	UserCreated, UserUpdate, UserDisable, UserEnable, UserReset, UserPasswordChange,
	GroupCreate, GroupUpdate, GroupDelete, GroupMemberAdd, GroupMemberRemove,
	LabelCreate, LabelUpdate, LabelDelete, LabelAdd, LabelRemove,
	SettingsUpdate, LogoUpdate, LogoDelete, AuditExport, StudyAccessExport,
	BucketPrint, BucketLetter, BucketUnlock, BucketRevoke, BucketExtend, BucketRemoveStudy, BucketBlock,
	PatientSignIn, PatientSignInFail, PatientOTPSend, PatientOTPFail, PatientSignOut,
	ShareCreate, ShareSend, ShareOpen, ShareCodeFail, ShareBlock, ShareRevoke,
	StudyView, SeriesView, ReportView, StudyDownload, InstanceDownload,
	LinkCreate, LinkRevoke,
	DICOMImport, DICOMStow, ReportUpload,
	NoticeReadySent, NoticeDeviceSent, NoticeAlertSet,
}

// KnownAction reports whether a is one of Actions.
func KnownAction(a string) bool {
	for _, x := range Actions {
		if x == a {
			return true
		}
	}
	return false
}
