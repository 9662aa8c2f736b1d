package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/localpg"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testkit/cluster"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// fromAddresses dials every connection from the next address of
// 127.<net3>.0.1-250, one request per connection.
func fromAddresses(net3 byte) *http.Transport {
	var n atomic.Uint32
	return &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, net3, 0, byte(1+n.Add(1)%250))}}
		return d.DialContext(ctx, network, addr)
	}}
}

// failoverLoad counts, per kind of client, what the server answered.
type failoverLoad struct {
	ok, unavailable, other atomic.Int64
	fromProxy              atomic.Int64 // of the 503s, nginx's own (no instance answered)
	mu                     sync.Mutex
	odd                    []string // answers that are neither
}

func (l *failoverLoad) record(kind string, res *http.Response, body string, want int) {
	switch {
	case res.StatusCode == want:
		l.ok.Add(1)
	case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
		l.unavailable.Add(1)
		if strings.Contains(body, `id="proxy-unavailable"`) { // docs/nginx-radpass.conf
			l.fromProxy.Add(1)
		}
		// A client waits before it tries again (Retry-After asks for
		// seconds; a short pause keeps the test short without spinning).
		time.Sleep(50 * time.Millisecond)
	default:
		l.other.Add(1)
		l.mu.Lock()
		if len(l.odd) < 5 {
			l.odd = append(l.odd, fmt.Sprintf("%s: %d %q %.200s", kind, res.StatusCode, res.Header.Get("Retry-After"), body))
		}
		l.mu.Unlock()
	}
}

