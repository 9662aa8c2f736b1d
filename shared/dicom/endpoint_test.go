package dicom_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/radpass/radpass/shared/database"
	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// TestEndpointRendersEverySyntax imports one image per transfer syntax (and
// the non-image objects) into the real app and fetches each through the
// staff image endpoint: a picture for every image, the "no preview for
// this kind of object" placeholder for the others.
func TestEndpointRendersEverySyntax(t *testing.T) {
	srv := testserver.New(t)
	dept := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, dept)
	st, err := storage.NewFS(filepath.Join(srv.Config.DataDir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	id := dicomtest.Ident{PatientID: "EP1", PatientName: "Endpoint^Test", StudyUID: "1.2.826.0.1.79", SeriesUID: "1.2.826.0.1.79.1"}
	names := dicomtest.MixedFolder(t, dir, id)
	im := &ingest.Importer{DB: srv.DB, Store: st, DepartmentID: dept.ID}
	sum, err := im.ImportPaths(context.Background(), []string{dir}, nil)
	if err != nil || sum.Instances != len(names) {
		t.Fatalf("import: %+v %v", sum, err)
	}
	var rows []struct {
		ID       int64  `bun:"id"`
		SOPUID   string `bun:"sop_uid"`
		Modality string `bun:"modality"`
	}
	if err := srv.DB.NewRaw(`SELECT i.id, i.sop_uid, se.modality FROM instances i JOIN series se ON se.id = i.series_id`).
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(names) {
		t.Fatalf("%d instances, want %d", len(rows), len(names))
	}
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	images := 0
	for _, r := range rows {
		res, body := c.Get(fmt.Sprintf("/staff/images/%d?size=64&fmt=png", r.ID))
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s", r.SOPUID, res.StatusCode, res.Header.Get("Content-Type"))
		}
		switch r.Modality {
		case "SR", "RTSTRUCT", "ECG":
			if !bytes.Equal([]byte(body), rd.NoPixels("en", 64)) {
				t.Errorf("%s (%s): not the no-pixels placeholder", r.SOPUID, r.Modality)
			}
			continue
		}
		images++
		if bytes.Equal([]byte(body), rd.Unavailable("en", 64)) || bytes.Equal([]byte(body), rd.NoPixels("en", 64)) {
			t.Errorf("%s: placeholder instead of the image", r.SOPUID)
			continue
		}
		img, err := png.Decode(bytes.NewReader([]byte(body)))
		if err != nil || img.Bounds().Dx() != 64 {
			t.Errorf("%s: %v %v", r.SOPUID, err, img)
		}
	}
	if images != len(dicomtest.Syntaxes)+2 {
		t.Fatalf("%d images, want %d", images, len(dicomtest.Syntaxes)+2)
	}
}
