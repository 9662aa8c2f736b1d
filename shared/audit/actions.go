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
	GroupCreate = "group.create"
	GroupUpdate = "group.update"
	GroupDelete = "group.delete"
	LabelCreate = "label.create"
	LabelUpdate = "label.update"
	LabelDelete = "label.delete"
	LabelAdd    = "label.add"
	LabelRemove = "label.remove"

	// Department settings.
	SettingsUpdate = "department.update"

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

	// Views of patient data (staff or patient: ActorKind tells).
	StudyView        = "study.view"
	SeriesView       = "series.view"
	ReportView       = "report.view"
	StudyDownload    = "study.download"
	InstanceDownload = "instance.download"

	// Machines and the command line.
	DICOMImport  = "dicom.import"
	DICOMStow    = "dicom.stow"
	ReportUpload = "report.upload"
)
