package dicom_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
)

// ct512 stores a 512×512 signed 16-bit CT slice (rescale -1024) with a
// smooth pattern, the frame size the performance target names.
func ct512(b *testing.B) (*rd.Renderer, string) {
	b.Helper()
	s := rd.Synth{StudyUID: "1.2.826.0.1", SeriesUID: "1.2.826.0.1.1", SOPUID: "1.2.826.0.1.1.1", PatientID: "B",
		Rows: 512, Cols: 512, BitsAllocated: 16, BitsStored: 16, Slope: "1", Intercept: "-1024",
		WindowCenter: "40", WindowWidth: "400",
		Pixel: phantom}
	data, err := s.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	return stored(b, data)
}

// stored puts data in a fresh file store and returns a renderer on it (no
// render cache) with the key.
func stored(b *testing.B, data []byte) (*rd.Renderer, string) {
	b.Helper()
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

// renderLoop times b.N renderings of req.
func renderLoop(b *testing.B, r *rd.Renderer, req rd.Request) {
	b.Helper()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Render(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// phantom is a CT-like slice in stored values (HU + 1024): air, an
// elliptic body of soft tissue with noise, two lungs and a spine.
func phantom(_, i, _ int) int {
	x, y := float64(i%512-256), float64(i/512-256)
	in := func(cx, cy, rx, ry float64) bool { dx, dy := (x-cx)/rx, (y-cy)/ry; return dx*dx+dy*dy <= 1 }
	noise := (i*7919)%41 - 20
	hu := -1000
	switch {
	case in(0, 150, 30, 30):
		hu = 700 + noise
	case in(-100, -10, 70, 110), in(100, -10, 70, 110):
		hu = -850 + noise
	case in(0, 0, 230, 190):
		hu = 40 + noise
	}
	return hu + 1024
}

// BenchmarkRender512Cold: read the stored file, parse, LUTs, JPEG encode (no render cache).
func BenchmarkRender512Cold(b *testing.B) {
	r, key := ct512(b)
	renderLoop(b, r, rd.Request{StorageKey: key})
}

// BenchmarkRender512Cached: the same request answered from the disk cache.
func BenchmarkRender512Cached(b *testing.B) {
	r, key := ct512(b)
	r.CacheDir = b.TempDir()
	if _, err := r.Render(context.Background(), rd.Request{StorageKey: key}); err != nil {
		b.Fatal(err)
	}
	renderLoop(b, r, rd.Request{StorageKey: key})
}

// BenchmarkRender512Thumbnail: cold render scaled to a 128-pixel thumbnail.
func BenchmarkRender512Thumbnail(b *testing.B) {
	r, key := ct512(b)
	renderLoop(b, r, rd.Request{StorageKey: key, Size: 128})
}

// BenchmarkRenderRealCTCold: frame 1 of the real 512×512 16-bit CT sample
// (5.dcm, two frames, 1 MB), parse to JPEG with no render cache.
func BenchmarkRenderRealCTCold(b *testing.B) {
	dir, err := rd.SampleDir()
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "5.dcm"))
	if err != nil {
		b.Fatal(err)
	}
	r, key := stored(b, data)
	renderLoop(b, r, rd.Request{StorageKey: key})
}
