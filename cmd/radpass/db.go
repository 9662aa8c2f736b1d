package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/localpg"
	"github.com/radpass/radpass/shared/storage"
)

// openDB connects to RADPASS_DATABASE_URL or, in dev mode without one, to the
// project-local cluster (created and started on demand). stop shuts that
// local cluster down again when this process started it.
// opts go to database.Open (serve passes database.RequestTimeouts).
func openDB(ctx context.Context, cfg *config.Config, out io.Writer, opts ...database.Option) (db *bun.DB, stop func(), err error) {
	stop = func() {}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		cl, err := localpg.NewPrivate(filepath.Join(cfg.DataDir, "pg"), cfg.PGPort)
		if err != nil {
			return nil, stop, err
		}
		wasRunning := cl.Running(ctx)
		if !wasRunning {
			fmt.Fprintf(out, "starting the project-local PostgreSQL in %s (port %d)\n", cl.Dir, cl.Port)
		}
		if err := cl.Start(ctx); err != nil {
			return nil, stop, err
		}
		if !wasRunning {
			stop = func() {
				fmt.Fprintln(out, "stopping the project-local PostgreSQL")
				if err := cl.Stop(context.Background()); err != nil {
					fmt.Fprintln(out, "radpass:", err)
				}
			}
		}
		if err := cl.CreateDatabase(ctx, "radpass"); err != nil {
			stop()
			return nil, func() {}, err
		}
		dsn = cl.DSN("radpass")
	}
	db, err = database.Open(ctx, dsn, opts...)
	if err != nil {
		stop()
		return nil, func() {}, err
	}
	return db, stop, nil
}

// openMigratedDB is openDB followed by the migrations, for the subcommands
// that write data: they need the current schema. done closes the connection
// and then stops a local cluster this process started.
func openMigratedDB(ctx context.Context, cfg *config.Config, out io.Writer) (db *bun.DB, done func(), err error) {
	db, stop, err := openDB(ctx, cfg, out, database.ReadTimeout(0))
	if err != nil {
		return nil, func() {}, err
	}
	done = func() {
		_ = db.Close()
		stop()
	}
	if _, err := database.Migrate(ctx, db); err != nil {
		done()
		return nil, func() {}, err
	}
	return db, done, nil
}

// departmentByCode finds the department a --department flag names; a code
// that matches none is the caller's mistake (a usage error, exit code 2).
func departmentByCode(ctx context.Context, db bun.IDB, code string) (*database.Department, error) {
	d, err := ingest.Department(ctx, db, code)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return d, nil
}

// dicomDir is where the stored DICOM files and reports live; serve reads
// them from the same place (shared/server/routes_dicom.go).
func dicomDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "dicom") }

// deptStorage is what the DICOM commands work with: the database, one
// department and the DICOM storage folder.
type deptStorage struct {
	DB    *bun.DB
	Dept  *database.Department
	Store storage.Store
	done  func()
}

// openDeptStorage opens the migrated database, looks the department up by
// code and opens the storage folder; Close releases the database.
func openDeptStorage(ctx context.Context, cfg *config.Config, out io.Writer, code string) (*deptStorage, error) {
	db, done, err := openMigratedDB(ctx, cfg, out)
	if err != nil {
		return nil, err
	}
	d, err := departmentByCode(ctx, db, code)
	if err != nil {
		done()
		return nil, err
	}
	st, err := storage.Open(ctx, cfg.Storage, dicomDir(cfg), nil)
	if err != nil {
		done()
		return nil, err
	}
	return &deptStorage{DB: db, Dept: d, Store: st, done: done}, nil
}

// Close releases the database (and stops a local cluster this process started).
func (e *deptStorage) Close() { e.done() }
