package config

import (
	"fmt"
	"net/url"
	"strconv"
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
	// LinkRate and LinkBurst bound the requests of one viewer link across
	// all instances: LinkBurst at once, then LinkRate a second; 0: the
	// defaults (dicomweb.DefaultRate, dicomweb.DefaultBurst).
	LinkRate  float64 // RADPASS_DICOMWEB_LINK_RATE
	LinkBurst float64 // RADPASS_DICOMWEB_LINK_BURST
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
	for _, v := range []struct {
		key string
		to  *float64
	}{{"RADPASS_DICOMWEB_LINK_RATE", &d.LinkRate}, {"RADPASS_DICOMWEB_LINK_BURST", &d.LinkBurst}} {
		if s := strings.TrimSpace(getenv(v.key)); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || !(f > 0) || f > 1e6 {
				return d, &Error{v.key, fmt.Sprintf("%q is not a positive number of requests", s)}
			}
			*v.to = f
		}
	}
	return d, nil
}
