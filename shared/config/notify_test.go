package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/config"
)

func devWith(kv ...string) map[string]string {
	m := map[string]string{"RADPASS_DEV": "1"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestNotifyErrors(t *testing.T) {
	vonage := []string{"RADPASS_VONAGE_API_KEY", "abcd1234", "RADPASS_VONAGE_API_SECRET", "s3cr3t", "RADPASS_SMS_FROM", "RadPass"}
	smtp := []string{"RADPASS_SMTP_HOST", "smtp.example.org", "RADPASS_SMTP_FROM", "noreply@example.org"}
	with := func(base []string, kv ...string) map[string]string {
		return devWith(append(append([]string{}, base...), kv...)...)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"secret without key", devWith("RADPASS_VONAGE_API_SECRET", "s"), "RADPASS_VONAGE_API_KEY"},
		{"key without secret", devWith("RADPASS_VONAGE_API_KEY", "k", "RADPASS_SMS_FROM", "RadPass"), "RADPASS_VONAGE_API_SECRET"},
		{"vonage without sender", devWith("RADPASS_VONAGE_API_KEY", "k", "RADPASS_VONAGE_API_SECRET", "s"), "RADPASS_SMS_FROM"},
		{"sender name too long", with(vonage, "RADPASS_SMS_FROM", "RadiologyNorth"), "RADPASS_SMS_FROM"},
		{"sender with punctuation", with(vonage, "RADPASS_SMS_FROM", "Rad-Pass!"), "RADPASS_SMS_FROM"},
		{"sender number too long", with(vonage, "RADPASS_SMS_FROM", "+1234567890123456"), "RADPASS_SMS_FROM"},
		{"base url not a url", with(vonage, "RADPASS_VONAGE_BASE_URL", "rest.nexmo.com"), "RADPASS_VONAGE_BASE_URL"},
		{"base url plain http", with(vonage, "RADPASS_VONAGE_BASE_URL", "http://rest.nexmo.com"), "RADPASS_VONAGE_BASE_URL"},
		{"base url with query", with(vonage, "RADPASS_VONAGE_BASE_URL", "https://rest.nexmo.com/?x=1"), "RADPASS_VONAGE_BASE_URL"},
		{"bad tls mode", with(smtp, "RADPASS_SMTP_TLS", "ssl"), "RADPASS_SMTP_TLS"},
		{"bad smtp port", with(smtp, "RADPASS_SMTP_PORT", "smtp"), "RADPASS_SMTP_PORT"},
		{"smtp port zero", with(smtp, "RADPASS_SMTP_PORT", "0"), "RADPASS_SMTP_PORT"},
		{"smtp port too big", with(smtp, "RADPASS_SMTP_PORT", "65536"), "RADPASS_SMTP_PORT"},
		{"host with port", with(smtp, "RADPASS_SMTP_HOST", "smtp.example.org:587"), "RADPASS_SMTP_HOST"},
		{"from without host", devWith("RADPASS_SMTP_FROM", "noreply@example.org"), "RADPASS_SMTP_HOST"},
		{"password without host", devWith("RADPASS_SMTP_PASSWORD", "pw"), "RADPASS_SMTP_HOST"},
		{"host without from", devWith("RADPASS_SMTP_HOST", "smtp.example.org"), "RADPASS_SMTP_FROM"},
		{"from not an address", with(smtp, "RADPASS_SMTP_FROM", "noreply"), "RADPASS_SMTP_FROM"},
		{"username without password", with(smtp, "RADPASS_SMTP_USERNAME", "u"), "RADPASS_SMTP_PASSWORD"},
		{"password without username", with(smtp, "RADPASS_SMTP_PASSWORD", "p"), "RADPASS_SMTP_PASSWORD"},
		{"password in clear over the network", with(smtp, "RADPASS_SMTP_TLS", "none", "RADPASS_SMTP_USERNAME", "u", "RADPASS_SMTP_PASSWORD", "p"), "RADPASS_SMTP_TLS"},
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
			for _, secret := range []string{"s3cr3t", "\"pw\"", "\"p\""} {
				if strings.Contains(ce.Error(), secret) {
					t.Fatalf("error shows a secret: %q", ce.Error())
				}
			}
		})
	}
}

func TestNotifyValid(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(config.Notify) bool
	}{
		{"nothing configured", devWith(), func(n config.Notify) bool {
			return !n.SMSConfigured() && !n.EmailConfigured() && n.VonageBaseURL == "https://rest.nexmo.com" && n.SMTPTLS == "starttls" && n.SMTPPort == 587
		}},
		{"vonage with a number", devWith("RADPASS_VONAGE_API_KEY", " abcd1234 ", "RADPASS_VONAGE_API_SECRET", "s", "RADPASS_SMS_FROM", "+32470000000"), func(n config.Notify) bool {
			return n.SMSConfigured() && n.VonageAPIKey == "abcd1234" && n.SMSFrom == "32470000000"
		}},
		{"vonage with a name and a loopback base", devWith("RADPASS_VONAGE_API_KEY", "k", "RADPASS_VONAGE_API_SECRET", "s", "RADPASS_SMS_FROM", "Rad Pass", "RADPASS_VONAGE_BASE_URL", "http://127.0.0.1:9999/"), func(n config.Notify) bool {
			return n.SMSFrom == "Rad Pass" && n.VonageBaseURL == "http://127.0.0.1:9999"
		}},
		{"smtp starttls", devWith("RADPASS_SMTP_HOST", "smtp.example.org", "RADPASS_SMTP_FROM", "Radiology <noreply@example.org>", "RADPASS_SMTP_USERNAME", "u", "RADPASS_SMTP_PASSWORD", " p w "), func(n config.Notify) bool {
			return n.EmailConfigured() && n.SMTPPort == 587 && n.SMTPPassword == " p w " && n.SMTPTLS == "starttls"
		}},
		{"smtp implicit tls", devWith("RADPASS_SMTP_HOST", "smtp.example.org", "RADPASS_SMTP_FROM", "a@example.org", "RADPASS_SMTP_TLS", "TLS"), func(n config.Notify) bool {
			return n.SMTPPort == 465 && n.SMTPTLS == "tls"
		}},
		{"smtp none on loopback with a password", devWith("RADPASS_SMTP_HOST", "127.0.0.1", "RADPASS_SMTP_PORT", "1025", "RADPASS_SMTP_FROM", "a@example.org", "RADPASS_SMTP_TLS", "none", "RADPASS_SMTP_USERNAME", "u", "RADPASS_SMTP_PASSWORD", "p"), func(n config.Notify) bool {
			return n.SMTPPort == 1025 && n.SMTPTLS == "none"
		}},
		{"smtp none without a password", devWith("RADPASS_SMTP_HOST", "relay.internal", "RADPASS_SMTP_FROM", "a@example.org", "RADPASS_SMTP_TLS", "none"), func(n config.Notify) bool {
			return n.SMTPPort == 25
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c.Notify) {
				t.Fatalf("unexpected %+v", c.Notify)
			}
		})
	}
}
