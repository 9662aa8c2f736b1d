// Package config reads RadPass settings from the environment. Every setting has
// one place here, one row in docs/configuration.md, and one clear error when
// its value is wrong.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // RADPASS_TIMEZONE works on a system without a zone database
)

// Config is the whole runtime configuration of one RadPass process.
type Config struct {
	Dev         bool     // RADPASS_DEV: demo data allowed, weak secret tolerated
	Addr        string   // RADPASS_ADDR: listen address
	BaseURL     *url.URL // RADPASS_BASE_URL: public URL; https turns on Secure cookies
	DatabaseURL string   // RADPASS_DATABASE_URL: empty = project-local PostgreSQL (dev only)
	DataDir     string   // RADPASS_DATA_DIR: local PostgreSQL cluster, DICOM storage, caches
	SecretKey   []byte   // RADPASS_SECRET_KEY: HMAC key for reference numbers, OTPs, session ids
	PGPort      int      // RADPASS_PG_PORT: port of the project-local PostgreSQL
	// RADPASS_DEMO_PATIENTS: demo patients a first dev-mode serve writes.
	DemoPatients int
	IdleTimeout  time.Duration // RADPASS_SESSION_IDLE
	MaxAge       time.Duration // RADPASS_SESSION_MAX
	LogLevel     string        // RADPASS_LOG_LEVEL: debug, info, warn, error
	// RADPASS_TRUSTED_PROXIES: IPs or CIDRs of reverse proxies whose
	// X-Real-IP and X-Forwarded-Proto are believed (empty: none).
	TrustedProxies []string
	// RADPASS_MEMORY_LIMIT: the Go runtime's soft memory limit in bytes
	// (debug.SetMemoryLimit), so memory taken in a burst is given back to
	// the system after it; 0 = no limit. Default 1 GiB.
	MemoryLimit int64
	// RADPASS_TIMEZONE: IANA time zone (e.g. Europe/Brussels) whose calendar
	// validity dates belong to: "today" for print, extend, expiry and sign-in.
	// Default: the process's local zone (TZ, /etc/localtime).
	Zone   *time.Location
	Notify Notify // RADPASS_VONAGE_*, RADPASS_SMS_FROM, RADPASS_SMTP_* (notify.go)

	// Several instances (docs/scaleout.md).
	// RADPASS_SHUTDOWN_GRACE: after SIGTERM, how long requests in flight
	// (downloads included) may take to finish before the process exits.
	ShutdownGrace time.Duration
	// RADPASS_SHUTDOWN_DELAY: after SIGTERM, how long the instance keeps
	// its listener open while draining (/readyz and new GETs answer 503, so
	// a proxy takes it out) before it closes it; 0 = close at once. Ctrl-C
	// (SIGINT) skips it.
	ShutdownDelay time.Duration
	// RADPASS_S3_*, RADPASS_STORAGE_ORPHAN_GRACE (storage.go)
	Storage Storage
	// RADPASS_JOBS_EVERY: how often this instance looks for due jobs (the
	// "result ready" messages, embargo ends, new-device alerts); default 30s.
	JobsEvery time.Duration
	// Metrics (docs/metrics.md).
	// RADPASS_METRICS_ADDR: listen address of /metrics (Prometheus), e.g.
	// 127.0.0.1:9090; empty (the default): no metrics listener, nothing counted.
	// Never the public address.
	MetricsAddr string
	// RADPASS_DICOMWEB_ORIGINS, RADPASS_OHIF_URL: viewer links (dicomweb.go)
	DICOMweb DICOMweb
}

// DefaultShutdownDelay is RADPASS_SHUTDOWN_DELAY's default.
const DefaultShutdownDelay = 2 * time.Second

// DefaultShutdownGrace is RADPASS_SHUTDOWN_GRACE's default.
const DefaultShutdownGrace = 30 * time.Second

// DefaultMemoryLimit is RADPASS_MEMORY_LIMIT's default.
const DefaultMemoryLimit = 1 << 30

