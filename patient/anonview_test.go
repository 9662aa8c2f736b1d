package patient_test

import (
	"archive/zip"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// burnCase is one file built from a real sample with dcmodify: its SOP
// class, modality, Burned In Annotation ("" = absent) and whether an
// anonymized bucket must not see it.
type burnCase struct {
	name, class, modality, burned string
	leftOut                       bool
}

var burnCases = []burnCase{
	{"ct-yes", "1.2.840.10008.5.1.4.1.1.2", "CT", "YES", true},
	{"ct-no", "1.2.840.10008.5.1.4.1.1.2", "CT", "NO", false},
	{"ct-missing", "1.2.840.10008.5.1.4.1.1.2", "CT", "", false},
	{"mr-lowercase-yes", "1.2.840.10008.5.1.4.1.1.4", "MR", "yes", true},
	{"sc-missing", "1.2.840.10008.5.1.4.1.1.7", "OT", "", true},
	{"sc-no", "1.2.840.10008.5.1.4.1.1.7", "OT", "NO", false},
	{"mfsc-missing", "1.2.840.10008.5.1.4.1.1.7.2", "OT", "", true},
	{"us-missing", "1.2.840.10008.5.1.4.1.1.6.1", "US", "", true},
	{"us-no", "1.2.840.10008.5.1.4.1.1.6.1", "US", "NO", false},
	{"usmf-missing", "1.2.840.10008.5.1.4.1.1.3.1", "US", "", true},
	{"video-endoscopy-missing", "1.2.840.10008.5.1.4.1.1.77.1.1.1", "ES", "", true},
	{"vl-photo-missing", "1.2.840.10008.5.1.4.1.1.77.1.4", "XC", "", true},
}

// Identifying values put into every built file; none may reach an
// anonymized bucket's pages.
var secrets = []string{"2019-03-05", "20190305", "Secret Brain Study", "ACC98765", "Referrer", "Secret Hospital", "Secret Series", "PID4242", "Jane", "Rita"}

const (
	anonStudyUID = "2.25.31415926535897932384626433832795"
	anonBodyPart = "HEAD"
	// secondOf is the case whose series gets a second image, "second":
	// Burned In Annotation NO, so that series' thumbnail and its second
	// position show an image in the anonymized bucket too.
	secondOf = "sc-missing"
	second   = "sc-second"
	allFiles = 13 // len(burnCases) + the second image
)

// buildBurnFiles writes one file per case into a new folder: sample 3.dcm
// (a real MR) with the case's class, modality and Burned In Annotation, all
// of one study and patient, each case its own series numbered from 1.
func buildBurnFiles(t *testing.T) []string {
	t.Helper()
	testtool.Need(t, "dcmodify")
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "3.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var paths []string
	files := append([]burnCase{}, burnCases...)
	files = append(files, burnCase{second, "1.2.840.10008.5.1.4.1.1.7", "OT", "NO", false})
	for i, c := range files {
		p := filepath.Join(out, c.name+".dcm")
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		sop, se, number := strconv.Itoa(i+1), strconv.Itoa(i+1), "1"
		if c.name == second {
			se, number = strconv.Itoa(caseIndex(t, secondOf)+1), "2"
		}
		args := []string{"-nb",
			"-i", "(0008,0016)=" + c.class,
			"-i", "(0008,0018)=2.25.2718281828459045" + sop,
			"-i", "(0008,0060)=" + c.modality,
			"-i", "(0020,000D)=" + anonStudyUID,
			"-i", "(0020,000E)=2.25.1618033988749894" + se,
			"-i", "(0020,0011)=" + se,
			"-i", "(0020,0013)=" + number,
			"-i", "(0008,0020)=20190305",
			"-i", "(0008,1030)=Secret Brain Study",
			"-i", "(0008,103E)=Secret Series " + c.name,
			"-i", "(0008,0050)=ACC98765",
			"-i", "(0008,0090)=Referrer^Rita",
			"-i", "(0008,0080)=Secret Hospital",
			"-i", "(0010,0010)=Doe^Jane",
			"-i", "(0010,0020)=PID4242",
			"-i", "(0018,0015)=" + anonBodyPart,
		}
		if c.burned != "" {
			args = append(args, "-i", "(0028,0301)="+c.burned)
		}
		if b, err := exec.Command("dcmodify", append(args, p)...).CombinedOutput(); err != nil {
			t.Fatalf("dcmodify %s: %v\n%s", c.name, err, b)
		}
		paths = append(paths, p)
	}
	if len(paths) != allFiles {
		t.Fatalf("%d files built, want %d", len(paths), allFiles)
	}
	return paths
}

func caseIndex(t *testing.T, name string) int {
	for i, c := range burnCases {
		if c.name == name {
			return i
		}
	}
	t.Fatalf("no case %s", name)
	return -1
}

// burnFixture imports the built files through the real import and prints
// two buckets of their study: an anonymized one and a plain one, each with
// a signed-in patient.
type burnFixture struct {
	srv         *testserver.Server
	blobs       storage.Store
	study       int64
	anon, plain *testserver.Client
	anonB       *database.Bucket
	anonRef     string           // the anonymized bucket's reference number
	inst        map[string]int64 // case name -> instance id
	series      map[string]int64 // case name -> series id
}

func newBurnFixture(t *testing.T) *burnFixture {
	t.Helper()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	blobs, err := storage.NewFS(filepath.Join(srv.Config.DataDir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	im := &ingest.Importer{DB: srv.DB, Store: blobs, DepartmentID: d.ID}
	sum, err := im.ImportPaths(context.Background(), buildBurnFiles(t), nil)
	if err != nil || sum.Instances != allFiles {
		t.Fatalf("import: %+v %v", sum, err)
	}
	f := &burnFixture{srv: srv, blobs: blobs, inst: map[string]int64{}, series: map[string]int64{}}
	ctx := context.Background()
	if err := srv.DB.NewRaw(`UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE study_uid = ?) RETURNING (SELECT id FROM studies WHERE study_uid = ?)`,
		anonStudyUID, anonStudyUID).Scan(ctx, &f.study); err != nil {
		t.Fatal(err)
	}
	for i, name := range append(caseNames(), second) {
		var row struct {
			ID       int64 `bun:"id"`
			SeriesID int64 `bun:"series_id"`
		}
		if err := srv.DB.NewRaw(`SELECT id, series_id FROM instances WHERE sop_uid = ?`, "2.25.2718281828459045"+strconv.Itoa(i+1)).Scan(ctx, &row); err != nil {
			t.Fatal(name, err)
		}
		f.inst[name], f.series[name] = row.ID, row.SeriesID
	}
	b, n := srv.MustBucket(t, u, []*database.Study{{ID: f.study}}, testserver.BucketSpec{Anonymize: true, Language: "nl"})
	f.anonB, f.anonRef = b, n.Canonical()
	f.anon = signedInAt(t, srv, n)
	_, n = srv.MustBucket(t, u, []*database.Study{{ID: f.study}}, testserver.BucketSpec{Language: "en"})
	f.plain = signedInAt(t, srv, n)
	return f
}

func caseNames() []string {
	var out []string
	for _, c := range burnCases {
		out = append(out, c.name)
	}
	return out
}

func imageStatus(t *testing.T, c *testserver.Client, inst int64, query string) int {
	t.Helper()
	res, _ := c.Get("/p/images/" + strconv.FormatInt(inst, 10) + query)
	return res.StatusCode
}

func pageLang(doc *goquery.Document) string {
	if l, ok := doc.Find("html").Attr("lang"); ok && l != "" {
		return l
	}
	return "en"
}

// The image, its thumbnail and the viewer page of an anonymized bucket
// follow buckets.LeftOut for every case: no pixels of a burned-in or
// "maybe" image (404), the translated tile in the viewer instead, no
// thumbnail of it; the plain bucket of the same study sees everything.
func TestAnonymizedViewerLeavesOutBurnedIn(t *testing.T) {
	f := newBurnFixture(t)
	study := "/p/studies/" + strconv.FormatInt(f.study, 10)
	for _, c := range burnCases {
		id := f.inst[c.name]
		want := http.StatusOK
		if c.leftOut {
			want = http.StatusNotFound
		}
		for _, q := range []string{"", "?size=128", "?size=1024&fmt=png"} {
			if got := imageStatus(t, f.anon, id, q); got != want {
				t.Errorf("%s: anonymized GET image%s answered %d, want %d", c.name, q, got, want)
			}
			if got := imageStatus(t, f.plain, id, q); got != http.StatusOK {
				t.Errorf("%s: plain GET image%s answered %d, want 200", c.name, q, got)
			}
		}

		page := study + "?series=" + strconv.FormatInt(f.series[c.name], 10)
		doc := f.anon.GetDoc(page, http.StatusOK)
		tile := doc.Find(`[data-testid="left-out"]`)
		img := doc.Find(`img[data-testid="image"]`)
		if c.leftOut {
			if tile.Length() != 1 || strings.TrimSpace(tile.Text()) != i18n.T(pageLang(doc), "anonview.leftout") {
				t.Errorf("%s: anonymized viewer shows no translated left-out tile (%q)", c.name, tile.Text())
			}
			if img.Length() != 0 {
				t.Errorf("%s: anonymized viewer still has an image %v", c.name, img.AttrOr("src", ""))
			}
			// Controls that act on the picture (window, zoom, frames) go with it.
			if n := doc.Find(`[data-testid="window"], [data-testid="zoom"], [data-testid="frame"]`).Length(); n != 0 {
				t.Errorf("%s: left-out image keeps %d picture controls", c.name, n)
			}
		} else if tile.Length() != 0 || !strings.HasPrefix(img.AttrOr("src", ""), "/p/images/"+strconv.FormatInt(id, 10)+"?") {
			t.Errorf("%s: anonymized viewer: tile %d, image %q", c.name, tile.Length(), img.AttrOr("src", ""))
		}
		pdoc := f.plain.GetDoc(page, http.StatusOK)
		if pdoc.Find(`[data-testid="left-out"]`).Length() != 0 || !strings.HasPrefix(pdoc.Find(`img[data-testid="image"]`).AttrOr("src", ""), "/p/images/"+strconv.FormatInt(id, 10)+"?") {
			t.Errorf("%s: the plain bucket's viewer does not show the image", c.name)
		}
	}

	// Thumbnails: every series has one in the plain bucket; in the
	// anonymized one exactly the series of the kept images.
	thumbs := func(doc *goquery.Document) map[string]bool {
		got := map[string]bool{}
		doc.Find(`img[data-testid="thumb"]`).Each(func(_ int, s *goquery.Selection) {
			got[strings.SplitN(s.AttrOr("src", ""), "?", 2)[0]] = true
		})
		return got
	}
	at, pt := thumbs(f.anon.GetDoc(study, http.StatusOK)), thumbs(f.plain.GetDoc(study, http.StatusOK))
	for _, c := range burnCases {
		src := "/p/images/" + strconv.FormatInt(f.inst[c.name], 10)
		if at[src] == c.leftOut {
			t.Errorf("%s: anonymized thumbnail shown = %v", c.name, at[src])
		}
		if !pt[src] {
			t.Errorf("%s: plain bucket has no thumbnail", c.name)
		}
	}
	// The series whose first image is left out shows its second as thumbnail.
	src := "/p/images/" + strconv.FormatInt(f.inst[second], 10)
	if !at[src] || pt[src] {
		t.Errorf("thumbnail of the series with a left-out first image: anonymized %v (want true), plain %v (want false)", at[src], pt[src])
	}
	if len(at) != len(burnCases)-leftOutCount()+1 {
		t.Errorf("anonymized page has %d thumbnails: %v", len(at), at)
	}
	doc := f.anon.GetDoc(study+"?series="+strconv.FormatInt(f.series[second], 10)+"&i=1", http.StatusOK)
	if got := doc.Find(`img[data-testid="image"]`).AttrOr("src", ""); !strings.HasPrefix(got, src+"?") || doc.Find(`[data-testid="left-out"]`).Length() != 0 {
		t.Errorf("second image of the mixed series: image %q, tiles %d", got, doc.Find(`[data-testid="left-out"]`).Length())
	}
}

func leftOutCount() int {
	n := 0
	for _, c := range burnCases {
		if c.leftOut {
			n++
		}
	}
	return n
}

// The anonymized download leaves out the same images as the viewer and
// names each in the read-me; the plain download has every file.
func TestAnonymizedDownloadLeavesOutBurnedIn(t *testing.T) {
	f := newBurnFixture(t)
	left := leftOutCount()
	kept := allFiles - left
	count := func(zr *zip.Reader) (files int, readme string) {
		for _, zf := range zr.File {
			if strings.HasPrefix(zf.Name, "DICOM/") {
				files++
			}
			if zf.Name == "README.txt" {
				rc, _ := zf.Open()
				b, _ := io.ReadAll(rc)
				rc.Close()
				readme = string(b)
			}
		}
		return files, readme
	}
	n, readme := count(fetchZip(t, f.anon, f.srv.URL))
	if n != kept {
		t.Errorf("anonymized ZIP holds %d files, want %d", n, kept)
	}
	tr := i18n.For(f.anonB.Language)
	if want := tr("download.readme.skipped", "Skipped", left); !strings.Contains(readme, want) {
		t.Errorf("read-me lacks %q:\n%s", want, readme)
	}
	for i, c := range burnCases {
		line := "- " + tr("anonview.readme.leftout", "Modality", c.modality, "Series", strconv.Itoa(i+1), "Instance", "1") + "\r\n"
		if strings.Contains(readme, line) != c.leftOut {
			t.Errorf("%s: read-me names it = %v, want %v:\n%s", c.name, !c.leftOut, c.leftOut, readme)
		}
	}
	if n, _ := count(fetchZip(t, f.plain, f.srv.URL)); n != allFiles {
		t.Errorf("plain ZIP holds %d files, want %d", n, allFiles)
	}
}

// The patient pages of an anonymized bucket show what the de-identified
// files keep (modality, body part, series count) and nothing they remove;
// the plain bucket's pages still show the date and the description.
func TestAnonymizedPagesShowOnlyWhatFilesKeep(t *testing.T) {
	f := newBurnFixture(t)
	study := "/p/studies/" + strconv.FormatInt(f.study, 10)
	for _, path := range []string{"/p/", study, study + "?series=" + strconv.FormatInt(f.series["ct-no"], 10)} {
		doc := f.anon.GetDoc(path, http.StatusOK)
		main := doc.Find("main")
		if main.Length() == 0 {
			main = doc.Find("body")
		}
		text := main.Text()
		html, _ := main.Html()
		for _, s := range secrets {
			if strings.Contains(text, s) || strings.Contains(html, s) {
				t.Errorf("anonymized %s shows %q", path, s)
			}
		}
		for _, s := range []string{anonBodyPart, "CT", "US", i18n.T(pageLang(doc), "anonview.series", "Count", len(burnCases))} {
			if !strings.Contains(text, s) {
				t.Errorf("anonymized %s does not show %q", path, s)
			}
		}
	}
	for _, path := range []string{"/p/", study} {
		text := f.plain.GetDoc(path, http.StatusOK).Find("body").Text()
		for _, s := range []string{"2019-03-05", "Secret Brain Study"} {
			if !strings.Contains(text, s) {
				t.Errorf("plain %s no longer shows %q", path, s)
			}
		}
	}
}
