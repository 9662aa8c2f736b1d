package server

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// ListenMetrics serves GET /metrics (Prometheus) on addr, a listener of its
// own: never the public port, where Fiber answers /metrics 404. It returns
// the running server (Close stops it) and the address it listens on.
func (a *App) ListenMetrics(addr string) (*http.Server, string, error) {
	if a.Metrics == nil {
		return nil, "", errors.New("metrics are off (RADPASS_METRICS_ADDR is empty)")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln.Addr().String(), nil
}
