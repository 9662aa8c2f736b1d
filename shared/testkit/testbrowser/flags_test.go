package testbrowser

import "testing"

// Every Chromium of the tests, started by a test binary or shared by
// scripts/test.sh, runs with the switches the project requires of browser
// tests; chromium.flags is where both read them.
func TestChromiumFlagsHoldTheRequiredSwitches(t *testing.T) {
	got := map[string]string{}
	for name, value := range switches() {
		got[name] = value
	}
	for _, name := range []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking"} {
		if v, ok := got[name]; !ok || v != "" {
			t.Errorf("chromium.flags: --%s missing (got %v)", name, got)
		}
	}
	if got["window-size"] != "1280,900" {
		t.Errorf("window-size = %q, want 1280,900 (the tests' default page size)", got["window-size"])
	}
}
