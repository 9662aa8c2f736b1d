package buckets

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/database"
)

// bucketColumns is written out by hand for speed (see lookup.go), so a
// column added to a model would silently read as zero on every sign-in and
// patient request. Every column of the three models must be listed, in the
// alias of its table, and nothing else (a count mismatch with scanBucket's
// destinations already fails every sign-in test).
func TestBucketColumnsCoverTheModels(t *testing.T) {
	listed := map[string][]string{}
	for _, c := range strings.Split(bucketColumns, ",") {
		c = strings.TrimSpace(c)
		alias, name, ok := strings.Cut(c, ".")
		if !ok {
			t.Fatalf("column %q has no table alias", c)
		}
		if name == "xmin::text" { // the row version, not a model field
			continue
		}
		listed[alias] = append(listed[alias], name)
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
