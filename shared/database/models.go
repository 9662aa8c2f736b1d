package database

import (
	"time"

	"github.com/uptrace/bun"
)

// Roles of staff users.
const (
	RoleStaff       = "staff"
	RoleAdmin       = "admin"
	RoleServiceDesk = "servicedesk"
)

// Department is a sending radiology department.
type Department struct {
	bun.BaseModel `bun:"table:departments"`

	ID                  int64   `bun:"id,pk,autoincrement"`
	Code                string  `bun:"code"`
	Name                string  `bun:"name"`
	Address             string  `bun:"address"`
	Phone               string  `bun:"phone"`
	Email               string  `bun:"email"`
	Contact             string  `bun:"contact"`
	DefaultValidityN    int     `bun:"default_validity_n"`
	DefaultValidityUnit string  `bun:"default_validity_unit"`
	MaxValidityN        *int    `bun:"max_validity_n"`
	MaxValidityUnit     *string `bun:"max_validity_unit"`
	// SMSPrefixes are the country calling codes (digits, no "+") an OTP SMS
	// may go to; SMSSender is Vonage's "from" ("" = the server default);
	// Verifications are the types staff may choose (sms, email, dob). The
	// letter logo is in DepartmentLogo (LoadLogo).
	SMSPrefixes   []string  `bun:"sms_prefixes,array,nullzero"`
	SMSSender     string    `bun:"sms_sender"`
	Verifications []string  `bun:"verifications,array,nullzero"`
	CreatedAt     time.Time `bun:"created_at,nullzero,default:now()"`
}

// AllowsVerification reports whether staff may choose verification type v.
func (d *Department) AllowsVerification(v string) bool {
	for _, x := range d.Verifications {
		if x == v {
			return true
		}
	}
	return false
}

// AllowsSMSPrefix reports whether an SMS may go to country calling code cc
// (digits, without "+").
func (d *Department) AllowsSMSPrefix(cc string) bool {
	for _, x := range d.SMSPrefixes {
		if x == cc {
			return true
		}
	}
	return false
}

// User is a staff member, department admin or service desk user.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64       `bun:"id,pk,autoincrement"`
	DepartmentID *int64      `bun:"department_id"`
	Department   *Department `bun:"rel:belongs-to,join:department_id=id"`
	Username     string      `bun:"username"`
	DisplayName  string      `bun:"display_name"`
	Email        string      `bun:"email"`
	Role         string      `bun:"role"`
	Language     string      `bun:"language"`
	PasswordHash string      `bun:"password_hash"`
	Disabled     bool        `bun:"disabled"`
	// MustChangePassword sends the user to the change-password page at the
	// next sign-in, before anything else (set by a password reset).
	MustChangePassword bool      `bun:"must_change_password"`
	CreatedAt          time.Time `bun:"created_at,nullzero,default:now()"`
}

// IsServiceDesk reports a user who works across all departments.
func (u *User) IsServiceDesk() bool { return u.Role == RoleServiceDesk }

// IsAdmin reports a department admin.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// CanSeeDepartment is the one rule for staff scoping: own department, or all for the service desk.
func (u *User) CanSeeDepartment(id int64) bool {
	return u.IsServiceDesk() || (u.DepartmentID != nil && *u.DepartmentID == id)
}

// Group is a named set of users of one department (labels can target a group).
type Group struct {
	bun.BaseModel `bun:"table:groups"`

	ID           int64  `bun:"id,pk,autoincrement"`
	DepartmentID int64  `bun:"department_id"`
	Name         string `bun:"name"`
}

// GroupMember links a user to a group.
type GroupMember struct {
	bun.BaseModel `bun:"table:group_members"`

	GroupID int64 `bun:"group_id,pk"`
	UserID  int64 `bun:"user_id,pk"`
}

// Patient as known from DICOM, per department.
type Patient struct {
	bun.BaseModel `bun:"table:patients"`

	ID           int64      `bun:"id,pk,autoincrement"`
	DepartmentID int64      `bun:"department_id"`
	PatientID    string     `bun:"patient_id"`
	FamilyName   string     `bun:"family_name"`
	GivenName    string     `bun:"given_name"`
	MiddleName   string     `bun:"middle_name"`
	NamePrefix   string     `bun:"name_prefix"`
	NameSuffix   string     `bun:"name_suffix"`
	BirthDate    *time.Time `bun:"birth_date,type:date"`
	Sex          string     `bun:"sex"`
	CreatedAt    time.Time  `bun:"created_at,nullzero,default:now()"`
}

