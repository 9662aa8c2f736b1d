package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/radpass/radpass/shared/dicomweb"
)

const tokenUsage = "usage: radpass token add --department CODE [--name NAME] [--scope stow,report,access] | radpass token list --department CODE | radpass token revoke ID"

// cmdToken manages the per-department API tokens of the machine API: STOW-RS,
// report upload and the access API, each a scope (all three when --scope is
// not given).
func cmdToken(ctx context.Context, load configLoader, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageErr(tokenUsage)
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	dept := fs.String("department", "", "department code")
	name := fs.String("name", "", "what the token is for, e.g. the PACS name")
	scope := fs.String("scope", "", "what the token may call, comma-separated: stow, report, access (default: all three)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr("%v", err)
	}
	if len(*name) > 100 {
		return usageErr("--name is longer than 100 characters")
	}
	scopes, err := dicomweb.ParseScopes(*scope)
	if err != nil {
		return usageErr("--scope: %v", err)
	}
	var revokeID int64
	switch args[0] {
	case "add", "list":
		if *dept == "" || fs.NArg() != 0 {
			return usageErr(tokenUsage)
		}
	case "revoke":
		if fs.NArg() != 1 {
			return usageErr(tokenUsage)
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return usageErr("token id must be a number")
		}
		revokeID = id
	default:
		return usageErr(tokenUsage)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	db, done, err := openMigratedDB(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer done()
	switch args[0] {
	case "add", "list":
		d, err := departmentByCode(ctx, db, *dept)
		if err != nil {
			return err
		}
		if args[0] == "list" {
			var toks []dicomweb.APIToken
			if err := db.NewSelect().Model(&toks).Where("department_id = ?", d.ID).Order("id").Scan(ctx); err != nil {
				return err
			}
			for _, t := range toks {
				state := "active"
				if t.RevokedAt != nil {
					state = "revoked " + t.RevokedAt.UTC().Format("2006-01-02")
				}
				fmt.Fprintf(out, "%d\t%s\t%s\tcreated %s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), t.CreatedAt.UTC().Format("2006-01-02"), state)
			}
			return nil
		}
		plain, t, err := dicomweb.CreateScopedToken(ctx, db, d.ID, *name, scopes)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "token %d for %s, scopes %s (shown once, store it now; only its hash is kept):\n%s\n", t.ID, d.Code, strings.Join(t.Scopes, ","), plain)
		return nil
	case "revoke":
		id := revokeID
		if err := dicomweb.RevokeToken(ctx, db, id); err != nil {
			return &exitError{1, fmt.Errorf("token %d: not found or already revoked", id)}
		}
		fmt.Fprintf(out, "token %d revoked\n", id)
		return nil
	}
	return usageErr(tokenUsage)
}
