package users_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/users"
)

// Every outcome of the staff sign-in, each with the audit row it leaves.
// The steps run in order: the lock cases count the failures before them.
func TestSignInOutcomes(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	d := testserver.MustDepartment(t, db, "SI")
	testserver.MustUser(t, db, "sam", database.RoleStaff, d)
	dis := testserver.MustUser(t, db, "dora", database.RoleStaff, d)
	mc := testserver.MustUser(t, db, "mick", database.RoleStaff, d)
	if _, err := db.NewUpdate().Table("users").Set("disabled = true").Where("id = ?", dis.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewUpdate().Table("users").Set("must_change_password = true").Where("id = ?", mc.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	th := auth.DefaultStaffThrottle(db)
	th.Max = 3
	ipth := auth.DefaultStaffIPThrottle(db)
	ipth.Max = 6
	s := &users.SignIns{DB: db, Throttle: th, IPThrottle: ipth}
	boom := errors.New("session store down")
	pw := testserver.Password
	for _, c := range []struct {
		name, user, pw, ip string
		then               error
		want               users.Outcome
		wantErr            error
		action, outcome    string // the audit row written ("": none)
	}{
		{"empty", "", pw, "10.0.0.1", nil, users.Wrong, nil, "", ""},
		{"right", "  SAM ", pw, "10.0.0.1", nil, users.SignedIn, nil, audit.SignIn, "ok"},
		{"session fails", "sam", pw, "10.0.0.1", boom, 0, boom, "", ""},
		{"unknown", "nobody", pw, "10.0.0.1", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"disabled", "dora", pw, "10.0.0.1", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"must change", "mick", pw, "10.0.0.1", nil, users.MustChange, nil, audit.SignIn, "password_change_required"},
		{"wrong 1", "sam", "nope-nope-nope", "10.0.0.2", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"wrong 2", "sam", "nope-nope-nope", "10.0.0.2", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"wrong 3 locks", "sam", "nope-nope-nope", "10.0.0.2", nil, users.Locked, nil, audit.SignInFail, "failed"},
		{"locked even when right", "sam", pw, "10.0.0.2", nil, users.Locked, nil, audit.SignInLock, "refused"},
		{"other address still fine", "sam", pw, "10.0.0.3", nil, users.SignedIn, nil, audit.SignIn, "ok"},
		{"address guesses 1", "a1", "x-x-x-x-x", "10.0.0.9", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"address guesses 2", "a2", "x-x-x-x-x", "10.0.0.9", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"address guesses 3", "a3", "x-x-x-x-x", "10.0.0.9", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"address guesses 4", "a4", "x-x-x-x-x", "10.0.0.9", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"address guesses 5", "a5", "x-x-x-x-x", "10.0.0.9", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"address guesses 6", "a6", "x-x-x-x-x", "10.0.0.9", nil, users.Wrong, nil, audit.SignInFail, "failed"},
		{"address locked", "sam", pw, "10.0.0.9", nil, users.AddressLocked, nil, audit.SignInLock, "refused-ip"},
	} {
		before := lastEvent(t, db)
		called := false
		res, err := s.SignIn(ctx, users.SignInRequest{Username: c.user, Password: c.pw, IP: c.ip}, func(u *database.User) error {
			called = true
			return c.then
		})
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("%s: err %v, want %v", c.name, err, c.wantErr)
			}
		} else if err != nil || res.Outcome != c.want {
			t.Fatalf("%s: %v %v, want %v", c.name, res, err, c.want)
		}
		if called != (c.want == users.SignedIn) {
			t.Errorf("%s: then called %v", c.name, called)
		}
		e := lastEvent(t, db)
		switch {
		case c.action == "" && e.ID != before.ID:
			t.Errorf("%s: audited %s/%s", c.name, e.Action, e.Outcome)
		case c.action != "" && (e.ID == before.ID || e.Action != c.action || e.Outcome != c.outcome || e.IP != c.ip):
			t.Errorf("%s: last audit row %s/%s from %s, want %s/%s", c.name, e.Action, e.Outcome, e.IP, c.action, c.outcome)
		}
	}
}

func lastEvent(t *testing.T, db bun.IDB) audit.Event {
	t.Helper()
	var es []audit.Event
	if err := db.NewSelect().Model(&es).Order("id DESC").Limit(1).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		return audit.Event{}
	}
	return es[0]
}

// SetLanguage stores a known language and refuses others.
func TestSetLanguage(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	u := testserver.MustUser(t, db, "lang", database.RoleStaff, testserver.MustDepartment(t, db, "LA"))
	if err := users.SetLanguage(ctx, db, u.ID, "xx"); err == nil {
		t.Fatal("unknown language stored")
	}
	if err := users.SetLanguage(ctx, db, u.ID, "nl"); err != nil {
		t.Fatal(err)
	}
	var lang string
	if err := db.NewSelect().Table("users").Column("language").Where("id = ?", u.ID).Scan(ctx, &lang); err != nil || lang != "nl" {
		t.Fatalf("language %q (%v)", lang, err)
	}
}
