// Package store opens PostgreSQL through bun, applies the embedded migrations
// and holds the bun models that every side of RadPass shares.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"

	"github.com/radpass/radpass/migrations"
)

// Open connects to dsn and checks the connection.
func Open(ctx context.Context, dsn string) (*bun.DB, error) {
	connector := pgdriver.NewConnector(
		pgdriver.WithDSN(dsn),
		// A short dial timeout finds a dead server fast; reads may legitimately
		// take long (COPY, CREATE INDEX, a big import transaction).
		pgdriver.WithDialTimeout(10*time.Second),
		pgdriver.WithReadTimeout(5*time.Minute),
		pgdriver.WithWriteTimeout(time.Minute),
		pgdriver.WithApplicationName("radpass"),
	)
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(32)
	sqldb.SetMaxIdleConns(16)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return db, nil
}

// Migrator returns bun's migrator over the embedded SQL files. A migration is
// marked applied only once it succeeded, so a failed one can be fixed and rerun.
func Migrator(db *bun.DB) *migrate.Migrator {
	return migrate.NewMigrator(db, migrations.Migrations, migrate.WithMarkAppliedOnSuccess(true))
}

// Migrate applies every pending migration under bun's migration lock.
func Migrate(ctx context.Context, db *bun.DB) (*migrate.MigrationGroup, error) {
	m := Migrator(db)
	if err := m.Init(ctx); err != nil {
		return nil, err
	}
	if err := m.Lock(ctx); err != nil {
		return nil, err
	}
	defer m.Unlock(ctx) //nolint:errcheck
	return m.Migrate(ctx)
}

// InTx runs fn in one transaction: all of it is stored, or nothing.
func InTx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, nil, fn)
}

// IsUniqueViolation reports a PostgreSQL unique_violation (23505).
func IsUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	if ok := asPG(err, &pgErr); ok {
		return pgErr.Field('C') == "23505"
	}
	return false
}

func asPG(err error, target *pgdriver.Error) bool {
	for err != nil {
		if e, ok := err.(pgdriver.Error); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// EscapeLike escapes the LIKE wildcards of user input.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
