// Package metrics holds RadPass's Prometheus metrics (docs/metrics.md): one
// Metrics per server, with its own registry, served on a listener of its own
// (RADPASS_METRICS_ADDR), never on the public port. Domain services hold a
// *Metrics and count their outcomes at one place each; every method is safe
// on a nil *Metrics (metrics off: nothing is counted).
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the collectors of one server.
type Metrics struct {
	Registry *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	prints   prometheus.Counter
	signIns  *prometheus.CounterVec
	otpCheck *prometheus.CounterVec
	blocks   prometheus.Counter
	unlocks  prometheus.Counter
	otpSends *prometheus.CounterVec
	imported *prometheus.CounterVec
	bytes    prometheus.Counter
	rejects  *prometheus.CounterVec
	cache    *prometheus.CounterVec
	shared   prometheus.Counter
	s3Req    *prometheus.CounterVec
	s3Err    *prometheus.CounterVec
	s3Time   *prometheus.HistogramVec
}

// LatencyBuckets are the request latency histogram's upper bounds, in
// seconds: pages answer in milliseconds, downloads and letters may take seconds.
var LatencyBuckets = []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New makes the collectors and registers them, with the Go runtime's and
// the process's, in a registry of their own.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "radpass", Name: name, Help: help})
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "radpass", Name: name, Help: help}, labels)
	}
	m.requests = vec("http_requests_total", "HTTP requests by method, route pattern and status.", "method", "route", "status")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "radpass", Name: "http_request_duration_seconds",
		Help: "Time to the handler's answer (a streamed body may go on after it), by method and route pattern.", Buckets: LatencyBuckets},
		[]string{"method", "route"})
	m.prints = counter("prints_total", "Reference numbers printed (buckets created).")
	m.signIns = vec("patient_signins_total", "Patient sign-in checks (reference number and birth date) by outcome "+
		"(refused, open, need_otp, blocked, expired, revoked, error).", "outcome")
	m.otpCheck = vec("patient_otp_checks_total", "Patient one-time password checks by outcome.", "outcome")
	m.blocks = counter("bucket_blocks_total", "Buckets blocked by too many wrong answers.")
	m.unlocks = counter("bucket_unlocks_total", "Blocked buckets unlocked by staff.")
	m.otpSends = vec("otp_sends_total", "One-time password messages by channel (sms, email) and outcome (sent, failed).", "channel", "outcome")
	m.imported = vec("import_instances_total", "DICOM instances imported by outcome (added, already_present, rejected).", "outcome")
	m.bytes = counter("import_bytes_total", "Bytes of DICOM instances stored by imports.")
	m.rejects = vec("import_rejects_total", "Rejected DICOM instances by reason (invalid, mismatch, internal).", "reason")
	m.cache = vec("render_cache_total", "Image render cache lookups by result (hit, miss).", "result")
	m.shared = counter("render_shared_total", "Image requests that joined a render of the same image already running.")
	m.s3Req = vec("s3_requests_total", "S3 requests by operation.", "operation")
	m.s3Err = vec("s3_errors_total", "Failed S3 requests by operation.", "operation")
	m.s3Time = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "radpass", Name: "s3_request_duration_seconds",
		Help: "S3 request time by operation.", Buckets: LatencyBuckets}, []string{"operation"})
	m.Registry.MustRegister(m.requests, m.latency, m.prints, m.signIns, m.otpCheck, m.blocks, m.unlocks, m.otpSends,
		m.imported, m.bytes, m.rejects, m.cache, m.shared, m.s3Req, m.s3Err, m.s3Time,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchPool exports the pool's statistics (go_sql_*: connections open, in
// use and idle; waits for a connection and their total time).
func (m *Metrics) WatchPool(db *sql.DB, name string) {
	if m != nil {
		m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Request counts one answered HTTP request.
func (m *Metrics) Request(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(method, route, statusText(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// Print counts one printed reference number.
func (m *Metrics) Print() {
	if m != nil {
		m.prints.Inc()
	}
}

// SignIn counts one patient sign-in check; blocked is set when this very
// check blocked the bucket.
func (m *Metrics) SignIn(outcome string, blocked bool) {
	if m == nil {
		return
	}
	m.signIns.WithLabelValues(outcome).Inc()
	if blocked {
		m.blocks.Inc()
	}
}

// OTPCheck counts one check of a one-time password; blocked is set when
// this very check blocked the bucket.
func (m *Metrics) OTPCheck(outcome string, blocked bool) {
	if m == nil {
		return
	}
	m.otpCheck.WithLabelValues(outcome).Inc()
	if blocked {
		m.blocks.Inc()
	}
}

// Unlock counts one unlocked bucket.
func (m *Metrics) Unlock() {
	if m != nil {
		m.unlocks.Inc()
	}
}

// OTPSend counts one one-time password message handed to channel.
func (m *Metrics) OTPSend(channel string, err error) {
	if m == nil {
		return
	}
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	m.otpSends.WithLabelValues(channel, outcome).Inc()
}

// Import counts one imported instance: outcome added, already_present or
// rejected (with its reason), and the bytes stored.
func (m *Metrics) Import(outcome, reason string, bytes int64) {
	if m == nil {
		return
	}
	m.imported.WithLabelValues(outcome).Inc()
	if outcome == "rejected" {
		m.rejects.WithLabelValues(reason).Inc()
	}
	if bytes > 0 {
		m.bytes.Add(float64(bytes))
	}
}

// RenderCache counts one lookup of the render cache.
func (m *Metrics) RenderCache(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.cache.WithLabelValues("hit").Inc()
	} else {
		m.cache.WithLabelValues("miss").Inc()
	}
}

// SharedRender counts a request that waits for a render already running.
func (m *Metrics) SharedRender() {
	if m != nil {
		m.shared.Inc()
	}
}

// S3Hook is what an S3 storage backend calls after each request it makes:
// the operation (PutObject, GetObject, HeadObject, DeleteObject,
// ListObjectsV2, CreateMultipartUpload, UploadPart, …), how long it took and
// its error (nil: it succeeded). A nil hook counts nothing.
type S3Hook func(operation string, d time.Duration, err error)

// S3 is the hook counting S3 requests into these metrics (nil when m is nil).
func (m *Metrics) S3() S3Hook {
	if m == nil {
		return nil
	}
	return func(op string, d time.Duration, err error) {
		m.s3Req.WithLabelValues(op).Inc()
		m.s3Time.WithLabelValues(op).Observe(d.Seconds())
		if err != nil {
			m.s3Err.WithLabelValues(op).Inc()
		}
	}
}

// Observe calls h when it is set.
func (h S3Hook) Observe(op string, start time.Time, err error) {
	if h != nil {
		h(op, time.Since(start), err)
	}
}

// statusText is the status label; anything outside 100-599 is "other",
// so a broken answer cannot add label values without bound.
func statusText(s int) string {
	if s < 100 || s > 599 {
		return "other"
	}
	return strconv.Itoa(s)
}
