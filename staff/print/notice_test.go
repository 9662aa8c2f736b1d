package print_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func noticeOf(t *testing.T, f *testserver.PrintFixture, bucketID int64) *informed.Settings {
	t.Helper()
	st, err := informed.BucketSettings(context.Background(), f.Srv.DB, bucketID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// "Tell the patient when the report is available" starts from the
// department's default; what the user chose last time wins from then on
// (sticky, like the other print settings), and the choices are stored
// with the print.
func TestPrintNoticeChoicesAreSticky(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	if err := informed.SetReadyDefault(context.Background(), f.Srv.DB, f.Dept.ID, true); err != nil {
		t.Fatal(err)
	}
	doc := f.OpenForm(t)
	if _, on := doc.Find(`input[name=ready_notice]`).Attr("checked"); !on {
		t.Fatal("the department's default is not ticked")
	}
	if _, on := doc.Find(`input[name=device_alert]`).Attr("checked"); on {
		t.Fatal("the new-device alert is ticked by default")
	}
	form := f.ValidForm()
	form.Set("device_alert", "1")
	id := f.Print(t, form)
	if st := noticeOf(t, f, id); st.ReadyNotice || !st.DeviceAlert || st.Contact != "" {
		t.Fatalf("stored %+v", st)
	}
	doc = f.OpenForm(t)
	_, ready := doc.Find(`input[name=ready_notice]`).Attr("checked")
	_, device := doc.Find(`input[name=device_alert]`).Attr("checked")
	if ready || !device {
		t.Fatalf("next form: ready %v device %v, want the last print's choices", ready, device)
	}
}

// A date-of-birth access has no contact of its own: staff may enter one,
// checked like the print form's number and address; a wrong one prints
// nothing. An SMS access keeps its own number whatever the field says.
func TestPrintNoticeContactForBirthDateOnly(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	dob := func(contact string) map[string][]string {
		form := f.ValidForm()
		form.Set("verification", "dob")
		form.Set("ready_notice", "1")
		form.Set("notice_contact", contact)
		return form
	}
	f.OpenForm(t)
	before := f.Srv.Count(t, `SELECT count(*) FROM buckets`)
	res, body := f.C.PostForm("/staff/print", dob("not a number"))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a wrong contact answered %d", res.StatusCode)
	}
	if n := f.Srv.Count(t, `SELECT count(*) FROM buckets`); n != before {
		t.Fatal("a print with a wrong contact stored a bucket")
	}
	if doc := testserver.Doc(t, body); doc.Find(`[data-error=notice_contact]`).Length() != 1 {
		t.Fatal("no error next to the contact field")
	}
	id := f.Print(t, dob("0470 12 34 56"))
	if st := noticeOf(t, f, id); st.ContactChannel != "sms" || st.Contact != "+32470123456" || !st.ReadyNotice {
		t.Fatalf("stored %+v", st)
	}
	id = f.Print(t, dob("zoe@example.org"))
	if st := noticeOf(t, f, id); st.ContactChannel != "email" || st.Contact != "zoe@example.org" {
		t.Fatalf("stored %+v", st)
	}
	form := f.ValidForm()
	form.Set("ready_notice", "1")
	form.Set("notice_contact", "other@example.org")
	id = f.Print(t, form)
	if st := noticeOf(t, f, id); st.Contact != "" || !st.ReadyNotice {
		t.Fatalf("an SMS access took a contact: %+v", st)
	}
}
