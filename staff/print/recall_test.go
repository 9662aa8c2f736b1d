package print_test

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// The plaintext number is recoverable only while its confirmation is open:
// not after a new print, not after printRefTTL.
func TestPrintNumberIsForgotten(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	var offset atomic.Int64 // minutes after testserver.PrintToday, read by the server
	f.Srv.App.Staff.Print.Now = func() time.Time { return testserver.PrintToday.Add(time.Duration(offset.Load()) * time.Minute) }
	letter := func(id int64) int {
		res, _ := f.C.Get("/staff/print/" + strconv.FormatInt(id, 10) + "/letter?lang=en")
		return res.StatusCode
	}

	first := f.Print(t, f.ValidForm())
	if got := letter(first); got != http.StatusOK {
		t.Fatalf("letter right after printing: %d", got)
	}
	second := f.Print(t, f.ValidForm())
	if got := letter(first); got != http.StatusNotFound {
		t.Fatalf("first letter after a new print: %d, want 404", got)
	}
	offset.Store(29)
	if got := letter(second); got != http.StatusOK {
		t.Fatalf("letter 29 minutes later: %d", got)
	}
	offset.Store(31)
	if got := letter(second); got != http.StatusNotFound {
		t.Fatalf("letter 31 minutes later: %d, want 404", got)
	}
}

// Without a department maximum a validity is still capped at five years.
func TestPrintValidityCeiling(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	form := f.ValidForm()
	form.Set("valid_until", testserver.PrintToday.AddDate(5, 0, 1).Format("2006-01-02"))
	res, body := f.C.PostForm("/staff/print", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("validity 5 years and a day ahead: status %d, want 422", res.StatusCode)
	}
	if msg := testserver.Doc(t, body).Find(`[data-error="valid_until"]`).Text(); msg == "" {
		t.Errorf("no message next to the validity field:\n%s", body)
	}
	if n := f.Srv.Count(t, `SELECT count(*) FROM buckets`); n != 0 {
		t.Fatalf("%d buckets stored, want 0", n)
	}
	form.Set("valid_until", testserver.PrintToday.AddDate(5, 0, 0).Format("2006-01-02"))
	f.Print(t, form)
}

// Another site cannot make a signed-in user's browser fetch (and audit) a letter.
func TestPrintLetterRefusesCrossSite(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	id := f.Print(t, f.ValidForm())
	path := "/staff/print/" + strconv.FormatInt(id, 10) + "/letter?lang=en"
	if res, _ := f.C.Get(path, "Sec-Fetch-Site", "cross-site"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site letter: %d, want 403", res.StatusCode)
	}
	if n := f.Srv.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'bucket.letter'`); n != 0 {
		t.Fatalf("%d letter events after a refused cross-site fetch", n)
	}
	if res, _ := f.C.Get(path, "Sec-Fetch-Site", "same-origin"); res.StatusCode != http.StatusOK {
		t.Fatalf("same-origin letter: %d", res.StatusCode)
	}
}

// Keeping the number for the confirmation is part of the print: when the
// session cannot be saved, no bucket remains whose number nobody saw.
func TestPrintRollsBackWhenTheSessionCannotKeepTheNumber(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	f.Srv.Exec(t, `CREATE FUNCTION refuse_session_data() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'session store down'; END $$`)
	f.Srv.Exec(t, `CREATE TRIGGER refuse_session_data BEFORE UPDATE ON sessions FOR EACH ROW
		WHEN (OLD.data IS DISTINCT FROM NEW.data) EXECUTE FUNCTION refuse_session_data()`)
	res, body := f.C.PostForm("/staff/print", f.ValidForm())
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("print with a failing session store: status %d, want 500\n%s", res.StatusCode, body)
	}
	for _, table := range []string{"buckets", "bucket_studies", "study_labels"} {
		if n := f.Srv.Count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
	if n := f.Srv.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'bucket.print'`); n != 0 {
		t.Errorf("%d print audit events left", n)
	}
}
