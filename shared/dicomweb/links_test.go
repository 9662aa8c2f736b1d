package dicomweb_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// The fixture's study: one patient, two series of the MR sample (3.dcm)
// and the two-frame CT sample (5.dcm) as a third series.
const (
	linkStudyUID = "2.25.4711000000000000000000000000000001"
	linkOrigin   = "https://viewer.example.org"
)

var linkBirth = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)

// linkFixture is a server with one study of four instances and two
// accesses to it (plain and anonymized), each patient signed in.
type linkFixture struct {
	srv         *testserver.Server
	blobs       storage.Store
	staff       *database.User
	plainB      *database.Bucket
	anonB       *database.Bucket
	plain, anon *testserver.Client
	plainNumber refnum.Number     // the plain access's reference number
	files       map[string][]byte // original SOP Instance UID -> the file as imported
}

// buildLinkFiles writes the fixture's files with dcmodify.
func buildLinkFiles(t testing.TB) []string {
	t.Helper()
	testtool.Need(t, "dcmodify")
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var paths []string
	for i, c := range []struct{ src, series, number string }{
		{"3.dcm", "1", "1"}, {"3.dcm", "1", "2"}, {"3.dcm", "2", "1"}, {"5.dcm", "3", "1"},
	} {
		b, err := os.ReadFile(filepath.Join(dir, c.src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(out, strings.Repeat("x", i+1)+".dcm")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-nb",
			"-i", "(0008,0018)=2.25.4711000000000000000000000000001" + string(rune('0'+i)),
			"-i", "(0020,000D)=" + linkStudyUID,
			"-i", "(0020,000E)=2.25.47110000000000000000000000000002" + c.series,
			"-i", "(0020,0011)=" + c.series,
			"-i", "(0020,0013)=" + c.number,
			"-i", "(0010,0010)=Doe^Jane",
			"-i", "(0010,0020)=PID4242",
			"-i", "(0010,0030)=19610309",
			"-i", "(0008,0050)=ACC98765",
			"-i", "(0028,0301)=NO",
			p,
		}
		if out, err := exec.Command("dcmodify", args...).CombinedOutput(); err != nil {
			t.Fatalf("dcmodify: %v\n%s", err, out)
		}
		paths = append(paths, p)
	}
	return paths
}

func newLinkFixture(t testing.TB, opts ...testserver.Option) *linkFixture {
	t.Helper()
	opts = append([]testserver.Option{func(c *config.Config) { c.DICOMweb.Origins = []string{linkOrigin} }}, opts...)
	srv := testserver.New(t, opts...)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	blobs, err := storage.NewFS(filepath.Join(srv.Config.DataDir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	paths := buildLinkFiles(t)
	im := &ingest.Importer{DB: srv.DB, Store: blobs, DepartmentID: d.ID}
	sum, err := im.ImportPaths(context.Background(), paths, nil)
	if err != nil || sum.Instances != len(paths) {
		t.Fatalf("import: %+v %v", sum, err)
	}
	f := &linkFixture{srv: srv, blobs: blobs, staff: u, files: map[string][]byte{}}
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		m, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		f.files[m.SOPInstanceUID] = b
	}
	var studyID int64
	if err := srv.DB.NewRaw(`SELECT id FROM studies WHERE study_uid = ?`, linkStudyUID).Scan(context.Background(), &studyID); err != nil {
		t.Fatal(err)
	}
	var n refnum.Number
	f.plainB, n = srv.MustBucket(t, u, []*database.Study{{ID: studyID}}, testserver.BucketSpec{Language: "en"})
	f.plain, f.plainNumber = signIn(t, srv, n), n
	f.anonB, n = srv.MustBucket(t, u, []*database.Study{{ID: studyID}}, testserver.BucketSpec{Anonymize: true, Language: "en"})
	f.anon = signIn(t, srv, n)
	return f
}

func signIn(t testing.TB, srv *testserver.Server, n refnum.Number) *testserver.Client {
	t.Helper()
	c := srv.Client(t)
	c.Get("/")
	form := url.Values{"ref": {n.Canonical()}, "dob_day": {linkBirth.Format("2")}, "dob_month": {linkBirth.Format("1")}, "dob_year": {linkBirth.Format("2006")}}
	if res, body := c.PostForm("/p/signin", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d\n%s", res.StatusCode, body)
	}
	return c
}

// createLink makes a viewer link through the patient's page and returns
// its DICOMweb base as shown.
func createLink(t testing.TB, c *testserver.Client) string {
	t.Helper()
	c.Get("/p/")
	res, body := c.PostForm("/p/links", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create link answered %d\n%s", res.StatusCode, body)
	}
	base, ok := testserver.Doc(t, body).Find(`[data-testid="link-url"]`).Attr("value")
	if !ok || !strings.Contains(base, dicomweb.LinkBase+"/"+dicomweb.LinkPrefix) {
		t.Fatalf("no link shown:\n%s", body)
	}
	return base
}

// dw sends one DICOMweb GET with the given headers (pairs).
func dw(t testing.TB, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

type dicomJSON []map[string]struct {
	VR          string            `json:"vr"`
	Value       []json.RawMessage `json:"Value"`
	BulkDataURI string            `json:"BulkDataURI"`
}

func firstValue(t testing.TB, d map[string]struct {
	VR          string            `json:"vr"`
	Value       []json.RawMessage `json:"Value"`
	BulkDataURI string            `json:"BulkDataURI"`
}, tag string) string {
	t.Helper()
	a, ok := d[tag]
	if !ok || len(a.Value) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(a.Value[0], &s) == nil {
		return s
	}
	return string(a.Value[0])
}

func qidoJSON(t testing.TB, u string, want int) dicomJSON {
	t.Helper()
	res, b := dw(t, u, "Accept", "application/dicom+json")
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%s", u, res.StatusCode, want, b)
	}
	var out dicomJSON
	if want == http.StatusOK {
		if ct := res.Header.Get("Content-Type"); ct != "application/dicom+json" {
			t.Fatalf("GET %s: Content-Type %q", u, ct)
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("GET %s: %v\n%s", u, err, b)
		}
	}
	return out
}

// parts reads a multipart/related answer: each part's Content-Type and body.
func parts(t testing.TB, res *http.Response, body []byte) (types []string, bodies [][]byte) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" {
		t.Fatalf("Content-Type %q: %v", res.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return types, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		types, bodies = append(types, p.Header.Get("Content-Type")), append(bodies, b)
	}
}

const acceptDICOM = `multipart/related; type="application/dicom"; transfer-syntax=*`

// A plain access's viewer link: QIDO-RS finds exactly its study, WADO-RS
// sends the stored files unchanged, their metadata, frames and renderings,
// through the token in the path or as a bearer token; views are audited
// once per series as the link; CORS only for the configured origin; no
// cookie; revoking the link or the access ends it at the next request.
func TestViewerLinkServesTheAccess(t *testing.T) {
	f := newLinkFixture(t)
	base := createLink(t, f.plain)
	ctx := context.Background()

	studies := qidoJSON(t, base+"/studies", http.StatusOK)
	if len(studies) != 1 || firstValue(t, studies[0], "0020000D") != linkStudyUID || firstValue(t, studies[0], "00201208") != "4" ||
		firstValue(t, studies[0], "00100020") != "PID4242" || firstValue(t, studies[0], "00080050") != "ACC98765" {
		t.Fatalf("studies: %+v", studies)
	}
	qidoJSON(t, base+"/studies?PatientID=someone-else", http.StatusNoContent)
	qidoJSON(t, base+"/studies?StudyInstanceUID=1.2.3,"+linkStudyUID+"&includefield=all", http.StatusOK)
	series := qidoJSON(t, base+"/studies/"+linkStudyUID+"/series", http.StatusOK)
	if len(series) != 3 {
		t.Fatalf("series: %d", len(series))
	}
	if s := qidoJSON(t, base+"/studies/"+linkStudyUID+"/series?Modality=CT", http.StatusOK); len(s) != 1 {
		t.Fatalf("CT series: %d", len(s))
	}
	mr1 := firstValue(t, series[0], "0020000E")
	insts := qidoJSON(t, base+"/series/"+mr1+"/instances", http.StatusOK)
	if len(insts) != 2 {
		t.Fatalf("instances of %s: %d", mr1, len(insts))
	}
	if page := qidoJSON(t, base+"/studies/"+linkStudyUID+"/instances?limit=1&offset=3", http.StatusOK); len(page) != 1 {
		t.Fatalf("limit/offset: %d", len(page))
	}
	qidoJSON(t, base+"/studies/2.25.999/series", http.StatusNotFound)

	// The whole study, as stored.
	res, body := dw(t, base+"/studies/"+linkStudyUID, "Accept", acceptDICOM)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("retrieve: %d %s", res.StatusCode, body)
	}
	types, got := parts(t, res, body)
	if len(got) != 4 {
		t.Fatalf("%d parts", len(got))
	}
	for i, b := range got {
		m, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil || !bytes.Equal(b, f.files[m.SOPInstanceUID]) || !strings.HasPrefix(types[i], "application/dicom; transfer-syntax=") {
			t.Fatalf("part %d (%s) differs from the imported file: %v", i, types[i], err)
		}
	}
	if res.Header.Get("Set-Cookie") != "" {
		t.Fatal("a DICOMweb answer set a cookie")
	}
	// What it cannot serve: 406.
	if res, _ := dw(t, base+"/studies/"+linkStudyUID, "Accept", `multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50`); res.StatusCode != http.StatusNotAcceptable {
		t.Fatalf("JPEG baseline asked: %d", res.StatusCode)
	}
	if res, _ := dw(t, base+"/studies/"+linkStudyUID, "Accept", "application/pdf"); res.StatusCode != http.StatusNotAcceptable {
		t.Fatalf("PDF asked: %d", res.StatusCode)
	}

	// Metadata, frames, rendered, thumbnail of the two-frame CT.
	ct := qidoJSON(t, base+"/studies/"+linkStudyUID+"/series?Modality=CT", http.StatusOK)
	ctSeries := firstValue(t, ct[0], "0020000E")
	ctInst := qidoJSON(t, base+"/studies/"+linkStudyUID+"/series/"+ctSeries+"/instances", http.StatusOK)
	sop := firstValue(t, ctInst[0], "00080018")
	inst := base + "/studies/" + linkStudyUID + "/series/" + ctSeries + "/instances/" + sop
	meta := qidoJSON(t, inst+"/metadata", http.StatusOK)
	if len(meta) != 1 || firstValue(t, meta[0], "00280008") != "2" || meta[0]["7FE00010"].BulkDataURI != inst+"/bulkdata/7FE00010" {
		t.Fatalf("metadata: %+v", meta)
	}
	res, body = dw(t, inst+"/frames/2", "Accept", `multipart/related; type="application/octet-stream"; transfer-syntax=*`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("frames: %d %s", res.StatusCode, body)
	}
	if _, fr := parts(t, res, body); len(fr) != 1 || len(fr[0]) != 512*512*2 {
		t.Fatalf("frame 2: %d parts", len(fr))
	}
	if res, _ := dw(t, inst+"/frames/3", "Accept", `multipart/related; type="application/octet-stream"`); res.StatusCode != http.StatusNotFound {
		t.Fatalf("frame 3 of 2: %d", res.StatusCode)
	}
	for _, u := range []string{inst + "/rendered", inst + "/thumbnail", inst + "/frames/1/rendered"} {
		res, body := dw(t, u, "Accept", "image/jpeg")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" || !bytes.HasPrefix(body, []byte{0xFF, 0xD8}) {
			t.Fatalf("%s: %d %q", u, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}

	// The token as a bearer token on the bare base, and CORS.
	token := base[strings.LastIndex(base, "/")+1:]
	bare := strings.TrimSuffix(base, "/"+token)
	res, _ = dw(t, bare+"/studies", "Accept", "application/dicom+json", "Authorization", "Bearer "+token, "Origin", linkOrigin)
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != linkOrigin || res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("bearer: %d, ACAO %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	res, _ = dw(t, base+"/studies", "Origin", "https://evil.example")
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS for an origin not configured")
	}
	if res, _ := dw(t, bare+"/studies", "Authorization", "Bearer "+dicomweb.LinkPrefix+"guess"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", res.StatusCode)
	}

	// Audit: views as the link, once per series (three series seen, many requests).
	var rows []struct {
		Kind string `bun:"actor_kind"`
		Name string `bun:"actor_name"`
		View string `bun:"view"`
	}
	if err := f.srv.DB.NewRaw(`SELECT actor_kind, actor_name, details->>'view' AS view FROM audit_events
		WHERE bucket_id = ? AND action = 'series.view' ORDER BY id`, f.plainB.ID).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d series views recorded, want 3: %+v", len(rows), rows)
	}
	for _, r := range rows {
		if r.Kind != "link" || !strings.HasPrefix(r.Name, "link:") {
			t.Fatalf("view recorded as %+v", r)
		}
	}

	// The link is listed; revoking it ends it at the next request.
	doc := f.plain.GetDoc("/p/", http.StatusOK)
	if n := doc.Find(`[data-testid="link-row"]`).Length(); n != 1 {
		t.Fatalf("%d links listed", n)
	}
	action, _ := doc.Find(`form[action^="/p/links/"]`).Attr("action")
	if res, _ := f.plain.PostForm(action, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if res, _ := dw(t, base+"/studies"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a revoked link answered %d", res.StatusCode)
	}
	var revokes int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE bucket_id = ? AND action IN ('link.create', 'link.revoke')`, f.plainB.ID).Scan(ctx, &revokes); err != nil || revokes != 2 {
		t.Fatalf("link audit rows: %d %v", revokes, err)
	}

	// The access revoked by staff: its links end too.
	base = createLink(t, f.plain)
	if res, _ := dw(t, base+"/studies"); res.StatusCode != http.StatusOK {
		t.Fatalf("a new link: %d", res.StatusCode)
	}
	admin := testserver.MustUser(t, f.srv.DB, "root", database.RoleAdmin, &database.Department{ID: f.plainB.DepartmentID})
	if _, err := f.srv.App.Buckets.Revoke(ctx, admin, f.plainB.ID, "203.0.113.1", "patient asked"); err != nil {
		t.Fatal(err)
	}
	if res, _ := dw(t, base+"/studies"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a link of a revoked access answered %d", res.StatusCode)
	}
	// Only a keyed hash of the token is stored.
	var n int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM viewer_links WHERE position(convert_to(?, 'UTF8') in token_hash) > 0`, token).Scan(ctx, &n); err != nil || n != 0 {
		t.Fatalf("token stored in clear: %d %v", n, err)
	}
}

