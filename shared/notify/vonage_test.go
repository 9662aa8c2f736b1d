package notify_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/notify"
)

const (
	apiKey    = "abcd1234"
	apiSecret = "Sup3r-S3cret&key"
)

// fakeVonage is Vonage's SMS API as documented (developer.vonage.com, SMS API
// reference): POST /sms/json, application/x-www-form-urlencoded body with
// api_key, api_secret, from, to (E.164 without '+'), text and optionally
// type=unicode; JSON answer {"message-count": "1", "messages": [{"status": "0", ...}]}.
// It checks every request exactly and answers with the configured reply.
type fakeVonage struct {
	t      *testing.T
	mu     sync.Mutex
	forms  []url.Values
	status int
	body   string
	hang   bool
}

func (f *fakeVonage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/sms/json" || r.URL.RawQuery != "" {
		f.t.Errorf("request %s %s, want POST /sms/json without query", r.Method, r.URL)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("Content-Type %q", ct)
	}
	if r.Header.Get("Authorization") != "" {
		f.t.Error("credentials sent twice (Authorization header and form)")
	}
	b, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(b))
	if err != nil {
		f.t.Errorf("body is not a form: %v", err)
	}
	for k, v := range form {
		if len(v) != 1 {
			f.t.Errorf("field %s sent %d times", k, len(v))
		}
	}
	f.mu.Lock()
	f.forms = append(f.forms, form)
	f.mu.Unlock()
	if f.hang {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
}

func newVonage(t *testing.T, status int, body string) (*fakeVonage, *notify.Vonage) {
	f := &fakeVonage{t: t, status: status, body: body}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, &notify.Vonage{BaseURL: srv.URL + "/", APIKey: apiKey, APISecret: apiSecret, From: "RadPass"}
}

const okBody = `{"message-count":"1","messages":[{"to":"32470123456","message-id":"0A0000000123ABCD1","status":"0","remaining-balance":"3.14159265","message-price":"0.03330000","network":"20601"}]}`

