package dicomzip_test

import (
	"context"
	"testing"

	"github.com/radpass/radpass/shared/dicomzip"
)

// BenchmarkWrite streams the six samples and the synthetic study: plain
// (stored, as shipped), plain deflated (to weigh the Store default), and
// anonymized. Reports the zip size relative to the input.
func BenchmarkWrite(b *testing.B) {
	fs := fixtures(b)
	var in int64
	for _, f := range fs {
		in += int64(len(f.data))
	}
	for _, c := range []struct {
		name string
		opt  dicomzip.Options
	}{
		{"store", dicomzip.Options{}},
		{"deflate", dicomzip.Options{Deflate: true}},
		{"anonymize", dicomzip.Options{Anonymize: true, Number: "123456"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(in)
			var cw countWriter
			for i := 0; i < b.N; i++ {
				cw.n = 0
				if err := dicomzip.Write(context.Background(), &cw, items(fs), c.opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cw.n)/float64(in), "zip/input")
		})
	}
}
