// Package server assembles the one Fiber app: it builds the services and
// handlers (New) and mounts every URL in one table (routes.go).
package server

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/patient"
	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/machineapi"
	"github.com/radpass/radpass/shared/metrics"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/printing"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/studies"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/viewer"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/account"
	"github.com/radpass/radpass/staff/admin"
	"github.com/radpass/radpass/staff/print"
	"github.com/radpass/radpass/staff/staffweb"
	"github.com/radpass/radpass/staff/statusfw"
	"github.com/radpass/radpass/staff/studylist"
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
	DB              *bun.DB
	StaffSessions   *web.Sessions
	Staff           *staffweb.Deps // what the staff handlers share
	PatientSessions *web.Sessions
	Patient         *patient.Handlers
	Buckets         *buckets.Service

	draining *atomic.Bool      // set by Drain
	Informed *informed.Service // its Queue is run by serve
	Metrics  *metrics.Metrics  // nil unless RADPASS_METRICS_ADDR is set
}

// Drain marks the instance as going away (SIGTERM): /readyz answers 503 from
// now on, and so does every new GET or HEAD (drain), every response closes
// its connection, so keep-alive clients reconnect elsewhere. Requests
// already running finish normally.
func (a *App) Drain() { a.draining.Store(true) }

// Draining reports whether Drain was called.
func (a *App) Draining() bool { return a.draining.Load() }

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
	// (web.LimitBody in its row of the route table, web.LimitedBody in the
	// machine API); BodyLimit then only bounds what fasthttp pre-reads (8 KiB
	// at most).
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
	var m *metrics.Metrics // metrics off: nothing counted, no middleware
	if cfg.MetricsAddr != "" {
		m = metrics.New()
		m.WatchPool(d.DB.DB, "radpass")
	}
	st, err := storage.Open(context.Background(), cfg.Storage, filepath.Join(cfg.DataDir, "dicom"), m.S3().Transport(nil))
	if err != nil {
		return nil, err
	}
	staffSessions := web.NewSessions(web.NewPGStore(d.DB, "staff", cfg.SecretKey, cfg.IdleTimeout, cfg.MaxAge, secure))
	sd := &staffweb.Deps{Sessions: staffSessions, Throttle: auth.DefaultStaffThrottle(d.DB),
		IPThrottle: auth.DefaultStaffIPThrottle(d.DB), Log: d.Log,
		DICOM:       &staffweb.DICOMDeps{Store: st, Renderer: &dicom.Renderer{Store: st, CacheDir: filepath.Join(cfg.DataDir, "cache"), Metrics: m}},
		Departments: departments.Service{DB: d.DB}, Users: users.Service{DB: d.DB}, Labels: labels.Service{DB: d.DB},
		Audit: audit.Trail{DB: d.DB}, Viewer: viewer.Service{DB: d.DB}, Studies: &studies.Service{DB: d.DB}}
	sd.SignIns = &users.SignIns{DB: d.DB, Throttle: sd.Throttle, IPThrottle: sd.IPThrottle, Log: d.Log}
	sd.Print = &staffweb.PrintDeps{Key: cfg.SecretKey}
	printer := &printing.Printer{DB: d.DB, SignInURL: strings.TrimSuffix(cfg.BaseURL.String(), "/") + "/", Now: sd.Print.Clock, Zone: cfg.Zone}
	bk := &buckets.Service{DB: d.DB, Key: cfg.SecretKey, Now: sd.Print.Clock, Zone: cfg.Zone, Letters: printer, Metrics: m}
	sd.Buckets = bk

	notifier := notify.New(cfg, d.DB)
	notifier.Metrics = m
	notifier.LogStatus(d.Log)
	inf := &informed.Service{DB: d.DB, Send: notifier, Zone: cfg.Zone, Now: sd.Print.Clock, SignInURL: printer.SignInURL}
	sd.Informed = inf
	patientSessions := web.NewSessions(web.NewPGStore(d.DB, "patient", cfg.SecretKey, PatientIdle, PatientMaxAge, secure))
	ph := &patient.Handlers{
		Buckets: bk, Sessions: patientSessions, Notify: notifier,
		ShareSender: notifier, BaseURL: cfg.BaseURL.String(),
		Audit: audit.Trail{DB: d.DB}, Viewer: viewer.Service{DB: d.DB},
		Store: st, Renderer: sd.DICOM.Renderer, Log: d.Log,
		IPThrottle: auth.DefaultPatientLimit(d.DB),
		Informed:   inf,
	}
	links := &dicomweb.Links{DB: d.DB, Buckets: bk, Key: cfg.SecretKey}
	ph.Links, ph.OHIFURL = links, cfg.DICOMweb.OHIFURL
	ph.DICOMwebBase = strings.TrimSuffix(cfg.BaseURL.String(), "/") + dicomweb.LinkBase
	reader := &dicomweb.Reader{Links: links, Buckets: bk, Store: st, Renderer: sd.DICOM.Renderer,
		Audit: audit.Trail{DB: d.DB}, Log: d.Log, Origins: cfg.DICOMweb.Origins,
		Rate: cfg.DICOMweb.LinkRate, Burst: cfg.DICOMweb.LinkBurst}

	draining := new(atomic.Bool)
	h := handlers{
		staff:   sd,
		account: &account.Handlers{Deps: sd},
		studies: &studylist.Handlers{Deps: sd},
		print:   &print.Handlers{Deps: sd},
		status:  &statusfw.Handlers{Deps: sd},
		admin:   &admin.Handlers{Deps: sd},
		patient: ph,
		machine: &dicomweb.Handler{DB: d.DB, Store: st, Log: d.Log, MaxBytes: MachineBodyLimit, Metrics: m},
		accesses: &machineapi.Handler{DB: d.DB, Buckets: bk, Key: cfg.SecretKey,
			BaseURL: strings.TrimSuffix(cfg.BaseURL.String(), "/"), Log: d.Log},
		links:     reader,
		csrf:      web.CSRF(cfg.SecretKey, secure, web.ErrorHandlerCSRF, cfg.BaseURL.Scheme+"://"+cfg.BaseURL.Host),
		language:  setLanguage(d.DB, secure),
		readiness: ready(d.DB, draining),
		drain:     drain(draining),
		log:       d.Log,
		secure:    secure,
		metrics:   m,
	}
	if cfg.Dev {
		h.devOutbox = devOutbox(d.DB) // never mounted outside dev mode
	}
	routes(app, h)
	return &App{Fiber: app, DB: d.DB, StaffSessions: staffSessions, Staff: sd, PatientSessions: patientSessions, Patient: ph, Buckets: bk, draining: draining, Informed: inf, Metrics: m}, nil
}