// Error names the variable at fault so a one-line message is enough to fix it.
type Error struct {
	Var, Msg string
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

// DevKeyFile is where dev mode keeps its secret key when RADPASS_SECRET_KEY is
// not set: random per data folder, made on first use, readable by its owner
// only. A built-in key would be public, and anyone who reaches the dev
// database could unseal the reference numbers kept in sessions.
const DevKeyFile = "secret.key"

// devSecret reads the data folder's key, or makes one.
func devSecret(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, DevKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s is not a hex key of 32 bytes or more; delete it to make a new one", path)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// Written aside and linked into place: a second process starting at the
	// same moment reads either no file or the whole key, never half of one.
	f, err := os.CreateTemp(dataDir, ".secret-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(f.Name(), path); errors.Is(err, os.ErrExist) {
		return devSecret(dataDir) // another process made it first
	} else if err != nil {
		return nil, err
	}
	return key, nil
}

// Load reads the configuration from getenv (os.Getenv in production, a map in tests).
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := &Config{
		Addr:        orDefault(getenv("RADPASS_ADDR"), "localhost:8080"),
		DatabaseURL: getenv("RADPASS_DATABASE_URL"),
		DataDir:     orDefault(getenv("RADPASS_DATA_DIR"), ".data"),
		LogLevel:    orDefault(getenv("RADPASS_LOG_LEVEL"), "info"),
	}
	var err error
	if c.Dev, err = parseBool("RADPASS_DEV", getenv("RADPASS_DEV"), false); err != nil {
		return nil, err
	}
	if _, port, perr := net.SplitHostPort(c.Addr); perr != nil || !validPort(port) {
		return nil, &Error{"RADPASS_ADDR", fmt.Sprintf("%q is not a listen address such as localhost:8080 or :8080", c.Addr)}
	}
	base := orDefault(getenv("RADPASS_BASE_URL"), "http://"+c.Addr)
	u, perr := url.Parse(base)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{"RADPASS_BASE_URL", fmt.Sprintf("%q is not an absolute http(s) URL", base)}
	}
	c.BaseURL = u
	if c.PGPort, err = parseInt("RADPASS_PG_PORT", getenv("RADPASS_PG_PORT"), 55432, 1024, 65535); err != nil {
		return nil, err
	}
	if c.DemoPatients, err = parseInt("RADPASS_DEMO_PATIENTS", getenv("RADPASS_DEMO_PATIENTS"), 200, 1, 100000); err != nil {
		return nil, err
	}
	if c.IdleTimeout, err = parseDuration("RADPASS_SESSION_IDLE", getenv("RADPASS_SESSION_IDLE"), 30*time.Minute); err != nil {
		return nil, err
	}
	if c.MaxAge, err = parseDuration("RADPASS_SESSION_MAX", getenv("RADPASS_SESSION_MAX"), 12*time.Hour); err != nil {
		return nil, err
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, &Error{"RADPASS_LOG_LEVEL", fmt.Sprintf("%q is not one of debug, info, warn, error", c.LogLevel)}
	}
	if c.MemoryLimit, err = parseBytes("RADPASS_MEMORY_LIMIT", getenv("RADPASS_MEMORY_LIMIT"), DefaultMemoryLimit); err != nil {
		return nil, err
	}
	c.Zone = time.Local
	if tz := strings.TrimSpace(getenv("RADPASS_TIMEZONE")); tz != "" {
		if c.Zone, err = time.LoadLocation(tz); err != nil || tz == "Local" {
			return nil, &Error{"RADPASS_TIMEZONE", fmt.Sprintf("%q is not an IANA time zone such as Europe/Brussels", tz)}
		}
	}
	for _, p := range strings.Split(getenv("RADPASS_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, _, cerr := net.ParseCIDR(p); cerr != nil && net.ParseIP(p) == nil {
			return nil, &Error{"RADPASS_TRUSTED_PROXIES", fmt.Sprintf("%q is not an IP address or CIDR range (comma-separated list)", p)}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	key := strings.TrimSpace(getenv("RADPASS_SECRET_KEY"))
	switch {
	case key == "" && c.Dev:
		k, kerr := devSecret(c.DataDir)
		if kerr != nil {
			return nil, &Error{"RADPASS_DATA_DIR", "dev mode keeps its secret key there: " + kerr.Error()}
		}
		c.SecretKey = k
	case key == "":
		return nil, &Error{"RADPASS_SECRET_KEY", "missing; set at least 32 random bytes, hex or base64 (e.g. `openssl rand -hex 32`)"}
	default:
		b, derr := decodeKey(key)
		if derr != nil {
			return nil, &Error{"RADPASS_SECRET_KEY", "must be hex or base64"}
		}
		if len(b) < 32 {
			return nil, &Error{"RADPASS_SECRET_KEY", fmt.Sprintf("is %d bytes; at least 32 random bytes are required", len(b))}
		}
		c.SecretKey = b
	}
	// Several instances: graceful restarts.
	if c.ShutdownGrace, err = parseDuration("RADPASS_SHUTDOWN_GRACE", getenv("RADPASS_SHUTDOWN_GRACE"), DefaultShutdownGrace); err != nil {
		return nil, err
	}
	c.ShutdownDelay = DefaultShutdownDelay
	if d := strings.TrimSpace(getenv("RADPASS_SHUTDOWN_DELAY")); d == "0" {
		c.ShutdownDelay = 0
	} else if c.ShutdownDelay, err = parseDuration("RADPASS_SHUTDOWN_DELAY", d, DefaultShutdownDelay); err != nil {
		return nil, err
	}
	if c.Notify, err = loadNotify(getenv); err != nil {
		return nil, err
	}
	if c.Storage, err = loadStorage(getenv); err != nil {
		return nil, err
	}
	if c.JobsEvery, err = parseDuration("RADPASS_JOBS_EVERY", getenv("RADPASS_JOBS_EVERY"), 30*time.Second); err != nil {
		return nil, err
	}
	// Metrics
	if c.MetricsAddr = strings.TrimSpace(getenv("RADPASS_METRICS_ADDR")); c.MetricsAddr != "" {
		_, port, perr := net.SplitHostPort(c.MetricsAddr)
		if perr != nil || !validPort(port) {
			return nil, &Error{"RADPASS_METRICS_ADDR", fmt.Sprintf("%q is not a listen address such as 127.0.0.1:9090", c.MetricsAddr)}
		}
		if _, apport, _ := net.SplitHostPort(c.Addr); port == apport && port != "0" {
			return nil, &Error{"RADPASS_METRICS_ADDR", "must not share RADPASS_ADDR's port: /metrics is never served on the public port"}
		}
	}
	if c.DICOMweb, err = loadDICOMweb(getenv); err != nil {
		return nil, err
	}
	if c.DatabaseURL == "" && !c.Dev {
		return nil, &Error{"RADPASS_DATABASE_URL", "missing; only dev mode (RADPASS_DEV=1) starts a project-local PostgreSQL"}
	}
	return c, nil
}

// SecureCookies reports whether cookies must carry the Secure flag and the __Host- prefix.
func (c *Config) SecureCookies() bool { return c.BaseURL.Scheme == "https" }

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return strings.TrimSpace(v)
}

func parseBool(name, v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &Error{name, fmt.Sprintf("%q is not a boolean (use 1 or 0)", v)}
	}
	return b, nil
}

func parseInt(name, v string, def, min, max int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, &Error{name, fmt.Sprintf("%q is not a whole number from %d to %d", v, min, max)}
	}
	return n, nil
}

func parseDuration(name, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, &Error{name, fmt.Sprintf("%q is not a positive duration such as 30m or 12h", v)}
	}
	return d, nil
}

// parseBytes reads a size: a whole number of bytes with an optional unit
// (KiB, MiB, GiB; KB, MB, GB are taken as the same powers of two), or 0.
func parseBytes(name, v string, def int64) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	units := []struct {
		suffix string
		mul    int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}}
	num, mul := v, int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(v), strings.ToUpper(u.suffix)) {
			num, mul = strings.TrimSpace(v[:len(v)-len(u.suffix)]), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	const maxBytes = 1 << 50
	if err != nil || n < 0 || n > maxBytes/mul || (n > 0 && n*mul < 64<<20) {
		return 0, &Error{name, fmt.Sprintf("%q is not a size such as 1GiB or 768MiB (at least 64MiB, or 0 for none)", v)}
	}
	return n * mul, nil
}
