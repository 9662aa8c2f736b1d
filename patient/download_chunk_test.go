package patient

import (
	"bytes"
	"testing"
)

// recorder keeps what it was given and the largest single write.
type recorder struct {
	bytes.Buffer
	largest int
}

func (r *recorder) Write(b []byte) (int, error) {
	r.largest = max(r.largest, len(b))
	return r.Buffer.Write(b)
}

// The download's writer passes a large write on in pieces: the response
// stream behind it copies and queues every write whole, so the DICOM writer
// handing over a de-identified file's pixel data in one write left a copy of
// the file per download waiting for the client (100 parallel anonymized
// downloads of a 7.5 MB X-ray: 489 MB peak; in pieces: 203 MB).
func TestProgressWriterPassesLargeWritesInPieces(t *testing.T) {
	for _, size := range []int{0, 1, writeChunk - 1, writeChunk, writeChunk + 1, 7_535_500} {
		rec := &recorder{}
		pw := &progressWriter{w: rec}
		data := bytes.Repeat([]byte{0xA5, 0x5A, 0x01}, size/3+1)[:size]
		n, err := pw.Write(data)
		if err != nil || n != size {
			t.Fatalf("write of %d bytes: %d, %v", size, n, err)
		}
		if !bytes.Equal(rec.Bytes(), data) {
			t.Fatalf("write of %d bytes: the bytes changed on the way", size)
		}
		if rec.largest > writeChunk {
			t.Errorf("write of %d bytes passed on %d bytes at once, want at most %d", size, rec.largest, writeChunk)
		}
	}
}
