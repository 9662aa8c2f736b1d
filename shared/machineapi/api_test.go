package machineapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/machineapi"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

var birth = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)

// exchange is one recorded request and its answer (the OpenAPI check reads them).
type exchange struct {
	method, path, contentType string
	status                    int
	body                      []byte
}

// recorder is an http.RoundTripper that keeps every exchange.
type recorder struct {
	mu  sync.Mutex
	all []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.all = append(r.all, exchange{req.Method, req.URL.Path, res.Header.Get("Content-Type"), res.StatusCode, body})
	r.mu.Unlock()
	return res, nil
}

// api is a machine client of one server, recording what it sees.
type api struct {
	t    *testing.T
	srv  *testserver.Server
	http *http.Client
	rec  *recorder
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
	return m
}

// do sends a request with token (none when ""), the body as JSON unless it
// is a string or []byte, and header pairs.
func (a *api) do(method, path, token string, body any, header ...string) answer {
	a.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := a.http.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header, b}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func count(t *testing.T, srv *testserver.Server, q string, args ...any) int {
	t.Helper()
	var n int
	if err := srv.DB.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pdfText is the text of a PDF by pdftotext (poppler-utils): the judge of
// what the letter says.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext (poppler-utils) is needed: ", err)
	}
	in := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestAccessAPI runs the RIS API on one server: the full flow (create, the
// letter's text, the patient signs in with its number, extend, revoke),
// every bad input with nothing stored, token scopes, the Idempotency-Key
// (replay, another body, 100 parallel creates), and last the OpenAPI
// description against every answer the test saw.
func TestAccessAPI(t *testing.T) {
	srv := testserver.New(t)
	var later atomic.Int64 // how far the server's clock is ahead
	srv.App.Staff.Print.Now = func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	ctx := context.Background()
	north := testserver.MustDepartment(t, srv.DB, "NORTH")
	three := 3
	month := "month"
	north.MaxValidityN, north.MaxValidityUnit = &three, &month
	if _, err := srv.DB.NewUpdate().Model(north).Column("max_validity_n", "max_validity_unit").WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	south := testserver.MustDepartment(t, srv.DB, "SOUTH")
	bd := birth
	s1 := testserver.MustPatientStudy(t, srv.DB, north, "P001", "Łukasik", "Zoë", &bd)
	s2 := testserver.MustPatientStudy(t, srv.DB, north, "P001", "Łukasik", "Zoë", &bd)
	other := testserver.MustPatientStudy(t, srv.DB, south, "P900", "Other", "Department", &bd)

	token := func(d *database.Department, name string, scopes ...string) string {
		plain, _, err := dicomweb.CreateScopedToken(ctx, srv.DB, d.ID, name, scopes)
		if err != nil {
			t.Fatal(err)
		}
		return plain
	}
	ris := token(north, "ris")
	stowOnly := token(north, "pacs", dicomweb.ScopeStow)
	accessOnly := token(north, "ehr", dicomweb.ScopeAccess)
	southRIS := token(south, "south-ris")

	rec := &recorder{}
	a := &api{t: t, srv: srv, rec: rec, http: &http.Client{Transport: rec, Timeout: 60 * time.Second}}
	today := srv.App.Buckets.Today()
	valid := func() map[string]any {
		return map[string]any{
			"studies":        []map[string]string{{"study_uid": s1.StudyUID}, {"accession_number": s2.Accession}},
			"verification":   "dob",
			"scope":          "images",
			"reason":         "Patient asked for a copy at the desk",
			"language":       "fr",
			"valid_until":    today.AddDate(0, 1, 0).Format(time.DateOnly),
			"patient_agreed": true,
			"message":        "Bonne journée",
		}
	}
	stored := func() (buckets, audits, records int) {
		return count(t, srv, `SELECT count(*) FROM buckets`),
			count(t, srv, `SELECT count(*) FROM audit_events WHERE action = 'bucket.print'`),
			count(t, srv, `SELECT count(*) FROM api_accesses`)
	}

	var id int64
	var number refnum.Number
	t.Run("create, letter, patient sign-in, extend, revoke", func(t *testing.T) {
		res := a.do("POST", "/api/v1/accesses", ris, valid())
		if res.status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		m := res.json(t)
		id = int64(m["id"].(float64))
		if loc := res.header.Get("Location"); !strings.HasSuffix(loc, "/api/v1/accesses/"+strconv.FormatInt(id, 10)) {
			t.Errorf("Location %q", loc)
		}
		ref, _ := m["reference_number"].(string)
		n, err := refnum.Parse(ref)
		if err != nil {
			t.Fatalf("reference number %q: %v", ref, err)
		}
		number = n
		letters, _ := m["letters"].(map[string]any)
		if len(letters) != 4 || m["state"] != "active" || len(m["studies"].([]any)) != 2 {
			t.Fatalf("answer %s", res.body)
		}
		// The audit event names the token; the staff list shows its creator.
		if n := count(t, srv, `SELECT count(*) FROM audit_events WHERE action = 'bucket.print' AND actor_kind = 'api'
			AND actor_name = 'token:ris' AND bucket_id = ? AND details->>'reason' = 'Patient asked for a copy at the desk'`, id); n != 1 {
			t.Fatalf("%d print audit events naming the token", n)
		}
		if n := count(t, srv, `SELECT count(*) FROM buckets WHERE id = ? AND created_by IS NULL AND created_by_token IS NOT NULL`, id); n != 1 {
			t.Fatal("the access does not name its token as creator")
		}

		// The letter in French (the link of the answer) says the number.
		lres := a.do("GET", strings.TrimPrefix(letters["fr"].(string), srv.URL), ris, nil)
		if lres.status != http.StatusOK || lres.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("letter: %d %s", lres.status, lres.header.Get("Content-Type"))
		}
		text := pdfText(t, lres.body)
		found := regexp.MustCompile(`[0-9A-Z]{4}(-[0-9A-Z]{1,4})+`).FindString(text)
		if found != n.Grouped() || !strings.Contains(text, "Bonne journée") {
			t.Fatalf("letter shows %q, want %q and the message:\n%s", found, n.Grouped(), text)
		}
		if n := count(t, srv, `SELECT count(*) FROM audit_events WHERE action = 'bucket.letter' AND actor_name = 'token:ris' AND bucket_id = ?`, id); n != 1 {
			t.Fatalf("%d letter audit events", n)
		}

		// The patient signs in with the number read from the letter.
		p := srv.Client(t)
		p.GetDoc("/", http.StatusOK)
		ref2, _ := refnum.Parse(found)
		form := map[string][]string{"ref": {ref2.Canonical()}, "dob_day": {birth.Format("2")}, "dob_month": {birth.Format("1")}, "dob_year": {birth.Format("2006")}}
		if res, body := p.PostForm("/p/signin", form); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/" {
			t.Fatalf("patient sign-in: %d %s %.300s", res.StatusCode, res.Header.Get("Location"), body)
		}
		if res, _ := p.Get("/p/"); res.StatusCode != http.StatusOK {
			t.Fatalf("patient studies: %d", res.StatusCode)
		}

		// Staff see it in Status Forwarding, created by the token.
		_, admin := srv.SignedIn(t, "north.admin", database.RoleAdmin, north)
		if res, body := admin.Get("/staff/status"); res.StatusCode != http.StatusOK || !strings.Contains(body, "API: ris") {
			t.Fatalf("Status Forwarding: %d, creator \"API: ris\" shown: %v", res.StatusCode, strings.Contains(body, "API: ris"))
		}

		// State, never the number again.
		g := a.do("GET", "/api/v1/accesses/"+strconv.FormatInt(id, 10), ris, nil).json(t)
		if g["reference_number"] != nil || g["state"] != "active" || g["language"] != "fr" {
			t.Fatalf("state %v", g)
		}

		path := "/api/v1/accesses/" + strconv.FormatInt(id, 10)
		until := today.AddDate(0, 2, 0).Format(time.DateOnly)
		if e := a.do("POST", path+"/extend", ris, map[string]string{"reason": "Second opinion", "valid_until": until}); e.status != http.StatusOK || e.json(t)["valid_until"] != until {
			t.Fatalf("extend: %d %s", e.status, e.body)
		}
		// A refused change is titled as a change, not as a creation.
		changeTitle := i18n.T(i18n.Default, "api.problem.change")
		if e := a.do("POST", path+"/extend", ris, map[string]string{"reason": "Too long", "valid_until": today.AddDate(1, 0, 0).Format(time.DateOnly)}); e.status != http.StatusUnprocessableEntity || e.json(t)["title"] != changeTitle {
			t.Fatalf("extend past the maximum: %d %s", e.status, e.body)
		}
		if e := a.do("POST", path+"/revoke", ris, map[string]string{"reason": ""}); e.status != http.StatusUnprocessableEntity || e.json(t)["title"] != changeTitle {
			t.Fatalf("revoke without a reason: %d %s", e.status, e.body)
		}
		if e := a.do("POST", path+"/revoke", ris, map[string]string{"reason": "Patient withdrew consent"}); e.status != http.StatusOK || e.json(t)["state"] != "revoked" {
			t.Fatalf("revoke: %d %s", e.status, e.body)
		}
		if res, _ := p.Get("/p/"); res.StatusCode == http.StatusOK {
			t.Fatal("the patient's session survives the revoke")
		}
		if e := a.do("POST", path+"/revoke", ris, map[string]string{"reason": "Again"}); e.status != http.StatusConflict {
			t.Fatalf("second revoke: %d", e.status)
		}
		if e := a.do("GET", path+"/letter?lang=en", ris, nil); e.status != http.StatusGone {
			t.Fatalf("letter of a revoked access: %d", e.status)
		}
		if n := count(t, srv, `SELECT count(*) FROM audit_events WHERE action IN ('bucket.extend', 'bucket.revoke') AND actor_name = 'token:ris' AND bucket_id = ?`, id); n != 2 {
			t.Fatalf("%d extend/revoke audit events", n)
		}
		// Another department's token, a desk print: as if there were none.
		if e := a.do("GET", path, southRIS, nil); e.status != http.StatusNotFound {
			t.Fatalf("another department's token: %d", e.status)
		}
		if e := a.do("GET", "/api/v1/accesses/x", ris, nil); e.status != http.StatusNotFound {
			t.Fatalf("bad id: %d", e.status)
		}
	})

	t.Run("bad input stores nothing", func(t *testing.T) {
		b0, a0, r0 := stored()
		with := func(k string, v any) map[string]any {
			m := valid()
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		sms := valid()
		sms["verification"], sms["sms_region"], sms["phone"] = "sms", "BE", "02 555 12 34"
		cases := []struct {
			name        string
			token       string
			body        any
			status      int
			field, code string
		}{
			{"unknown study", ris, with("studies", []map[string]string{{"study_uid": "1.2.3.4"}}), 422, "studies[0]", "access.error.study.unknown"},
			{"another department's study", ris, with("studies", []map[string]string{{"study_uid": s1.StudyUID}, {"study_uid": other.StudyUID}}), 422, "studies[1]", "access.error.study.unknown"},
			{"both names of a study", ris, with("studies", []map[string]string{{"study_uid": s1.StudyUID, "accession_number": s1.Accession}}), 422, "studies[0]", "access.error.study.ref"},
			{"missing reason", ris, with("reason", nil), 422, "reason", "print.error.reason.short"},
			{"validity past the maximum", ris, with("valid_until", today.AddDate(0, 4, 0).Format(time.DateOnly)), 422, "valid_until", "print.error.valid.max"},
			{"bad phone", ris, sms, 422, "phone", "print.error.phone.invalid"},
			{"no consent", ris, with("patient_agreed", false), 422, "patient_agreed", "print.error.agreed"},
			{"unknown label", ris, with("label", map[string]int{"id": 999999, "user_id": 1}), 422, "label.id", "print.error.label"},
			// Text PostgreSQL would not keep as sent: the driver drops a NUL
			// (the accession would find study s2, the reason shrink to a 500).
			{"a NUL in an accession number", ris, with("studies", []map[string]string{{"accession_number": s2.Accession[:2] + "\x00" + s2.Accession[2:]}}), 422, "studies[0].accession_number", "error.form.encoding"},
			{"a NUL in the reason", ris, with("reason", "P\x00a"), 422, "reason", "error.form.encoding"},
			{"not UTF-8", ris, bytes.Replace(must(json.Marshal(valid())), []byte("Patient"), []byte("Pa\xfftient"), 1), 400, "", ""},
			{"unknown field", ris, with("colour", "red"), 400, "", ""},
			{"not JSON", ris, "{", 400, "", ""},
			{"token without the access scope", stowOnly, valid(), 403, "", ""},
			{"no token", "", valid(), 401, "", ""},
			{"revoked or unknown token", "rpt_unknown", valid(), 401, "", ""},
		}
		for _, c := range cases {
			res := a.do("POST", "/api/v1/accesses", c.token, c.body, "Accept-Language", "nl")
			if res.status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, res.status, c.status, res.body)
				continue
			}
			if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: Content-Type %q", c.name, ct)
			}
			var p struct {
				Type   string
				Title  string
				Status int
				Errors []struct{ Field, Pointer, Code, Message string }
			}
			if err := json.Unmarshal(res.body, &p); err != nil || p.Status != c.status || !strings.HasPrefix(p.Type, "urn:radpass:problem:") || p.Title == "" {
				t.Errorf("%s: problem %s (%v)", c.name, res.body, err)
			}
			if c.field == "" {
				continue
			}
			ok := false
			for _, e := range p.Errors {
				if e.Field == c.field && e.Code == c.code && e.Message != "" && e.Message != e.Code && strings.HasPrefix(e.Pointer, "#/") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: no error %s/%s in %s", c.name, c.field, c.code, res.body)
			}
		}
		// A wrong media type, and the other endpoints' scopes.
		if res := a.do("POST", "/api/v1/accesses", ris, valid(), "Content-Type", "text/plain"); res.status != http.StatusUnsupportedMediaType {
			t.Errorf("text/plain body: %d", res.status)
		}
		if res := a.do("POST", "/api/v1/accesses", ris, valid(), "Idempotency-Key", strings.Repeat("k", 256)); res.status != http.StatusBadRequest {
			t.Errorf("256-character Idempotency-Key: %d", res.status)
		}
		if res := a.do("POST", "/dicomweb/studies", accessOnly, "--x--", "Content-Type", `multipart/related; type="application/dicom"; boundary=x`); res.status != http.StatusForbidden {
			t.Errorf("STOW-RS with an access-only token: %d %s", res.status, res.body)
		}
		if res := a.do("POST", "/api/v1/studies/"+s1.StudyUID+"/report?status=final", accessOnly, "text", "Content-Type", "text/plain"); res.status != http.StatusForbidden {
			t.Errorf("report with an access-only token: %d %s", res.status, res.body)
		}
		if res := a.do("POST", "/api/v1/accesses/"+strconv.FormatInt(id, 10)+"/revoke", ris, `{"reason":"Asked\u0000 by phone"}`); res.status != http.StatusUnprocessableEntity {
			t.Errorf("revoke with a NUL in the reason: %d %s", res.status, res.body)
		}
		if b, au, r := stored(); b != b0 || au != a0 || r != r0 {
			t.Fatalf("bad input stored something: buckets %d→%d, audit %d→%d, api records %d→%d", b0, b, a0, au, r0, r)
		}
	})

	t.Run("Idempotency-Key", func(t *testing.T) {
		b0, _, _ := stored()
		key := "ris-order-4711"
		first := a.do("POST", "/api/v1/accesses", ris, valid(), "Idempotency-Key", key)
		if first.status != http.StatusCreated || first.json(t)["reference_number"] == nil {
			t.Fatalf("first: %d %s", first.status, first.body)
		}
		fid := first.json(t)["id"]
		// The same body written another way is the same request.
		body, _ := json.MarshalIndent(valid(), "", "    ")
		again := a.do("POST", "/api/v1/accesses", ris, body, "Idempotency-Key", key)
		if again.status != http.StatusOK || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s", again.status, again.body)
		}
		if m := again.json(t); m["id"] != fid || m["reference_number"] != nil || len(m["letters"].(map[string]any)) != 4 {
			t.Fatalf("replay answers %s", again.body)
		}
		changed := valid()
		changed["language"] = "de"
		if res := a.do("POST", "/api/v1/accesses", ris, changed, "Idempotency-Key", key); res.status != http.StatusUnprocessableEntity ||
			res.json(t)["type"] != "urn:radpass:problem:idempotency-key-reused" {
			t.Fatalf("same key, another body: %d %s", res.status, res.body)
		}
		// Another token's key space is its own.
		if res := a.do("POST", "/api/v1/accesses", accessOnly, valid(), "Idempotency-Key", key); res.status != http.StatusCreated {
			t.Fatalf("the same key with another token: %d %s", res.status, res.body)
		}
		if b, _, _ := stored(); b != b0+2 {
			t.Fatalf("%d accesses made, want 2", b-b0)
		}
	})

	t.Run("100 parallel creates with one Idempotency-Key", func(t *testing.T) {
		b0, a0, _ := stored()
		const n = 100
		res := make([]answer, n)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				res[i] = a.do("POST", "/api/v1/accesses", ris, valid(), "Idempotency-Key", "parallel-1")
			}()
		}
		close(gate)
		wg.Wait()
		created, ids := 0, map[any]bool{}
		for _, r := range res {
			switch r.status {
			case http.StatusCreated:
				created++
			case http.StatusOK:
			default:
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			ids[r.json(t)["id"]] = true
		}
		if b, au, _ := stored(); created != 1 || len(ids) != 1 || b != b0+1 || au != a0+1 {
			t.Fatalf("%d created answers, %d ids, %d accesses, %d print audit events; want 1 each", created, len(ids), b-b0, au-a0)
		}
	})

	t.Run("the letter's time", func(t *testing.T) {
		res := a.do("POST", "/api/v1/accesses", ris, valid())
		if res.status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		path := "/api/v1/accesses/" + strconv.FormatInt(int64(res.json(t)["id"].(float64)), 10)
		if r := a.do("GET", path+"/letter?lang=de", ris, nil); r.status != http.StatusOK {
			t.Fatalf("letter within the hour: %d", r.status)
		}
		if r := a.do("GET", path+"/letter?lang=xx", ris, nil); r.status != http.StatusBadRequest {
			t.Fatalf("letter in an unknown language: %d", r.status)
		}
		later.Store(int64(machineapi.LetterTTL + time.Minute))
		defer later.Store(0)
		if r := a.do("GET", path+"/letter?lang=de", ris, nil); r.status != http.StatusGone {
			t.Fatalf("letter after its time: %d", r.status)
		}
		if m := a.do("GET", path, ris, nil).json(t); len(m["letters"].(map[string]any)) != 0 || m["letter_available_until"] != nil {
			t.Fatalf("the access still offers its letter: %v", m)
		}
		if err := machineapi.DropExpiredNumbers(ctx, srv.DB, srv.App.Buckets.Time()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, srv, `SELECT count(*) FROM api_accesses WHERE sealed_ref IS NOT NULL AND letter_until <= now() + interval '61 minutes'`); n != 0 {
			t.Fatalf("%d sealed numbers kept past their letter time", n)
		}
	})

	t.Run("report and STOW-RS answers for the OpenAPI check", func(t *testing.T) {
		if res := a.do("POST", "/api/v1/studies/"+s1.StudyUID+"/report?status=final", ris, "Befund: unauffällig.", "Content-Type", "text/plain; charset=utf-8"); res.status != http.StatusOK {
			t.Fatalf("report: %d %s", res.status, res.body)
		}
		if res := a.do("POST", "/api/v1/studies/1.2.3/report?status=final", ris, "text", "Content-Type", "text/plain"); res.status != http.StatusNotFound {
			t.Fatalf("report of an unknown study: %d", res.status)
		}
		if res := a.do("POST", "/dicomweb/studies/"+s1.StudyUID, ris, "x", "Content-Type", "text/plain"); res.status != http.StatusUnsupportedMediaType {
			t.Fatalf("STOW-RS of text: %d", res.status)
		}
		if res := a.do("POST", "/dicomweb/studies", "", "x", "Content-Type", "text/plain"); res.status != http.StatusUnauthorized {
			t.Fatalf("STOW-RS without a token: %d", res.status)
		}
		if res := a.do("GET", "/api/v1/openapi.json", "", nil); res.status != http.StatusOK {
			t.Fatalf("openapi.json: %d", res.status)
		}
	})

	t.Run("OpenAPI describes every answer", func(t *testing.T) {
		checkOpenAPI(t, a.do("GET", "/api/v1/openapi.json", "", nil).body, rec.all)
	})
	_ = number
}
