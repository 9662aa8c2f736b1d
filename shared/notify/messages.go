package notify

import (
	"bytes"
	"html/template"
	"strconv"

	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/otp"
)

// The HTML part: every text comes translated and is escaped by html/template,
// so a department name like "R&D <North>" cannot break out.
var otpHTML = template.Must(template.New("otp").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; color: #1a1a1a;">
<p>{{.Intro}}</p>
<p style="font-size: 28px; font-weight: bold; letter-spacing: 4px; font-family: 'Courier New', monospace;">{{.Code}}</p>
<p>{{.Valid}}</p>
<p style="color: #555;">{{.Ignore}}</p>
</body></html>
`))

// OTPMessages writes the SMS and the e-mail that carry a one-time password,
// in lang (en, nl, fr, de; anything else falls back to English), for the
// department departmentName (may be empty). The SMS fits one segment where
// possible: when the department name would make it longer (or push it out of
// GSM-7), the SMS leaves the name out.
func OTPMessages(lang, code, departmentName string) (sms string, mail EmailMessage) {
	t := i18n.For(lang)
	if !i18n.Valid(lang) {
		lang = i18n.Default
	}
	minutes := strconv.Itoa(int(otp.TTL.Minutes()))
	sms = t("notify.sms.nodept", "Code", code, "Minutes", minutes)
	if departmentName != "" {
		if full := t("notify.sms", "Code", code, "Department", departmentName, "Minutes", minutes); fitsOneSegment(full) {
			sms = full
		}
	}
	intro := t("notify.mail.intro.nodept")
	if departmentName != "" {
		intro = t("notify.mail.intro", "Department", departmentName)
	}
	mail = EmailMessage{
		Subject: t("notify.mail.subject"),
		Text: intro + "\n\n    " + code + "\n\n" +
			t("notify.mail.valid", "Minutes", minutes) + "\n\n" +
			t("notify.mail.ignore") + "\n",
	}
	var b bytes.Buffer
	err := otpHTML.Execute(&b, map[string]string{
		"Lang": lang, "Subject": mail.Subject, "Intro": intro, "Code": code,
		"Valid": t("notify.mail.valid", "Minutes", minutes), "Ignore": t("notify.mail.ignore"),
	})
	if err != nil {
		panic(err) // a fixed template over strings cannot fail
	}
	mail.HTML = b.String()
	return sms, mail
}

func fitsOneSegment(text string) bool {
	n, _ := SMSSegments(text)
	return n == 1
}
