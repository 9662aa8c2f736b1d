package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/radpass/radpass/shared/letter"
)

// Vonage sends SMS through Vonage's SMS API (POST {BaseURL}/sms/json, form
// encoded api_key, api_secret, from, to, text and, for text outside GSM-7,
// type=unicode). A send succeeds only when every part's status is "0".
type Vonage struct {
	BaseURL   string // e.g. https://rest.nexmo.com (config.DefaultVonageBaseURL)
	APIKey    string
	APISecret string
	From      string        // sender number (digits) or name
	Client    *http.Client  // nil: a client with Timeout
	Timeout   time.Duration // per send; 0: 15 s
}

// VonageError is a refused send: an HTTP status other than 200, or a non-zero
// status of a message part. It never carries the API secret.
type VonageError struct {
	HTTPStatus int    // 200 when the API answered but refused a part
	Status     string // Vonage's message status ("2" missing parameters, "4" invalid credentials...)
	ErrorText  string // Vonage's error-text
	To         string // the destination, masked
}

func (e *VonageError) Error() string {
	if e.HTTPStatus != http.StatusOK {
		return fmt.Sprintf("vonage: HTTP %d sending to %s", e.HTTPStatus, e.To)
	}
	return fmt.Sprintf("vonage: status %q (%s) sending to %s", e.Status, e.ErrorText, e.To)
}

// vonageResponse is the JSON answer of /sms/json.
type vonageResponse struct {
	MessageCount string `json:"message-count"`
	Messages     []struct {
		To        string `json:"to"`
		MessageID string `json:"message-id"`
		Status    string `json:"status"`
		ErrorText string `json:"error-text"`
	} `json:"messages"`
}

// SendSMS sends text to the E.164 number to ("+32470123456"; the '+' is
// dropped, as Vonage expects).
func (v *Vonage) SendSMS(ctx context.Context, to, text string) error {
	dest := strings.TrimPrefix(to, "+")
	masked := letter.MaskPhone("+" + dest)
	if len(dest) < 6 || len(dest) > 15 || strings.Trim(dest, "0123456789") != "" {
		return fmt.Errorf("vonage: %s is not an E.164 number", masked)
	}
	form := url.Values{
		"api_key":    {v.APIKey},
		"api_secret": {v.APISecret},
		"from":       {senderOf(ctx, v.From)},
		"to":         {dest},
		"text":       {text},
	}
	if !GSM7(text) {
		form.Set("type", "unicode")
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(v.BaseURL, "/")+"/sms/json", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("vonage: %w", v.redact(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	client := v.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("vonage: sending to %s: %w", masked, v.redact(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("vonage: reading the answer: %w", v.redact(err))
	}
	if res.StatusCode != http.StatusOK {
		return &VonageError{HTTPStatus: res.StatusCode, To: masked}
	}
	var r vonageResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("vonage: malformed answer (HTTP 200, %d bytes): %w", len(body), err)
	}
	if len(r.Messages) == 0 {
		return errors.New("vonage: answer without messages")
	}
	for _, m := range r.Messages {
		if m.Status != "0" {
			return &VonageError{HTTPStatus: res.StatusCode, Status: v.redactString(m.Status), ErrorText: v.redactString(m.ErrorText), To: masked}
		}
	}
	return nil
}

// redact keeps the API secret (and key) out of any error text.
func (v *Vonage) redact(err error) error {
	s := err.Error()
	if r := v.redactString(s); r != s {
		return errors.New(r)
	}
	return err
}

func (v *Vonage) redactString(s string) string {
	for _, secret := range []string{v.APISecret, url.QueryEscape(v.APISecret)} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}
