// Package studylist holds the staff study list (list.go) with its label
// chips (labels.go), the study page (study.go) with its access section and
// the access CSV for a patient's request (access_csv.go), rendered images
// (image.go), the DICOM download of one instance (instance_download.go)
// and the PDF report (report.go).
package studylist

import "github.com/radpass/radpass/staff/staffweb"

// Handlers are the studylist handlers, over the services all staff pages share.
type Handlers struct{ *staffweb.Deps }
