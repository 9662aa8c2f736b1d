package buckets

import (
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/database"
)

// bucketColumns is written out by hand for speed (see lookup.go), so a
// column added to a model would silently read as zero on every sign-in and
// patient request. Every column of the three models must be listed, in the
// alias of its table, and nothing else (a count mismatch with scanBucket's
// destinations already fails every sign-in test).
var columnRef = regexp.MustCompile(`\b([bpd])\.([a-z_]+)`)

func TestBucketColumnsCoverTheModels(t *testing.T) {
	listed := map[string][]string{}
	// Every alias.column, alone or inside an expression (coalesce(b.created_by, 0)).
	for _, m := range columnRef.FindAllStringSubmatch(bucketColumns, -1) {
		if m[2] == "xmin" { // the row version, not a model field
			continue
		}
		listed[m[1]] = append(listed[m[1]], m[2])
	}
	tables := pgdialect.New().Tables()
	for alias, model := range map[string]any{"b": database.Bucket{}, "p": database.Patient{}, "d": database.Department{}} {
		var want []string
		for _, f := range tables.Get(reflect.TypeOf(model)).Fields {
			want = append(want, f.Name)
		}
		got := listed[alias]
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("bucketColumns for %T (%s.*):\n got  %v\n want %v", model, alias, got, want)
		}
	}
}
