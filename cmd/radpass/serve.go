package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/store"
)

func newLogger(cfg *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

func cmdServe(ctx context.Context, cfg *config.Config, out io.Writer) error {
	log := newLogger(cfg)
	slog.SetDefault(log)
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()

	db, stopDB, err := openDB(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer stopDB()
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cfg.Dev {
		has, err := seed.HasData(ctx, db)
		if err != nil {
			return err
		}
		if !has {
			fmt.Fprintln(out, "first run: writing demo data")
			if err := seed.Demo(ctx, db, 200); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		printDemoUsers(out)
	}
	a, err := server.New(server.Deps{Config: cfg, DB: db, Log: log})
	if err != nil {
		return err
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

func printDemoUsers(out io.Writer) {
	fmt.Fprintf(out, "demo sign-ins (password %q):\n", seed.DemoPassword)
	for _, u := range seed.DemoUsers {
		dept := u.Department
		if dept == "" {
			dept = "all departments"
		}
		fmt.Fprintf(out, "  %-12s %-12s %s\n", u.Username, u.Role, dept)
	}
}
