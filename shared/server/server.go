// Package server assembles the one Fiber app: middleware order, static files,
// health checks, and the staff and patient routes.
package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"github.com/gofiber/fiber/v3/middleware/requestid"
	"github.com/gofiber/fiber/v3/middleware/static"
	"github.com/gofiber/template/html/v2"
	"github.com/uptrace/bun"
	"github.com/valyala/fasthttp"

	"github.com/radpass/radpass/patient"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/notify"
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

// FormBodyLimit bounds the body of every request but the machine
// endpoints' (which have MachineBodyLimit).
const FormBodyLimit = 1 << 20

// A patient session ends after 15 idle minutes and at most 2 hours after sign-in.
const (
	PatientIdle   = 15 * time.Minute
	PatientMaxAge = 2 * time.Hour
)

// Views loads the embedded templates with the functions they use.
func Views() (*html.Engine, error) {
	engine := html.NewFileSystem(http.FS(views.FS), ".html")
	engine.AddFunc("join", strings.Join)
	return engine, engine.Load()
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
		BodyLimit:    64 << 20,
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 120 * time.Second,
		IdleTimeout:  120 * time.Second,
		ProxyHeader:  "",
	}
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
	// BodyLimit is for the machine endpoints (STOW-RS, report PDFs); the
	// forms people send are small. Without this every page took 64 MB
	// bodies: three 60 MB sign-in posts, before any check, took the server
	// from 55 MB to 518 MB resident. fasthttp reads a body before any
	// handler runs, so the limit is chosen from the request line.
	app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		path, _, _ := strings.Cut(string(h.RequestURI()), "?")
		if web.IsMachinePath(path) {
			return fasthttp.RequestConfig{}
		}
		return fasthttp.RequestConfig{MaxRequestBodySize: FormBodyLimit}
	}
	secure := cfg.SecureCookies()
	staffStore := web.NewPGStore(d.DB, "staff", cfg.SecretKey, cfg.IdleTimeout, cfg.MaxAge, secure)
	staffSessions := web.NewSessions(staffStore)
	sh := &staff.Handlers{DB: d.DB, Sessions: staffSessions, Throttle: auth.DefaultStaffThrottle(d.DB),
		IPThrottle: auth.DefaultStaffIPThrottle(d.DB), Log: d.Log}
	sh.Print = &staff.PrintDeps{Key: cfg.SecretKey, SignInURL: strings.TrimSuffix(cfg.BaseURL.String(), "/") + "/"}
	bk := &buckets.Service{DB: d.DB, Key: cfg.SecretKey, Now: sh.Print.Clock}
	sh.Buckets = bk

	app.Use(recover.New())
	app.Use(requestid.New())
	app.Use(web.AccessLog(d.Log))
	app.Use(web.SecurityHeaders(secure))
	app.Use(web.RefuseEncodedBodies)

	staticFS, _ := fs.Sub(staticfiles.FS, ".")
	app.Get("/static*", static.New("", static.Config{FS: staticFS, MaxAge: 3600, Compress: true}))
	app.Get("/healthz", func(c fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", func(c fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.Context(), 2*time.Second)
		defer cancel()
		if err := d.DB.PingContext(ctx); err != nil {
			return c.Status(http.StatusServiceUnavailable).SendString("database unreachable")
		}
		return c.SendString("ready")
	})

	if err := registerMachineRoutes(app, d, sh); err != nil {
		return nil, err
	}

	// The user and language come first so that a CSRF refusal is a page in
	// the user's language with their header (LoadUser only ever ends sessions).
	app.Use(sh.LoadUser)
	app.Use(web.Language())
	app.Use(web.CSRF(cfg.SecretKey, secure, web.ErrorHandlerCSRF, cfg.BaseURL.Scheme+"://"+cfg.BaseURL.Host))

	notifier := notify.New(cfg, d.DB)
	notifier.LogStatus(d.Log)
	patientSessions := web.NewSessions(web.NewPGStore(d.DB, "patient", cfg.SecretKey, PatientIdle, PatientMaxAge, secure))
	ph := &patient.Handlers{
		DB: d.DB, Buckets: bk, Sessions: patientSessions, Notify: notifier,
		Store: sh.DICOM.Store, Renderer: sh.DICOM.Renderer, Log: d.Log,
		IPThrottle: &auth.Throttle{DB: d.DB, Max: 30, Window: 15 * time.Minute, Lock: 15 * time.Minute},
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
