package patient_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/ingest"
)

// The import stores Burned In Annotation as the file states it; rows from
// before the column (NULL) count as "maybe" for an anonymized bucket until
// the backfill has read their stored files, which restores the same values
// (and a SOP class the row lacks).
func TestBurnedInStoredAndBackfilled(t *testing.T) {
	f := newBurnFixture(t)
	ctx := context.Background()
	stored := func() map[string]string {
		got := map[string]string{}
		for _, c := range burnCases {
			var v *string
			if err := f.srv.DB.NewRaw(`SELECT burned_in FROM instances WHERE id = ?`, f.inst[c.name]).Scan(ctx, &v); err != nil {
				t.Fatal(err)
			}
			got[c.name] = "NULL"
			if v != nil {
				got[c.name] = *v
			}
		}
		return got
	}
	check := func(when string) {
		for name, v := range stored() {
			for _, c := range burnCases {
				if c.name == name && v != strings.ToUpper(c.burned) {
					t.Errorf("%s: %s burned_in = %q, want %q", when, name, v, strings.ToUpper(c.burned))
				}
			}
		}
	}
	check("after import")

	if _, err := f.srv.DB.NewRaw(`UPDATE instances SET burned_in = NULL`).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.DB.NewRaw(`UPDATE instances SET sop_class_uid = '' WHERE id = ?`, f.inst["us-no"]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ct-no", "ct-missing", "us-no"} {
		if got := imageStatus(t, f.anon, f.inst[name], ""); got != http.StatusNotFound {
			t.Errorf("%s not read yet: anonymized image answered %d, want 404", name, got)
		}
		if got := imageStatus(t, f.plain, f.inst[name], ""); got != http.StatusOK {
			t.Errorf("%s not read yet: plain image answered %d, want 200", name, got)
		}
	}

	n, err := ingest.BackfillBurnedIn(ctx, f.srv.DB, f.blobs)
	if err != nil || n != allFiles {
		t.Fatalf("backfill updated %d rows (%v), want %d", n, err, allFiles)
	}
	check("after backfill")
	var class string
	if err := f.srv.DB.NewRaw(`SELECT sop_class_uid FROM instances WHERE id = ?`, f.inst["us-no"]).Scan(ctx, &class); err != nil || class != "1.2.840.10008.5.1.4.1.1.6.1" {
		t.Errorf("backfilled SOP class %q (%v)", class, err)
	}
	for _, name := range []string{"ct-no", "ct-missing", "us-no"} {
		if got := imageStatus(t, f.anon, f.inst[name], ""); got != http.StatusOK {
			t.Errorf("%s after backfill: anonymized image answered %d, want 200", name, got)
		}
	}
	if n, err := ingest.BackfillBurnedIn(ctx, f.srv.DB, f.blobs); err != nil || n != 0 {
		t.Errorf("second backfill updated %d rows (%v)", n, err)
	}
}
