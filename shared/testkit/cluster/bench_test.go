package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/cluster"
)

// BenchmarkScaleout measures patient sign-in and image views through nginx
// with 1, 2 and 3 instances on one database: requests per second, p99, and
// the CPU seconds per request of the radpass processes (and of nginx), from
// /proc. scripts/bench-scaleout.sh runs it once (-benchtime 1x); make test
// never does. BENCH_SCALEOUT_SECONDS sets each phase's length (default 10),
// BENCH_SCALEOUT_CLIENTS the concurrent clients (default 32).
func BenchmarkScaleout(b *testing.B) {
	secs, clients := 10, 32
	if v, err := strconv.Atoi(os.Getenv("BENCH_SCALEOUT_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	if v, err := strconv.Atoi(os.Getenv("BENCH_SCALEOUT_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	var rows, benchrows []string
	for n := 1; n <= 3; n++ {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			f := newFixture(b, n)
			numbers := patientNumbers(b, f, 10)
			for _, phase := range []string{"patient sign-in", "image view"} {
				f.exec(b, `DELETE FROM throttle`)
				r := runPhase(f, phase, numbers, clients, time.Duration(secs)*time.Second)
				b.ReportMetric(r.rps, strings.ReplaceAll(phase, " ", "-")+"-req/s")
				row := fmt.Sprintf("| %s | %d | %d | %.0f | %.1f | %.1f | %.2f | %.2f | %.2f | %d |", phase, n, clients, r.rps, r.p50, r.p99, r.cpu*1000, r.pgCPU*1000, r.nginxCPU*1000, r.fails)
				rows = append(rows, row)
				// The row of make bench's summary table (scripts/bench_table.sh):
				// "per instance count" replaces its placeholder; the target is
				// no failed request.
				pass := "pass"
				if r.fails > 0 {
					pass = "FAIL"
				}
				benchrows = append(benchrows, fmt.Sprintf("BENCHROW %s per instance count: %d instance(s), %d clients through nginx|%.0f req/s, p99 %.1f ms; CPU per request: radpass %.2f ms, PostgreSQL %.2f ms, nginx %.2f ms|0 failed (%d)|—|—|%s",
					phase, n, clients, r.rps, r.p99, r.cpu*1000, r.pgCPU*1000, r.nginxCPU*1000, r.fails, pass))
			}
			f.cl.Close()
		})
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\nscale-out benchmark, %s, %d CPUs, load average %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), strings.Fields(string(load))[0:3])
	fmt.Println("| what | instances | clients | req/s | p50 ms | p99 ms | radpass CPU ms/request | PostgreSQL CPU ms/request | nginx CPU ms/request | failed |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
	fmt.Println()
	for _, r := range benchrows {
		fmt.Println(r)
	}
}

type phaseResult struct {
	rps, p50, p99, cpu, nginxCPU, pgCPU float64
	fails                               int
}

// runPhase runs clients loops of one kind for d and measures them.
func runPhase(f *fixture, phase string, numbers []refnum.Number, clients int, d time.Duration) phaseResult {
	img := "/p/images/" + strconv.FormatInt(f.inst[0], 10)
	stop := make(chan struct{})
	var mu sync.Mutex
	var took []time.Duration
	fails := 0
	// Image views: each client signs in once first (not measured).
	sessions := make([]*http.Client, clients)
	if phase == "image view" {
		for i := range sessions {
			sessions[i] = newHTTP(i)
			_, body, _ := get(sessions[i], f.cl.URL, "/")
			if m := csrfRe.FindStringSubmatch(body); m != nil {
				form := signInForm(numbers[i%len(numbers)].Canonical(), birth)
				form.Set("_csrf", m[1])
				_, _, _ = post(sessions[i], f.cl.URL, "/p/signin", form)
			}
		}
	}
	pg := postmaster(f)
	cpu0, ngx0 := f.cl.CPUSeconds()
	pg0 := cluster.PostgresCPUSeconds(pg)
	began := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var ok bool
				var dt time.Duration
				if phase == "image view" {
					s := time.Now()
					st, _, err := get(sessions[i], f.cl.URL, img)
					dt, ok = time.Since(s), err == nil && st == 200
				} else {
					hc := newHTTP(i)
					_, body, err := get(hc, f.cl.URL, "/")
					m := csrfRe.FindStringSubmatch(body)
					if err != nil || m == nil {
						mu.Lock()
						fails++
						mu.Unlock()
						continue
					}
					form := signInForm(numbers[i%len(numbers)].Canonical(), birth)
					form.Set("_csrf", m[1])
					s := time.Now()
					st, _, err := post(hc, f.cl.URL, "/p/signin", form)
					dt, ok = time.Since(s), err == nil && st == http.StatusSeeOther
					hc.CloseIdleConnections()
				}
				mu.Lock()
				if ok {
					took = append(took, dt)
				} else {
					fails++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(d)
	close(stop)
	wg.Wait()
	elapsed := time.Since(began)
	cpu1, ngx1 := f.cl.CPUSeconds()
	pg1 := cluster.PostgresCPUSeconds(pg)
	slices.Sort(took)
	r := phaseResult{fails: fails}
	if n := len(took); n > 0 {
		r.rps = float64(n) / elapsed.Seconds()
		r.p50, r.p99 = ms(took[n/2]), ms(took[n*99/100])
		// The sign-in phase's start pages are cheap next to the sign-in;
		// they are counted in its CPU (one GET per sign-in).
		r.cpu, r.nginxCPU, r.pgCPU = (cpu1-cpu0)/float64(n), (ngx1-ngx0)/float64(n), (pg1-pg0)/float64(n)
	}
	return r
}

// postmaster is the pid of the test's PostgreSQL server (0 when it is not
// on this machine): the first line of postmaster.pid in its data folder.
func postmaster(f *fixture) int {
	var dir string
	if err := f.srv.DB.QueryRowContext(context.Background(), `SHOW data_directory`).Scan(&dir); err != nil {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}
