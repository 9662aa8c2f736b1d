package studies

import (
	"context"
	"slices"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// search_words follows the studies: a name seen first as a name and later
// inside an accession number is marked in_id, so the search for it goes to
// the trigram index and finds both; a renamed patient's new name is found.
func TestSearchWordsFollowTheStudies(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	ins := inserter(t, db)
	d := &database.Department{Code: "WORDS", Name: "Words", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	ins(d)
	u := &database.User{ID: 1, Role: database.RoleStaff, DepartmentID: &d.ID}
	p := &database.Patient{DepartmentID: d.ID, PatientID: "P1", FamilyName: "Hmn", GivenName: "Eva"}
	q := &database.Patient{DepartmentID: d.ID, PatientID: "P2", FamilyName: "Berg", GivenName: "Ole"}
	ins(p)
	ins(q)
	a := &database.Study{DepartmentID: d.ID, PatientID: p.ID, StudyUID: "1.9.1", Accession: "A1", Modalities: []string{"CT"}, ReportStatus: "none"}
	ins(a)
	search := func(query string) ([]int64, bool) {
		t.Helper()
		r, err := find(ctx, db, u, Filter{Query: query}, defaults)
		if err != nil {
			t.Fatal(err)
		}
		if r.st != collect {
			t.Fatalf("%q: strategy %d, want collect", query, r.st)
		}
		var ids []int64
		for _, row := range r.rows {
			ids = append(ids, row.ID)
		}
		slices.Sort(ids)
		return ids, r.byWords
	}
	if ids, byWords := search("hmn"); !byWords || !slices.Equal(ids, []int64{a.ID}) {
		t.Fatalf("hmn before the accession: %v (by words %v)", ids, byWords)
	}
	b := &database.Study{DepartmentID: d.ID, PatientID: q.ID, StudyUID: "1.9.2", Accession: "HMN77", Modalities: []string{"MR"}, ReportStatus: "none"}
	ins(b)
	if ids, byWords := search("hmn"); byWords || !slices.Equal(ids, []int64{a.ID, b.ID}) {
		t.Fatalf("hmn after the accession HMN77: %v (by words %v), want both by trigrams", ids, byWords)
	}
	if _, err := db.NewUpdate().Model(q).Set("family_name = ?", "Lindqvist").WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if ids, byWords := search("lindq"); !byWords || !slices.Equal(ids, []int64{b.ID}) {
		t.Fatalf("lindq after the rename: %v (by words %v)", ids, byWords)
	}
}
