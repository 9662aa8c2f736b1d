package main

import (
	"context"
	"fmt"
	"io"

	"github.com/radpass/radpass/shared/database"
)

const migrateUsage = "usage: radpass migrate up|down|status"

func cmdMigrate(ctx context.Context, load configLoader, args []string, out io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return usageErr(migrateUsage)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	db, stop, err := openDB(ctx, cfg, out, database.ReadTimeout(0))
	if err != nil {
		return err
	}
	defer stop()
	defer db.Close()
	m := database.Migrator(db)
	if err := m.Init(ctx); err != nil {
		return err
	}
	switch args[0] {
	case "up":
		g, err := database.Migrate(ctx, db)
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
	}
	return nil
}
