package dicomweb

import (
	"errors"
	"strings"
)

// looseMediaType parses a media range whose parameter values are tokens
// with a '/' left unquoted, as Cornerstone's DICOM image loader (OHIF)
// sends for frames: `multipart/related; type=application/octet-stream;
// transfer-syntax=*`. RFC 9110 wants such a value quoted and
// mime.ParseMediaType rejects it; DICOMweb servers commonly accept it.
func looseMediaType(s string) (string, map[string]string, error) {
	parts := strings.Split(s, ";")
	mt := strings.ToLower(strings.TrimSpace(parts[0]))
	if strings.Count(mt, "/") != 1 || strings.ContainsAny(mt, " \t\"=") {
		return "", nil, errors.New("bad media type")
	}
	params := map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return "", nil, errors.New("bad media type parameter")
		}
		params[k] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return mt, params, nil
}
