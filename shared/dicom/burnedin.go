package dicom

import (
	"strings"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// burnedIn reads whether the file says its pixels identify the patient:
// "YES" when Burned In Annotation (0028,0301) or Recognizable Visual
// Features (0028,0302, a face in a photograph or a 3D rendering) says so,
// else Burned In Annotation as "NO" or "" (absent or empty). A value stored
// with VR UN (PS3.5 6.2.2) is read as the CS it is. Any other non-empty
// value counts as "YES": the attributes are about the patient's privacy,
// and only NO says the pixels are clean.
func burnedIn(ds dcm.Dataset) string {
	if yesNo(ds, tag.RecognizableVisualFeatures) == "YES" {
		return "YES"
	}
	return yesNo(ds, tag.BurnedInAnnotation)
}

// yesNo reads a YES/NO attribute as "YES", "NO" or "" (absent or empty);
// any other value is "YES".
func yesNo(ds dcm.Dataset, t tag.Tag) string {
	e, err := ds.FindElementByTag(t)
	if err != nil || e.Value == nil {
		return ""
	}
	var v string
	switch x := e.Value.GetValue().(type) {
	case []string:
		v = strings.Join(x, `\`)
	case []byte:
		v = string(x)
	}
	switch v = strings.ToUpper(strings.Trim(v, " \x00")); v {
	case "", "NO":
		return v
	}
	return "YES"
}

// burnedInClasses are the SOP classes whose pixels often carry burned-in
// text (names, dates, IDs typed or captured into the picture): PS3.15 E.3.1
// Note 1 ("Ultrasound images routinely do", CT normally not), and the
// classes made from screens, cameras and video, where the picture is
// whatever was on screen or in front of the lens. Names per PS3.6 Table A-1.
var burnedInClasses = map[string]bool{
	// Secondary Capture, single and multi-frame: screen captures, scanned
	// documents, exported views with their overlays.
	"1.2.840.10008.5.1.4.1.1.7":   true, // Secondary Capture Image
	"1.2.840.10008.5.1.4.1.1.7.1": true, // Multi-frame Single Bit Secondary Capture
	"1.2.840.10008.5.1.4.1.1.7.2": true, // Multi-frame Grayscale Byte Secondary Capture
	"1.2.840.10008.5.1.4.1.1.7.3": true, // Multi-frame Grayscale Word Secondary Capture
	"1.2.840.10008.5.1.4.1.1.7.4": true, // Multi-frame True Color Secondary Capture
	// Ultrasound, current and retired, single and multi-frame.
	"1.2.840.10008.5.1.4.1.1.6":   true, // Ultrasound Image (Retired)
	"1.2.840.10008.5.1.4.1.1.6.1": true, // Ultrasound Image
	"1.2.840.10008.5.1.4.1.1.6.2": true, // Enhanced US Volume
	"1.2.840.10008.5.1.4.1.1.6.3": true, // Photoacoustic Image
	"1.2.840.10008.5.1.4.1.1.3":   true, // Ultrasound Multi-frame Image (Retired)
	"1.2.840.10008.5.1.4.1.1.3.1": true, // Ultrasound Multi-frame Image
	// Visible light: endoscopy, microscopy, photography, ophthalmology, video.
	"1.2.840.10008.5.1.4.1.1.77.1.1":   true, // VL Endoscopic Image
	"1.2.840.10008.5.1.4.1.1.77.1.1.1": true, // Video Endoscopic Image
	"1.2.840.10008.5.1.4.1.1.77.1.2":   true, // VL Microscopic Image
	"1.2.840.10008.5.1.4.1.1.77.1.2.1": true, // Video Microscopic Image
	"1.2.840.10008.5.1.4.1.1.77.1.3":   true, // VL Slide-Coordinates Microscopic Image
	"1.2.840.10008.5.1.4.1.1.77.1.4":   true, // VL Photographic Image
	"1.2.840.10008.5.1.4.1.1.77.1.4.1": true, // Video Photographic Image
	"1.2.840.10008.5.1.4.1.1.77.1.5.1": true, // Ophthalmic Photography 8 Bit Image
	"1.2.840.10008.5.1.4.1.1.77.1.5.2": true, // Ophthalmic Photography 16 Bit Image
	"1.2.840.10008.5.1.4.1.1.77.1.5.4": true, // Ophthalmic Tomography Image
	"1.2.840.10008.5.1.4.1.1.77.1.6":   true, // VL Whole Slide Microscopy Image (slide labels)
	"1.2.840.10008.5.1.4.1.1.77.1.7":   true, // Dermoscopic Photography Image
	// Encapsulated documents: the document is the picture (Burned In
	// Annotation is type 1 in their module).
	"1.2.840.10008.5.1.4.1.1.104.1": true, // Encapsulated PDF
	"1.2.840.10008.5.1.4.1.1.104.2": true, // Encapsulated CDA
}

// BurnedInLikely reports whether instances of SOP class uid often carry
// burned-in text, so that a missing Burned In Annotation means "maybe". An
// unknown (empty) class counts as likely: nothing says otherwise.
func BurnedInLikely(sopClassUID string) bool {
	uid := strings.Trim(sopClassUID, " \x00")
	return uid == "" || burnedInClasses[uid]
}