// ready answers /readyz: 200 when a fresh connection (not a pooled one)
// reaches the database, 503 with Retry-After otherwise or once the instance
// drains (shutting down).
func ready(db *bun.DB, draining *atomic.Bool) fiber.Handler {
	return func(c fiber.Ctx) error {
		if draining.Load() {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(apperr.RetryAfter))
			return c.Status(http.StatusServiceUnavailable).SendString("shutting down")
		}
		ctx, cancel := context.WithTimeout(c.Context(), 2*time.Second)
		defer cancel()
		if err := database.Ready(ctx, db); err != nil {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(apperr.RetryAfter))
			return c.Status(http.StatusServiceUnavailable).SendString("database unreachable")
		}
		return c.SendString("ready")
	}
}

// drain answers new GET and HEAD requests of a draining instance 503 with
// Retry-After: a proxy (docs/nginx-radpass.conf: proxy_next_upstream
// http_503) sends them to another instance and takes this one out, so it
// gets no new connections, POSTs included, before its listener closes. A
// POST that still arrives is served: it may not be sent twice. Every
// response closes its connection. /healthz (alive) still answers 200.
func drain(draining *atomic.Bool) fiber.Handler {
	return func(c fiber.Ctx) error {
		if !draining.Load() {
			return c.Next()
		}
		c.RequestCtx().SetConnectionClose()
		if m := c.Method(); (m == fiber.MethodGet || m == fiber.MethodHead) && c.Path() != "/healthz" && c.Path() != "/readyz" {
			return apperr.New(apperr.Unavailable, "error.unavailable")
		}
		return c.Next()
	}
}
