// Package database opens PostgreSQL through bun, applies the embedded migrations
// and holds the bun models that every side of RadPass shares.
package database

import (
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"

	"github.com/radpass/radpass/migrations"
)

// Timeouts PostgreSQL enforces on a server pool (RequestTimeouts), so no
// request can wait minutes: on a statement, on a lock, or on a transaction
// that sits idle holding its locks and its connection.
const (
	StatementTimeout         = 30 * time.Second
	LockTimeout              = 5 * time.Second
	IdleInTransactionTimeout = 30 * time.Second
)

// Option adjusts how Open connects.
type Option func(*openConfig)

type openConfig struct {
	params      map[string]any
	readTimeout time.Duration
}

// DefaultReadTimeout bounds the wait for PostgreSQL's answer on a pool
// opened without ReadTimeout: a server that stops answering is noticed.
const DefaultReadTimeout = 5 * time.Minute

// ReadTimeout sets how long a connection waits for an answer (0: no limit).
// Migrations and bulk loads use 0: one statement (a backfill, CREATE INDEX
// over millions of studies) may legitimately take longer than five minutes,
// and cutting it would leave the upgrade to be redone by hand.
func ReadTimeout(d time.Duration) Option {
	return func(o *openConfig) { o.readTimeout = d }
}

// RequestTimeouts sets the statement, lock and idle-in-transaction timeouts
// on every connection of the pool (for `radpass serve`; migrations, imports
// and bulk loads open without them, their statements may run long).
func RequestTimeouts() Option {
	return WithTimeouts(StatementTimeout, LockTimeout, IdleInTransactionTimeout)
}

// WithTimeouts sets the three timeouts to any values (0: none).
func WithTimeouts(statement, lock, idleInTx time.Duration) Option {
	return func(o *openConfig) {
		o.params["statement_timeout"] = strconv.FormatInt(statement.Milliseconds(), 10)
		o.params["lock_timeout"] = strconv.FormatInt(lock.Milliseconds(), 10)
		o.params["idle_in_transaction_session_timeout"] = strconv.FormatInt(idleInTx.Milliseconds(), 10)
	}
}

// connectors remembers the connector of every pool Open made, so Ready can
// dial a fresh connection with the same settings.
var connectors sync.Map // *sql.DB -> driver.Connector

// Open connects to dsn and checks the connection.
func Open(ctx context.Context, dsn string, opts ...Option) (*bun.DB, error) {
	oc := &openConfig{params: map[string]any{}, readTimeout: DefaultReadTimeout}
	for _, o := range opts {
		o(oc)
	}
	// Several hosts (h1:5432,h2:5432) are tried in turn, and with
	// target_session_attrs=read-write only a primary serves (multihost.go).
	connector, err := newMultiConnector(dsn,
		// A short dial timeout finds a dead server fast; reads may legitimately
		// take long (COPY, CREATE INDEX, a big import transaction).
		pgdriver.WithDialTimeout(10*time.Second),
		pgdriver.WithReadTimeout(oc.readTimeout),
		pgdriver.WithWriteTimeout(time.Minute),
		pgdriver.WithApplicationName("radpass"),
		func(conf *pgdriver.Config) { // added to the DSN's parameters, not instead
			if len(oc.params) > 0 && conf.ConnParams == nil {
				conf.ConnParams = map[string]any{}
			}
			for k, v := range oc.params {
				conf.ConnParams[k] = v
			}
		},
		// A pooled connection that the server closed meanwhile (a restart:
		// 57P01 admin shutdown) is dropped before anything is sent on it, and
		// database/sql retries on another or a new connection. Nothing was
		// sent, so the retry is safe even for a transaction's BEGIN.
		pgdriver.WithResetSessionFunc(func(_ context.Context, cn *pgdriver.Conn) error {
			if closedByServer(cn.Conn()) {
				return driver.ErrBadConn
			}
			return nil
		}),
	)
	if err != nil {
		return nil, err
	}
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(32)
	sqldb.SetMaxIdleConns(16)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	connectors.Store(sqldb, connector)
	return db, nil
}

// ReadyPoolWait is how long Ready waits for the pool before it takes a busy
// pool for a serving one.
const ReadyPoolWait = 300 * time.Millisecond

// Ready checks PostgreSQL over a new connection of its own, not a pooled
// one: a pool may still hold connections of a server that restarted, which
// says nothing about whether PostgreSQL is up now, and a pool whose
// connections are all in use (a burst of prints) would make the check queue
// behind the requests and a load balancer pull a healthy server. Then the
// pool itself, briefly: a closed pool, or one that cannot reach the server,
// is not ready; one that is only busy (no connection free within
// ReadyPoolWait, while the new connection answered) is.
func Ready(ctx context.Context, db *bun.DB) error {
	c, ok := connectors.Load(db.DB)
	if !ok {
		return db.PingContext(ctx)
	}
	cn, err := c.(driver.Connector).Connect(ctx)
	if err != nil {
		return err
	}
	err = cn.(driver.Pinger).Ping(ctx)
	cn.Close()
	if err != nil {
		return err
	}
	// The pool must serve too (it drops connections the server closed, so
	// after a restart this dials afresh instead of failing).
	pctx, cancel := context.WithTimeout(ctx, ReadyPoolWait)
	defer cancel()
	err = db.PingContext(pctx)
	if err != nil && pctx.Err() != nil && ctx.Err() == nil {
		return nil // busy, not broken: the server answered on a connection of its own
	}
	return err
}

// closedByServer peeks at an idle connection without blocking: between
// queries nothing is due from the server, so readable data (an error such as
// 57P01 sent before closing) or end of file means the server is gone.
func closedByServer(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn() // with TLS, any record waiting (an alert, an error) counts
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	rerr := raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			closed = true // unsolicited data: an error or notice before closing
		case n == 0 && err == nil:
			closed = true // end of file
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
			// idle and open
		case err != nil:
			closed = true
		}
		return true
	})
	return closed || rerr != nil
}

// Migrator returns bun's migrator over the embedded SQL files. A migration is
// marked applied only once it succeeded, so a failed one can be fixed and rerun.
func Migrator(db *bun.DB) *migrate.Migrator {
	return migrate.NewMigrator(db, migrations.Migrations, migrate.WithMarkAppliedOnSuccess(true))
}

// Migrate applies every pending migration, one process at a time.
func Migrate(ctx context.Context, db *bun.DB) (*migrate.MigrationGroup, error) {
	// Several instances may start at once: they take turns on a session
	// advisory lock (PostgreSQL ends it with the session if a process dies
	// mid-way), and the later ones find nothing left to apply. bun's own
	// lock row failed them instead ("migrations table is already locked"),
	// and a crash left it behind.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, migrateLockID); err != nil {
		return nil, fmt.Errorf("wait for the migration lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(?)`, migrateLockID) //nolint:errcheck
	m := Migrator(db)
	if err := m.Init(ctx); err != nil {
		return nil, err
	}
	return m.Migrate(ctx)
}

// migrateLockID is the advisory lock key of Migrate.
const migrateLockID int64 = 0x7261647061737301 // "radpass" 1

// InTx runs fn in one transaction: all of it is stored, or nothing.
func InTx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, nil, fn)
}

// IsUniqueViolation reports a PostgreSQL unique_violation (23505).
func IsUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	if ok := asPG(err, &pgErr); ok {
		return pgErr.Field('C') == "23505"
	}
	return false
}

func asPG(err error, target *pgdriver.Error) bool {
	for err != nil {
		if e, ok := err.(pgdriver.Error); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// EscapeLike escapes the LIKE wildcards of user input.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