// An anonymized access's viewer link serves exactly what its ZIP holds:
// the same de-identified files (byte for byte), under the same UIDs, which
// pass the judges (dcmtk, dciodvfy), and its QIDO answers name no one.
func TestViewerLinkServesTheAnonymizedZIP(t *testing.T) {
	f := newLinkFixture(t)
	base := createLink(t, f.anon)
	zipFiles := anonZIP(t, f)

	studies := qidoJSON(t, base+"/studies", http.StatusOK)
	if len(studies) != 1 {
		t.Fatalf("%d studies", len(studies))
	}
	raw, _ := json.Marshal(studies)
	for _, secret := range []string{"Doe", "PID4242", "ACC98765", linkStudyUID, "1961"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("QIDO of an anonymized access says %q: %s", secret, raw)
		}
	}
	uid := firstValue(t, studies[0], "0020000D")
	res, body := dw(t, base+"/studies/"+uid, "Accept", acceptDICOM)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("retrieve: %d %s", res.StatusCode, body)
	}
	_, got := parts(t, res, body)
	if len(got) != len(zipFiles) || len(got) != 4 {
		t.Fatalf("%d parts, the ZIP has %d files", len(got), len(zipFiles))
	}
	for i, b := range got {
		m, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if m.StudyUID != uid {
			t.Fatalf("part %d: study %s, QIDO said %s", i, m.StudyUID, uid)
		}
		if z, ok := zipFiles[m.SOPInstanceUID]; !ok || !bytes.Equal(z, b) {
			t.Fatalf("part %d (%s) is not the ZIP's file (in ZIP: %v)", i, m.SOPInstanceUID, ok)
		}
		if bytes.Contains(b, []byte("Doe^Jane")) || bytes.Contains(b, []byte("PID4242")) {
			t.Fatalf("part %d names the patient", i)
		}
	}
	passTheJudges(t, f, got)
	// Its metadata is the de-identified header: the served UIDs, no one named.
	res, body = dw(t, base+"/studies/"+uid+"/metadata", "Accept", "application/dicom+json")
	var meta dicomJSON
	if err := json.Unmarshal(body, &meta); res.StatusCode != http.StatusOK || err != nil || len(meta) != 4 {
		t.Fatalf("metadata: %d %v (%d data sets)", res.StatusCode, err, len(meta))
	}
	for _, secret := range []string{"Doe", "PID4242", "ACC98765", linkStudyUID} {
		if strings.Contains(string(body), secret) {
			t.Fatalf("metadata of an anonymized access says %q", secret)
		}
	}
	for _, d := range meta {
		if firstValue(t, d, "0020000D") != uid || zipFiles[firstValue(t, d, "00080018")] == nil {
			t.Fatalf("metadata names study %s, instance %s", firstValue(t, d, "0020000D"), firstValue(t, d, "00080018"))
		}
	}
	// A second download names everything the same (keyed UIDs, not per download).
	again := anonZIP(t, f)
	for sop := range zipFiles {
		if _, ok := again[sop]; !ok {
			t.Fatalf("instance %s renamed in a second download", sop)
		}
	}
	// The original UIDs find nothing.
	qidoJSON(t, base+"/studies/"+linkStudyUID+"/series", http.StatusNotFound)
	if want := deid.KeyedUID(f.srv.App.Buckets.AnonUIDKey(f.anonB), linkStudyUID); want != uid {
		t.Fatalf("served study UID %s, keyed %s", uid, want)
	}
}

// anonZIP downloads the anonymized access's ZIP: its DICOM files by SOP Instance UID.
func anonZIP(t testing.TB, f *linkFixture) map[string][]byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/p/download", nil)
	res, err := f.anon.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("download: %d, not a zip: %v", res.StatusCode, err)
	}
	out := map[string][]byte{}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "DICOM/") || strings.HasSuffix(zf.Name, "/") {
			continue
		}
		rc, _ := zf.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		m, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			continue
		}
		out[m.SOPInstanceUID] = b
	}
	return out
}
