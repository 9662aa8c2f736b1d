package dicomweb_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
)

// A viewer opening a large image through a link asks for its frames and
// bulk data many times at once: 24 frame requests and 8 bulk data requests
// for the 7.5 MB sample radiograph (one native frame) all answer 200 with
// exactly the stored pixel data, while the process's heap grows by at most
// four times the file. The requests running together share one read of the
// file (held within the process's pixel budget, twice the file at most)
// and every answer is streamed from it; the bound leaves room for a second
// read when the first ended before the last request came, its garbage not
// yet collected. Reading the file per request, the whole answer built in
// memory, the heap grew by some 250 MiB.
func TestViewerLinkFramesShareOneRead(t *testing.T) {
	f := newLinkFixture(t)
	ctx := context.Background()
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "4.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	want := storedPixels(t, data)

	var studyID int64
	if err := f.srv.DB.NewRaw(`SELECT id FROM studies WHERE study_uid = ?`, linkStudyUID).Scan(ctx, &studyID); err != nil {
		t.Fatal(err)
	}
	instID, _ := f.srv.MustStoredInstance(t, &database.Study{ID: studyID}, data, 1)
	f.srv.Exec(t, `UPDATE instances SET transfer_syntax = '1.2.840.10008.1.2' WHERE id = ?`, instID)
	var uids struct{ Series, SOP string }
	if err := f.srv.DB.NewRaw(`SELECT s.series_uid AS series, i.sop_uid AS sop FROM instances i JOIN series s ON s.id = i.series_id WHERE i.id = ?`, instID).
		Scan(ctx, &uids.Series, &uids.SOP); err != nil {
		t.Fatal(err)
	}
	inst := createLink(t, f.plain) + "/studies/" + linkStudyUID + "/series/" + uids.Series + "/instances/" + uids.SOP
	const accept = `multipart/related; type="application/octet-stream"; transfer-syntax=*`

	// fetch reads one answer as a client streams it, keeping no copy: the
	// heap measured is the server's.
	fetch := func(path string) error {
		req, err := http.NewRequest(http.MethodGet, inst+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(res.Body)
			return fmt.Errorf("%s answered %d %s", path, res.StatusCode, b)
		}
		_, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
		if err != nil {
			return err
		}
		mr := multipart.NewReader(res.Body, params["boundary"])
		p, err := mr.NextPart()
		if err != nil {
			return err
		}
		cw := &sameAs{want: want}
		if _, err := io.Copy(cw, p); err != nil {
			return err
		}
		if cw.diff || cw.n != len(want) {
			return fmt.Errorf("%s: %d bytes, not the stored pixel data", path, cw.n)
		}
		if _, err := mr.NextPart(); err != io.EOF {
			return fmt.Errorf("%s: more than one part (%v)", path, err)
		}
		return nil
	}
	if err := fetch("/frames/1"); err != nil { // warms the server's pools and caches
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()

	// A low GC target keeps garbage out of the measure: the heap sampled is
	// close to what is live.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	base, _ := settled(t)
	var (
		peak atomic.Uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails []string
		start = make(chan struct{})
	)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/frames/1"
			if i%4 == 3 {
				path = "/bulkdata/7FE00010"
			}
			<-start
			if err := fetch(path); err != nil {
				mu.Lock()
				fails = append(fails, err.Error())
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	close(stop)
	<-done
	http.DefaultClient.CloseIdleConnections()
	if len(fails) > 0 {
		t.Fatalf("%d of 32 failed: %v", len(fails), fails[0])
	}
	extra := int64(peak.Load()) - int64(base)
	t.Logf("file %d KiB; heap %d MiB settled, peak %d MiB over it", len(data)>>10, base>>20, extra>>20)
	if bound := int64(4 * len(data)); extra > bound {
		t.Fatalf("heap peaked %d MiB over its settled %d MiB serving 32 frame requests of one %d MiB file: more than %d MiB",
			extra>>20, base>>20, len(data)>>20, bound>>20)
	}
}

// storedPixels is a native file's pixel data.
func storedPixels(t *testing.T, data []byte) []byte {
	t.Helper()
	ds, err := dicom.ReadFull(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	pe, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal(err)
	}
	return pe.Value.GetValue().(dcm.PixelDataInfo).UnprocessedValueData
}

// sameAs compares what is written to it with want, keeping nothing.
type sameAs struct {
	want []byte
	n    int
	diff bool
}

func (w *sameAs) Write(b []byte) (int, error) {
	if w.n+len(b) > len(w.want) || !bytes.Equal(b, w.want[w.n:w.n+len(b)]) {
		w.diff = true
	}
	w.n += len(b)
	return len(b), nil
}
