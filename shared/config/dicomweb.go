package config

import (
	"fmt"
	"net/url"
	"strings"
)

// DICOMweb is the configuration of viewer links (DICOMweb per access).
type DICOMweb struct {
	// Origins may read viewer links' DICOMweb answers from a browser (CORS),
	// e.g. https://viewer.example.org; empty: no browser of another origin.
	Origins []string // RADPASS_DICOMWEB_ORIGINS (comma-separated)
	// OHIFURL is an OHIF viewer's address: the patient's viewer then offers
	// "Open in OHIF" with a fresh link's DICOMweb base; empty: not offered.
	OHIFURL string // RADPASS_OHIF_URL
}

func loadDICOMweb(getenv func(string) string) (DICOMweb, error) {
	var d DICOMweb
	for _, o := range strings.Split(getenv("RADPASS_DICOMWEB_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return d, &Error{"RADPASS_DICOMWEB_ORIGINS", fmt.Sprintf("%q is not an origin such as https://viewer.example.org (comma-separated list)", o)}
		}
		d.Origins = append(d.Origins, u.Scheme+"://"+u.Host)
	}
	if v := strings.TrimSpace(getenv("RADPASS_OHIF_URL")); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return d, &Error{"RADPASS_OHIF_URL", fmt.Sprintf("%q is not an http(s) URL such as https://viewer.example.org/", v)}
		}
		d.OHIFURL = v
	}
	return d, nil
}
