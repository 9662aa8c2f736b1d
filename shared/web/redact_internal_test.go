package web

import "testing"

// A viewer link's token never reaches a log line.
func TestRedactCapability(t *testing.T) {
	for in, want := range map[string]string{
		"/dicomweb/l/rpv_SECRET/studies/1.2/metadata": "/dicomweb/l/rpv_-/studies/1.2/metadata",
		"/dicomweb/l/rpv_SECRET":                      "/dicomweb/l/rpv_-",
		"/dicomweb/l/studies":                         "/dicomweb/l/studies",
		"/p/studies/3":                                "/p/studies/3",
	} {
		if got := redactCapability(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
