package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"github.com/radpass/radpass/shared/storage"
	"io"
	"path/filepath"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/localpg"
	"github.com/radpass/radpass/shared/seed"
)

func cmdSeed(ctx context.Context, load configLoader, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(out)
	n := fs.Int("patients", 200, "number of demo patients")
	bulk := fs.Int("studies", 0, "also bulk-load this many fictitious studies with COPY (benchmarks)")
	if err := fs.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	if fs.NArg() > 0 || *n < 1 || *bulk < 0 {
		return usageErr("usage: radpass seed [--patients N] [--studies N] (N > 0)")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if !cfg.Dev {
		return &exitError{2, errors.New("demo data is refused outside dev mode (RADPASS_DEV=1)")}
	}
	db, done, err := openMigratedDB(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer done()
	has, err := seed.HasData(ctx, db)
	if err != nil {
		return err
	}
	if has && *bulk == 0 {
		fmt.Fprintln(out, "demo data is already there; nothing written")
		return nil
	}
	if !has {
		if err := writeDemo(ctx, cfg, *n, out); err != nil {
			return err
		}
		printDemoUsers(out)
	}
	return seedBulk(ctx, cfg, *bulk, out)
}

// seedDSN is the database the seed writes to over a pool of its own: the
// configured one, or the project-local cluster's.
func seedDSN(cfg *config.Config) (string, error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, nil
	}
	cl, err := localpg.NewPrivate(filepath.Join(cfg.DataDir, "pg"), cfg.PGPort)
	if err != nil {
		return "", err
	}
	return cl.DSN("radpass"), nil
}

// seedBulk adds n bulk studies (radpass seed --studies N) on top of the demo
// data, over its own connection to the database openDB opened.
func seedBulk(ctx context.Context, cfg *config.Config, n int, out io.Writer) error {
	if n <= 0 {
		return nil
	}
	dsn, err := seedDSN(cfg)
	if err != nil {
		return err
	}
	res, err := seed.Bulk(ctx, dsn, n, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bulk data written: %d studies, %d patients (IDs %s...) in %s; database size %.1f GB\n", res.Studies, res.Patients, res.Prefix, res.Took.Round(100*time.Millisecond), float64(res.DatabaseBytes)/1e9)
	return nil
}

// writeDemo writes the demo data (dev mode only) and prints what it wrote:
// the figures, and the demo reference numbers with what each lets a new
// user try (they also go to the dev outbox; the database keeps only hashes).
//
// It writes over a pool of its own whose commits do not wait for the WAL
// flush (synchronous_commit off): the demo is thousands of small import
// transactions, and losing the last of them to a crash loses nothing a
// fresh data folder does not give back.
func writeDemo(ctx context.Context, cfg *config.Config, patients int, out io.Writer) error {
	dsn, err := seedDSN(cfg)
	if err != nil {
		return err
	}
	// database.Connector: a URL naming several hosts works as for serve.
	conn, err := database.Connector(dsn, pgdriver.WithApplicationName("radpass-seed"),
		pgdriver.WithConnParams(map[string]any{"synchronous_commit": "off"}))
	if err != nil {
		return err
	}
	db := bun.NewDB(sql.OpenDB(conn), pgdialect.New())
	defer db.Close()
	st, err := storage.Open(ctx, cfg.Storage, dicomDir(cfg), nil)
	if err != nil {
		return err
	}
	res, err := seed.Demo(ctx, db, seed.Options{Patients: patients, Store: st, Key: cfg.SecretKey})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(out, "radpass: demo:", w)
	}
	fmt.Fprintf(out, "demo data written in %s: 2 departments, %d patients, %d studies, %d DICOM instances (%.1f MB), %d reports\n",
		res.Took.Round(100*time.Millisecond), res.Patients, res.Studies, res.Instances, float64(res.Bytes)/(1<<20), res.Reports)
	fmt.Fprintln(out, "demo reference numbers (patient side, /p/signin; also in the dev outbox at /dev/outbox):")
	for _, b := range res.Buckets {
		fmt.Fprintf(out, "  %s  born %s  %-5s %-7s %s\n      %s\n", b.Number, b.BirthDate, b.Verification, b.State, b.Department, b.Try)
	}
	return nil
}