// DisplayName is "FAMILY, Given" as radiology lists show it.
func (p *Patient) DisplayName() string {
	switch {
	case p.FamilyName == "":
		return p.GivenName
	case p.GivenName == "":
		return p.FamilyName
	}
	return p.FamilyName + ", " + p.GivenName
}

// Study is one DICOM study of one patient in one department.
type Study struct {
	bun.BaseModel `bun:"table:studies"`

	ID                 int64       `bun:"id,pk,autoincrement"`
	DepartmentID       int64       `bun:"department_id"`
	Department         *Department `bun:"rel:belongs-to,join:department_id=id"`
	PatientID          int64       `bun:"patient_id"`
	Patient            *Patient    `bun:"rel:belongs-to,join:patient_id=id"`
	StudyUID           string      `bun:"study_uid"`
	StudyDate          *time.Time  `bun:"study_date,type:date"`
	StudyTime          string      `bun:"study_time"`
	Accession          string      `bun:"accession"`
	Description        string      `bun:"description"`
	Modalities         []string    `bun:"modalities,array"`
	ReferringPhysician string      `bun:"referring_physician"`
	NumSeries          int         `bun:"num_series"`
	NumInstances       int         `bun:"num_instances"`
	ReportText         string      `bun:"report_text"`
	ReportPDFKey       string      `bun:"report_pdf_key"`
	ReportStatus       string      `bun:"report_status"`
	ReportAvailableAt  *time.Time  `bun:"report_available_at"`
	CreatedAt          time.Time   `bun:"created_at,nullzero,default:now()"`
}

// Series is one DICOM series.
type Series struct {
	bun.BaseModel `bun:"table:series"`

	ID           int64  `bun:"id,pk,autoincrement"`
	StudyID      int64  `bun:"study_id"`
	SeriesUID    string `bun:"series_uid"`
	Modality     string `bun:"modality"`
	Number       *int   `bun:"number"`
	Description  string `bun:"description"`
	BodyPart     string `bun:"body_part"`
	NumInstances int    `bun:"num_instances"`
}

// Instance is one stored DICOM object.
type Instance struct {
	bun.BaseModel `bun:"table:instances"`

	ID             int64  `bun:"id,pk,autoincrement"`
	SeriesID       int64  `bun:"series_id"`
	SOPUID         string `bun:"sop_uid"`
	SOPClassUID    string `bun:"sop_class_uid"`
	Number         *int   `bun:"number"`
	Rows           int    `bun:"rows"`
	Columns        int    `bun:"columns"`
	Frames         int    `bun:"frames"`
	TransferSyntax string `bun:"transfer_syntax"`
	BitsAllocated  int    `bun:"bits_allocated"`
	BitsStored     int    `bun:"bits_stored"`
	Photometric    string `bun:"photometric"`
	WindowCenter   string `bun:"window_center"`
	WindowWidth    string `bun:"window_width"`
	StorageKey     string `bun:"storage_key"`
	SizeBytes      int64  `bun:"size_bytes"`
	// BurnedIn is Burned In Annotation (0028,0301) as the file states it
	// ("YES", "NO", "" absent); nil: not read yet (see buckets.LeftOut).
	BurnedIn  *string   `bun:"burned_in"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
}

// Label is a department's named tag.
type Label struct {
	bun.BaseModel `bun:"table:labels"`

	ID           int64  `bun:"id,pk,autoincrement"`
	DepartmentID int64  `bun:"department_id"`
	Name         string `bun:"name"`
	Color        string `bun:"color"`
}

// StudyLabel puts a label on a study for a user or a group.
type StudyLabel struct {
	bun.BaseModel `bun:"table:study_labels"`

	ID        int64     `bun:"id,pk,autoincrement"`
	StudyID   int64     `bun:"study_id"`
	LabelID   int64     `bun:"label_id"`
	UserID    *int64    `bun:"user_id"`
	GroupID   *int64    `bun:"group_id"`
	CreatedBy *int64    `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
}
