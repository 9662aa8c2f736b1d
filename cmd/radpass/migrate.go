package main

import (
	"context"
	"fmt"
	"io"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/store"
)

func cmdMigrate(ctx context.Context, cfg *config.Config, args []string, out io.Writer) error {
	if len(args) != 1 {
		return usageErr("usage: radpass migrate up|down|status")
	}
	db, stop, err := openDB(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer stop()
	defer db.Close()
	m := store.Migrator(db)
	if err := m.Init(ctx); err != nil {
		return err
	}
	switch args[0] {
	case "up":
		g, err := store.Migrate(ctx, db)
		if err != nil {
			return err
		}
		if g.IsZero() {
			fmt.Fprintln(out, "nothing to migrate: the database is up to date")
			return nil
		}
		fmt.Fprintf(out, "migrated to %s\n", g)
	case "down":
		if err := m.Lock(ctx); err != nil {
			return err
		}
		defer m.Unlock(ctx) //nolint:errcheck
		g, err := m.Rollback(ctx)
		if err != nil {
			return err
		}
		if g.IsZero() {
			fmt.Fprintln(out, "nothing to roll back")
			return nil
		}
		fmt.Fprintf(out, "rolled back %s\n", g)
	case "status":
		ms, err := m.MigrationsWithStatus(ctx)
		if err != nil {
			return err
		}
		for _, mg := range ms {
			state := "pending"
			if mg.IsApplied() {
				state = "applied"
			}
			fmt.Fprintf(out, "%-8s %s %s\n", state, mg.Name, mg.Comment)
		}
	default:
		return usageErr("usage: radpass migrate up|down|status")
	}
	return nil
}
