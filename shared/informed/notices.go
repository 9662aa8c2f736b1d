package informed

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/jobs"
	"github.com/radpass/radpass/shared/notify"
)

// Audit actions of this package.
const (
	ActionNoticeSent  = audit.NoticeReadySent
	ActionDeviceAlert = audit.NoticeDeviceSent
	ActionAlertSet    = audit.NoticeAlertSet
)

// studyJob is the payload of KindStudy and KindNotice.
type studyJob struct {
	StudyID  int64  `json:"study_id"`
	Event    string `json:"event"` // report or images
	BucketID int64  `json:"bucket_id,omitempty"`
}

// runStudy fans a study's event out to one KindNotice job per access that
// asked for it, so each access's message succeeds or retries on its own.
func (s *Service) runStudy(ctx context.Context, tx bun.Tx, j *jobs.Job, now time.Time) error {
	var p studyJob
	if err := j.Decode(&p); err != nil {
		return err
	}
	var ids []int64
	if err := tx.NewRaw(`SELECT bs.bucket_id FROM bucket_studies bs JOIN bucket_notices n ON n.bucket_id = bs.bucket_id
		WHERE bs.study_id = ? AND n.ready_notice ORDER BY bs.bucket_id`, p.StudyID).Scan(ctx, &ids); err != nil {
		return err
	}
	for _, id := range ids {
		key := "notice:" + strconv.FormatInt(id, 10) + ":" + p.Event + ":" + strconv.FormatInt(p.StudyID, 10)
		if err := jobs.Enqueue(ctx, tx, KindNotice, key, studyJob{StudyID: p.StudyID, Event: p.Event, BucketID: id}, now); err != nil {
			return err
		}
	}
	return nil
}

// runNotice tells one access that a result is ready, when every rule
// still holds at this moment: the access opens (active, not expired), it
// asked for the message and has a contact, and the event is real for it
// (the report readable by this patient now, or the study has images). The
// claim in notices_sent makes it once per event.
func (s *Service) runNotice(ctx context.Context, tx bun.Tx, j *jobs.Job, now time.Time) error {
	var p studyJob
	if err := j.Decode(&p); err != nil {
		return err
	}
	b, st, ok, err := s.loadBucket(ctx, tx, p.BucketID)
	if err != nil || !ok || !st.ReadyNotice || !s.open(b, now) {
		return err
	}
	channel, to := Contact(b, st)
	if channel == "" {
		return nil
	}
	study := new(database.Study)
	err = tx.NewSelect().Model(study).Column("id", "num_instances", "report_status", "report_text", "report_pdf_key", "report_available_at").
		Where("id = ? AND EXISTS (SELECT 1 FROM bucket_studies bs WHERE bs.bucket_id = ? AND bs.study_id = study.id)", p.StudyID, b.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // removed from the access meanwhile
	}
	if err != nil {
		return err
	}
	switch p.Event {
	case "report":
		if !b.ReportAllowed() || study.ReportStatus != "final" || (study.ReportText == "" && study.ReportPDFKey == "") {
			return nil
		}
		if study.ReportAvailableAt != nil && study.ReportAvailableAt.After(now) {
			// The embargo moved later since the job was queued: its own job runs then.
			return nil
		}
	case "images":
		if study.NumInstances == 0 {
			return nil
		}
	default:
		return fmt.Errorf("informed: unknown event %q", p.Event)
	}
	claimed, err := claim(ctx, tx, b, p.Event+":"+strconv.FormatInt(study.ID, 10), p.Event, channel, now)
	if err != nil || !claimed {
		return err
	}
	sms, mail := s.readyMessages(b, p.Event)
	if err := s.send(ctx, b, channel, to, sms, mail); err != nil {
		return err // the claim is undone with the job's savepoint; it is tried again
	}
	e := audit.System().Event(ActionNoticeSent, &b.DepartmentID, map[string]any{"channel": channel, "event": p.Event, "study_id": study.ID})
	e.BucketID = &b.ID
	return audit.Record(ctx, tx, e)
}

// deviceJob is the payload of KindDevice.
type deviceJob struct {
	BucketID int64     `json:"bucket_id"`
	Device   string    `json:"device"`
	At       time.Time `json:"at"`
}

// runDevice sends the new-device alert: at most one per access, device and day.
func (s *Service) runDevice(ctx context.Context, tx bun.Tx, j *jobs.Job, now time.Time) error {
	var p deviceJob
	if err := j.Decode(&p); err != nil {
		return err
	}
	b, st, ok, err := s.loadBucket(ctx, tx, p.BucketID)
	if err != nil || !ok || !st.DeviceAlert || !s.open(b, now) {
		return err
	}
	channel, to := Contact(b, st)
	if channel == "" {
		return nil
	}
	day := p.At.In(s.zone()).Format("2006-01-02")
	claimed, err := claim(ctx, tx, b, "device:"+p.Device+":"+day, "device", channel, now)
	if err != nil || !claimed {
		return err
	}
	sms, mail := s.deviceMessages(b, p.Device, p.At)
	if err := s.send(ctx, b, channel, to, sms, mail); err != nil {
		return err
	}
	e := audit.System().Event(ActionDeviceAlert, &b.DepartmentID, map[string]any{"channel": channel, "device": p.Device})
	e.BucketID = &b.ID
	return audit.Record(ctx, tx, e)
}

