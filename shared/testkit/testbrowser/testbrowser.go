// Package testbrowser starts a real headless Chromium for browser tests. A
// missing browser fails the test: browser tests are never skipped silently.
// Under `go test -short` (make check) they are skipped.
//
// One Chromium serves all the browser tests of a test binary (a package),
// or, under make test, of every package: starting one costs about 3 CPU-s.
// scripts/test.sh starts it with the switches in chromium.flags and names
// its DevTools address in SharedEnv. Each test gets a browser context of its
// own (its own cookies, storage, cache and permissions, like a fresh
// profile), disposed at the test's cleanup. A Chromium a test binary starts
// itself ends with it (chromedp's Pdeathsig), and the next binary removes
// the profile folders of binaries that are gone.
package testbrowser

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// SharedEnv names the DevTools WebSocket address (ws://…/devtools/browser/…)
// of a Chromium already running with chromium.flags, which the tests then
// share instead of starting their own.
const SharedEnv = "RADPASS_TEST_CHROMIUM_URL"

// chromiumFlags holds the command-line switches of every Chromium the tests
// use, one "name" or "name=value" a line; scripts/test.sh reads the same file.
//
//go:embed chromium.flags
var chromiumFlags string

var shared struct {
	once sync.Once
	ctx  context.Context // the browser; never cancelled
	err  error
}

// New returns a chromedp context on a fresh browser context (no cookies, no
// storage) of the package's headless Chromium, closed at cleanup. timeout
// bounds the whole test.
func New(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs Chromium; skipped under -short")
	}
	path := os.Getenv("RADPASS_TEST_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		tb.Fatal("no Chromium found: browser tests are never skipped (make test installs chromium; make check runs -short)")
	}
	shared.once.Do(func() { shared.ctx, shared.err = start(path) })
	if shared.err != nil {
		tb.Fatalf("start Chromium: %v", shared.err)
	}
	ctx, cancelCtx := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
	})
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("open a browser context: %v", err)
	}
	return ctx
}

// start connects to the Chromium named in SharedEnv, or runs the one the
// package's tests share, with its profile in a folder named after this
// process.
func start(path string) (context.Context, error) {
	var actx context.Context
	if url := os.Getenv(SharedEnv); url != "" {
		actx, _ = remote.NewAllocator(context.Background(), url, remote.NoModifyURL)
	} else {
		removeStaleProfiles()
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("radpass-chromium-%d", os.Getpid()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(dir)}
		for name, value := range switches() {
			if value == "" {
				opts = append(opts, chromedp.Flag(name, true))
			} else {
				opts = append(opts, chromedp.Flag(name, value))
			}
		}
		actx, _ = chromedp.NewExecAllocator(context.Background(), opts...)
	}
	ctx, _ := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		return nil, err
	}
	return ctx, nil
}

// switches returns chromium.flags as name and value ("" for a switch
// without one), in the file's order.
func switches() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, line := range strings.Split(chromiumFlags, "\n") {
			name, value, _ := strings.Cut(strings.TrimSpace(line), "=")
			if name != "" && !yield(name, value) {
				return
			}
		}
	}
}

// removeStaleProfiles deletes the profile folders of test binaries that
// have exited (their Chromium died with them).
func removeStaleProfiles() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "radpass-chromium-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "radpass-chromium-"))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}
