package dicomweb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

type env struct {
	url   string
	db    *bun.DB
	token string
	dept  *database.Department
	other string // a token of another department
	st    *storage.FS
	logs  *syncBuffer // the handler's JSON log lines
}

// syncBuffer is a log destination the handler writes to from many requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the handler on a loopback port, as the server mounts it; opts
// change the handler before it is mounted.
func start(t *testing.T, maxBytes int64, opts ...func(*dicomweb.Handler)) *env {
	t.Helper()
	db := testdb.New(t)
	st, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := &database.Department{Code: "NORTH", Name: "North", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	o := &database.Department{Code: "SOUTH", Name: "South", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	for _, x := range []*database.Department{d, o} {
		if _, err := db.NewInsert().Model(x).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tok, _, err := dicomweb.CreateToken(ctx, db, d.ID, "pacs")
	if err != nil {
		t.Fatal(err)
	}
	otherTok, _, err := dicomweb.CreateToken(ctx, db, o.ID, "south-pacs")
	if err != nil {
		t.Fatal(err)
	}
	// As the server runs it: bodies streamed, read only by the handlers.
	app := fiber.New(fiber.Config{StreamRequestBody: true, DisablePreParseMultipartForm: true})
	logs := &syncBuffer{}
	h := &dicomweb.Handler{DB: db, Store: st, MaxBytes: maxBytes, Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, o := range opts {
		o(h)
	}
	// As in shared/server/routes.go.
	app.Post("/dicomweb/studies", h.Stow)
	app.Post("/dicomweb/studies/:study", h.Stow)
	app.Post("/api/v1/studies/:study/report", h.Report)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return &env{url: "http://" + ln.Addr().String(), db: db, token: tok, dept: d, other: otherTok, st: st, logs: logs}
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// multipartRelated builds a STOW-RS body; each part is application/dicom.
func multipartRelated(parts ...[]byte) (string, []byte) {
	const boundary = "radpass-test-boundary-7c1f"
	var b bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: application/dicom\r\n\r\n", boundary)
		b.Write(p)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return `multipart/related; type="application/dicom"; boundary=` + boundary, b.Bytes()
}

func post(t *testing.T, url, token, ctype string, body []byte) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	cl := &http.Client{Timeout: 60 * time.Second}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res, out
}

// seq returns the items of a DICOM JSON sequence attribute.
func seq(ds map[string]any, tag string) []map[string]any {
	a, _ := ds[tag].(map[string]any)
	if a == nil {
		return nil
	}
	if a["vr"] != "SQ" {
		return nil
	}
	vals, _ := a["Value"].([]any)
	var out []map[string]any
	for _, v := range vals {
		out = append(out, v.(map[string]any))
	}
	return out
}

func first(item map[string]any, tag string) any {
	a, _ := item[tag].(map[string]any)
	if a == nil {
		return nil
	}
	v, _ := a["Value"].([]any)
	if len(v) == 0 {
		return nil
	}
	return v[0]
}

// count is testdb.Count, short for the many row checks here.
var count = testdb.Count

func TestStowHappyPathAndIdempotent(t *testing.T) {
	t.Parallel()
	e := start(t, 64<<20)
	ctype, body := multipartRelated(sample(t, "1.dcm"), sample(t, "3.dcm"), sample(t, "5.dcm"))
	res, out := post(t, e.url+"/dicomweb/studies", e.token, ctype, body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/dicom+json" || res.Close {
		t.Fatalf("status %d %s (connection close %v): %v", res.StatusCode, res.Header.Get("Content-Type"), res.Close, out)
	}
	refs := seq(out, "00081199")
	if len(refs) != 3 || len(seq(out, "00081198")) != 0 {
		t.Fatalf("response %v", out)
	}
	for _, r := range refs {
		if first(r, "00081155") == nil || first(r, "00081150") == nil {
			t.Fatalf("reference without UIDs: %v", r)
		}
	}
	if count(t, e.db, "instances") != 3 {
		t.Fatal("instances not stored")
	}
	// The same push again: still 200, nothing new.
	res, out = post(t, e.url+"/dicomweb/studies", e.token, ctype, body)
	if res.StatusCode != http.StatusOK || len(seq(out, "00081199")) != 3 || count(t, e.db, "instances") != 3 {
		t.Fatalf("second push: %d %v", res.StatusCode, out)
	}
	// Audited as the API, with counts and no patient data.
	var ev struct {
		ActorKind string         `bun:"actor_kind"`
		Details   map[string]any `bun:"details,type:jsonb"`
	}
	if err := e.db.NewRaw(`SELECT actor_kind, details FROM audit_events WHERE action = ? ORDER BY id LIMIT 1`, audit.DICOMStow).Scan(context.Background(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ActorKind != "api" || ev.Details["instances_added"] != float64(3) {
		t.Fatalf("audit %+v", ev)
	}
	if b, _ := json.Marshal(ev.Details); strings.Contains(string(b), "ACRIN") || strings.Contains(string(b), "Perfusion") {
		t.Fatalf("patient name in the audit trail: %s", b)
	}
}

func TestStowPartialAndFailures(t *testing.T) {
	t.Parallel()
	e := start(t, 64<<20)
	good := sample(t, "2.dcm")
	junk := bytes.Repeat([]byte("not dicom "), 100)
	trunc := sample(t, "3.dcm")
	trunc = trunc[:len(trunc)/3]

	ctype, body := multipartRelated(good, junk, trunc)
	res, out := post(t, e.url+"/dicomweb/studies", e.token, ctype, body)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("partial: %d %v", res.StatusCode, out)
	}
	fails := seq(out, "00081198")
	if len(seq(out, "00081199")) != 1 || len(fails) != 2 {
		t.Fatalf("partial response %v", out)
	}
	for _, f := range fails {
		if first(f, "00081197") != float64(0xC000) {
			t.Fatalf("failure reason %v", f)
		}
	}
	// Nothing stored at all: 409.
	ctype, body = multipartRelated(junk)
	if res, out := post(t, e.url+"/dicomweb/studies", e.token, ctype, body); res.StatusCode != http.StatusConflict || len(seq(out, "00081198")) != 1 {
		t.Fatalf("all failed: %d %v", res.StatusCode, out)
	}
	// Posting to a study: instances of another study fail with C409.
	ctype, body = multipartRelated(sample(t, "6.dcm"))
	res, out = post(t, e.url+"/dicomweb/studies/1.2.3.4", e.token, ctype, body)
	if res.StatusCode != http.StatusConflict || first(seq(out, "00081198")[0], "00081197") != float64(0xC409) {
		t.Fatalf("study mismatch: %d %v", res.StatusCode, out)
	}
	if count(t, e.db, "instances") != 1 {
		t.Fatalf("%d instances stored, want 1", count(t, e.db, "instances"))
	}
}

func TestStowRequestErrors(t *testing.T) {
	t.Parallel()
	e := start(t, 1<<20)
	ctype, body := multipartRelated(sample(t, "3.dcm"))
	big, bigBody := multipartRelated(sample(t, "5.dcm")) // 1 MB + headers: over the limit
	tests := []struct {
		name   string
		token  string
		ctype  string
		body   []byte
		status int
	}{
		{"no token", "", ctype, body, http.StatusUnauthorized},
		{"wrong token", dicomweb.TokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ctype, body, http.StatusUnauthorized},
		{"not a token", "hello", ctype, body, http.StatusUnauthorized},
		{"wrong content type", e.token, "application/json", []byte("{}"), http.StatusUnsupportedMediaType},
		{"wrong part type", e.token, `multipart/related; type="application/dicom+xml"; boundary=x`, body, http.StatusUnsupportedMediaType},
		{"no boundary", e.token, `multipart/related; type="application/dicom"`, body, http.StatusBadRequest},
		{"malformed multipart", e.token, ctype, []byte("garbage without any boundary"), http.StatusBadRequest},
		{"oversized", e.token, big, bigBody, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		res, _ := post(t, e.url+"/dicomweb/studies", tc.token, tc.ctype, tc.body)
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.status)
		}
		if tc.status == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate", tc.name)
		}
	}
	if count(t, e.db, "instances") != 0 {
		t.Fatal("a refused request stored something")
	}
	// A revoked token stops working.
	var id int64
	if err := e.db.NewSelect().Table("api_tokens").Column("id").Where("department_id = ?", e.dept.ID).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	if err := dicomweb.RevokeToken(context.Background(), e.db, id); err != nil {
		t.Fatal(err)
	}
	if res, _ := post(t, e.url+"/dicomweb/studies", e.token, ctype, body); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", res.StatusCode)
	}
}

func TestTokensStoredHashed(t *testing.T) {
	t.Parallel()
	e := start(t, 0)
	var hashes [][]byte
	if err := e.db.NewSelect().Table("api_tokens").Column("token_hash").Scan(context.Background(), &hashes); err != nil {
		t.Fatal(err)
	}
	for _, h := range hashes {
		if bytes.Contains(h, []byte(e.token)) || bytes.Contains([]byte(e.token), h) || len(h) != 32 {
			t.Fatal("token stored in a recoverable form")
		}
	}
	if !bytes.Equal(dicomweb.HashToken(e.token), hashes[0]) && !bytes.Equal(dicomweb.HashToken(e.token), hashes[1]) {
		t.Fatal("hash does not match")
	}
}

func TestReportUpload(t *testing.T) {
	t.Parallel()
	e := start(t, 1<<20)
	ctype, body := multipartRelated(sample(t, "3.dcm"))
	if res, _ := post(t, e.url+"/dicomweb/studies", e.token, ctype, body); res.StatusCode != http.StatusOK {
		t.Fatal("setup push failed")
	}
	var uid string
	if err := e.db.NewSelect().Table("studies").Column("study_uid").Scan(context.Background(), &uid); err != nil {
		t.Fatal(err)
	}
	url := e.url + "/api/v1/studies/" + uid + "/report"
	res, out := post(t, url+"?status=preliminary&available_at=2031-05-06T07:08:09Z", e.token, "text/plain; charset=utf-8", []byte("Geen afwijkingen. Épanchement absent."))
	if res.StatusCode != http.StatusOK || out["status"] != "preliminary" || out["available_at"] != "2031-05-06T07:08:09Z" {
		t.Fatalf("text report: %d %v", res.StatusCode, out)
	}
	var s database.Study
	if err := e.db.NewSelect().Model(&s).Where("study_uid = ?", uid).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.ReportText != "Geen afwijkingen. Épanchement absent." || s.ReportAvailableAt == nil || s.ReportAvailableAt.Year() != 2031 {
		t.Fatalf("stored %+v", s)
	}
	if res, out := post(t, url+"?status=final", e.token, "application/pdf", []byte("%PDF-1.7\n%%EOF\n")); res.StatusCode != http.StatusOK || out["available_at"] != nil {
		t.Fatalf("pdf report: %d %v", res.StatusCode, out)
	}
	tests := []struct {
		name, url, token, ctype, body string
		status                        int
	}{
		{"wrong token", url + "?status=final", "nope", "text/plain", "x", http.StatusUnauthorized},
		{"other department", url + "?status=final", e.other, "text/plain", "x", http.StatusNotFound},
		{"unknown study", e.url + "/api/v1/studies/1.2.3/report?status=final", e.token, "text/plain", "x", http.StatusNotFound},
		{"bad status", url + "?status=draft", e.token, "text/plain", "x", http.StatusBadRequest},
		{"bad embargo", url + "?status=final&available_at=tomorrow", e.token, "text/plain", "x", http.StatusBadRequest},
		{"not a pdf", url + "?status=final", e.token, "application/pdf", "hello", http.StatusBadRequest},
		{"wrong type", url + "?status=final", e.token, "image/png", "x", http.StatusUnsupportedMediaType},
		{"latin-1 text", url + "?status=final", e.token, "text/plain; charset=iso-8859-1", "x", http.StatusUnsupportedMediaType},
		{"too large", url + "?status=final", e.token, "text/plain", strings.Repeat("x", 2<<20), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		if res, _ := post(t, tc.url, tc.token, tc.ctype, []byte(tc.body)); res.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.status)
		}
	}
	s = database.Study{}
	if err := e.db.NewSelect().Model(&s).Where("study_uid = ?", uid).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.ReportStatus != "final" || s.ReportPDFKey == "" {
		t.Fatalf("refused uploads changed the report: %+v", s)
	}
}

// Through the assembled server: the machine routes answer before CSRF and
// sessions, and the staff study page shows what arrived.
func TestStowThroughServer(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "EAST")
	testserver.MustUser(t, srv.DB, "eve", database.RoleStaff, d)
	t.Parallel()
	tok, _, err := dicomweb.CreateToken(context.Background(), srv.DB, d.ID, "orthanc")
	if err != nil {
		t.Fatal(err)
	}
	ctype, body := multipartRelated(sample(t, "4.dcm"))
	res, out := post(t, srv.URL+"/dicomweb/studies", tok, ctype, body)
	if res.StatusCode != http.StatusOK || len(seq(out, "00081199")) != 1 {
		t.Fatalf("STOW through the server: %d %v", res.StatusCode, out)
	}
	var sid int64
	if err := srv.DB.NewSelect().Table("studies").Column("id").Scan(context.Background(), &sid); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	c.SignIn("eve", testserver.Password)
	doc := c.GetDoc(fmt.Sprintf("/staff/studies/%d", sid), http.StatusOK)
	src, _ := doc.Find(`[data-testid="image"]`).Attr("src")
	if res, _ := c.Get(src); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("image of the pushed X-ray: %d", res.StatusCode)
	}
}
