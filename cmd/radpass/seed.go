package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/radpass/radpass/shared/config"
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
		if err := seed.Demo(ctx, db, *n); err != nil {
			return err
		}
		seedDICOM(ctx, db, cfg, out)
		fmt.Fprintf(out, "demo data written: 2 departments, %d patients\n", *n)
		printDemoUsers(out)
	}
	return seedBulk(ctx, cfg, *bulk, out)
}

// seedBulk adds n bulk studies (radpass seed --studies N) on top of the demo
// data, over its own connection to the database openDB opened.
func seedBulk(ctx context.Context, cfg *config.Config, n int, out io.Writer) error {
	if n <= 0 {
		return nil
	}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		cl, err := localpg.NewPrivate(filepath.Join(cfg.DataDir, "pg"), cfg.PGPort)
		if err != nil {
			return err
		}
		dsn = cl.DSN("radpass")
	}
	res, err := seed.Bulk(ctx, dsn, n, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bulk data written: %d studies, %d patients (IDs %s...) in %s\n", res.Studies, res.Patients, res.Prefix, res.Took.Round(100*time.Millisecond))
	return nil
}
