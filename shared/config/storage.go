package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Storage is where DICOM files and report PDFs are kept: the local folder
// RADPASS_DATA_DIR/dicom, or an S3 bucket when RADPASS_S3_BUCKET is set.
// S3 credentials come from the usual AWS variables (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), ~/.aws/credentials
// (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE) or the instance role.
type Storage struct {
	S3Endpoint string // RADPASS_S3_ENDPOINT: server URL; empty = AWS S3
	S3Bucket   string // RADPASS_S3_BUCKET: empty = the local folder
	S3Region   string // RADPASS_S3_REGION: empty = asked from the server
	// RADPASS_STORAGE_ORPHAN_GRACE: how old a stored file no row names must
	// be before the daily sweep removes it (default 24h).
	OrphanGrace time.Duration
}

// DefaultOrphanGrace is RADPASS_STORAGE_ORPHAN_GRACE's default.
const DefaultOrphanGrace = 24 * time.Hour

// S3 reports whether the files are kept in an S3 bucket.
func (s Storage) S3() bool { return s.S3Bucket != "" }

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func loadStorage(getenv func(string) string) (Storage, error) {
	s := Storage{
		S3Endpoint: strings.TrimSpace(getenv("RADPASS_S3_ENDPOINT")),
		S3Bucket:   strings.TrimSpace(getenv("RADPASS_S3_BUCKET")),
		S3Region:   strings.TrimSpace(getenv("RADPASS_S3_REGION")),
	}
	var err error
	if s.OrphanGrace, err = parseDuration("RADPASS_STORAGE_ORPHAN_GRACE", getenv("RADPASS_STORAGE_ORPHAN_GRACE"), DefaultOrphanGrace); err != nil {
		return s, err
	}
	if s.S3Bucket == "" {
		if s.S3Endpoint != "" {
			return s, &Error{"RADPASS_S3_BUCKET", "missing; RADPASS_S3_ENDPOINT is set (set the bucket, or neither)"}
		}
		return s, nil
	}
	if !bucketName.MatchString(s.S3Bucket) {
		return s, &Error{"RADPASS_S3_BUCKET", fmt.Sprintf("%q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", s.S3Bucket)}
	}
	if s.S3Endpoint != "" {
		u, err := url.Parse(s.S3Endpoint)
		// Plain http only on loopback: the files are patients' images.
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return s, &Error{"RADPASS_S3_ENDPOINT", fmt.Sprintf("%q is not an https URL such as https://s3.eu-west-1.amazonaws.com (no path, no credentials; plain http only on loopback)", s.S3Endpoint)}
		}
	}
	return s, nil
}
