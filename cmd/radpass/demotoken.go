package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/dicomweb"
)

// Demo of the RIS API (dev mode only): the department, the token's name and
// the study its example names (the demo data's first RAD-NORTH patient).
const (
	demoTokenDept      = "RAD-NORTH"
	demoTokenName      = "demo RIS (dev mode)"
	demoTokenAccession = "ACCN0000000"
)

// printDemoToken makes a fresh API token for the RIS API demo at each dev
// start (the previous one is revoked: only its hash was kept) and prints it
// with the curl command that creates an access with it.
func printDemoToken(ctx context.Context, db *bun.DB, cfg *config.Config, out io.Writer) error {
	d, err := departmentByCode(ctx, db, demoTokenDept)
	if err != nil {
		return nil // no demo data: nothing to show
	}
	if _, err := db.NewUpdate().Model((*dicomweb.APIToken)(nil)).Set("revoked_at = now()").
		Where("department_id = ? AND name = ? AND revoked_at IS NULL", d.ID, demoTokenName).Exec(ctx); err != nil {
		return err
	}
	plain, _, err := dicomweb.CreateToken(ctx, db, d.ID, demoTokenName)
	if err != nil {
		return err
	}
	var birth time.Time
	_ = db.NewRaw(`SELECT p.birth_date FROM studies s JOIN patients p ON p.id = s.patient_id
		WHERE s.department_id = ? AND s.accession = ?`, d.ID, demoTokenAccession).Scan(ctx, &birth)
	base := cfg.BaseURL.String()
	fmt.Fprintf(out, "RIS API demo token for %s (dev mode only, a new one at each start; docs/api.md):\n  export RADPASS_TOKEN=%s\n", d.Code, plain)
	fmt.Fprintf(out, "  create an access to study %s (patient born %s) and get its letter: see README.md, \"An API for the RIS\"; base URL %s\n",
		demoTokenAccession, birth.Format(time.DateOnly), base)
	return nil
}
