package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
)

// serve is app.Test without its one-second timeout. On a busy machine a
// request can take longer than that (two cores shared by several race-enabled
// test runs, TestCapValue's 60 MB strings collected meanwhile); app.Test then
// returns while fasthttp's goroutine keeps running the handler, and whatever
// the handler touches next (a counter, a log buffer) is written while the
// test already reads it: a data race, besides a test failed for nothing.
// Without the timeout, app.Test returns only after the connection was served,
// so everything the handler did happens before the test goes on; go test's
// -timeout still ends a handler that hangs.
func serve(t *testing.T, app *fiber.App, req *http.Request) *http.Response {
	t.Helper()
	res, err := app.Test(req, fiber.TestConfig{Timeout: 0})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A handler slower than app.Test's default timeout has finished when serve
// returns (with app.Test's default, Test gives up after one second and the
// handler's write below races with the read).
func TestServeWaitsForTheHandler(t *testing.T) {
	t.Parallel()
	app := fiber.New()
	done := false
	app.Get("/", func(c fiber.Ctx) error {
		time.Sleep(1500 * time.Millisecond) // past app.Test's default second
		done = true
		return c.SendString("ok")
	})
	res := serve(t, app, httptest.NewRequest(http.MethodGet, "/", nil))
	if res.StatusCode != http.StatusOK || !done {
		t.Fatalf("serve returned %d before the handler was done (%v)", res.StatusCode, done)
	}
}
