package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/web"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// save stores values in a new session of st and returns its cookie.
func save(t *testing.T, st *web.PGStore, values map[any]any) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	s, err := st.New(r, "radpass_"+st.Kind)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		s.Values[k] = v
	}
	w := httptest.NewRecorder()
	if err := st.Save(r, w, s); err != nil {
		t.Fatal(err)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("%d cookies written", len(cs))
	}
	return cs[0]
}

func load(t *testing.T, st *web.PGStore, c *http.Cookie) map[any]any {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	s, err := st.Get(r, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	if s.IsNew {
		return nil
	}
	return s.Values
}

func TestPGStoreTimeouts(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	base := time.Now()
	clock := base
	st := web.NewPGStore(db, "staff", key, 30*time.Minute, 12*time.Hour, false)
	st.Now = func() time.Time { return clock }
	c := save(t, st, map[any]any{"uid": int64(7)})

	steps := []struct {
		name  string
		at    time.Duration
		alive bool
	}{
		{"at once", 0, true},
		{"29 min later", 29 * time.Minute, true},
		{"29 min after that (activity moved the idle clock)", 58 * time.Minute, true},
		{"idle for hours", 11*time.Hour + 50*time.Minute, false},
	}
	for _, s := range steps {
		clock = base.Add(s.at)
		if got := load(t, st, c); (got != nil) != s.alive || (s.alive && got["uid"] != int64(7)) {
			t.Fatalf("%s: values %v, alive want %v", s.name, got, s.alive)
		}
	}

	// Absolute limit: active every 20 minutes, still out after 12 hours.
	clock = base
	c = save(t, st, map[any]any{"uid": int64(8)})
	for at := 20 * time.Minute; at < 12*time.Hour; at += 20 * time.Minute {
		clock = base.Add(at)
		if load(t, st, c) == nil {
			t.Fatalf("active session died at %v", at)
		}
	}
	clock = base.Add(12*time.Hour + time.Minute)
	if load(t, st, c) != nil {
		t.Fatal("session alive past the 12 hour limit")
	}
}

func TestPGStoreKindsAndPurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	staff := web.NewPGStore(db, "staff", key, 30*time.Minute, 12*time.Hour, false)
	patient := web.NewPGStore(db, "patient", key, 2*time.Hour, 4*time.Hour, true)
	sc := save(t, staff, map[any]any{"uid": int64(1)})
	pc := save(t, patient, map[any]any{"bucket": int64(2)})
	if !pc.Secure || !pc.HttpOnly || pc.SameSite != http.SameSiteLaxMode || sc.Secure {
		t.Fatalf("cookie flags: staff %+v patient %+v", sc, pc)
	}
	// A staff id presented to the patient store opens nothing, and vice versa.
	if load(t, patient, &http.Cookie{Name: pc.Name, Value: sc.Value}) != nil {
		t.Fatal("a staff session id opened a patient session")
	}
	if load(t, staff, &http.Cookie{Name: sc.Name, Value: pc.Value}) != nil {
		t.Fatal("a patient session id opened a staff session")
	}
	// An over-long cookie is ignored without a query.
	if load(t, staff, &http.Cookie{Name: sc.Name, Value: string(make([]byte, 100))}) != nil {
		t.Fatal("over-long cookie accepted")
	}

	// 45 minutes idle: the staff session is past its limit, the patient one not.
	later := time.Now().Add(45 * time.Minute)
	staff.Now = func() time.Time { return later }
	patient.Now = staff.Now
	n, err := staff.PurgeExpired(ctx)
	if err != nil || n != 1 {
		t.Fatalf("staff purge removed %d (%v), want 1", n, err)
	}
	if n, err := patient.PurgeExpired(ctx); err != nil || n != 0 {
		t.Fatalf("patient purge removed %d (%v), want 0", n, err)
	}
	if load(t, patient, pc) == nil {
		t.Fatal("the staff purge removed a live patient session")
	}
	// Past the patient's absolute limit, the kind-blind purge removes it.
	if _, err := db.ExecContext(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if n, err := web.PurgeExpiredSessions(ctx, db); err != nil || n != 1 {
		t.Fatalf("PurgeExpiredSessions removed %d (%v)", n, err)
	}
}

func TestPGStoreRegenerateAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	st := web.NewPGStore(db, "staff", key, 30*time.Minute, 12*time.Hour, false)
	c := save(t, st, map[any]any{"uid": int64(1)})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	s, _ := st.Get(r, c.Name)
	if err := st.Regenerate(ctx, s); err != nil {
		t.Fatal(err)
	}
	if load(t, st, c) != nil {
		t.Fatal("the old id still opens the session after Regenerate")
	}
	w := httptest.NewRecorder()
	if err := st.Save(r, w, s); err != nil {
		t.Fatal(err)
	}
	nc := w.Result().Cookies()[0]
	if nc.Value == c.Value || load(t, st, nc)["uid"] != int64(1) {
		t.Fatal("Regenerate + Save did not give a new working id")
	}
	// MaxAge < 0 deletes the row and expires the cookie.
	s.Options.MaxAge = -1
	w = httptest.NewRecorder()
	if err := st.Save(r, w, s); err != nil {
		t.Fatal(err)
	}
	if ck := w.Result().Cookies()[0]; ck.MaxAge >= 0 || ck.Value != "" {
		t.Fatalf("delete cookie %+v", ck)
	}
	if load(t, st, nc) != nil {
		t.Fatal("deleted session still opens")
	}
}

// BenchmarkPGStoreLoad is the per-request cost of a signed-in request's
// session: one UPDATE ... RETURNING on the real PostgreSQL plus gob decoding.
func BenchmarkPGStoreLoad(b *testing.B) {
	db := testdb.New(b)
	st := web.NewPGStore(db, "staff", key, 30*time.Minute, 12*time.Hour, false)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	s, _ := st.New(r, "radpass_staff")
	s.Values["uid"] = int64(1)
	w := httptest.NewRecorder()
	if err := st.Save(r, w, s); err != nil {
		b.Fatal(err)
	}
	c := w.Result().Cookies()[0]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(c)
		s, err := st.Get(r, c.Name)
		if err != nil || s.IsNew {
			b.Fatalf("session lost: %v", err)
		}
	}
}
