package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/machineapi"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/web"
)

func newLogger(cfg *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

func cmdServe(ctx context.Context, cfg *config.Config, out io.Writer) error {
	log := newLogger(cfg)
	slog.SetDefault(log)
	// A soft limit, so the heap a burst took (parallel prints, downloads) is
	// collected and given back instead of staying at its peak; GOMEMLIMIT,
	// when set, is the operator's word and wins.
	if cfg.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigc)
	var got atomic.Value // the signal that ended serving
	go func() {
		select {
		case s := <-sigc:
			got.Store(s)
			cancel()
		case <-ctx.Done():
		}
	}()

	// Migrations and the demo data run over a pool without the request
	// timeouts (an index build may take minutes); requests get their own.
	adm, stopDB, err := openDB(ctx, cfg, out, database.ReadTimeout(0))
	if err != nil {
		return err
	}
	defer stopDB()
	if err := prepareDB(ctx, adm, cfg, out); err != nil {
		adm.Close()
		return err
	}
	adm.Close()
	db, _, err := openDB(ctx, cfg, out, database.RequestTimeouts())
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := server.New(server.Deps{Config: cfg, DB: db, Log: log})
	if err != nil {
		return err
	}
	// The sign-in's connections, ready before the first burst (buckets.Warm).
	if err := a.Buckets.Warm(ctx); err != nil {
		log.Warn("warming the database connections failed", "error", err.Error())
	}
	storageGrace = cfg.Storage.OrphanGrace
	go housekeeping(ctx, a, log, 5*time.Minute)
	go backfillBurnedIn(ctx, a, log)
	q := a.Informed.Queue() // messages when a result is ready, new-device alerts
	q.Log = log
	go q.Run(ctx, cfg.JobsEvery)
	if cfg.MetricsAddr != "" { // its own listener, never the public port
		ms, maddr, err := a.ListenMetrics(cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("RADPASS_METRICS_ADDR: %w", err)
		}
		defer ms.Close()
		log.Info("metrics", "url", "http://"+maddr+"/metrics")
	}
	errc := make(chan error, 1)
	go func() {
		errc <- a.Fiber.Listen(cfg.Addr, fiber.ListenConfig{DisableStartupMessage: true})
	}()
	fmt.Fprintf(out, "RadPass is serving %s (listening on %s); Ctrl-C stops it\n", cfg.BaseURL, cfg.Addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Drain: /readyz and new GETs answer 503 at once (a proxy sends them
	// elsewhere and takes this instance out); after RADPASS_SHUTDOWN_DELAY
	// (SIGTERM only: Ctrl-C is someone at the keyboard) the listener closes,
	// and the requests in flight, downloads included, get up to
	// RADPASS_SHUTDOWN_GRACE to finish.
	a.Drain()
	fmt.Fprintf(out, "shutting down (requests in flight get up to %s)\n", cfg.ShutdownGrace)
	if s, _ := got.Load().(os.Signal); cfg.ShutdownDelay > 0 && s == syscall.SIGTERM {
		select {
		case <-time.After(cfg.ShutdownDelay):
		case err := <-errc:
			return err
		}
	}
	sctx, scancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer scancel()
	if err := a.Fiber.ShutdownWithContext(sctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			log.Warn("shutdown grace over: requests still in flight were cut", "grace", cfg.ShutdownGrace.String())
			return nil
		}
		return err
	}
	return nil
}

// prepareDB applies pending migrations and, in dev mode, writes the demo data
// on the first run.
func prepareDB(ctx context.Context, db *bun.DB, cfg *config.Config, out io.Writer) error {
	if _, err := database.Migrate(ctx, db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cfg.Dev {
		has, err := seed.HasData(ctx, db)
		if err != nil {
			return err
		}
		if !has {
			fmt.Fprintln(out, "first run: writing demo data")
			if err := writeDemo(ctx, cfg, cfg.DemoPatients, out); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		printDemoUsers(out)
		if err := printDemoToken(ctx, db, cfg, out); err != nil {
			return fmt.Errorf("demo token: %w", err)
		}
	}
	return nil
}

// housekeeping deletes expired sessions, spent sign-in counters and month-old
// renderings every `every` until ctx ends, the view audit's claims of past
// half hours, and once a day stored files that nothing names any more.
// Expired sessions never open anything (web's session store checks the times
// on every request); this only keeps the table small.
func housekeeping(ctx context.Context, a *server.App, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	ticks := 0 // the render cache is walked every 12th round only
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := a.StaffSessions.Store.PurgeExpired(ctx)
		if err == nil {
			var m int64
			m, err = web.PurgeExpiredSessions(ctx, a.StaffSessions.Store.DB)
			n += m
		}
		if err == nil && a.Staff != nil && a.Staff.Throttle != nil {
			_, err = a.Staff.Throttle.Purge(ctx)
		}
		ticks++
		if ticks%6 == 1 && a.Staff != nil {
			if _, verr := audit.PurgeViewSlots(ctx, a.DB); verr != nil && ctx.Err() == nil {
				log.Warn("view slot purge failed", "error", verr.Error())
			}
		}
		if ticks%12 == 1 && a.Staff != nil && a.Staff.DICOM != nil && a.Staff.DICOM.Renderer != nil {
			// Renderings are cheap to redo; a month of them is plenty.
			if _, cerr := a.Staff.DICOM.Renderer.PurgeCache(30 * 24 * time.Hour); cerr != nil {
				log.Warn("render cache purge failed", "error", cerr.Error())
			}
		}
		if ticks%288 == 1 {
			sweepStorage(ctx, a, log) // daily: it walks the whole store
		}
		// The RIS API's sealed reference numbers past their letter time.
		if derr := machineapi.DropExpiredNumbers(ctx, a.DB, time.Now()); derr != nil && ctx.Err() == nil {
			log.Warn("sealed number purge failed", "error", derr.Error())
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("session purge failed", "error", err.Error())
			continue
		}
		log.Debug("expired sessions purged", "count", n)
	}
}

// storageGrace is RADPASS_STORAGE_ORPHAN_GRACE (serve sets it).
var storageGrace = ingest.OrphanGrace

// sweepStorage removes stored files no row names (a crash between a file and
// its row, a replaced report PDF whose removal failed) once they are
// older than storageGrace, and Put's uploads a crash left aside (local
// folder and S3 alike).
func sweepStorage(ctx context.Context, a *server.App, log *slog.Logger) {
	if a.Staff == nil || a.Staff.DICOM == nil {
		return
	}
	st, ok := a.Staff.DICOM.Store.(storage.Lister)
	if !ok {
		return
	}
	n, err := ingest.SweepOrphans(ctx, a.DB, st, storageGrace)
	if err != nil && ctx.Err() == nil {
		log.Warn("storage sweep failed", "error", err.Error())
	}
	if tp, ok := st.(storage.TempPurger); ok {
		if _, err := tp.PurgeTemp(storageGrace); err != nil && ctx.Err() == nil {
			log.Warn("storage temp purge failed", "error", err.Error())
		}
	}
	if n > 0 {
		log.Info("orphaned stored files removed", "count", n)
	}
}

// backfillBurnedIn reads Burned In Annotation from the stored files of
// instances imported before it was stored; until then anonymized buckets do
// not see them (buckets.LeftOut).
func backfillBurnedIn(ctx context.Context, a *server.App, log *slog.Logger) {
	if a.Staff == nil || a.Staff.DICOM == nil || a.Staff.DICOM.Store == nil {
		return
	}
	n, err := ingest.BackfillBurnedIn(ctx, a.DB, a.Staff.DICOM.Store)
	if err != nil && ctx.Err() == nil {
		log.Warn("burned-in annotation backfill failed", "error", err.Error())
	}
	if n > 0 {
		log.Info("burned-in annotation read from stored files", "count", n)
	}
}

func printDemoUsers(out io.Writer) {
	fmt.Fprintf(out, "demo sign-ins (password %q):\n", seed.DemoPassword)
	for _, u := range seed.DemoUsers {
		dept := u.Department
		if dept == "" {
			dept = "all departments"
		}
		fmt.Fprintf(out, "  %-12s %-12s %s\n", u.Username, u.Role, dept)
	}
	fmt.Fprintln(out, "demo reference numbers and birth dates for the patient side: the dev outbox at /dev/outbox (\"Demo reference numbers\")")
}
