package staffweb

import (
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
)

// DICOMDeps is what the study detail, image and download handlers need.
type DICOMDeps struct {
	Store    storage.Store
	Renderer *dicom.Renderer
}
