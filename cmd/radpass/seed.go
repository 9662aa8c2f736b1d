package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/store"
)

func cmdSeed(ctx context.Context, cfg *config.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(out)
	n := fs.Int("patients", 200, "number of demo patients")
	if err := fs.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	if !cfg.Dev {
		return &exitError{2, errors.New("demo data is refused outside dev mode (RADPASS_DEV=1)")}
	}
	db, stop, err := openDB(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer stop()
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		return err
	}
	has, err := seed.HasData(ctx, db)
	if err != nil {
		return err
	}
	if has {
		fmt.Fprintln(out, "demo data is already there; nothing written")
		return nil
	}
	if err := seed.Demo(ctx, db, *n); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo data written: 2 departments, %d patients\n", *n)
	printDemoUsers(out)
	return nil
}
