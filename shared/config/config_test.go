package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/config"
)

// env serves m as the environment. A dev-mode Load writes its secret into
// the data folder: unless m names one, that is dataDir, never the tree.
func env(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok || k != "RADPASS_DATA_DIR" {
			return v
		}
		return dataDir
	}
}

var dataDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "radpass-config-test-")
	if err != nil {
		panic(err)
	}
	dataDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestLoadErrors(t *testing.T) {
	strong := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"no secret outside dev", map[string]string{"RADPASS_DATABASE_URL": "postgres://x/y"}, "RADPASS_SECRET_KEY"},
		{"short secret", map[string]string{"RADPASS_DATABASE_URL": "postgres://x/y", "RADPASS_SECRET_KEY": "abcd"}, "RADPASS_SECRET_KEY"},
		{"secret not hex nor base64", map[string]string{"RADPASS_DATABASE_URL": "postgres://x/y", "RADPASS_SECRET_KEY": "!!not a key!!"}, "RADPASS_SECRET_KEY"},
		{"no database outside dev", map[string]string{"RADPASS_SECRET_KEY": strong}, "RADPASS_DATABASE_URL"},
		{"bad dev flag", map[string]string{"RADPASS_DEV": "maybe"}, "RADPASS_DEV"},
		{"bad base url", map[string]string{"RADPASS_DEV": "1", "RADPASS_BASE_URL": "ftp://x"}, "RADPASS_BASE_URL"},
		{"bad port", map[string]string{"RADPASS_DEV": "1", "RADPASS_PG_PORT": "80"}, "RADPASS_PG_PORT"},
		{"bad idle", map[string]string{"RADPASS_DEV": "1", "RADPASS_SESSION_IDLE": "soon"}, "RADPASS_SESSION_IDLE"},
		{"negative max", map[string]string{"RADPASS_DEV": "1", "RADPASS_SESSION_MAX": "-1h"}, "RADPASS_SESSION_MAX"},
		{"bad log level", map[string]string{"RADPASS_DEV": "1", "RADPASS_LOG_LEVEL": "loud"}, "RADPASS_LOG_LEVEL"},
		{"address without port", map[string]string{"RADPASS_DEV": "1", "RADPASS_ADDR": "localhost"}, "RADPASS_ADDR"},
		{"address with a bad port", map[string]string{"RADPASS_DEV": "1", "RADPASS_ADDR": "localhost:http8080"}, "RADPASS_ADDR"},
		{"address with a huge port", map[string]string{"RADPASS_DEV": "1", "RADPASS_ADDR": ":70000"}, "RADPASS_ADDR"},
		{"bad proxy", map[string]string{"RADPASS_DEV": "1", "RADPASS_TRUSTED_PROXIES": "10.0.0.1, proxy.local"}, "RADPASS_TRUSTED_PROXIES"},
		{"bad proxy range", map[string]string{"RADPASS_DEV": "1", "RADPASS_TRUSTED_PROXIES": "10.0.0.0/33"}, "RADPASS_TRUSTED_PROXIES"},
		{"time zone unknown", map[string]string{"RADPASS_DEV": "1", "RADPASS_TIMEZONE": "Europe/Atlantis"}, "RADPASS_TIMEZONE"},
		{"time zone Local", map[string]string{"RADPASS_DEV": "1", "RADPASS_TIMEZONE": "Local"}, "RADPASS_TIMEZONE"},
		{"memory limit not a size", map[string]string{"RADPASS_DEV": "1", "RADPASS_MEMORY_LIMIT": "lots"}, "RADPASS_MEMORY_LIMIT"},
		{"memory limit unit unknown", map[string]string{"RADPASS_DEV": "1", "RADPASS_MEMORY_LIMIT": "1TiB"}, "RADPASS_MEMORY_LIMIT"},
		{"memory limit too small", map[string]string{"RADPASS_DEV": "1", "RADPASS_MEMORY_LIMIT": "1MiB"}, "RADPASS_MEMORY_LIMIT"},
		{"memory limit negative", map[string]string{"RADPASS_DEV": "1", "RADPASS_MEMORY_LIMIT": "-1"}, "RADPASS_MEMORY_LIMIT"},
		{"weak secret in dev mode too", map[string]string{"RADPASS_DEV": "1", "RADPASS_SECRET_KEY": "00112233"}, "RADPASS_SECRET_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(env(tt.env))
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("want a config error, got %v", err)
			}
			if ce.Var != tt.wantVar {
				t.Fatalf("error names %s, want %s (%v)", ce.Var, tt.wantVar, err)
			}
			if strings.Contains(ce.Error(), "\n") {
				t.Fatalf("error is not one line: %q", ce.Error())
			}
		})
	}
}

