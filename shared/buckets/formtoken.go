package buckets

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// formFlights lets one submit of a form token at a time past the check for
// an earlier print of it: a repeated token (a double click, a retry, a
// nervous user pressing twenty times) waits for the first submit to finish,
// then finds its bucket, before any letter is rendered. Within one process
// the waiters wait here, without a database connection; across server
// instances formLock makes them take turns (and the unique index on
// (created_by, form_token_hash) makes it one bucket whatever happens).
type formFlights struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// enter waits (with ctx) until no other submit of key is in flight here,
// then marks key in flight; leave ends it.
func (f *formFlights) enter(ctx context.Context, key string) (leave func(), err error) {
	for {
		f.mu.Lock()
		ch, busy := f.m[key]
		if !busy {
			if f.m == nil {
				f.m = map[string]chan struct{}{}
			}
			ch = make(chan struct{})
			f.m[key] = ch
			f.mu.Unlock()
			return func() {
				f.mu.Lock()
				delete(f.m, key)
				f.mu.Unlock()
				close(ch)
			}, nil
		}
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// printOfForm is the bucket who printed with this form token hash already
// (nil: none yet).
func (s *Service) printOfForm(ctx context.Context, who creator, tokenHash []byte) (*database.Bucket, error) {
	b := new(database.Bucket)
	err := who.where(s.DB.NewSelect().Model(b), tokenHash).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

// formLock takes PostgreSQL's session advisory lock of a form key on a
// connection of its own, so that one submit of a form token at a time runs
// across all server instances: the second waits until the first's bucket is
// committed, then finds it, and no second letter is rendered. It polls
// pg_try_advisory_lock instead of waiting inside PostgreSQL (lock_timeout
// would end a long wait, and a wait cut by a cancelled request could take
// the lock after all). A process that dies holding the lock loses its
// connection, and PostgreSQL releases the lock.
//
// The lock's connection is held while the print takes a second one for its
// transaction: without a bound, as many parallel prints as the pool has
// connections would each hold a lock connection and wait forever for a
// transaction one. formLockSlots keeps lock holders well below the pool (32),
// and a print waits for a slot before it takes any connection.
func formLock(ctx context.Context, db *bun.DB, key string) (release func(), err error) {
	select {
	case formLockSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	unlock, err := formLockConn(ctx, db, key)
	if err != nil {
		<-formLockSlots
		return nil, err
	}
	return func() { unlock(); <-formLockSlots }, nil
}

// formLockSlots bounds the connections formLock holds at once, process-wide.
var formLockSlots = make(chan struct{}, 8)

func formLockConn(ctx context.Context, db *bun.DB, key string) (release func(), err error) {
	sum := sha256.Sum256([]byte("print-form:" + key))
	id := int64(binary.BigEndian.Uint64(sum[:8]))
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	discard := func() {
		// A connection whose lock state is unknown never goes back to the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}
	pause := 10 * time.Millisecond
	for {
		var ok bool
		if err := conn.NewRaw(`SELECT pg_try_advisory_lock(?)`, id).Scan(ctx, &ok); err != nil {
			discard()
			return nil, err
		}
		if ok {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			_ = conn.Close()
			return nil, ctx.Err()
		}
		pause = min(pause*2, 200*time.Millisecond)
	}
	return func() {
		// The request's context may be over; the unlock must still run.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var unlocked bool
		if err := conn.NewRaw(`SELECT pg_advisory_unlock(?)`, id).Scan(uctx, &unlocked); err != nil || !unlocked {
			discard()
			return
		}
		_ = conn.Close()
	}, nil
}

// NewFormToken is the one-time token a print form carries (128 random bits);
// "" when the system has no randomness: the form still prints, without
// double-submit protection.
func NewFormToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// CleanFormToken keeps a well-formed token and drops anything else.
func CleanFormToken(s string) string {
	if len(s) < 16 || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return ""
		}
	}
	return s
}
