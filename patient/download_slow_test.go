package patient_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/testdb"
	"github.com/radpass/radpass/shared/testserver"
)

// smallBufferListener gives every accepted connection a small send buffer,
// so the kernel cannot swallow a whole download and hide a stalled write.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// slowServer is testserver.New with the server's write timeout set to
// writeTimeout (120 s in production) and small socket buffers.
func slowServer(t *testing.T, writeTimeout time.Duration) *testserver.Server {
	t.Helper()
	db, dsn := testdb.NewWithURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"RADPASS_DEV": "1", "RADPASS_DATABASE_URL": dsn, "RADPASS_ADDR": addr, "RADPASS_DATA_DIR": dir}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := server.New(server.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	a.Fiber.Server().WriteTimeout = writeTimeout // before the first connection
	go func() { _ = a.Fiber.Listener(smallBufferListener{ln}, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Fiber.ShutdownWithContext(ctx)
	})
	return &testserver.Server{URL: "http://" + addr, DB: db, DSN: dsn, App: a, Config: cfg}
}

// A download that takes longer than the server's write timeout, but keeps
// moving, arrives whole. The write timeout used to be one deadline for the
// whole ZIP: a phone on a slow line got a truncated file after 120 s.
func TestSlowSteadyDownloadArrivesWhole(t *testing.T) {
	const writeTimeout = 2500 * time.Millisecond
	srv := slowServer(t, writeTimeout)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", store.RoleStaff, d)
	srv.MustImportSamples(t, d)
	ctx := t.Context()
	var study int64 // the sample file nearest 1 MB (an MR)
	if err := srv.DB.NewRaw(`SELECT se.study_id FROM instances i JOIN series se ON se.id = i.series_id ORDER BY abs(i.size_bytes - 1000000) LIMIT 1`).Scan(ctx, &study); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.ExecContext(ctx, `UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`, study); err != nil {
		t.Fatal(err)
	}
	_, n := srv.MustBucket(t, u, []*store.Study{{ID: study}}, testserver.BucketSpec{})
	c := signedInAt(t, srv, n)

	// A client with a small receive buffer that reads 128 kB at a time
	// with 50 ms pauses (a few hundred kB/s with these buffers): never idle
	// for long, but slower in all than the write timeout.
	dialer := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(16 << 10)
		}
		return conn, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(srv.URL)
	jar.SetCookies(base, c.Jar.Cookies(base))
	hc := &http.Client{Transport: tr, Jar: jar}
	res, err := hc.Get(srv.URL + "/p/download")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("download answered %d", res.StatusCode)
	}
	var body bytes.Buffer
	start := time.Now()
	for {
		n, err := io.CopyN(&body, res.Body, 128<<10)
		if err == io.EOF && n >= 0 {
			break
		}
		if err != nil {
			t.Fatalf("download broken after %d bytes and %s: %v", body.Len(), time.Since(start).Round(time.Millisecond), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if time.Since(start) < writeTimeout {
		t.Skipf("the download took %s, less than the write timeout: nothing was tested", time.Since(start))
	}
	zr, err := zip.NewReader(bytes.NewReader(body.Bytes()), int64(body.Len()))
	if err != nil {
		t.Fatalf("a truncated ZIP of %d bytes: %v", body.Len(), err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
}
