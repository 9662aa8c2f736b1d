package config_test

import (
	"errors"
	"testing"

	"github.com/radpass/radpass/shared/config"
)

// RADPASS_METRICS_ADDR is off by default, a listen address when set, and
// never the public port.
func TestMetricsAddr(t *testing.T) {
	c, err := config.Load(env(map[string]string{"RADPASS_DEV": "1"}))
	if err != nil || c.MetricsAddr != "" {
		t.Fatalf("default: %q %v, want off", c.MetricsAddr, err)
	}
	c, err = config.Load(env(map[string]string{"RADPASS_DEV": "1", "RADPASS_METRICS_ADDR": "127.0.0.1:9090"}))
	if err != nil || c.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("set: %q %v", c.MetricsAddr, err)
	}
	for _, bad := range []map[string]string{
		{"RADPASS_DEV": "1", "RADPASS_METRICS_ADDR": "metrics"},
		{"RADPASS_DEV": "1", "RADPASS_METRICS_ADDR": ":99999"},
		{"RADPASS_DEV": "1", "RADPASS_ADDR": "0.0.0.0:8080", "RADPASS_METRICS_ADDR": "127.0.0.1:8080"},
	} {
		_, err := config.Load(env(bad))
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "RADPASS_METRICS_ADDR" {
			t.Errorf("%v: %v, want an RADPASS_METRICS_ADDR error", bad, err)
		}
	}
}
