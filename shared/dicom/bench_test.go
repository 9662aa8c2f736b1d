package dicom_test

import (
	"bytes"
	"context"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
)

// ct512 stores a 512×512 signed 16-bit CT slice (rescale -1024) with a
// smooth pattern, the frame size the performance target names.
func ct512(b *testing.B) (*rd.Renderer, string) {
	b.Helper()
	s := rd.Synth{StudyUID: "1.2.826.0.1", SeriesUID: "1.2.826.0.1.1", SOPUID: "1.2.826.0.1.1.1", PatientID: "B",
		Rows: 512, Cols: 512, BitsAllocated: 16, BitsStored: 16, Signed: true, Slope: "1", Intercept: "-1024",
		WindowCenter: "40", WindowWidth: "400",
		Pixel: func(_, i, _ int) int { x, y := i%512, i/512; return (x*y)%3000 - 200 }}
	data, err := s.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	st, err := storage.NewFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	key, _, _, err := st.Put(context.Background(), bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	return &rd.Renderer{Store: st}, key
}

// BenchmarkRender512Cold: read the stored file, parse, LUTs, JPEG encode (no render cache).
func BenchmarkRender512Cold(b *testing.B) {
	r, key := ct512(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Render(ctx, rd.Request{StorageKey: key}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender512Cached: the same request answered from the disk cache.
func BenchmarkRender512Cached(b *testing.B) {
	r, key := ct512(b)
	r.CacheDir = b.TempDir()
	ctx := context.Background()
	if _, err := r.Render(ctx, rd.Request{StorageKey: key}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Render(ctx, rd.Request{StorageKey: key}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender512Thumbnail: cold render scaled to a 128-pixel thumbnail.
func BenchmarkRender512Thumbnail(b *testing.B) {
	r, key := ct512(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Render(ctx, rd.Request{StorageKey: key, Size: 128}); err != nil {
			b.Fatal(err)
		}
	}
}
