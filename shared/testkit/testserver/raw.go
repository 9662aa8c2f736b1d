package testserver

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Raw sends one request outside any cookie jar, as a hand-made client would:
// only the given Cookie header (none when ""), the form (if not nil) and
// the header pairs. Redirects are not followed. It returns the response
// with its body read.
func Raw(tb testing.TB, method, u, cookie string, form url.Values, header ...string) (*http.Response, string) {
	tb.Helper()
	var body io.Reader = http.NoBody
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, string(b)
}

// ResponseCookie is the value of the cookie named name that res sets, or ""
// when it sets none.
func ResponseCookie(res *http.Response, name string) string {
	for _, ck := range res.Cookies() {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