func (s *Service) loadBucket(ctx context.Context, tx bun.Tx, id int64) (*database.Bucket, *Settings, bool, error) {
	b := new(database.Bucket)
	err := tx.NewSelect().Model(b).Relation("Department").Where("bucket.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	st, err := BucketSettings(ctx, tx, id)
	return b, st, err == nil, err
}

// claim records that the message of event is being sent to b (false: it was sent before).
func claim(ctx context.Context, tx bun.Tx, b *database.Bucket, event, kind, channel string, now time.Time) (bool, error) {
	res, err := tx.NewRaw(`INSERT INTO notices_sent (bucket_id, department_id, event, kind, channel, sent_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bucket_id, event) DO NOTHING`, b.ID, b.DepartmentID, event, kind, channel, now).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// sendTimeout bounds one send inside the job's transaction (under
// PostgreSQL's idle-in-transaction timeout).
const sendTimeout = 20 * time.Second

func (s *Service) send(ctx context.Context, b *database.Bucket, channel, to, sms string, mail notify.EmailMessage) error {
	if s.Send == nil {
		return errors.New("informed: no sender")
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if b.Department != nil {
		ctx = notify.WithSender(ctx, b.Department.SMSSender)
	}
	if channel == "sms" {
		if b.Department != nil && len(b.Department.SMSPrefixes) > 0 && !notify.SMSAllowed(to, b.Department.SMSPrefixes) {
			return nil // a country the department no longer sends to: nothing goes out
		}
		return s.Send.SendSMS(ctx, to, sms)
	}
	mail.To = to
	return s.Send.SendEmail(ctx, mail)
}

// mailHTML is the HTML part of every message: translated paragraphs,
// escaped by html/template.
var mailHTML = template.Must(template.New("m").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; color: #1a1a1a;">
{{range .Paras}}<p>{{.}}</p>
{{end}}</body></html>
`))

func buildMail(lang, subject string, paras ...string) notify.EmailMessage {
	m := notify.EmailMessage{Subject: subject}
	for _, p := range paras {
		if p != "" {
			m.Text += p + "\n\n"
		}
	}
	var out []string
	for _, p := range paras {
		if p != "" {
			out = append(out, p)
		}
	}
	var buf bytes.Buffer
	if err := mailHTML.Execute(&buf, map[string]any{"Lang": lang, "Subject": subject, "Paras": out}); err != nil {
		panic(err) // a fixed template over strings cannot fail
	}
	m.HTML = buf.String()
	return m
}

func deptName(b *database.Bucket) string {
	if b.Department != nil {
		return b.Department.Name
	}
	return ""
}

// readyMessages are the "result ready" SMS and e-mail in the letter's
// language: the department's name, where to sign in, nothing medical.
func (s *Service) readyMessages(b *database.Bucket, event string) (string, notify.EmailMessage) {
	t := i18n.For(b.Language)
	lang := b.Language
	if !i18n.Valid(lang) {
		lang = i18n.Default
	}
	dept := deptName(b)
	where := t("informed.msg.where")
	if s.SignInURL != "" {
		where = t("informed.msg.where.url", "URL", s.SignInURL)
	}
	sms := t("informed.msg."+event+".sms", "Department", dept) + " " + where
	mail := buildMail(lang, t("informed.msg."+event+".subject"),
		t("informed.msg."+event+".mail", "Department", dept), where, t("informed.msg.footer"))
	return sms, mail
}

// deviceMessages are the new-device alert in the letter's language.
func (s *Service) deviceMessages(b *database.Bucket, device string, at time.Time) (string, notify.EmailMessage) {
	t := i18n.For(b.Language)
	lang := b.Language
	if !i18n.Valid(lang) {
		lang = i18n.Default
	}
	d, _ := DeviceFromString(device)
	if d.Class == "" {
		d = Device{Class: "computer", OS: "other", Browser: "other"}
	}
	when := FormatTime(lang, at.In(s.zone()))
	dept := deptName(b)
	args := []any{"Department", dept, "Device", d.Label(t), "When", when}
	contact := ""
	if b.Department != nil && b.Department.Phone != "" {
		contact = t("informed.msg.device.call", "Phone", b.Department.Phone)
	}
	sms := t("informed.msg.device.sms", args...)
	if contact != "" {
		sms += " " + contact
	}
	mail := buildMail(lang, t("informed.msg.device.subject"), t("informed.msg.device.mail", args...), contact, t("informed.msg.device.off"))
	return sms, mail
}
