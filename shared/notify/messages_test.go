package notify_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/notify"
)

func TestOTPMessagesEveryLanguage(t *testing.T) {
	subjects := map[string]bool{}
	for _, lang := range i18n.Languages {
		for _, dept := range []string{"Radiology North (demo)", "Radiologie Süd (demo)", "Imagerie médicale", ""} {
			sms, mail := notify.OTPMessages(lang, "083154", dept)
			if !strings.HasPrefix(sms, "083154 ") {
				t.Errorf("%s/%s: SMS does not start with the code: %q", lang, dept, sms)
			}
			if n, unicode := notify.SMSSegments(sms); n != 1 || unicode {
				t.Errorf("%s/%s: SMS takes %d segments (unicode %v): %q", lang, dept, n, unicode, sms)
			}
			if dept != "" && !strings.Contains(sms, dept) {
				t.Errorf("%s: SMS without the short department name %q: %q", lang, dept, sms)
			}
			if !strings.Contains(sms, "10") {
				t.Errorf("%s: SMS does not say how long the code is valid: %q", lang, sms)
			}
			if mail.To != "" || mail.Subject == "" || strings.Contains(mail.Subject, "083154") {
				t.Errorf("%s: subject %q (the code stays out of lock-screen previews), To %q", lang, mail.Subject, mail.To)
			}
			subjects[mail.Subject] = true
			if !strings.Contains(mail.Text, "083154") || !strings.Contains(mail.Text, dept) {
				t.Errorf("%s: text part %q", lang, mail.Text)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(mail.HTML))
			if err != nil {
				t.Fatal(err)
			}
			if l, _ := doc.Find("html").Attr("lang"); l != lang {
				t.Errorf("%s: html lang %q", lang, l)
			}
			if !strings.Contains(doc.Find("body").Text(), "083154") || !strings.Contains(doc.Find("body").Text(), dept) {
				t.Errorf("%s: HTML part lacks the code or the department: %s", lang, mail.HTML)
			}
			for _, s := range []string{sms, mail.Subject, mail.Text, mail.HTML} {
				if strings.Contains(s, "notify.") || strings.Contains(s, "<no value>") {
					t.Errorf("%s: untranslated text %q", lang, s)
				}
			}
		}
	}
	if len(subjects) != len(i18n.Languages) {
		t.Errorf("subjects are not translated: %v", subjects)
	}
}

// A long or non-GSM department name would cost a second segment: the SMS
// then leaves it out, and still carries the code.
func TestOTPSMSStaysOneSegment(t *testing.T) {
	for _, dept := range []string{
		strings.Repeat("Radiology and Nuclear Medicine ", 4),
		"Hôpital Saint-Luc — Service de radiologie et d'imagerie médicale",
	} {
		for _, lang := range i18n.Languages {
			sms, mail := notify.OTPMessages(lang, "000417", dept)
			if n, _ := notify.SMSSegments(sms); n != 1 || !strings.HasPrefix(sms, "000417 ") {
				t.Errorf("%s: %d segments: %q", lang, n, sms)
			}
			if strings.Contains(sms, dept) {
				t.Errorf("%s: the long name stayed: %q", lang, sms)
			}
			if !strings.Contains(mail.Text, dept) {
				t.Errorf("%s: the e-mail lost the department", lang)
			}
		}
	}
}

func TestOTPMessagesEscapeHTML(t *testing.T) {
	_, mail := notify.OTPMessages("en", "123456", `R&D <script>alert("x")</script>`)
	if strings.Contains(mail.HTML, "<script>") {
		t.Fatalf("HTML injection: %s", mail.HTML)
	}
	if !strings.Contains(mail.HTML, "R&amp;D &lt;script&gt;") {
		t.Fatalf("name not escaped as text: %s", mail.HTML)
	}
	if !strings.Contains(mail.Text, `R&D <script>alert("x")</script>`) {
		t.Fatalf("the text part is not plain: %s", mail.Text)
	}
}

func TestOTPMessagesUnknownLanguageIsEnglish(t *testing.T) {
	smsXX, mailXX := notify.OTPMessages("xx", "123456", "Radiology")
	smsEN, mailEN := notify.OTPMessages("en", "123456", "Radiology")
	if smsXX != smsEN || mailXX != mailEN {
		t.Fatalf("xx: %q %+v", smsXX, mailXX)
	}
}
