package main

import (
	"context"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// token add --scope stores the scopes named (list shows them), without it
// all three; an unknown scope is a usage error (exit code 2) that stores
// nothing. A token row written without scopes (as before the column
// existed) has all three.
func TestTokenScopes(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	d := testserver.MustDepartment(t, db, "NORTH")
	env := map[string]string{"RADPASS_DATABASE_URL": dsn, "RADPASS_SECRET_KEY": strongKey, "RADPASS_DATA_DIR": t.TempDir()}
	if r := radpass(t, env, "", "token", "add", "--department", "NORTH", "--name", "ris", "--scope", "access"); r.code != 0 || !strings.Contains(r.stdout, "scopes access ") {
		t.Fatalf("token add --scope access: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := radpass(t, env, "", "token", "add", "--department", "NORTH", "--name", "pacs"); r.code != 0 || !strings.Contains(r.stdout, "scopes stow,report,access ") {
		t.Fatalf("token add: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := radpass(t, env, "", "token", "add", "--department", "NORTH", "--scope", "stow,admin"); r.code != 2 {
		t.Fatalf("unknown scope: %d %q", r.code, r.stderr)
	}
	r := radpass(t, env, "", "token", "list", "--department", "NORTH")
	if r.code != 0 || !strings.Contains(r.stdout, "ris\taccess\t") || !strings.Contains(r.stdout, "pacs\tstow,report,access\t") {
		t.Fatalf("token list: %q", r.stdout)
	}
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO api_tokens (department_id, name, token_hash) VALUES (?, 'old', '\x00')`, d.ID); err != nil {
		t.Fatal(err)
	}
	var scopes string
	if err := db.QueryRowContext(ctx, `SELECT array_to_string(scopes, ',') FROM api_tokens WHERE name = 'old'`).Scan(&scopes); err != nil || scopes != "stow,report,access" {
		t.Fatalf("a token without scopes has %q (%v)", scopes, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d tokens stored, want 3 (%v)", n, err)
	}
}
