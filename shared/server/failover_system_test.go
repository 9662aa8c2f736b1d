package server_test

import (
	"context"
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

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/localpg"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/server"
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

// failoverLoad counts, per kind of client, what the server answered.
type failoverLoad struct {
	ok, unavailable, other atomic.Int64
	mu                     sync.Mutex
	odd                    []string // answers that are neither
}

func (l *failoverLoad) record(kind string, res *http.Response, body string, want int) {
	switch {
	case res.StatusCode == want:
		l.ok.Add(1)
	case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
		l.unavailable.Add(1)
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
// replica has it), RadPass on a URL naming both with
// target_session_attrs=read-write. Under load from staff (prints), patients
// (wrong birth dates) and the machine API (reports), the primary is killed
// (SIGKILL) and the replica promoted: every answer in between is the normal
// one or 503 with Retry-After, never a 500; the same server then serves
// again by itself (no restart, new connections find the new primary); and
// every print, failure count and audit row a client saw acknowledged is on
// the new primary.
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"RADPASS_DEV": "1", "RADPASS_DATABASE_URL": dsn, "RADPASS_ADDR": ln.Addr().String(),
			"RADPASS_DATA_DIR": t.TempDir()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := server.New(server.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// All clients come from 127.0.0.1: lift the per-address sign-in limit,
	// it is not what this test is about.
	a.Patient.IPThrottle = &auth.AddressLimit{DB: db, Prefix: "patient-ip:", Free: 1 << 30, Window: time.Minute, Step: time.Second}
	go func() { _ = a.Fiber.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = a.Fiber.Shutdown() })
	srv := &testserver.Server{URL: "http://" + ln.Addr().String(), DB: db, App: a, Config: cfg}

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
		ackedMu                   sync.Mutex
		ackedPrints               []int64
		wg                        sync.WaitGroup
	)
	validUntil := a.Buckets.Today().AddDate(0, 1, 0).Format("2006-01-02")
	bucketID := regexp.MustCompile(`^/staff/print/(\d+)`)
	for i := range staffWorkers {
		c := srv.Client(t)
		c.SignIn(staffUsers[i].Username, testserver.Password)
		form := url.Values{"verification": {"dob"}, "scope": {"images"}, "reason": {"Patient asked"}, "language": {"en"},
			"valid_until": {validUntil}, "agreed": {"1"}, "study": {strconv.FormatInt(staffStudies[i], 10)}}
		wg.Go(func() {
			for !stop.Load() {
				res, body := c.PostForm("/staff/print", form)
				staffL.record("staff print", res, body, http.StatusSeeOther)
				if m := bucketID.FindStringSubmatch(res.Header.Get("Location")); res.StatusCode == http.StatusSeeOther && m != nil {
					id, _ := strconv.ParseInt(m[1], 10, 64)
					ackedMu.Lock()
					ackedPrints = append(ackedPrints, id)
					ackedMu.Unlock()
				}
			}
		})
	}
	for w := range patientWorkers {
		c := srv.Client(t)
		c.Get("/")
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				// A blocked bucket answers a wrong birth date as any other
				// (security requirement 6), so the load never changes.
				b := patientBuckets[w][i%len(patientBuckets[w])]
				b.attempts++
				res, body := c.PostForm("/p/signin", url.Values{"ref": {b.num.Canonical()},
					"dob_day": {"1"}, "dob_month": {"1"}, "dob_year": {"1970"}, "lang": {"en"}})
				patientL.record("patient sign-in", res, body, http.StatusUnprocessableEntity)
				if res.StatusCode == http.StatusUnprocessableEntity {
					b.acked++
				}
			}
		})
	}
	for range machineWorkers {
		wg.Go(func() {
			hc := &http.Client{Timeout: 30 * time.Second}
			for !stop.Load() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/studies/"+reportStudy.StudyUID+"/report?status=final",
					strings.NewReader("No abnormality."))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "text/plain; charset=utf-8")
				res, err := hc.Do(req)
				if err != nil {
					machine.other.Add(1)
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				machine.record("machine report", res, string(body), http.StatusOK)
			}
		})
	}
	loads := []*failoverLoad{&staffL, &patientL, &machine}
	waitAll := func(what string, cond func(l *failoverLoad) bool) {
		t.Helper()
		for _, l := range loads {
			for !cond(l) {
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

	waitAll("the load to run", func(l *failoverLoad) bool { return l.ok.Load() >= 3 })
	if err := primary.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	waitAll("503s while no host takes writes", func(l *failoverLoad) bool { return l.unavailable.Load() >= 2 })
	if err := replica.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	okAt := []int64{staffL.ok.Load(), patientL.ok.Load(), machine.ok.Load()}
	i := 0
	waitAll("the server to serve again on the new primary", func(l *failoverLoad) bool {
		defer func() { i++ }()
		return l.ok.Load() >= okAt[i%3]+3
	})
	stop.Store(true)
	wg.Wait()

	for name, l := range map[string]*failoverLoad{"staff": &staffL, "patients": &patientL, "machine API": &machine} {
		t.Logf("%s: %d ok, %d answered 503 with Retry-After, %d other", name, l.ok.Load(), l.unavailable.Load(), l.other.Load())
		if l.other.Load() != 0 {
			t.Errorf("%s: %d answers neither the normal one nor 503 with Retry-After: %v", name, l.other.Load(), l.odd)
		}
	}
	// /readyz agrees: the same server is ready again.
	if res, _ := srv.Client(t).Get("/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz after the failover: %d", res.StatusCode)
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
