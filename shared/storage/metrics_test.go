package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/radpass/radpass/shared/metrics"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/tests3"
)

// The S3 requests of a store opened with the metrics transport are counted
// by operation, and a failed one as an error: what /metrics shows for S3.
func TestS3RequestsAreCounted(t *testing.T) {
	t.Parallel()
	srv := tests3.Start(t)
	o := srv.NewBucket(t)
	m := metrics.New()
	o.Transport = m.S3().Transport(nil)
	s, err := storage.NewS3(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := patterned(40<<10, 7)
	key, _, _, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(b); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v)", len(got), err)
	}
	b.Close()
	if _, err := s.Open(ctx, sum([]byte("never stored"))); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	before := s3Counts(t, m, "radpass_s3_errors_total")
	// A server that is not there: the round trip fails, and counts as an error.
	gone := o
	gone.Endpoint = "http://" + closedAddr(t)
	if _, err := storage.NewS3(ctx, gone); err == nil {
		t.Fatal("a store on a closed port opened")
	}
	reqs := s3Counts(t, m, "radpass_s3_requests_total")
	for _, op := range []string{"PutObject", "GetObject", "HeadObject"} {
		if reqs[op] == 0 {
			t.Errorf("no %s request counted: %v", op, reqs)
		}
	}
	errs := s3Counts(t, m, "radpass_s3_errors_total")
	total := func(c map[string]float64) (n float64) {
		for _, v := range c {
			n += v
		}
		return n
	}
	if total(before) != 0 {
		t.Errorf("errors counted while the server answered (a missing key is an answer): %v", before)
	}
	if total(errs) == 0 {
		t.Errorf("no error counted for a stopped server: %v", errs)
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// s3Counts reads one counter vector by its operation label.
func s3Counts(t *testing.T, m *metrics.Metrics, name string) map[string]float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			out[label(mt, "operation")] += mt.GetCounter().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
