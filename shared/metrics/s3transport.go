package metrics

import (
	"fmt"
	"net/http"
	"time"
)

// Transport is an HTTP transport for the S3 client that reports every
// request to h: the operation named from the request (S3 names it by method
// and query: ?uploads, ?partNumber, ?list-type …), its time, and an error for
// a failed round trip or a 5xx answer. A 4xx is the store's answer (a missing
// key, a refused credential), not a broken store; it is still counted as a
// request. With h nil it returns base unchanged.
func (h S3Hook) Transport(base http.RoundTripper) http.RoundTripper {
	if h == nil {
		return base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return s3Transport{base: base, hook: h}
}

type s3Transport struct {
	base http.RoundTripper
	hook S3Hook
}

func (t s3Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.base.RoundTrip(r)
	failed := err
	if err == nil && res.StatusCode >= 500 {
		failed = fmt.Errorf("s3: status %d", res.StatusCode)
	}
	t.hook(s3Operation(r), time.Since(start), failed)
	return res, err
}

// s3Operation names a request after the S3 API operation it is.
func s3Operation(r *http.Request) string {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	switch r.Method {
	case http.MethodGet:
		switch {
		case has("uploads"):
			return "ListMultipartUploads"
		case has("location"):
			return "GetBucketLocation"
		case has("list-type"):
			return "ListObjectsV2"
		case !hasKey(r):
			return "ListObjects"
		}
		return "GetObject"
	case http.MethodHead:
		if !hasKey(r) {
			return "HeadBucket"
		}
		return "HeadObject"
	case http.MethodPut:
		switch {
		case has("partNumber"):
			return "UploadPart"
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return "CopyObject"
		case !hasKey(r):
			return "CreateBucket"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		case has("delete"):
			return "DeleteObjects"
		}
		return "Post"
	case http.MethodDelete:
		if has("uploadId") {
			return "AbortMultipartUpload"
		}
		return "DeleteObject"
	}
	return "Other"
}

// hasKey reports a path-style request naming an object (/bucket/key), not
// only a bucket (/bucket or /bucket/).
func hasKey(r *http.Request) bool {
	p := r.URL.Path
	if len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			return i+1 < len(p)
		}
	}
	return false
}