func TestLoadValid(t *testing.T) {
	c, err := config.Load(env(map[string]string{
		"RADPASS_DATABASE_URL": "postgres://u@127.0.0.1/db",
		"RADPASS_SECRET_KEY":   strings.Repeat("01", 32),
		"RADPASS_BASE_URL":     "https://portal.example.org",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SecureCookies() || len(c.SecretKey) != 32 || c.Dev {
		t.Fatalf("unexpected config %+v", c)
	}
	// A key read from a file keeps its trailing newline; base64 works too.
	k, err := config.Load(env(map[string]string{"RADPASS_DATABASE_URL": "postgres://u@h/db",
		"RADPASS_SECRET_KEY": "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=\n", "RADPASS_ADDR": ":9090"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.SecretKey) != 32 || k.Addr != ":9090" {
		t.Fatalf("base64 key and bare port: %+v", k)
	}
	// Dev mode keeps its key in the data folder: a temporary one here.
	data := t.TempDir()
	px, err := config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": data, "RADPASS_TRUSTED_PROXIES": " 10.0.0.0/8 ,192.0.2.7,, ::1 "}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(px.TrustedProxies, "|") != "10.0.0.0/8|192.0.2.7|::1" {
		t.Fatalf("trusted proxies %q", px.TrustedProxies)
	}
	dev, err := config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": data}))
	if err != nil {
		t.Fatal(err)
	}
	if dev.SecureCookies() || dev.Addr != "localhost:8080" || len(dev.SecretKey) < 32 || dev.TrustedProxies != nil || dev.Zone != time.Local {
		t.Fatalf("unexpected dev defaults %+v", dev)
	}
	tz, err := config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": data, "RADPASS_TIMEZONE": " Pacific/Auckland "}))
	if err != nil {
		t.Fatal(err)
	}
	if tz.Zone.String() != "Pacific/Auckland" {
		t.Fatalf("time zone %v", tz.Zone)
	}
}

// Dev mode without RADPASS_SECRET_KEY uses a random key kept in the data
// folder (0600): the same folder gives the same key, another folder another
// one, and never a key built into the binary.
func TestDevSecretIsRandomPerDataFolder(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	load := func(dir string) []byte {
		t.Helper()
		c, err := config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": dir}))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.SecretKey) < 32 {
			t.Fatalf("dev key of %d bytes", len(c.SecretKey))
		}
		return c.SecretKey
	}
	ka := load(a)
	if string(ka) != string(load(a)) {
		t.Fatal("the same data folder gave two keys")
	}
	if string(ka) == string(load(b)) {
		t.Fatal("two data folders share one key")
	}
	if strings.Contains(string(ka), "radpass") {
		t.Fatal("the dev key is the public built-in one")
	}
	fi, err := os.Stat(filepath.Join(a, config.DevKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	// A set key wins and nothing is written.
	c := t.TempDir()
	cfg, err := config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": c, "RADPASS_SECRET_KEY": strings.Repeat("ab", 32)}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c, config.DevKeyFile)); !os.IsNotExist(err) || len(cfg.SecretKey) != 32 {
		t.Fatalf("a key file was written although RADPASS_SECRET_KEY is set (%v)", err)
	}
	// A damaged key file is a clear error, not a silent new key.
	if err := os.WriteFile(filepath.Join(b, config.DevKeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ce *config.Error
	if _, err := config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": b})); !errors.As(err, &ce) || ce.Var != "RADPASS_DATA_DIR" {
		t.Fatalf("damaged key file: %v", err)
	}
}

// RADPASS_MEMORY_LIMIT: 1 GiB by default, a size with a unit, or 0 for none.
func TestMemoryLimit(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", 1 << 30},
		{"0", 0},
		{"768MiB", 768 << 20},
		{"2GiB", 2 << 30},
		{"512 MB", 512 << 20},
		{"1073741824", 1 << 30},
	} {
		cfg, err := config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": data, "RADPASS_MEMORY_LIMIT": c.in}))
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if cfg.MemoryLimit != c.want {
			t.Errorf("%q: %d, want %d", c.in, cfg.MemoryLimit, c.want)
		}
	}
}
