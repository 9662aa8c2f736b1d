// Package migrations holds the SQL schema changes, embedded into the binary and
// applied by bun/migrate (radpass migrate up, and on serve).
package migrations

import (
	"embed"

	"github.com/uptrace/bun/migrate"
)

// Files holds the SQL files themselves (tests hash them to version the template database).
//
//go:embed *.sql
var Files embed.FS

// Migrations is the ordered set discovered from the embedded SQL files.
var Migrations = migrate.NewMigrations()

func init() {
	if err := Migrations.Discover(Files); err != nil {
		panic(err)
	}
}
