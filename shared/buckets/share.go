package buckets

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/keys"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/otp"
)

// Share limits.
const (
	// MaxActiveShares is how many shares of one access may be open at once.
	MaxActiveShares = 5
	// MaxShareSendsPerDay caps the messages (links and codes) sent for the
	// shares of one access in any 24 hours (SMS pumping).
	MaxShareSendsPerDay = 10
	// MaxShareCodesPerAddressDay caps the codes one doctor's address or
	// number receives in any 24 hours, across every share of every access
	// (SMS pumping through many shares to one number).
	MaxShareCodesPerAddressDay = 20
	// ShareDefaultDays is how long a share lasts unless the patient says
	// otherwise (never past the access itself).
	ShareDefaultDays = 14
	// ShareMessageMax is the length of the patient's note to the doctor.
	ShareMessageMax = 200
	// shareTokenBytes is the link's capability: 256 random bits.
	shareTokenBytes = 32
)

// Share errors.
var (
	ErrShareLimit     = errors.New("buckets: too many active shares")
	ErrShareSendLimit = errors.New("buckets: too many share messages today")
	// ErrShareAddressLimit: the doctor's address or number has had
	// MaxShareCodesPerAddressDay codes in the last 24 hours.
	ErrShareAddressLimit = errors.New("buckets: too many codes to this address today")
)

// Share is one share of a bucket with a doctor.
type Share struct {
	bun.BaseModel `bun:"table:shares"`

	ID            int64      `bun:"id,pk,autoincrement"`
	BucketID      int64      `bun:"bucket_id"`
	TokenHash     []byte     `bun:"token_hash"`
	Channel       string     `bun:"channel"` // notify.ChannelSMS or ChannelEmail
	Destination   string     `bun:"destination"`
	ValidUntil    time.Time  `bun:"valid_until,type:date"`
	Report        bool       `bun:"report"`
	Message       string     `bun:"message"`
	Language      string     `bun:"language"`
	State         string     `bun:"state"` // active, blocked, revoked
	Failures      int        `bun:"failures"`
	CodeHash      []byte     `bun:"code_hash"`
	CodeExpiresAt *time.Time `bun:"code_expires_at"`
	CreatedAt     time.Time  `bun:"created_at,nullzero,default:now()"`
	FirstOpenedAt *time.Time `bun:"first_opened_at"`
	LastOpenedAt  *time.Time `bun:"last_opened_at"`
	EndedAt       *time.Time `bun:"ended_at"`
	EndedBy       string     `bun:"ended_by"`
}

// Expired reports a share past its last day.
func (sh *Share) Expired(today time.Time) bool {
	y, m, d := today.Date()
	return sh.ValidUntil.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// EffectiveState is active, blocked, revoked or expired.
func (sh *Share) EffectiveState(today time.Time) string {
	if sh.State == database.BucketActive && sh.Expired(today) {
		return database.BucketExpired
	}
	return sh.State
}

// ShareTokenHash is the stored hash of a link's token.
func ShareTokenHash(key []byte, token string) []byte {
	return keys.Sum(key, keys.ShareToken, []byte(token))
}

// ShareAddressHash is the keyed hash of a doctor's normalized address or
// number, the only form in which the per-address code count holds it.
func ShareAddressHash(key []byte, channel, dest string) []byte {
	return keys.Sum(key, keys.ShareAddress, []byte(channel+":"+normalizeShareAddress(channel, dest)))
}

// normalizeShareAddress makes the spellings of one mailbox or number one
// key: an e-mail address in lower case without a "+tag" on its local part
// (dr+1@x and DR@X reach the same mailbox); a number as its E.164 digits.
func normalizeShareAddress(channel, dest string) string {
	dest = strings.ToLower(strings.TrimSpace(dest))
	if channel == notify.ChannelSMS {
		if e164, ok := internationalMobile(dest); ok {
			return e164
		}
		return strings.Map(func(r rune) rune {
			if r == '+' || (r >= '0' && r <= '9') {
				return r
			}
			return -1
		}, dest)
	}
	at := strings.LastIndexByte(dest, '@')
	if at < 0 {
		return dest
	}
	local, domain := dest[:at], dest[at:]
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	return local + domain
}

// shareCodeHash is the stored hash of a doctor's code, bound to its share.
func shareCodeHash(key []byte, shareID int64, code string) []byte {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(shareID))
	return keys.Sum(key, keys.ShareCode, id[:], []byte(code))
}