// A primary and a streaming replica (synchronous: a commit returns once the
// replica has it), two `radpass serve` instances behind nginx (the cluster
// kit) on a URL naming both hosts with target_session_attrs=read-write.
// Under load through nginx from staff (prints), patients (wrong birth dates)
// the machine API (reports) and staff pages (GETs), the primary is killed (SIGKILL) and the
// replica promoted: every answer in between is the normal one or 503 with
// Retry-After, never a 500 or a 502; every instance then serves again by
// itself (no restart: through nginx, and straight to each instance a print,
// a wrong answer, a report and /readyz); and every print, failure count and
// audit row a client saw acknowledged is on the new primary.
func TestPostgresFailoverSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two PostgreSQL servers; skipped under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	root, err := os.MkdirTemp("/tmp", "pgfo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	p1, p2 := freePort(t), freePort(t)
	primary, err := localpg.New(root+"/primary", p1)
	if err != nil {
		t.Fatal(err)
	}
	primary.Settings = localpg.SyncCommit
	if err := primary.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = primary.Stop(context.Background()) })
	if err := primary.CreateDatabase(ctx, "radpass"); err != nil {
		t.Fatal(err)
	}
	replica, err := primary.Replica(root+"/replica", p2)
	if err != nil {
		t.Fatal(err)
	}
	if err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replica.Stop(context.Background()) })
	if err := primary.SyncStandby(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		ok, err := primary.Streaming(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The replica comes second in the list: while it is a standby it must
	// never serve, even when the primary is gone.
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/radpass?sslmode=disable&target_session_attrs=read-write", p1, p2)
	db, err := database.Open(ctx, dsn, database.RequestTimeouts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := database.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	// The in-process app only prints the fixtures' buckets; the instances
	// serve every request.
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"RADPASS_DEV": "1", "RADPASS_DATABASE_URL": dsn, "RADPASS_DATA_DIR": t.TempDir(),
			"RADPASS_SECRET_KEY": hex.EncodeToString(key)}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := server.New(server.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cl := cluster.Start(t, cluster.Options{Instances: 2, DatabaseURL: dsn, SecretKey: key})
	srv := &testserver.Server{URL: cl.URL, DB: db, App: a, Config: cfg}

	dept := testserver.MustDepartment(t, db, "NORTH")
	birth := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	token, _, err := dicomweb.CreateToken(ctx, db, dept.ID, "pacs")
	if err != nil {
		t.Fatal(err)
	}
	const staffWorkers, patientWorkers, machineWorkers = 2, 2, 1
	type patientBucket struct {
		id       int64
		num      refnum.Number
		acked    int // wrong answers answered 422 (committed)
		attempts int
	}
	var staffUsers []*database.User
	var staffStudies []int64
	for i := range staffWorkers {
		u := testserver.MustUser(t, db, fmt.Sprintf("staff%d", i), database.RoleStaff, dept)
		staffUsers = append(staffUsers, u)
		staffStudies = append(staffStudies, testserver.MustPatientStudy(t, db, dept, fmt.Sprintf("PS%d", i), "Doe", "Ann", &birth).ID)
	}
	patientBuckets := make([][]*patientBucket, patientWorkers)
	printer := testserver.MustUser(t, db, "printer", database.RoleStaff, dept)
	for w := range patientWorkers {
		for i := range 8 {
			st := testserver.MustPatientStudy(t, db, dept, fmt.Sprintf("PP%d-%d", w, i), "Roe", "Bo", &birth)
			b, n := srv.MustBucket(t, printer, []*database.Study{st}, testserver.BucketSpec{})
			patientBuckets[w] = append(patientBuckets[w], &patientBucket{id: b.ID, num: n})
		}
	}
	reportStudy := testserver.MustPatientStudy(t, db, dept, "PR", "Poe", "Cy", &birth)

	var (
		stop                      atomic.Bool
		staffL, patientL, machine failoverLoad
		pages                     failoverLoad
		ackedMu                   sync.Mutex
		ackedPrints               []int64
		wg                        sync.WaitGroup
	)
	validUntil := a.Buckets.Today().AddDate(0, 1, 0).Format("2006-01-02")
	bucketID := regexp.MustCompile(`^/staff/print/(\d+)`)
	printForm := func(study int64) url.Values {
		return url.Values{"verification": {"dob"}, "scope": {"images"}, "reason": {"Patient asked"}, "language": {"en"},
			"valid_until": {validUntil}, "agreed": {"1"}, "study": {strconv.FormatInt(study, 10)}}
	}
	ackPrint := func(res *http.Response) {
		if m := bucketID.FindStringSubmatch(res.Header.Get("Location")); res.StatusCode == http.StatusSeeOther && m != nil {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			ackedMu.Lock()
			ackedPrints = append(ackedPrints, id)
			ackedMu.Unlock()
		}
	}
	wrongAnswer := func(b *patientBucket) url.Values {
		return url.Values{"ref": {b.num.Canonical()}, "dob_day": {"1"}, "dob_month": {"1"}, "dob_year": {"1970"}, "lang": {"en"}}
	}
	report := func(base string) (*http.Response, string, error) {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/studies/"+reportStudy.StudyUID+"/report?status=final",
			strings.NewReader("No abnormality."))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, "", err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body), nil
	}
	staffClients := make([]*testserver.Client, staffWorkers)
	for i := range staffWorkers {
		c := srv.Client(t)
		c.SignIn(staffUsers[i].Username, testserver.Password)
		staffClients[i] = c
		wg.Go(func() {
			for !stop.Load() {
				res, body := c.PostForm("/staff/print", printForm(staffStudies[i]))
				staffL.record("staff print", res, body, http.StatusSeeOther)
				ackPrint(res)
			}
		})
	}
	patientClients := make([]*testserver.Client, patientWorkers)
	for w := range patientWorkers {
		c := srv.Client(t)
		// Each try from the next of 250 addresses (nginx passes it on): the
		// per-address sign-in limit is not what this test is about.
		c.HTTP.Transport = fromAddresses(byte(10 + w))
		c.Get("/")
		patientClients[w] = c
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				// A blocked bucket answers a wrong birth date as any other
				// (security requirement 6), so the load never changes.
				b := patientBuckets[w][i%len(patientBuckets[w])]
				b.attempts++
				res, body := c.PostForm("/p/signin", wrongAnswer(b))
				patientL.record("patient sign-in", res, body, http.StatusUnprocessableEntity)
				if res.StatusCode == http.StatusUnprocessableEntity {
					b.acked++
				}
			}
		})
	}
	for range machineWorkers {
		wg.Go(func() {
			for !stop.Load() {
				res, body, err := report(srv.URL)
				if err != nil {
					machine.other.Add(1)
					continue
				}
				machine.record("machine report", res, body, http.StatusOK)
			}
		})
	}
	// A staff user reading pages: GETs, which nginx resends to the other
	// instance on a 503 (and counts as the instance's failure).
	reader := srv.Client(t)
	reader.SignIn(staffUsers[0].Username, testserver.Password)
	wg.Go(func() {
		for !stop.Load() {
			res, body := reader.Get("/staff/print?study=" + strconv.FormatInt(staffStudies[0], 10))
			pages.record("staff page", res, body, http.StatusOK)
		}
	})
	loads := []*failoverLoad{&staffL, &patientL, &machine, &pages}
	waitAll := func(what string, cond func(k int, l *failoverLoad) bool) {
		t.Helper()
		for k, l := range loads {
			for !cond(k, l) {
				if l.other.Load() > 0 { // a wrong answer: no use waiting for more
					stop.Store(true)
					wg.Wait()
					t.Fatalf("waiting for %s: answers neither normal nor 503 with Retry-After: %v", what, l.odd)
				}
				if ctx.Err() != nil {
					stop.Store(true)
					wg.Wait()
					t.Fatalf("waiting for %s: %v (staff %d/%d, patients %d/%d, machine %d/%d ok/503)", what, ctx.Err(),
						staffL.ok.Load(), staffL.unavailable.Load(), patientL.ok.Load(), patientL.unavailable.Load(),
						machine.ok.Load(), machine.unavailable.Load())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}

	waitAll("the load to run", func(_ int, l *failoverLoad) bool { return l.ok.Load() >= 3 })
	if err := primary.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	waitAll("503s while no host takes writes", func(_ int, l *failoverLoad) bool { return l.unavailable.Load() >= 2 })
	if err := replica.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	okAt := []int64{staffL.ok.Load(), patientL.ok.Load(), machine.ok.Load(), pages.ok.Load()}
	waitAll("the instances to serve again on the new primary", func(k int, l *failoverLoad) bool {
		return l.ok.Load() >= okAt[k]+3
	})
	stop.Store(true)
	wg.Wait()

	for name, l := range map[string]*failoverLoad{"staff": &staffL, "patients": &patientL, "machine API": &machine, "staff pages": &pages} {
		t.Logf("%s: %d ok, %d answered 503 with Retry-After (%d of them by nginx), %d other", name, l.ok.Load(), l.unavailable.Load(), l.fromProxy.Load(), l.other.Load())
		if l.other.Load() != 0 {
			t.Errorf("%s: %d answers neither the normal one nor 503 with Retry-After: %v", name, l.other.Load(), l.odd)
		}
	}
	// Each instance met the outage itself and never answered 500.
	for _, in := range cl.Insts {
		if n503, n500 := cl.Answered(in.Index, http.StatusServiceUnavailable), cl.Answered(in.Index, http.StatusInternalServerError); n503 == 0 || n500 != 0 {
			t.Errorf("instance %d answered 503 %d times and 500 %d times; want some 503s and no 500", in.Index, n503, n500)
		}
	}
	// Straight to each instance, past nginx: every one reconnected by
	// itself (ready, and a print, a wrong answer and a report commit there).
	for _, in := range cl.Insts {
		base := "http://" + in.Addr
		post := func(c *testserver.Client, path string, form url.Values) (*http.Response, string) {
			form.Set("_csrf", c.CSRF)
			req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", srv.URL)
			return c.Do(req)
		}
		if res, err := http.Get(base + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("instance %d /readyz after the failover: %v %v", in.Index, res, err)
		} else {
			res.Body.Close()
		}
		if res, body := post(staffClients[0], "/staff/print", printForm(staffStudies[0])); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("a print straight to instance %d after the failover: %d\n%.300s", in.Index, res.StatusCode, body)
		} else {
			ackPrint(res)
		}
		b := patientBuckets[0][in.Index]
		b.attempts++
		if res, body := post(patientClients[0], "/p/signin", wrongAnswer(b)); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("a wrong answer straight to instance %d after the failover: %d\n%.300s", in.Index, res.StatusCode, body)
		}
		b.acked++
		if res, body, err := report(base); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("a report straight to instance %d after the failover: %v %v %.300s", in.Index, res, err, body)
		}
	}

	// Everything acknowledged is on the new primary (a separate pool on the
	// replica's port only: it is the primary now).
	after, err := database.Open(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/radpass?sslmode=disable", p2))
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	var found, printAudits int
	if err := after.NewSelect().Table("buckets").Where("id IN (?)", bun.In(ackedPrints)).ColumnExpr("count(*)").Scan(ctx, &found); err != nil {
		t.Fatal(err)
	}
	if err := after.NewSelect().Table("audit_events").Where("bucket_id IN (?)", bun.In(ackedPrints)).ColumnExpr("count(DISTINCT bucket_id)").Scan(ctx, &printAudits); err != nil {
		t.Fatal(err)
	}
	if found != len(ackedPrints) || printAudits != len(ackedPrints) {
		t.Errorf("%d prints acknowledged; on the new primary %d of their buckets and audit rows of %d", len(ackedPrints), found, printAudits)
	}
	for w := range patientWorkers {
		for _, b := range patientBuckets[w] {
			if b.attempts == 0 {
				continue
			}
			var failures, audits int
			if err := after.NewSelect().Table("buckets").Column("failures").Where("id = ?", b.id).Scan(ctx, &failures); err != nil {
				t.Fatal(err)
			}
			if err := after.NewSelect().Table("audit_events").ColumnExpr("count(*)").Where("bucket_id = ? AND actor_kind = 'patient'", b.id).Scan(ctx, &audits); err != nil {
				t.Fatal(err)
			}
			// The fifth failure blocks: the count stops there.
			if failures < min(b.acked, buckets.MaxFailures) || failures > min(b.attempts, buckets.MaxFailures) || audits < b.acked {
				t.Errorf("bucket %d: %d wrong answers acknowledged of %d sent; on the new primary %d failures and %d patient audit rows",
					b.id, b.acked, b.attempts, failures, audits)
			}
		}
	}
	t.Logf("%d prints acknowledged, all on the new primary", len(ackedPrints))
}
