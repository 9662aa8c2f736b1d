package dicom_test

import (
	"bytes"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// ReadMeta reports Burned In Annotation as YES, NO or "" (absent), whatever
// the case, and reads a value stored with VR UN (PS3.5 6.2.2) as the CS it
// is; any other value counts as YES.
func TestReadMetaBurnedIn(t *testing.T) {
	const head = "(0008,0016) UI =UltrasoundImageStorage\n(0008,0018) UI [1.2.3.4]\n(0008,0060) CS [US]\n" +
		"(0020,000d) UI [1.2.3]\n(0020,000e) UI [1.2.3.5]\n"
	for _, tc := range []struct{ name, elem, want string }{
		{"absent", "", ""},
		{"yes", "(0028,0301) CS [YES]\n", "YES"},
		{"no", "(0028,0301) CS [NO]\n", "NO"},
		{"lowercase", "(0028,0301) CS [no]\n", "NO"},
		{"empty", "(0028,0301) CS (no value available)\n", ""},
		{"other", "(0028,0301) CS [MAYBE]\n", "YES"},
		{"un-yes", "(0028,0301) UN 59\\45\\53\\20\n", "YES"},
		{"un-no", "(0028,0301) UN 4e\\4f\n", "NO"},
		// Recognizable Visual Features YES (a face) identifies like burned-in text.
		{"face, text no", "(0028,0301) CS [NO]\n(0028,0302) CS [YES]\n", "YES"},
		{"face, text absent", "(0028,0302) CS [YES]\n", "YES"},
		{"no face, text no", "(0028,0301) CS [NO]\n(0028,0302) CS [NO]\n", "NO"},
		{"no face, text absent", "(0028,0302) CS [NO]\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := dicomtest.FromDump(t, head+tc.elem, "+te")
			m, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if m.BurnedIn != tc.want {
				t.Fatalf("BurnedIn %q, want %q", m.BurnedIn, tc.want)
			}
		})
	}
}

// The classes where a missing Burned In Annotation means "maybe".
func TestBurnedInLikely(t *testing.T) {
	for uid, want := range map[string]bool{
		"1.2.840.10008.5.1.4.1.1.7":        true,  // Secondary Capture
		"1.2.840.10008.5.1.4.1.1.7.4":      true,  // Multi-frame True Color SC
		"1.2.840.10008.5.1.4.1.1.6.1":      true,  // US
		"1.2.840.10008.5.1.4.1.1.3.1":      true,  // US multi-frame
		"1.2.840.10008.5.1.4.1.1.77.1.1.1": true,  // Video Endoscopic
		"1.2.840.10008.5.1.4.1.1.104.1":    true,  // Encapsulated PDF
		"":                                 true,  // unknown
		"1.2.840.10008.5.1.4.1.1.2":        false, // CT
		"1.2.840.10008.5.1.4.1.1.4":        false, // MR
		"1.2.840.10008.5.1.4.1.1.1":        false, // CR
		"1.2.840.10008.5.1.4.1.1.128":      false, // PET
	} {
		if got := rd.BurnedInLikely(uid); got != want {
			t.Errorf("BurnedInLikely(%q) = %v, want %v", uid, got, want)
		}
	}
}
