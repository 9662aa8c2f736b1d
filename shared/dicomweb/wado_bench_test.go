package dicomweb_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

const benchStudyUID = "2.25.4712000000000000000000000000000001"

// BenchmarkWADOStudy100 retrieves a study of 100 instances (the 1 MB
// two-frame CT sample, 100 MB in all) by WADO-RS through a viewer link and
// from Orthanc's DICOMweb plugin holding the same files, in the same run:
// MB/s of the whole study, and the time to the first frame (the first
// instance's frame 1, as a viewer asks for it first).
//
//	go test -run '^$' -bench WADOStudy100 -benchtime 5x ./shared/dicomweb/
func BenchmarkWADOStudy100(b *testing.B) {
	testtool.Need(b, "dcmodify")
	o := startOrthanc(b)
	srv := testserver.New(b)
	d := testserver.MustDepartment(b, srv.DB, "NORTH")
	u := testserver.MustUser(b, srv.DB, "ann", database.RoleStaff, d)
	dir, err := dicom.SampleDir()
	if err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "5.dcm"))
	if err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	var paths []string
	for i := range 100 {
		p := filepath.Join(out, strconv.Itoa(i)+".dcm")
		if err := os.WriteFile(p, src, 0o644); err != nil {
			b.Fatal(err)
		}
		if out, err := exec.Command("dcmodify", "-nb", "-i", "(0008,0018)=2.25.47120000000000000000000000001"+strconv.Itoa(1000+i),
			"-i", "(0020,000D)="+benchStudyUID, "-i", "(0020,000E)=2.25.47120000000000000000000000000002",
			"-i", "(0020,0013)="+strconv.Itoa(i+1), "-i", "(0010,0020)=PIDBENCH", "-i", "(0010,0030)=19610309", p).CombinedOutput(); err != nil {
			b.Fatalf("dcmodify: %v\n%s", err, out)
		}
		paths = append(paths, p)
		f, _ := os.ReadFile(p)
		req, _ := http.NewRequest(http.MethodPost, o+"/instances", bytes.NewReader(f))
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("upload to Orthanc: %v %v", err, res)
		}
		res.Body.Close()
	}
	studyID := srv.MustImportStudy(b, d, paths, benchStudyUID)
	_, n := srv.MustBucket(b, u, []*database.Study{{ID: studyID}}, testserver.BucketSpec{Language: "en"})
	link := createLink(b, signIn(b, srv, n))
	first := "/studies/" + benchStudyUID + "/series/2.25.47120000000000000000000000000002/instances/2.25.471200000000000000000000000011000/frames/1"

	for _, s := range []struct{ name, base string }{{"radpass", link}, {"orthanc", o + "/dicom-web"}} {
		b.Run(s.name, func(b *testing.B) {
			var bytesRead int64
			var ttff, whole time.Duration
			for b.Loop() {
				start := time.Now()
				get(b, s.base+first, `multipart/related; type="application/octet-stream"; transfer-syntax=*`)
				ttff += time.Since(start)
				start = time.Now()
				bytesRead += get(b, s.base+"/studies/"+benchStudyUID, `multipart/related; type="application/dicom"; transfer-syntax=*`)
				whole += time.Since(start)
			}
			b.ReportMetric(float64(bytesRead)/whole.Seconds()/1e6, "MB/s")
			b.ReportMetric(float64(ttff.Milliseconds())/float64(b.N), "ms-first-frame")
		})
	}
}

// get reads u's whole answer and returns its size.
func get(b *testing.B, u, accept string) int64 {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
	}
	return n
}
