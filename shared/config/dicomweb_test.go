package config_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/radpass/radpass/shared/config"
)

// Viewer-link settings: origins are normalised scheme://host, anything else
// (a path, a bare host, another scheme) names its variable.
func TestDICOMwebSettings(t *testing.T) {
	base := map[string]string{"RADPASS_DATABASE_URL": "postgres://u@h/db", "RADPASS_SECRET_KEY": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range base {
			m[a] = b
		}
		return m
	}
	c, err := config.Load(env(with("RADPASS_DICOMWEB_ORIGINS", " https://viewer.example.org/ ,http://127.0.0.1:3000,,")))
	if err != nil || !slices.Equal(c.DICOMweb.Origins, []string{"https://viewer.example.org", "http://127.0.0.1:3000"}) {
		t.Fatalf("%v %v", c, err)
	}
	for k, v := range map[string]string{
		"RADPASS_DICOMWEB_ORIGINS": "viewer.example.org",
		"RADPASS_OHIF_URL":         "ftp://viewer.example.org/",
	} {
		var ce *config.Error
		if _, err := config.Load(env(with(k, v))); !errors.As(err, &ce) || ce.Var != k {
			t.Fatalf("%s=%s: %v", k, v, err)
		}
	}
	if _, err := config.Load(env(with("RADPASS_DICOMWEB_ORIGINS", "https://viewer.example.org/app"))); err == nil {
		t.Fatal("an origin with a path accepted")
	}
	if c, err := config.Load(env(with("RADPASS_OHIF_URL", "https://viewer.example.org/ohif/"))); err != nil || c.DICOMweb.OHIFURL != "https://viewer.example.org/ohif/" {
		t.Fatalf("%v", err)
	}
}
