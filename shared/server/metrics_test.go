package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// scrape reads /metrics into series -> value; a series is the name with its
// labels as Prometheus prints them (sorted by label name).
func scrape(t *testing.T, u string) map[string]float64 {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// smsAPI is a loopback stand-in for Vonage's SMS API: it keeps the texts
// and answers status ("0" sent, anything else refused).
type smsAPI struct {
	mu     sync.Mutex
	texts  []string
	status string
}

func (v *smsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	v.mu.Lock()
	v.texts = append(v.texts, r.PostForm.Get("text"))
	status := v.status
	v.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"message-count": "1",
		"messages": []map[string]string{{"to": r.PostForm.Get("to"), "status": status, "error-text": "Throttled"}}})
}

// /metrics is served on its own listener only, and its counters move with
// what users and machines do: a print, right and wrong patient answers, a
// block and its unlock, one-time password sends (one refused by Vonage),
// a STOW-RS import with a rejected part, a render cache miss then hit, and
// every request under its route pattern (an unknown URL as "unmatched").
func TestMetricsCountActions(t *testing.T) {
	t.Parallel()
	vonage := &smsAPI{status: "0"}
	api := httptest.NewServer(vonage)
	defer api.Close()
	srv := testserver.New(t, func(c *config.Config) {
		c.MetricsAddr = "127.0.0.1:0"
		c.Notify.VonageAPIKey, c.Notify.VonageAPISecret, c.Notify.VonageBaseURL, c.Notify.SMSFrom = "key", "secret", api.URL, "RadPass"
	})
	ms, maddr, err := srv.App.ListenMetrics(srv.Config.MetricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	metricsURL := "http://" + maddr + "/metrics"

	// Never on the public port.
	if res, _ := srv.Client(t).Get("/metrics"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the public port: %d, want 404", res.StatusCode)
	}

	ctx := context.Background()
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	ann, staff := srv.SignedIn(t, "ann", database.RoleAdmin, d) // an admin may unlock
	birth := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	st := testserver.MustPatientStudy(t, srv.DB, d, "P1", "Doe", "Ann", &birth)
	dobBucket, dobNum := srv.MustBucket(t, ann, []*database.Study{st}, testserver.BucketSpec{})
	_, smsNum := srv.MustBucket(t, ann, []*database.Study{st}, testserver.BucketSpec{Verification: database.VerifySMS, Destination: "+32470123489"})
	_, smsNum2 := srv.MustBucket(t, ann, []*database.Study{st}, testserver.BucketSpec{Verification: database.VerifySMS, Destination: "+32470123490"})
	token, _, err := dicomweb.CreateToken(ctx, srv.DB, d.ID, "pacs")
	if err != nil {
		t.Fatal(err)
	}
	before := scrape(t, metricsURL)

	// A print through the staff form.
	form := url.Values{"verification": {"dob"}, "scope": {"images"}, "reason": {"Patient asked"}, "language": {"en"},
		"valid_until": {srv.App.Buckets.Today().AddDate(0, 1, 0).Format("2006-01-02")}, "agreed": {"1"},
		"study": {strconv.FormatInt(st.ID, 10)}}
	if res, body := staff.PostForm("/staff/print", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("print: %d\n%s", res.StatusCode, body)
	}

	// Patients: a right answer, then five wrong ones on that bucket (the
	// fifth blocks it), staff unlocks it.
	signIn := func(n, day string) *http.Response {
		c := srv.Client(t)
		c.Get("/")
		res, _ := c.PostForm("/p/signin", url.Values{"ref": {n}, "dob_day": {day}, "dob_month": {"3"}, "dob_year": {"1961"}, "lang": {"en"}})
		return res
	}
	if res := signIn(dobNum.Canonical(), "9"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("right answer: %d", res.StatusCode)
	}
	for range 5 {
		signIn(dobNum.Canonical(), "10")
	}
	staff.Get(fmt.Sprintf("/staff/status/%d/unlock", dobBucket.ID))
	if res, body := staff.PostForm(fmt.Sprintf("/staff/status/%d/unlock", dobBucket.ID), url.Values{"reason": {"Patient called"}}); res.StatusCode >= 400 {
		t.Fatalf("unlock: %d\n%s", res.StatusCode, body)
	}
	// One-time passwords by SMS: one sent, one refused by Vonage.
	if res := signIn(smsNum.Canonical(), "9"); !strings.HasPrefix(res.Header.Get("Location"), "/p/code") {
		t.Fatalf("SMS bucket sign-in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	vonage.mu.Lock()
	vonage.status = "1"
	vonage.mu.Unlock()
	signIn(smsNum2.Canonical(), "9")

	// An import over STOW-RS: one instance stored, one part that is no DICOM.
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	instance, err := os.ReadFile(filepath.Join(dir, "1.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	const boundary = "metrics-boundary"
	var body bytes.Buffer
	for _, p := range [][]byte{instance, []byte("not dicom at all")} {
		fmt.Fprintf(&body, "--%s\r\nContent-Type: application/dicom\r\n\r\n", boundary)
		body.Write(p)
		body.WriteString("\r\n")
	}
	fmt.Fprintf(&body, "--%s--\r\n", boundary)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/dicomweb/studies", &body)
	req.Header.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+boundary)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("STOW with one bad part: %d, want 202", res.StatusCode)
	}
	// Its image twice: rendered once (a cache miss), then from the cache.
	var instID int64
	if err := srv.DB.NewSelect().Table("instances").Column("id").Limit(1).Scan(ctx, &instID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if res, _ := staff.Get(fmt.Sprintf("/staff/images/%d?size=64&fmt=png", instID)); res.StatusCode != http.StatusOK {
			t.Fatalf("image: %d", res.StatusCode)
		}
	}
	srv.Client(t).Get("/no/such/page")

	after := scrape(t, metricsURL)
	moved := func(series string, want float64) {
		t.Helper()
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	moved(`radpass_prints_total`, 1)
	moved(`radpass_patient_signins_total{outcome="open"}`, 1)
	moved(`radpass_patient_signins_total{outcome="refused"}`, 5)
	moved(`radpass_patient_signins_total{outcome="need_otp"}`, 2)
	moved(`radpass_bucket_blocks_total`, 1)
	moved(`radpass_bucket_unlocks_total`, 1)
	moved(`radpass_otp_sends_total{channel="sms",outcome="sent"}`, 1)
	moved(`radpass_otp_sends_total{channel="sms",outcome="failed"}`, 1)
	moved(`radpass_import_instances_total{outcome="added"}`, 1)
	moved(`radpass_import_instances_total{outcome="rejected"}`, 1)
	moved(`radpass_import_rejects_total{reason="invalid"}`, 1)
	moved(`radpass_import_bytes_total`, float64(len(instance)))
	moved(`radpass_render_cache_total{result="miss"}`, 1)
	moved(`radpass_render_cache_total{result="hit"}`, 1)
	moved(`radpass_http_requests_total{method="POST",route="/staff/print",status="303"}`, 1)
	moved(`radpass_http_requests_total{method="POST",route="/p/signin",status="422"}`, 5)
	moved(`radpass_http_requests_total{method="POST",route="/dicomweb/studies",status="202"}`, 1)
	moved(`radpass_http_requests_total{method="GET",route="/staff/images/:id<int>",status="200"}`, 2)
	moved(`radpass_http_requests_total{method="GET",route="unmatched",status="404"}`, 1)
	moved(`radpass_http_request_duration_seconds_count{method="POST",route="/staff/print"}`, 1)
	for _, s := range []string{`go_sql_open_connections{db_name="radpass"}`, `go_sql_in_use_connections{db_name="radpass"}`,
		`go_sql_wait_count_total{db_name="radpass"}`, `go_sql_wait_duration_seconds_total{db_name="radpass"}`} {
		if _, ok := after[s]; !ok {
			t.Errorf("no %s", s)
		}
	}
	if after[`go_sql_open_connections{db_name="radpass"}`] < 1 {
		t.Error("the pool reports no open connection")
	}
	for s := range after {
		if strings.Contains(s, "/no/such/page") {
			t.Errorf("a URL became a label value: %s", s)
		}
	}
}
