package dicom_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// TestMixedFolder: every kind of file a PACS or an old CD carries is read
// (dcmtk reads it too), images render to pictures, objects without pixel
// data to the "no preview for this kind of object" placeholder.
func TestMixedFolder(t *testing.T) {
	dir := t.TempDir()
	id := dicomtest.Ident{PatientID: "MIX1", PatientName: "Mixed^Kinds", StudyUID: "1.2.826.0.1.77", SeriesUID: "1.2.826.0.1.77.1"}
	names := dicomtest.MixedFolder(t, dir, id)
	st, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &rd.Renderer{Store: st}
	orig := dicomtest.Image(id, "", 1)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			dcmdump(t, b)
			m, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("ReadMeta: %v", err)
			}
			if m.PatientID != id.PatientID || m.StudyUID != id.StudyUID {
				t.Fatalf("patient %q study %q", m.PatientID, m.StudyUID)
			}
			key, _, _, err := st.Put(context.Background(), bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Render(context.Background(), rd.Request{StorageKey: key, Size: 64, PNG: true, Lang: "en"})
			if err != nil {
				t.Fatal(err)
			}
			image := !strings.HasPrefix(m.SOPClassUID, "1.2.840.10008.5.1.4.1.1.88.") && m.Modality != "RTSTRUCT" && m.Modality != "ECG"
			if res.Unavailable == image {
				t.Fatalf("placeholder %v for an image %v", res.Unavailable, image)
			}
			if !image {
				if !bytes.Equal(res.Data, rd.NoPixels("en", 64)) {
					t.Fatal("not the no-pixels placeholder")
				}
				if _, err := rd.Decode(bytes.NewReader(b), int64(len(b))); !errors.Is(err, rd.ErrNoPreview) {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if _, err := png.Decode(bytes.NewReader(res.Data)); err != nil {
				t.Fatal(err)
			}
			im, got := decodeAll(t, b)
			tol := 0
			switch im.Meta.TransferSyntax {
			case "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.91":
				tol = 200 // lossy at 12 bits: checked closely in TestCodecsNoRace
			case "1.2.840.10008.1.2.4.81":
				tol = 2 // dcmcjpls NEAR default
			}
			if d := maxDiff(t, got[0], want(orig, 0)); d > tol {
				t.Fatalf("%s: pixels differ by %d (allowed %d)", im.Meta.TransferSyntax, d, tol)
			}
		})
	}
}