// ShareForm is the patient's "Share with a doctor" form as typed.
type ShareForm struct {
	To      string   // e-mail address or mobile number with its country code
	Until   string   // YYYY-MM-DD
	Studies []string // study ids
	Report  bool
	Message string
}

// ShareRequest is a checked ShareForm.
type ShareRequest struct {
	Channel     string
	Destination string
	Until       time.Time
	Studies     []int64
	Report      bool
	Message     string
}

// ShareUntilDefault is the last day a new share of b gets unless the
// patient chooses: ShareDefaultDays from today, at most b's own last day.
func ShareUntilDefault(today time.Time, b *database.Bucket) time.Time {
	d := today.AddDate(0, 0, ShareDefaultDays)
	if b.ValidUntil.Before(d) {
		return b.ValidUntil
	}
	return d
}

// Check validates the form for bucket b, whose studies are ids. Nothing is
// counted or stored for a form with errors.
func (f ShareForm) Check(today time.Time, b *database.Bucket, ids []int64) (*ShareRequest, FieldErrors) {
	var errs FieldErrors
	bad := func(field, key string, args ...any) { errs = append(errs, FieldError{field, key, args}) }
	r := &ShareRequest{}
	to := strings.TrimSpace(f.To)
	switch {
	case to == "":
		bad("to", "share.error.to.required")
	case strings.Contains(to, "@"):
		if !validEmail(to) {
			bad("to", "share.error.email")
			break
		}
		r.Channel, r.Destination = notify.ChannelEmail, to
	default:
		e164, ok := internationalMobile(to)
		switch {
		case !ok:
			bad("to", "share.error.phone")
		case !SMSAllowed(b.Department, e164):
			bad("to", "share.error.country")
		default:
			r.Channel, r.Destination = notify.ChannelSMS, e164
		}
	}
	until, err := time.Parse("2006-01-02", strings.TrimSpace(f.Until))
	switch {
	case strings.TrimSpace(f.Until) == "":
		r.Until = ShareUntilDefault(today, b)
	case err != nil:
		bad("until", "share.error.until")
	case until.Before(today) || until.After(b.ValidUntil):
		bad("until", "share.error.until.range", "Last", b.ValidUntil.Format("2006-01-02"))
	default:
		r.Until = until
	}
	in := map[int64]bool{}
	for _, id := range ids {
		in[id] = true
	}
	seen := map[int64]bool{}
	for _, s := range f.Studies {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || !in[id] {
			bad("studies", "share.error.studies")
			r.Studies = nil
			break
		}
		if !seen[id] {
			seen[id] = true
			r.Studies = append(r.Studies, id)
		}
	}
	if len(r.Studies) == 0 && !errs.Has("studies") {
		bad("studies", "share.error.studies")
	}
	// The report goes only where the patient's own access shows it.
	r.Report = f.Report && b.ReportAllowed()
	msg := strings.TrimSpace(f.Message)
	switch {
	case len([]rune(msg)) > ShareMessageMax:
		bad("message", "share.error.message.long", "Max", ShareMessageMax)
	case strings.IndexFunc(msg, func(r rune) bool { return unicode.IsControl(r) || r > 0xFFFF }) >= 0:
		bad("message", "share.error.message.chars")
	default:
		r.Message = msg
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// Has reports an error on field.
func (e FieldErrors) Has(field string) bool {
	for _, fe := range e {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// internationalMobile reads a mobile number written with its country code
// (+32 470 12 34 56, or 0032...): a doctor may be in any allowed country,
// so no region is assumed. It returns E.164.
func internationalMobile(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	num, err := phonenumbers.Parse(s, "ZZ")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return phonenumbers.Format(num, phonenumbers.E164), true
	}
	return "", false
}

// ShareOutcome is what a share request led to.
type ShareOutcome int

// Outcomes of CreateShare.
const (
	ShareCreated    ShareOutcome = iota
	ShareWrongBirth              // the birth date did not match: one failure counted on the access
	ShareBlocked                 // ... and that failure blocked the access
)

// NewShare is a share just created: its plain token (only ever in the
// message to the doctor) and what the message needs.
type NewShare struct {
	Outcome    ShareOutcome
	Share      *Share
	Token      string
	Department string
	Sender     string
	Failures   int // the access's failures after a wrong birth date
	sendID     int64
}

// CreateShare creates a share of bucket id after the patient confirmed their
// birth date. A wrong birth date counts one failure on the access, the same
// counter as sign-in (the fifth blocks it): a signed-in session is no free
// birth-date oracle. The birth date is checked first, under the bucket's
// row lock, then the limits: MaxActiveShares open shares and
// MaxShareSendsPerDay messages per access. The share, its studies, the
// pending link message and the audit row commit together. The caller sends
// the link (SendShareLink).
func (s *Service) CreateShare(ctx context.Context, id int64, r *ShareRequest, birth time.Time, ip string) (*NewShare, error) {
	out := &NewShare{}
	err := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		b := new(database.Bucket)
		err := tx.NewSelect().Model(b).Relation("Patient").Relation("Department").
			Where("bucket.id = ?", id).For("UPDATE OF bucket").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if b.State != database.BucketActive || b.Expired(s.Today()) {
			return ErrNotActive
		}
		if b.Patient.BirthDate == nil || !sameDate(*b.Patient.BirthDate, birth) {
			w := &Batch{Tx: tx}
			blocked, err := s.queueFail(w, b)
			if err != nil {
				return err
			}
			if err := s.queueRecord(w, b, audit.ShareCreate, "wrong_birth_date", ip, map[string]any{"failures": b.Failures}); err != nil {
				return err
			}
			out.Outcome, out.Failures = ShareWrongBirth, b.Failures
			if blocked {
				out.Outcome = ShareBlocked
			}
			return w.Flush(ctx)
		}
		// Share messages of one access are counted under one lock (the
		// code sends take it too), so parallel requests cannot pass the cap.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('share-sends:' || ?))`, b.ID); err != nil {
			return err
		}
		today := s.Today()
		if r.Until.After(b.ValidUntil) || r.Until.Before(today) {
			return ErrValidity
		}
		var n struct {
			Active int `bun:"active"`
			Sends  int `bun:"sends"`
		}
		if err := tx.NewRaw(`SELECT
			(SELECT count(*) FROM shares WHERE bucket_id = ? AND state = 'active' AND valid_until >= ?) AS active,
			(SELECT count(*) FROM share_sends WHERE bucket_id = ? AND at > ?) AS sends`,
			b.ID, today, b.ID, s.now().Add(-24*time.Hour)).Scan(ctx, &n); err != nil {
			return err
		}
		if n.Active >= MaxActiveShares {
			return ErrShareLimit
		}
		if n.Sends >= MaxShareSendsPerDay {
			return ErrShareSendLimit
		}
		token, err := newShareToken()
		if err != nil {
			return err
		}
		sh := &Share{BucketID: b.ID, TokenHash: ShareTokenHash(s.Key, token), Channel: r.Channel, Destination: r.Destination,
			ValidUntil: r.Until, Report: r.Report && b.ReportAllowed(), Message: r.Message, Language: b.Language,
			State: database.BucketActive, CreatedAt: s.now()}
		if _, err := tx.NewInsert().Model(sh).Returning("id").Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO share_studies (share_id, study_id)
			SELECT ?, study_id FROM bucket_studies WHERE bucket_id = ? AND study_id IN (?)`,
			sh.ID, b.ID, bun.In(r.Studies)).Exec(ctx); err != nil {
			return err
		}
		if err := tx.NewRaw(`INSERT INTO share_sends (share_id, bucket_id, kind, at) VALUES (?, ?, 'link', ?) RETURNING id`,
			sh.ID, b.ID, s.now()).Scan(ctx, &out.sendID); err != nil {
			return err
		}
		e := audit.Patient(&b.ID, ip).Event(audit.ShareCreate, &b.DepartmentID, map[string]any{"share_id": sh.ID,
			"channel": sh.Channel, "studies": r.Studies, "report": sh.Report, "valid_until": sh.ValidUntil.Format("2006-01-02")})
		if err := audit.Record(ctx, tx, e); err != nil {
			return err
		}
		out.Share, out.Token, out.Department, out.Sender = sh, token, b.Department.Name, b.Department.SMSSender
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func newShareToken() (string, error) {
	b := make([]byte, shareTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ShareSender sends the messages of a share (*notify.Notifier is one).
type ShareSender interface {
	SendSMS(ctx context.Context, to, text string) error
	SendEmail(ctx context.Context, m notify.EmailMessage) error
}

func sendShareMessage(ctx context.Context, n ShareSender, sh *Share, sms string, mail notify.EmailMessage) error {
	if sh.Channel == notify.ChannelSMS {
		return n.SendSMS(ctx, sh.Destination, sms)
	}
	mail.To = sh.Destination
	return n.SendEmail(ctx, mail)
}

// SendShareLink sends the link of a new share to the doctor (link is the
// whole URL, made by the caller from the token) and records the outcome. A
// link that could not be sent ends its share: it would only take one of
// the access's MaxActiveShares places.
func (s *Service) SendShareLink(ctx context.Context, n ShareSender, ns *NewShare, link, ip string) error {
	sh := ns.Share
	sms, mail := notify.ShareLinkMessages(sh.Language, ns.Department, sh.Message, link)
	sendErr := sendShareMessage(notify.WithSender(ctx, ns.Sender), n, sh, sms, mail)
	outcome := "sent"
	if sendErr != nil {
		outcome = "failed"
	}
	err := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`UPDATE share_sends SET outcome = ? WHERE id = ?`, outcome, ns.sendID).Exec(ctx); err != nil {
			return err
		}
		if sendErr != nil {
			if _, err := tx.NewRaw(`UPDATE shares SET state = 'revoked', ended_at = ?, ended_by = 'not_sent', code_hash = NULL WHERE id = ?`,
				s.now(), sh.ID).Exec(ctx); err != nil {
				return err
			}
		}
		var dept int64
		if err := tx.NewRaw(`SELECT department_id FROM buckets WHERE id = ?`, sh.BucketID).Scan(ctx, &dept); err != nil {
			return err
		}
		e := audit.Patient(&sh.BucketID, ip).Event(audit.ShareSend, &dept, map[string]any{"share_id": sh.ID, "channel": sh.Channel, "kind": "link"})
		e.Outcome = outcome
		return audit.Record(ctx, tx, e)
	})
	if sendErr != nil {
		return &SendError{Channel: sh.Channel, Send: sendErr, Record: err}
	}
	if err != nil {
		return &SendError{Channel: sh.Channel, Record: err}
	}
	return nil
}

// ShareView is a share as the patient and staff list it.
type ShareView struct {
	*Share
	Studies int
	// Status is what the share does now: the share's own EffectiveState
	// while its access is open; once the access has ended (revoked,
	// blocked, expired) the access's end wins, as "access_revoked",
	// "access_blocked" or "access_expired", since the share no longer
	// opens whatever its own row says.
	Status string
	// Revocable: the share's own row is still open and its access could
	// open again (blocked and expired accesses can be unlocked or extended;
	// a revoked one cannot), so revoking it still changes something.
	Revocable bool
}

// Opened reports whether the doctor ever signed in.
func (v ShareView) Opened() bool { return v.FirstOpenedAt != nil }

// EndedByKey is the i18n key naming who or what ended the share's own
// row ("" while it is open): the patient, staff (EndedByStaff names
// them), wrong codes, or a link that could not be sent.
func (v ShareView) EndedByKey() string {
	switch {
	case v.EndedBy == "":
		return ""
	case strings.HasPrefix(v.EndedBy, "staff:"):
		return "sharefix.endedby.staff"
	case v.EndedBy == audit.KindPatient, v.EndedBy == "failures", v.EndedBy == "not_sent":
		return "sharefix.endedby." + v.EndedBy
	}
	return "sharefix.endedby.other"
}

// EndedByStaff is the user name of the staff member who ended the share.
func (v ShareView) EndedByStaff() string {
	return strings.TrimPrefix(v.EndedBy, "staff:")
}

// shareStatus is a share's Status given its access's effective state.
func shareStatus(sh *Share, access string, today time.Time) string {
	if access != database.BucketActive {
		return "access_" + access
	}
	return sh.EffectiveState(today)
}

// SharesOf lists the shares of bucket id, newest first, each with the
// state it has now (ShareView.Status).
func (s *Service) SharesOf(ctx context.Context, id int64) ([]ShareView, error) {
	var rows []struct {
		Share
		Studies     int       `bun:"n_studies"`
		BucketState string    `bun:"bucket_state"`
		BucketUntil time.Time `bun:"bucket_until,type:date"`
	}
	if err := s.DB.NewRaw(`SELECT sh.*, (SELECT count(*) FROM share_studies ss WHERE ss.share_id = sh.id) AS n_studies,
		b.state AS bucket_state, b.valid_until AS bucket_until
		FROM shares sh JOIN buckets b ON b.id = sh.bucket_id
		WHERE sh.bucket_id = ? ORDER BY sh.created_at DESC, sh.id DESC`, id).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	today := s.Today()
	out := make([]ShareView, len(rows))
	for i := range rows {
		sh := rows[i].Share
		access := (&database.Bucket{State: rows[i].BucketState, ValidUntil: rows[i].BucketUntil}).EffectiveState(today)
		out[i] = ShareView{Share: &sh, Studies: rows[i].Studies, Status: shareStatus(&sh, access, today),
			Revocable: sh.EffectiveState(today) == database.BucketActive && access != database.BucketRevoked}
	}
	return out, nil
}

// RevokeShare ends share shareID of bucket bucketID on behalf of actor
// (the patient, or staff), with its audit row. Revoking an ended share
// changes nothing; a share of another bucket is ErrNotFound.
func (s *Service) RevokeShare(ctx context.Context, a audit.Actor, bucketID, shareID int64) error {
	return database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		sh := new(Share)
		err := tx.NewSelect().Model(sh).Where("id = ? AND bucket_id = ?", shareID, bucketID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if sh.State != database.BucketActive {
			return nil
		}
		by := a.Kind
		if a.Kind == audit.KindStaff {
			by = "staff:" + a.Name
		}
		if _, err := tx.NewRaw(`UPDATE shares SET state = 'revoked', ended_at = ?, ended_by = ?, code_hash = NULL, code_expires_at = NULL WHERE id = ?`,
			s.now(), by, sh.ID).Exec(ctx); err != nil {
			return err
		}
		var dept int64
		if err := tx.NewRaw(`SELECT department_id FROM buckets WHERE id = ?`, bucketID).Scan(ctx, &dept); err != nil {
			return err
		}
		e := a.Event(audit.ShareRevoke, &dept, map[string]any{"share_id": sh.ID})
		e.BucketID = &bucketID
		return audit.Record(ctx, tx, e)
	})
}

// RevokeShareStaff is RevokeShare by staff user u: whoever may manage the
// bucket (CanManage: its department's admins, the service desk); other
// staff of the department see its shares but get 403.
func (s *Service) RevokeShareStaff(ctx context.Context, u *database.User, bucketID, shareID int64, ip string) error {
	b, err := s.ForStaff(ctx, u, bucketID)
	if err != nil {
		return err
	}
	if !CanManage(u, b) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return s.RevokeShare(ctx, audit.Staff(u, ip), bucketID, shareID)
}

// codeOK compares a typed code with the share's current one.
func (s *Service) shareCodeOK(sh *Share, typed string) bool {
	code, ok := otp.Normalize(typed)
	return ok && sh.CodeHash != nil && sh.CodeExpiresAt != nil && !s.now().After(*sh.CodeExpiresAt) &&
		otp.Equal(sh.CodeHash, shareCodeHash(s.Key, sh.ID, code))
}