func TestVonageRequestFormat(t *testing.T) {
	tests := []struct {
		name, to, text string
		want           map[string]string
	}{
		{"gsm text", "+32470123456", "123456 is your RadPass code. Valid 10 minutes.",
			map[string]string{"api_key": apiKey, "api_secret": apiSecret, "from": "RadPass", "to": "32470123456", "text": "123456 is your RadPass code. Valid 10 minutes."}},
		{"german umlauts stay gsm", "+4915112345678", "123456 ist Ihr RadPass-Code für Radiologie Süd.",
			map[string]string{"api_key": apiKey, "api_secret": apiSecret, "from": "RadPass", "to": "4915112345678", "text": "123456 ist Ihr RadPass-Code für Radiologie Süd."}},
		{"text outside gsm-7 is unicode", "+33612345678", "Code 123456 — Hôpital",
			map[string]string{"api_key": apiKey, "api_secret": apiSecret, "from": "RadPass", "to": "33612345678", "text": "Code 123456 — Hôpital", "type": "unicode"}},
		{"number without plus", "31612345678", "x",
			map[string]string{"api_key": apiKey, "api_secret": apiSecret, "from": "RadPass", "to": "31612345678", "text": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, v := newVonage(t, http.StatusOK, okBody)
			if err := v.SendSMS(context.Background(), tt.to, tt.text); err != nil {
				t.Fatal(err)
			}
			if len(f.forms) != 1 {
				t.Fatalf("%d requests", len(f.forms))
			}
			got := map[string]string{}
			for k := range f.forms[0] {
				got[k] = f.forms[0].Get(k)
			}
			if !equalMaps(got, tt.want) {
				t.Fatalf("form %v\nwant %v", got, tt.want)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestVonageFailures(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantStatus string // VonageError.Status; "" for other errors
		wantHTTP   int
		wantText   string
	}{
		{"invalid credentials", 200, `{"message-count":"1","messages":[{"status":"4","error-text":"Bad Credentials"}]}`, "4", 200, "Bad Credentials"},
		{"throttled", 200, `{"message-count":"1","messages":[{"status":"1","error-text":"Throughput Rate Exceeded - please wait [ 10 ] and retry"}]}`, "1", 200, "Throughput"},
		{"second part refused", 200, `{"message-count":"2","messages":[{"status":"0"},{"status":"9","error-text":"Partner quota violation"}]}`, "9", 200, "quota"},
		{"error text echoing the secret", 200, `{"message-count":"1","messages":[{"status":"2","error-text":"Missing api_key, got api_secret=` + apiSecret + `"}]}`, "2", 200, "[redacted]"},
		{"server error", 500, `{"type":"https://developer.nexmo.com/api-errors#internal"}`, "", 500, "HTTP 500"},
		{"bad gateway", 502, `<html>bad gateway</html>`, "", 502, "HTTP 502"},
		{"unauthorized", 401, `{"title":"Unauthorized"}`, "", 401, "HTTP 401"},
		{"malformed json", 200, `{"message-count":"1","messages":[{"status":`, "", 0, "malformed"},
		{"not json", 200, `OK`, "", 0, "malformed"},
		{"no messages", 200, `{"message-count":"0","messages":[]}`, "", 0, "without messages"},
		{"status missing", 200, `{"message-count":"1","messages":[{"message-id":"x"}]}`, "", 200, `status "" (`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, v := newVonage(t, tt.status, tt.body)
			err := v.SendSMS(context.Background(), "+32470123456", "123456 is your code")
			if err == nil {
				t.Fatal("a refused send succeeded")
			}
			var ve *notify.VonageError
			if errors.As(err, &ve) {
				if ve.Status != tt.wantStatus || ve.HTTPStatus != tt.wantHTTP {
					t.Fatalf("VonageError %+v, want status %q HTTP %d", ve, tt.wantStatus, tt.wantHTTP)
				}
			} else if tt.wantHTTP != 0 {
				t.Fatalf("error %v is not a VonageError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantText) {
				t.Fatalf("error %q does not say %q", msg, tt.wantText)
			}
			if strings.Contains(msg, apiSecret) || strings.Contains(msg, url.QueryEscape(apiSecret)) {
				t.Fatalf("error shows the secret: %q", msg)
			}
			if strings.Contains(msg, "123456") || strings.Contains(msg, "470123456") {
				t.Fatalf("error shows the text or the full number: %q", msg)
			}
		})
	}
}

func TestVonageTimeoutAndUnreachable(t *testing.T) {
	f, v := newVonage(t, 200, okBody)
	f.hang = true
	v.Timeout = 50 * time.Millisecond
	if err := v.SendSMS(context.Background(), "+32470123456", "x"); err == nil || strings.Contains(err.Error(), apiSecret) {
		t.Fatalf("hanging server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := v.SendSMS(ctx, "+32470123456", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	// Nothing listens there any more.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	gone := &notify.Vonage{BaseURL: srv.URL, APIKey: apiKey, APISecret: apiSecret, From: "RadPass"}
	if err := gone.SendSMS(context.Background(), "+32470123456", "x"); err == nil || strings.Contains(err.Error(), apiSecret) {
		t.Fatalf("unreachable server: %v", err)
	}
}

func TestVonageRefusesBadDestinationsWithoutARequest(t *testing.T) {
	f, v := newVonage(t, 200, okBody)
	for _, to := range []string{"", "+", "+32 470 12 34 56", "0470123456x", "+1234567890123456", "+123"} {
		if err := v.SendSMS(context.Background(), to, "x"); err == nil {
			t.Errorf("%q accepted", to)
		}
	}
	if len(f.forms) != 0 {
		keys := make([]string, 0)
		for _, fm := range f.forms {
			keys = append(keys, fm.Get("to"))
		}
		sort.Strings(keys)
		t.Fatalf("requests sent for %v", keys)
	}
}
