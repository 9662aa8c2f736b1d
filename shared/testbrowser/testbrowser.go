// Package testbrowser starts a real headless Chromium for browser tests. In CI
// (CI=true) a missing browser fails the test: browser tests are never skipped
// silently there. Under `go test -short` (make check) they are skipped.
package testbrowser

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// New returns a chromedp context on a fresh headless Chromium profile,
// cancelled at cleanup. timeout bounds the whole test.
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
		if os.Getenv("CI") != "" {
			tb.Fatal("no Chromium found: CI must run the browser tests (make test installs chromium)")
		}
		tb.Skip("no Chromium on this machine; `make test` installs it")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start Chromium: %v", err)
	}
	return ctx
}
