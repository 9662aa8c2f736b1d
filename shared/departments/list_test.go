package departments_test

import (
	"context"
	"testing"

	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// TestList: every department, id and name, ordered by name.
func TestList(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	before, err := departments.List(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	zed := testserver.MustDepartment(t, db, "ZED")
	alpha := testserver.MustDepartment(t, db, "ALPHA")
	got, err := departments.List(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(before)+2 {
		t.Fatalf("%d departments, want %d", len(got), len(before)+2)
	}
	at := map[int64]int{}
	for i, d := range got {
		at[d.ID] = i
		if i > 0 && got[i-1].Name > d.Name {
			t.Fatalf("not by name: %+v", got)
		}
	}
	ia, okA := at[alpha.ID]
	iz, okZ := at[zed.ID]
	if !okA || !okZ || ia > iz || got[ia].Name != alpha.Name || got[iz].Name != zed.Name {
		t.Fatalf("departments %+v", got)
	}
}
