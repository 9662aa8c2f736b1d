// Package studies answers the staff study list: search, filters, department
// scoping and keyset pagination over (sort date, id), newest first. It is kept
// apart from the handler so the benchmark can call Search directly.
//
// study.go holds the types, search.go the entry points, plan.go picks how the
// main query finds its rows (the strategies and their thresholds), query.go
// builds the SQL, cursor.go encodes the keyset position, labels.go loads a
// row's labels and selection.go checks a carried selection.
package studies

import (
	"time"

	"github.com/radpass/radpass/shared/database"
)

// PageSize is the number of studies on one page of the list.
const PageSize = 50

// MaxQueryLen bounds the search text (longer input is cut, never an error).
const MaxQueryLen = 100

// Report filter values.
const (
	ReportAny = ""
	ReportYes = "yes"
	ReportNo  = "no"
)

// Modalities offered in the modality filter.
var Modalities = []string{"CR", "CT", "DX", "MG", "MR", "NM", "OT", "PT", "RF", "US", "XA"}

// Filter is what the user asked for. Zero values mean "no filter".
type Filter struct {
	Query        string     // patient name (partial, folded), patient ID or accession
	From, To     *time.Time // study date range, inclusive
	Modality     string
	Report       string // ReportAny, ReportYes, ReportNo
	DepartmentID int64  // service desk only; ignored for department users
	After        string // cursor: rows after this one (next page)
	Before       string // cursor: rows before this one (previous page)
	Limit        int    // 0 = PageSize
	// LabelIDs ("Contains labels"): only studies carrying one of these
	// labels for the user or one of their groups.
	LabelIDs []int64

	viewer int64 // the user whose labels count (set by find)
}

// MaxLabels bounds the labels one filter names.
const MaxLabels = 10

// Label is a label shown on a study row.
type Label struct {
	ID        int64  `bun:"id"` // the study_labels row (to take it off)
	StudyID   int64  `bun:"study_id"`
	LabelID   int64  `bun:"label_id"`
	Name      string `bun:"name"`
	Color     string `bun:"color"`
	GroupName string `bun:"group_name"` // "" when set for the user
}

// Row is one line of the study list.
type Row struct {
	ID             int64      `bun:"id"`
	DepartmentID   int64      `bun:"department_id"`
	DepartmentName string     `bun:"department_name"`
	PatientRowID   int64      `bun:"patient_row_id"`
	PatientID      string     `bun:"patient_id"`
	FamilyName     string     `bun:"family_name"`
	GivenName      string     `bun:"given_name"`
	BirthDate      *time.Time `bun:"birth_date,type:date"`
	StudyDate      *time.Time `bun:"study_date,type:date"`
	Modalities     []string   `bun:"modalities,array"`
	Description    string     `bun:"description"`
	Accession      string     `bun:"accession"`
	NumInstances   int        `bun:"num_instances"`
	ReportStatus   string     `bun:"report_status"`
	Labels         []Label    `bun:"-"`
}

// PatientName is "FAMILY, Given" as the list shows it.
func (r Row) PatientName() string {
	p := database.Patient{FamilyName: r.FamilyName, GivenName: r.GivenName}
	return p.DisplayName()
}

// Page is one page of results; Next/Prev are cursors ("" when there is none).
type Page struct {
	Rows       []Row
	Next, Prev string
}
