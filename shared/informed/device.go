package informed

import (
	"strings"

	"github.com/radpass/radpass/shared/i18n"
)

// Device is what RadPass keeps of a browser's User-Agent: a class, an
// operating system and a browser family, no versions, nothing else. Two
// sign-ins with the same Device count as one device; that is coarse on
// purpose (it identifies no one) and enough for "a new kind of device".
type Device struct {
	Class   string // phone, tablet, computer
	OS      string // ios, android, windows, macos, linux, chromeos, other
	Browser string // chrome, firefox, safari, edge, samsung, opera, other
}

// ParseDevice reads a User-Agent header.
func ParseDevice(ua string) Device {
	u := strings.ToLower(ua)
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(u, x) {
				return true
			}
		}
		return false
	}
	d := Device{Class: "computer", OS: "other", Browser: "other"}
	switch {
	case has("iphone", "ipod"):
		d.OS, d.Class = "ios", "phone"
	case has("ipad"):
		d.OS, d.Class = "ios", "tablet"
	case has("android"):
		d.OS, d.Class = "android", "tablet"
		if has("mobile") {
			d.Class = "phone"
		}
	case has("cros"):
		d.OS = "chromeos"
	case has("windows"):
		d.OS = "windows"
	case has("macintosh", "mac os x"):
		d.OS = "macos"
	case has("linux", "x11"):
		d.OS = "linux"
	}
	switch {
	case has("edg/", "edga/", "edgios/"):
		d.Browser = "edge"
	case has("opr/", "opera"):
		d.Browser = "opera"
	case has("samsungbrowser"):
		d.Browser = "samsung"
	case has("firefox/", "fxios/"):
		d.Browser = "firefox"
	case has("chrome/", "crios/", "chromium/"):
		d.Browser = "chrome"
	case has("safari/") && has("version/"):
		d.Browser = "safari"
	}
	return d
}

// String is the stored form: "phone|android|chrome".
func (d Device) String() string { return d.Class + "|" + d.OS + "|" + d.Browser }

// DeviceFromString reads String's form back; anything else is an unknown device.
func DeviceFromString(s string) (Device, bool) {
	p := strings.Split(s, "|")
	if len(p) != 3 || !known(classes, p[0]) || !known(systems, p[1]) || !known(browsers, p[2]) {
		return Device{}, false
	}
	return Device{Class: p[0], OS: p[1], Browser: p[2]}, true
}

var (
	classes  = []string{"phone", "tablet", "computer"}
	systems  = []string{"ios", "android", "windows", "macos", "linux", "chromeos", "other"}
	browsers = []string{"chrome", "firefox", "safari", "edge", "samsung", "opera", "other"}
)

func known(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Label writes the device in a language, through t: "Chrome on Android (phone)".
func (d Device) Label(t i18n.Translator) string {
	return t("informed.device", "Browser", t("informed.browser."+d.Browser), "OS", t("informed.os."+d.OS), "Class", t("informed.class."+d.Class))
}
