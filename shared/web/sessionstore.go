package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gorilla/sessions"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/keys"
)

func init() {
	gob.Register(time.Time{})
	gob.Register([]int64{})
	gob.Register([]string{})
	gob.Register(map[string]string{})
}

// touchEvery is how stale last_seen_at may get before a request renews it.
const touchEvery = time.Minute

// PGStore is a gorilla/sessions Store kept in PostgreSQL: server-side,
// revocable, shared by every RadPass instance. The cookie carries 256 random
// bits; the table holds only their HMAC, so a database dump opens no session.
type PGStore struct {
	DB      bun.IDB
	Kind    string // "staff" or "patient"
	Key     []byte // HMAC key (the server secret)
	Idle    time.Duration
	MaxAge  time.Duration
	Secure  bool
	Options sessions.Options
	Now     func() time.Time // for tests of the timeouts
	// Queue, when set, takes the writes of Save and Regenerate instead of
	// running them: the caller sends them with its transaction's other
	// writes in one round trip (the sign-in's batch).
	Queue func(q interface{ String() string }) error
}

// SaveIn stores sess through db (a transaction) with its writes queued on
// queue, and returns what tells the browser: call it once the transaction
// has committed, so a sign-in that rolls back never hands out the cookie of
// a session that was not stored (nor drops the one the browser had).
func (m *Sessions) SaveIn(c fiber.Ctx, sess *sessions.Session, db bun.IDB, queue func(q interface{ String() string }) error) (answer func(), err error) {
	st := *m.Store
	st.DB, st.Queue = db, queue
	return m.save(c, sess, &st)
}

// write runs q, or queues it (Queue).
func (s *PGStore) write(ctx context.Context, q *bun.RawQuery) error {
	if s.Queue != nil {
		return s.Queue(q)
	}
	_, err := q.Exec(ctx)
	return err
}

// NewPGStore returns a store for one kind of session with the given cookie policy.
func NewPGStore(db bun.IDB, kind string, key []byte, idle, maxAge time.Duration, secure bool) *PGStore {
	return &PGStore{
		DB: db, Kind: kind, Key: key, Idle: idle, MaxAge: maxAge, Secure: secure,
		Options: sessions.Options{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode},
		Now:     time.Now,
	}
}

// Get returns the request's session (new and empty when absent or expired).
func (s *PGStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return s.New(r, name)
}

// New loads the session named by the request cookie, enforcing the idle and
// absolute timeouts on the server whatever the browser keeps.
func (s *PGStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.Options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" || len(c.Value) > 64 {
		return sess, nil
	}
	now := s.Now()
	var row struct {
		Data       []byte    `bun:"data"`
		LastSeenAt time.Time `bun:"last_seen_at"`
	}
	hash := s.hash(c.Value)
	err = s.DB.NewRaw(`SELECT data, last_seen_at FROM sessions WHERE id_hash = ? AND kind = ? AND expires_at > ? AND last_seen_at > ?`,
		hash, s.Kind, now, now.Add(-s.Idle)).Scan(r.Context(), &row)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	// The idle clock is kept to the minute: most requests only read, so the
	// parallel requests of one session do not queue on its row.
	if now.Sub(row.LastSeenAt) >= touchEvery {
		if _, err := s.DB.NewRaw(`UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?`,
			now, hash, now).Exec(r.Context()); err != nil {
			return sess, err
		}
	}
	if err := gob.NewDecoder(bytes.NewReader(row.Data)).Decode(&sess.Values); err != nil {
		return sess, nil // unreadable old data: start afresh
	}
	sess.ID = c.Value
	sess.IsNew = false
	return sess, nil
}

// Save stores the session, or deletes it when Options.MaxAge < 0 (sign-out).
func (s *PGStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.delete(ctx, sess.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, s.cookie(sess, "", -1))
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(sess.Values); err != nil {
		return err
	}
	now := s.Now()
	if sess.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		sess.ID = id
		if err := s.write(ctx, s.DB.NewRaw(`INSERT INTO sessions (id_hash, kind, data, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			s.hash(id), s.Kind, buf.Bytes(), now, now, now.Add(s.MaxAge))); err != nil {
			return err
		}
		http.SetCookie(w, s.cookie(sess, id, 0))
		return nil
	}
	return s.write(ctx, s.DB.NewRaw(`UPDATE sessions SET data = ?, last_seen_at = ? WHERE id_hash = ?`, buf.Bytes(), now, s.hash(sess.ID)))
}

// Regenerate gives the session a new id (sign-in), deleting the old row so a
// planted or stolen pre-sign-in id is worthless.
func (s *PGStore) Regenerate(ctx context.Context, sess *sessions.Session) error {
	if sess.ID != "" {
		if err := s.delete(ctx, sess.ID); err != nil {
			return err
		}
	}
	sess.ID = ""
	return nil
}

// PurgeExpired deletes this kind's sessions past their absolute or idle limit
// (housekeeping; New already refuses them). Other kinds have their own idle
// limit, so they are left to their own store.
func (s *PGStore) PurgeExpired(ctx context.Context) (int64, error) {
	now := s.Now()
	res, err := s.DB.NewRaw(`DELETE FROM sessions WHERE kind = ? AND (expires_at <= ? OR last_seen_at <= ?)`, s.Kind, now, now.Add(-s.Idle)).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// PurgeExpiredSessions deletes every session of any kind past its absolute
// limit, for a server that does not know all the stores in use.
func PurgeExpiredSessions(ctx context.Context, db bun.IDB) (int64, error) {
	res, err := db.NewRaw(`DELETE FROM sessions WHERE expires_at <= now()`).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *PGStore) delete(ctx context.Context, id string) error {
	return s.write(ctx, s.DB.NewRaw(`DELETE FROM sessions WHERE id_hash = ?`, s.hash(id)))
}

func (s *PGStore) hash(id string) []byte {
	return keys.Sum(s.Key, keys.SessionID, []byte(s.Kind+":"), []byte(id))
}

func (s *PGStore) cookie(sess *sessions.Session, value string, maxAge int) *http.Cookie {
	o := sess.Options
	return &http.Cookie{
		Name: sess.Name(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: o.Secure, SameSite: o.SameSite,
	}
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
