package admin_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func extraSettings() url.Values {
	v := validSettings()
	v.Set("extra", "1")
	v.Set("sms_prefixes", "+32, 0031 49 +32")
	v.Set("sms_sender", "RadNorth")
	v["verification"] = []string{"dob", "sms"}
	return v
}

// The SMS prefixes, the sender id and the verification types are validated,
// stored on the department and audited.
func TestSettingsSMSAndVerifications(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	if got := loadDept(t, srv, d.ID); !slices.Equal(got.Verifications, []string{"sms", "email", "dob"}) || len(got.SMSPrefixes) == 0 {
		t.Fatalf("defaults %+v", got)
	}
	_, c := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	doc := c.GetDoc("/staff/settings", http.StatusOK)
	if doc.Find(`input[name="verification"][checked]`).Length() != 3 {
		t.Fatal("the verification types are not shown ticked")
	}
	if res, body := c.PostForm("/staff/settings", extraSettings()); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", res.StatusCode, body)
	}
	got := loadDept(t, srv, d.ID)
	if !slices.Equal(got.SMSPrefixes, []string{"31", "32", "49"}) || got.SMSSender != "RadNorth" ||
		!slices.Equal(got.Verifications, []string{"sms", "dob"}) || !got.AllowsSMSPrefix("49") || got.AllowsVerification("email") {
		t.Fatalf("stored %+v", got)
	}
	var details string
	if err := srv.DB.NewSelect().Table("audit_events").Column("details").Where("action = ?", audit.SettingsUpdate).Scan(context.Background(), &details); err != nil ||
		!strings.Contains(details, "verifications") || !strings.Contains(details, "sms_sender") {
		t.Fatalf("audit %s %v", details, err)
	}
	cases := []struct {
		name, field, key string
		args             []any
		set              url.Values
	}{
		{"not a country code", "sms_prefixes", "settings.error.smsprefix", []any{"Code", "+999"}, url.Values{"sms_prefixes": {"+32, +999"}}},
		{"letters", "sms_prefixes", "settings.error.smsprefix", []any{"Code", "be"}, url.Values{"sms_prefixes": {"be"}}},
		{"sms without prefixes", "sms_prefixes", "settings.error.smsprefix.none", nil, url.Values{"sms_prefixes": {""}}},
		{"sender too long", "sms_sender", "settings.error.smssender", nil, url.Values{"sms_sender": {"RadiologyNorth"}}},
		{"sender punctuation", "sms_sender", "settings.error.smssender", nil, url.Values{"sms_sender": {"Rad-North"}}},
		{"sender number too long", "sms_sender", "settings.error.smssender", nil, url.Values{"sms_sender": {"3212345678901234"}}},
		{"no verification", "verification", "settings.error.verification", nil, url.Values{"verification": {}}},
		{"unknown verification", "verification", "settings.error.verification", nil, url.Values{"verification": {"dob", "fax"}}},
	}
	for _, cs := range cases {
		form := extraSettings()
		for k, v := range cs.set {
			form[k] = v
		}
		res, body := c.PostForm("/staff/settings", form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", cs.name, res.StatusCode)
		}
		msg := strings.TrimSpace(testserver.Doc(t, body).Find(`[data-field="` + cs.field + `"]`).Text())
		if want := i18n.T("en", cs.key, cs.args...); msg != want {
			t.Fatalf("%s: %q, want %q", cs.name, msg, want)
		}
	}
	// Without SMS, no prefixes are needed; a number is a valid sender.
	form := extraSettings()
	form.Set("sms_prefixes", "")
	form.Set("sms_sender", "32470123456")
	form["verification"] = []string{"email"}
	if res, _ := c.PostForm("/staff/settings", form); res.StatusCode != http.StatusSeeOther {
		t.Fatal("email-only settings refused")
	}
	if got := loadDept(t, srv, d.ID); len(got.SMSPrefixes) != 0 || got.SMSSender != "32470123456" || !slices.Equal(got.Verifications, []string{"email"}) {
		t.Fatalf("stored %+v", got)
	}
}

func logoUpload(t *testing.T, c *testserver.Client, base, name string, data []byte) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("_csrf", c.CSRF); err != nil {
		t.Fatal(err)
	}
	fw, err := w.CreateFormFile("logo", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	req, err := http.NewRequest(http.MethodPost, base+"/staff/settings/logo", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", base)
	return c.Do(req)
}

// The logo is checked by content, bounded in bytes and pixels, and stored
// re-encoded as PNG; it can be removed.
func TestSettingsLogo(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	c.GetDoc("/staff/settings", http.StatusOK)

	img := image.NewRGBA(image.Rect(0, 0, 120, 40))
	img.Set(3, 3, color.RGBA{255, 0, 0, 255})
	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, img, nil); err != nil {
		t.Fatal(err)
	}
	big := image.NewGray(image.Rect(0, 0, 4001, 10))
	var bigPNG bytes.Buffer
	png.Encode(&bigPNG, big)
	bad := []struct {
		name, file string
		data       []byte
		key        string
		args       []any
	}{
		{"text named png", "logo.png", []byte("hello, this is not an image at all"), "settings.error.logo.type", nil},
		{"svg", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "settings.error.logo.type", nil},
		{"gif", "logo.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "settings.error.logo.type", nil},
		{"truncated png", "logo.png", testPNG(t, 50, 50)[:60], "settings.error.logo.type", nil},
		{"too many pixels", "wide.png", bigPNG.Bytes(), "settings.error.logo.pixels", []any{"Max", 4000}},
		{"too large", "huge.png", append(testPNG(t, 10, 10), make([]byte, 2<<20)...), "settings.error.logo.size", []any{"Max", 2}},
	}
	for _, b := range bad {
		res, body := logoUpload(t, c, srv.URL, b.file, b.data)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d\n%.300s", b.name, res.StatusCode, body)
		}
		if msg := strings.TrimSpace(testserver.Doc(t, body).Find(`[data-field="logo"]`).Text()); msg != i18n.T("en", b.key, b.args...) {
			t.Fatalf("%s: %q", b.name, msg)
		}
	}
	if _, err := database.LoadLogo(context.Background(), srv.DB, d.ID); err != nil {
		t.Fatal(err)
	}
	res, body := logoUpload(t, c, srv.URL, "logo.txt", jp.Bytes()) // the name does not matter, the content does
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("jpeg upload: %d\n%s", res.StatusCode, body)
	}
	stored, err := database.LoadLogo(context.Background(), srv.DB, d.ID)
	if err != nil || stored == nil {
		t.Fatalf("no logo stored (%v)", err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(stored))
	if err != nil || format != "png" || cfg.Width != 120 || cfg.Height != 40 {
		t.Fatalf("stored logo %s %dx%d (%v)", format, cfg.Width, cfg.Height, err)
	}
	doc := c.GetDoc("/staff/settings", http.StatusOK)
	if doc.Find(`img[data-testid="logo"]`).Length() != 1 {
		t.Fatal("the settings page does not show the logo")
	}
	res, body = c.Get("/staff/settings/logo")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || body != string(stored) {
		t.Fatalf("logo image: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res, _ := c.PostForm("/staff/settings/logo/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatal("delete failed")
	}
	if b, _ := database.LoadLogo(context.Background(), srv.DB, d.ID); b != nil {
		t.Fatal("logo not removed")
	}
	if auditCount(t, srv, audit.LogoUpdate, "adam") != 1 || auditCount(t, srv, audit.LogoDelete, "adam") != 1 {
		t.Fatal("logo changes not audited")
	}
}
