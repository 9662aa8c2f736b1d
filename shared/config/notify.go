package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
)

// Notify is how one-time passwords leave the server: SMS through Vonage's
// SMS API and e-mail through SMTP. A channel left unconfigured sends to the
// dev outbox in dev mode and fails (notify.ErrNotConfigured) otherwise.
type Notify struct {
	VonageAPIKey    string // RADPASS_VONAGE_API_KEY
	VonageAPISecret string // RADPASS_VONAGE_API_SECRET
	VonageBaseURL   string // RADPASS_VONAGE_BASE_URL, default https://rest.nexmo.com
	SMSFrom         string // RADPASS_SMS_FROM: sender number (digits) or name (up to 11 letters/digits)

	SMTPHost     string // RADPASS_SMTP_HOST
	SMTPPort     int    // RADPASS_SMTP_PORT, default 587 (starttls), 465 (tls), 25 (none)
	SMTPUsername string // RADPASS_SMTP_USERNAME (empty: no AUTH)
	SMTPPassword string // RADPASS_SMTP_PASSWORD
	SMTPFrom     string // RADPASS_SMTP_FROM: the From address, e.g. "Radiology <noreply@example.org>"
	SMTPTLS      string // RADPASS_SMTP_TLS: starttls (default), tls or none
}

// DefaultVonageBaseURL is Vonage's SMS API host.
const DefaultVonageBaseURL = "https://rest.nexmo.com"

// SMSConfigured reports whether SMS go out through Vonage.
func (n Notify) SMSConfigured() bool { return n.VonageAPIKey != "" }

// EmailConfigured reports whether e-mail goes out through SMTP.
func (n Notify) EmailConfigured() bool { return n.SMTPHost != "" }

// numeric senders are up to 15 digits (E.164 without '+'); alphanumeric
// sender ids are up to 11 characters of letters, digits and spaces.
var (
	numericSender = regexp.MustCompile(`^\+?[0-9]{4,15}$`)
	alphaSender   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ]{0,10}$`)
)

func loadNotify(getenv func(string) string) (Notify, error) {
	n := Notify{
		VonageAPIKey:    strings.TrimSpace(getenv("RADPASS_VONAGE_API_KEY")),
		VonageAPISecret: strings.TrimSpace(getenv("RADPASS_VONAGE_API_SECRET")),
		VonageBaseURL:   orDefault(getenv("RADPASS_VONAGE_BASE_URL"), DefaultVonageBaseURL),
		SMSFrom:         strings.TrimSpace(getenv("RADPASS_SMS_FROM")),
		SMTPHost:        strings.TrimSpace(getenv("RADPASS_SMTP_HOST")),
		SMTPUsername:    strings.TrimSpace(getenv("RADPASS_SMTP_USERNAME")),
		// A password may legitimately start or end with a space: kept as is.
		SMTPPassword: getenv("RADPASS_SMTP_PASSWORD"),
		SMTPFrom:     strings.TrimSpace(getenv("RADPASS_SMTP_FROM")),
		SMTPTLS:      strings.ToLower(orDefault(getenv("RADPASS_SMTP_TLS"), "starttls")),
	}
	// Vonage: key and secret together, and then a sender.
	switch {
	case n.VonageAPIKey == "" && n.VonageAPISecret != "":
		return n, &Error{"RADPASS_VONAGE_API_KEY", "missing; RADPASS_VONAGE_API_SECRET is set (set both, or neither)"}
	case n.VonageAPIKey != "" && n.VonageAPISecret == "":
		return n, &Error{"RADPASS_VONAGE_API_SECRET", "missing; RADPASS_VONAGE_API_KEY is set (set both, or neither)"}
	case n.VonageAPIKey != "" && n.SMSFrom == "":
		return n, &Error{"RADPASS_SMS_FROM", "missing; Vonage needs a sender number or name"}
	}
	if n.SMSFrom != "" && !numericSender.MatchString(n.SMSFrom) && !alphaSender.MatchString(n.SMSFrom) {
		return n, &Error{"RADPASS_SMS_FROM", fmt.Sprintf("%q is neither a phone number (digits) nor a sender name of up to 11 letters and digits", n.SMSFrom)}
	}
	n.SMSFrom = strings.TrimPrefix(n.SMSFrom, "+")
	u, err := url.Parse(n.VonageBaseURL)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return n, &Error{"RADPASS_VONAGE_BASE_URL", fmt.Sprintf("%q is not an https URL such as %s (plain http only on loopback)", n.VonageBaseURL, DefaultVonageBaseURL)}
	}
	n.VonageBaseURL = strings.TrimSuffix(n.VonageBaseURL, "/")

	// SMTP.
	defPort := 587
	switch n.SMTPTLS {
	case "starttls":
	case "tls":
		defPort = 465
	case "none":
		defPort = 25
	default:
		return n, &Error{"RADPASS_SMTP_TLS", fmt.Sprintf("%q is not one of starttls, tls, none", n.SMTPTLS)}
	}
	if n.SMTPPort, err = parseInt("RADPASS_SMTP_PORT", strings.TrimSpace(getenv("RADPASS_SMTP_PORT")), defPort, 1, 65535); err != nil {
		return n, err
	}
	if n.SMTPHost == "" {
		for _, v := range []string{"RADPASS_SMTP_FROM", "RADPASS_SMTP_USERNAME", "RADPASS_SMTP_PASSWORD", "RADPASS_SMTP_PORT"} {
			if getenv(v) != "" {
				return n, &Error{"RADPASS_SMTP_HOST", "missing; " + v + " is set"}
			}
		}
		return n, nil
	}
	if strings.ContainsAny(n.SMTPHost, " /:@") && net.ParseIP(n.SMTPHost) == nil {
		return n, &Error{"RADPASS_SMTP_HOST", fmt.Sprintf("%q is not a host name or IP address (the port goes into RADPASS_SMTP_PORT)", n.SMTPHost)}
	}
	if n.SMTPFrom == "" {
		return n, &Error{"RADPASS_SMTP_FROM", "missing; the From address of the e-mails, e.g. noreply@example.org"}
	}
	if a, perr := mail.ParseAddress(n.SMTPFrom); perr != nil || !strings.Contains(a.Address, "@") {
		return n, &Error{"RADPASS_SMTP_FROM", fmt.Sprintf("%q is not an e-mail address such as noreply@example.org or \"Radiology <noreply@example.org>\"", n.SMTPFrom)}
	}
	if (n.SMTPUsername == "") != (n.SMTPPassword == "") {
		return n, &Error{"RADPASS_SMTP_PASSWORD", "RADPASS_SMTP_USERNAME and RADPASS_SMTP_PASSWORD go together (set both, or neither)"}
	}
	if n.SMTPTLS == "none" && n.SMTPUsername != "" && !loopback(n.SMTPHost) {
		return n, &Error{"RADPASS_SMTP_TLS", "none would send the SMTP password unencrypted; use starttls or tls (none only without a password or on loopback)"}
	}
	return n, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
