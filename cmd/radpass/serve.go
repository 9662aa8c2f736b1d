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
	"syscall"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
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
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()

	// Migrations and the demo data run over a pool without the request
	// timeouts (an index build may take minutes); requests get their own.
	adm, stopDB, err := openDB(ctx, cfg, out)
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
	go housekeeping(ctx, a, log, 5*time.Minute)
	go backfillBurnedIn(ctx, a, log)
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
	fmt.Fprintln(out, "shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	if err := a.Fiber.ShutdownWithContext(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
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
		if err != nil && ctx.Err() == nil {
			log.Warn("session purge failed", "error", err.Error())
			continue
		}
		log.Debug("expired sessions purged", "count", n)
	}
}

// sweepStorage removes stored files no row names (a crash between a file and
// its row, a replaced report PDF whose removal failed) once they are
// older than ingest.OrphanGrace, and Put's temporary files left by a crash.
func sweepStorage(ctx context.Context, a *server.App, log *slog.Logger) {
	if a.Staff == nil || a.Staff.DICOM == nil {
		return
	}
	st, ok := a.Staff.DICOM.Store.(storage.Lister)
	if !ok {
		return
	}
	n, err := ingest.SweepOrphans(ctx, a.DB, st, ingest.OrphanGrace)
	if err != nil && ctx.Err() == nil {
		log.Warn("storage sweep failed", "error", err.Error())
	}
	if fs, ok := st.(*storage.FS); ok {
		if _, err := fs.PurgeTemp(ingest.OrphanGrace); err != nil && ctx.Err() == nil {
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
