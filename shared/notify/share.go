package notify

import (
	"bytes"
	"html/template"
	"strconv"

	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/otp"
)

// shareHTML is the HTML part of a share's messages; every text is escaped,
// so neither a department name nor the patient's note can add markup.
var shareHTML = template.Must(template.New("share").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; color: #1a1a1a;">
<p>{{.Intro}}</p>
{{if .Note}}<p>{{.NoteLabel}}</p><blockquote style="border-left: 4px solid #ccc; margin: 0; padding-left: 12px;">{{.Note}}</blockquote>{{end}}
{{if .Link}}<p><a href="{{.Link}}">{{.Open}}</a></p><p style="color: #555;">{{.Link}}</p>{{end}}
{{if .Code}}<p style="font-size: 28px; font-weight: bold; letter-spacing: 4px; font-family: 'Courier New', monospace;">{{.Code}}</p>{{end}}
<p>{{.After}}</p>
<p style="color: #555;">{{.Ignore}}</p>
</body></html>
`))

func shareMail(lang string, v map[string]string) EmailMessage {
	if !i18n.Valid(lang) {
		lang = i18n.Default
	}
	v["Lang"] = lang
	text := v["Intro"] + "\n\n"
	if v["Note"] != "" {
		text += v["NoteLabel"] + "\n    " + v["Note"] + "\n\n"
	}
	if v["Link"] != "" {
		text += v["Link"] + "\n\n"
	}
	if v["Code"] != "" {
		text += "    " + v["Code"] + "\n\n"
	}
	text += v["After"] + "\n\n" + v["Ignore"] + "\n"
	var b bytes.Buffer
	if err := shareHTML.Execute(&b, v); err != nil {
		panic(err) // a fixed template over strings cannot fail
	}
	return EmailMessage{Subject: v["Subject"], Text: text, HTML: b.String()}
}

// ShareLinkMessages writes the message that brings a share's link to a
// doctor, in lang: the department, the patient's note (may be empty) and
// the link; the code comes separately when the link is opened.
func ShareLinkMessages(lang, department, note, link string) (sms string, mail EmailMessage) {
	t := i18n.For(lang)
	sms = t("share.msg.link.sms", "Department", department, "Link", link)
	if note != "" {
		sms = t("share.msg.link.sms.note", "Department", department, "Note", note, "Link", link)
	}
	mail = shareMail(lang, map[string]string{
		"Subject":   t("share.msg.link.subject", "Department", department),
		"Intro":     t("share.msg.link.intro", "Department", department),
		"NoteLabel": t("share.msg.link.note"), "Note": note, "Link": link,
		"Open":   t("share.msg.link.open"),
		"After":  t("share.msg.link.after"),
		"Ignore": t("share.msg.ignore"),
	})
	return sms, mail
}

// ShareCodeMessages writes the message with a doctor's one-time code.
func ShareCodeMessages(lang, department, code string) (sms string, mail EmailMessage) {
	t := i18n.For(lang)
	minutes := strconv.Itoa(int(otp.TTL.Minutes()))
	sms = t("share.msg.code.sms", "Code", code, "Department", department, "Minutes", minutes)
	mail = shareMail(lang, map[string]string{
		"Subject": t("share.msg.code.subject"),
		"Intro":   t("share.msg.code.intro", "Department", department),
		"Code":    code,
		"After":   t("share.msg.code.valid", "Minutes", minutes),
		"Ignore":  t("share.msg.ignore"),
	})
	return sms, mail
}
