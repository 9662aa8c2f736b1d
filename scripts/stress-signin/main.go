// Command stress-signin is the sign-in burst of `make bench`'s stress
// section: it starts a real `radpass serve` on a fresh database of the
// throwaway cluster, fires N parallel anonymous sign-ins with random account
// names at once, and prints the statuses and the server's peak RSS (VmHWM).
//
//	go run ./scripts/stress-signin -bin bin/radpass -db "$RADPASS_TEST_DATABASE_URL" -n 80
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/radpass/radpass/shared/database"
)

func main() {
	bin := flag.String("bin", "bin/radpass", "radpass binary")
	admin := flag.String("db", os.Getenv("RADPASS_TEST_DATABASE_URL"), "admin URL of a PostgreSQL cluster to create the database on")
	n := flag.Int("n", 80, "parallel sign-ins")
	target := flag.Int("target", 600, "peak RSS target in MiB")
	flag.Parse()
	if err := run(*bin, *admin, *n, *target); err != nil {
		fmt.Fprintln(os.Stderr, "stress-signin:", err)
		os.Exit(1)
	}
}

func run(bin, admin string, n, target int) error {
	ctx := context.Background()
	if admin == "" {
		return fmt.Errorf("no -db (RADPASS_TEST_DATABASE_URL)")
	}
	adb, err := database.Open(ctx, admin)
	if err != nil {
		return err
	}
	defer adb.Close()
	name := "radpass_stress_signin_" + randHex(4)
	if _, err := adb.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return err
	}
	defer adb.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) //nolint:errcheck
	u, err := url.Parse(admin)
	if err != nil {
		return err
	}
	u.Path = "/" + name

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	data, err := os.MkdirTemp("", "radpass-stress-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "RADPASS_DATABASE_URL="+u.String(), "RADPASS_SECRET_KEY="+randHex(32),
		"RADPASS_ADDR="+addr, "RADPASS_DATA_DIR="+data, "RADPASS_LOG_LEVEL=warn", "RADPASS_DEV=0")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	if err := waitReady(base); err != nil {
		return err
	}
	before, err := vmHWM(cmd.Process.Pid)
	if err != nil {
		return err
	}

	// Every client loads the form first (cookie + token), then all post at once.
	type client struct{ cookie, token string }
	clients := make([]client, n)
	tokRE := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	for i := range clients {
		res, err := http.Get(base + "/staff/signin")
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := tokRE.FindSubmatch(b)
		if m == nil {
			return fmt.Errorf("no CSRF token on the sign-in page")
		}
		var cookies []string
		for _, ck := range res.Cookies() {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
		clients[i] = client{strings.Join(cookies, "; "), string(m[1])}
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			form := url.Values{"_csrf": {clients[i].token}, "username": {"nobody-" + randHex(6)}, "password": {"wrong-" + randHex(8)}}
			req, _ := http.NewRequest(http.MethodPost, base+"/staff/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", clients[i].cookie)
			req.Header.Set("Origin", base)
			<-start
			res, err := (&http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			}}).Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[i] = res.StatusCode
		}(i)
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(t0)
	peak, err := vmHWM(cmd.Process.Pid)
	if err != nil {
		return err
	}
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	var keys []int
	for k := range count {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		label := fmt.Sprint(k)
		if k == 0 {
			label = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%d×%s", count[k], label))
	}
	verdict := "ok"
	if peak/1024 >= int64(target) {
		verdict = "OVER TARGET"
	}
	fmt.Printf("%d parallel anonymous sign-ins (random names, one address): %s in %.1f s\n", n, strings.Join(parts, " "), took.Seconds())
	fmt.Printf("server peak RSS (VmHWM): %d MiB (%d MiB before the burst); target < %d MiB: %s\n", peak/1024, before/1024, target, verdict)
	pass := "pass"
	if verdict != "ok" {
		pass = "FAIL"
	}
	// The row of make bench's summary table (scripts/bench_table.sh).
	fmt.Printf("BENCHROW server peak RSS, %d parallel anonymous staff sign-ins|%d MiB|< %d MiB|—|—|%s\n", n, peak/1024, target, pass)
	if verdict != "ok" {
		return fmt.Errorf("peak RSS over target")
	}
	return nil
}

func waitReady(base string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("radpass serve did not become ready")
}

// vmHWM is the process's peak resident set size in KiB.
func vmHWM(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			_, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
