package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/radpass/radpass/shared/apperr"
)

// ErrNoWritableHost says that every host of a multi-host URL was reached or
// tried and none accepted writes (a failover in progress: the primary is
// gone and the replica not promoted yet). It counts as an outage (503).
var ErrNoWritableHost = &apperr.Error{Code: apperr.Unavailable, Key: "error.unavailable"}

// hostList splits a URL's host part as libpq does: "h1:5432,h2:5433,h3".
// A URL with one host (or a unix socket in ?host=) gives one entry.
func hostList(dsn string) (hosts []string, readWrite bool, rest *url.URL, err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, false, nil, fmt.Errorf("database URL: %w", err)
	}
	q := u.Query()
	switch tsa := q.Get("target_session_attrs"); tsa {
	case "", "any":
	case "read-write", "primary":
		readWrite = true
	default:
		return nil, false, nil, fmt.Errorf("database URL: target_session_attrs=%s is not supported (any, read-write or primary)", tsa)
	}
	q.Del("target_session_attrs")
	u.RawQuery = q.Encode()
	for _, h := range strings.Split(u.Host, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts, readWrite, u, nil
}

// multiConnector dials the hosts of a multi-host URL in turn, like libpq:
// the first that answers (and, with target_session_attrs=read-write, that is
// not in recovery or read-only) serves the connection. It starts with the
// host that served last, so after a failover new connections go straight to
// the new primary.
type multiConnector struct {
	hosts     []*pgdriver.Connector
	names     []string
	readWrite bool
	last      atomic.Int32
}

// Connector is the connector for dsn that Open uses, for tools that open a
// pool of their own with other settings (the demo seed, the bulk load): a
// URL naming several hosts, with or without target_session_attrs, works as
// it does for serve. opts are pgdriver's, added after the DSN.
func Connector(dsn string, opts ...pgdriver.Option) (driver.Connector, error) {
	return newMultiConnector(dsn, opts...)
}

func newMultiConnector(dsn string, opts ...pgdriver.Option) (driver.Connector, error) {
	hosts, rw, u, err := hostList(dsn)
	if err != nil {
		return nil, err
	}
	if len(hosts) <= 1 && !rw {
		return pgdriver.NewConnector(append([]pgdriver.Option{pgdriver.WithDSN(u.String())}, opts...)...), nil
	}
	if len(hosts) == 0 {
		hosts = []string{""} // unix socket in ?host=
	}
	m := &multiConnector{readWrite: rw}
	for _, h := range hosts {
		hu := *u
		hu.Host = h
		m.hosts = append(m.hosts, pgdriver.NewConnector(append([]pgdriver.Option{pgdriver.WithDSN(hu.String())}, opts...)...))
		m.names = append(m.names, h)
	}
	return m, nil
}

func (m *multiConnector) Driver() driver.Driver { return m.hosts[0].Driver() }

func (m *multiConnector) Connect(ctx context.Context) (driver.Conn, error) {
	start := int(m.last.Load())
	var errs []error
	for i := range m.hosts {
		k := (start + i) % len(m.hosts)
		cn, err := m.hosts[k].Connect(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.names[k], err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if m.readWrite {
			writable, err := isWritable(ctx, cn)
			if err != nil || !writable {
				cn.Close()
				if err == nil {
					err = errors.New("read-only (a standby)")
				}
				errs = append(errs, fmt.Errorf("%s: %w", m.names[k], err))
				continue
			}
		}
		m.last.Store(int32(k))
		return cn, nil
	}
	// Refused or cut connections keep their own errors (an outage for
	// apperr.IsUnavailable); reachable standbys alone say no writable host.
	return nil, errors.Join(append([]error{ErrNoWritableHost}, errs...)...)
}

// isWritable asks a fresh connection what libpq's read-write check asks.
func isWritable(ctx context.Context, cn driver.Conn) (bool, error) {
	q, ok := cn.(driver.QueryerContext)
	if !ok {
		return false, errors.New("driver cannot query")
	}
	rows, err := q.QueryContext(ctx, "SHOW transaction_read_only", nil)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return false, err
	}
	s := fmt.Sprint(v[0])
	if b, ok := v[0].([]byte); ok {
		s = string(b)
	}
	return s == "off", nil
}
