// Package server assembles the one Fiber app: middleware order, static files,
// health checks, and the staff and patient routes.
package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"github.com/gofiber/fiber/v3/middleware/static"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/patient"
	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/printing"
	"github.com/radpass/radpass/shared/studies"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/viewer"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff"
	staticfiles "github.com/radpass/radpass/static"
	"github.com/radpass/radpass/views"
)

// Deps are what the server needs from main (or from a test).
type Deps struct {
	Config *config.Config
	DB     *bun.DB
	Log    *slog.Logger
}

// App is the assembled server plus the pieces tests reach into.
type App struct {
	Fiber           *fiber.App
	StaffSessions   *web.Sessions
	Staff           *staff.Handlers
	PatientSessions *web.Sessions
	Patient         *patient.Handlers
	Buckets         *buckets.Service
}

// A patient session ends after 15 idle minutes and at most 2 hours after sign-in.
const (
	PatientIdle   = 15 * time.Minute
	PatientMaxAge = 2 * time.Hour
)

// ReadBufferSize bounds a request's line and headers; more is 431.
const ReadBufferSize = 16 << 10

// Views loads the embedded templates with the functions they use.
func Views() (*web.Views, error) {
	return web.LoadViews(views.FS, web.TemplateFuncs())
}

// New builds the Fiber app.
func New(d Deps) (*App, error) {
	engine, err := Views()
	if err != nil {
		return nil, err
	}
	cfg := d.Config
	fcfg := fiber.Config{
		AppName:      "RadPass",
		Views:        engine,
		ErrorHandler: web.ErrorHandler,
		BodyLimit:    MachineBodyLimit,
		// Request line and headers up to 16 KiB (fasthttp's 4 KiB default
		// answered 431 to a browser with a few large cookies behind a proxy
		// adding its own headers).
		ReadBufferSize: ReadBufferSize,
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   120 * time.Second,
		IdleTimeout:    120 * time.Second,
		ProxyHeader:    "",
		// Strings from the request (query, params, headers, the request id)
		// are copies, not views of fasthttp's buffers: those are reused for
		// the connection's next request once the handler returns, and
		// streamed bodies run after it (an access CSV logged another
		// request's id: -race caught it). The copies cost little here.
		Immutable: true,
	}
	// Bodies are streamed: nothing is read before a handler asks, so no
	// anonymous request is buffered. Each route reads through its own limit
	// (web.BodyLimit below, web.LimitedBody in the machine API); BodyLimit
	// then only bounds what fasthttp pre-reads (8 KiB at most).
	fcfg.StreamRequestBody, fcfg.DisablePreParseMultipartForm = true, true
	if len(cfg.TrustedProxies) > 0 {
		// Only from these proxies: the client IP (audit, per-IP limits) from
		// X-Real-IP, which the proxy overwrites, never the left end of
		// X-Forwarded-For, which the client writes; the scheme from
		// X-Forwarded-Proto.
		fcfg.TrustProxy = true
		fcfg.TrustProxyConfig = fiber.TrustProxyConfig{Proxies: cfg.TrustedProxies}
		fcfg.ProxyHeader = "X-Real-Ip"
		fcfg.EnableIPValidation = true
	}
	app := fiber.New(fcfg)
	secure := cfg.SecureCookies()
	staffStore := web.NewPGStore(d.DB, "staff", cfg.SecretKey, cfg.IdleTimeout, cfg.MaxAge, secure)
	staffSessions := web.NewSessions(staffStore)
	sh := &staff.Handlers{DB: d.DB, Sessions: staffSessions, Throttle: auth.DefaultStaffThrottle(d.DB),
		IPThrottle: auth.DefaultStaffIPThrottle(d.DB), Log: d.Log,
		Departments: departments.Service{DB: d.DB}, Users: users.Service{DB: d.DB}, Labels: labels.Service{DB: d.DB},
		Audit: audit.Trail{DB: d.DB}, Viewer: viewer.Service{DB: d.DB}}
	sh.SignIns = &users.SignIns{DB: d.DB, Throttle: sh.Throttle, IPThrottle: sh.IPThrottle, Log: d.Log}
	sh.Print = &staff.PrintDeps{Key: cfg.SecretKey}
	printer := &printing.Printer{DB: d.DB, SignInURL: strings.TrimSuffix(cfg.BaseURL.String(), "/") + "/", Now: sh.Print.Clock, Zone: cfg.Zone}
	bk := &buckets.Service{DB: d.DB, Key: cfg.SecretKey, Now: sh.Print.Clock, Zone: cfg.Zone, Letters: printer}
	sh.Buckets = bk
	sh.Studies = &studies.Service{DB: d.DB}

	app.Use(recover.New())
	app.Use(web.RequestID()) // made here; a client's X-Request-Id is only logged beside it
	app.Use(web.AccessLog(d.Log))
	app.Use(web.SecurityHeaders(secure))
	app.Use(web.RefuseEncodedBodies)

	staticFS, _ := fs.Sub(staticfiles.FS, ".")
	app.Get("/static*", static.New("", static.Config{FS: web.AssetFS(staticFS), MaxAge: 3600, Compress: true})) // assets only, never embed.go
	app.Get("/healthz", func(c fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", func(c fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.Context(), 2*time.Second)
		defer cancel()
		if err := database.Ready(ctx, d.DB); err != nil { // a fresh connection, not a pooled one
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(apperr.RetryAfter))
			return c.Status(http.StatusServiceUnavailable).SendString("database unreachable")
		}
		return c.SendString("ready")
	})

	if err := registerMachineRoutes(app, d, sh); err != nil {
		return nil, err
	}
	// Every other route: the body in memory, at most a form's worth (a
	// sign-in form much less), before anything reads it (CSRF reads _csrf).
	app.Use(web.BodyLimit(web.BodyLimitConfig{Default: web.FormBodyLimit, Paths: map[string]int64{
		"/staff/signin":  web.SignInBodyLimit,
		"/p/signin":      web.SignInBodyLimit,
		"/p/code":        web.SignInBodyLimit,
		"/p/code/resend": web.SignInBodyLimit,
		"/p/signout":     web.SignInBodyLimit,
		// A logo may be up to 2 MiB (shared/departments): its form a little
		// more, so the page can say "too large" in words up to 3 MiB.
		"/staff/settings/logo": 3 << 20,
	}}))

	// The user and language come first so that a CSRF refusal is a page in
	// the user's language with their header (LoadUser only ever ends sessions).
	app.Use(sh.LoadUser)
	app.Use(web.Language())
	app.Use(web.CSRF(cfg.SecretKey, secure, web.ErrorHandlerCSRF, cfg.BaseURL.Scheme+"://"+cfg.BaseURL.Host))
	app.Use(web.RefuseBadFormText) // invalid UTF-8 or NUL in a form field: 422, never stored

	notifier := notify.New(cfg, d.DB)
	notifier.LogStatus(d.Log)
	patientSessions := web.NewSessions(web.NewPGStore(d.DB, "patient", cfg.SecretKey, PatientIdle, PatientMaxAge, secure))
	ph := &patient.Handlers{
		DB: d.DB, Buckets: bk, Sessions: patientSessions, Notify: notifier,
		Audit: audit.Trail{DB: d.DB}, Viewer: viewer.Service{DB: d.DB},
		Store: sh.DICOM.Store, Renderer: sh.DICOM.Renderer, Log: d.Log,
		IPThrottle: auth.DefaultPatientLimit(d.DB),
	}
	ph.Register(app)
	app.Post("/language", setLanguage(d.DB, secure))
	sh.Register(app)
	if cfg.Dev {
		registerDevOutbox(app, d.DB) // never mounted outside dev mode
	}

	// Anything else is a translated 404 page.
	app.Use(func(c fiber.Ctx) error { return fiber.ErrNotFound })
	return &App{Fiber: app, StaffSessions: staffSessions, Staff: sh, PatientSessions: patientSessions, Patient: ph, Buckets: bk}, nil
}
