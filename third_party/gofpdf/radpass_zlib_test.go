package gofpdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io/ioutil"
	"sync"
	"testing"
)

// freshCompress is sliceCompress as upstream wrote it: a new writer per call.
func freshCompress(data []byte) []byte {
	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

// The pooled zlib writers of sliceCompress must give what a fresh writer
// gives (a writer not Reset, or shared by two calls, would not), for
// streams compressed by several goroutines at once (run with -race).
func TestSliceCompressPooledWritersMatchFresh(t *testing.T) {
	inputs := [][]byte{
		nil,
		[]byte("BT /F1 12 Tf (Hello) Tj ET"),
		bytes.Repeat([]byte{0}, 128<<10),
		make([]byte, 64<<10),
	}
	for i := range inputs[3] {
		inputs[3][i] = byte(i*7 + i/251) // varied, compressible
	}
	want := make([][]byte, len(inputs))
	for i, in := range inputs {
		want[i] = freshCompress(in)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(inputs))
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := range inputs {
				i := (k + g) % len(inputs)
				got := sliceCompress(inputs[i])
				if !bytes.Equal(got, want[i]) {
					errs <- fmt.Errorf("input %d: pooled compression differs from a fresh writer's", i)
					continue
				}
				r, err := zlib.NewReader(bytes.NewReader(got))
				if err != nil {
					errs <- err
					continue
				}
				back, err := ioutil.ReadAll(r)
				if err != nil || !bytes.Equal(back, inputs[i]) {
					errs <- fmt.Errorf("input %d does not inflate back (%v)", i, err)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
