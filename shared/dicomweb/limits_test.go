package dicomweb_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicomweb"
)

// rawPost writes a request by hand: the header (with the declared
// Content-Length, or chunked when declared < 0) and then only the body bytes
// given, and reads the answer. The read deadline only guards against a
// server that waits for a body that never comes (the defect these tests
// catch); it measures nothing.
//
// closedAfter reports that the server ended the connection after its answer
// (read only for answers saying Connection: close, or refusals: a kept
// connection would block the read until the deadline).
func rawPost(t *testing.T, url, path, token, ctype string, declared int64, body []byte) (res *http.Response, out string, closedAfter func() bool) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var h strings.Builder
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: radpass\r\nContent-Type: %s\r\n", path, ctype)
	if token != "" {
		fmt.Fprintf(&h, "Authorization: Bearer %s\r\n", token)
	}
	if declared >= 0 {
		fmt.Fprintf(&h, "Content-Length: %d\r\n", declared)
	} else {
		h.WriteString("Transfer-Encoding: chunked\r\n")
	}
	h.WriteString("\r\n")
	if _, err := io.WriteString(conn, h.String()); err != nil {
		t.Fatal(err)
	}
	if declared < 0 {
		for off := 0; off < len(body); off += 32 << 10 {
			chunk := body[off:min(off+32<<10, len(body))]
			if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				break // the server may answer and close before all is sent
			}
		}
		_, _ = io.WriteString(conn, "0\r\n\r\n")
	} else if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	res, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer while the declared body is incomplete (the server waits for it): %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b), func() bool {
		_, err := br.ReadByte()
		return err == io.EOF
	}
}

// Nothing of a body is read before the token is checked, so an unknown
// sender cannot make the server buffer its upload: a request declaring
// 60 MiB gets its 401 after sending only 64 KiB of it, and the connection is
// closed since the rest stays unread.
func TestStowBodyNotReadBeforeToken(t *testing.T) {
	t.Parallel()
	e := start(t, 64<<20)
	ctype, _ := multipartRelated()
	for _, path := range []string{"/dicomweb/studies", "/api/v1/studies/1.2.3/report?status=final"} {
		ct := ctype
		if strings.HasPrefix(path, "/api/") {
			ct = "application/pdf"
		}
		res, _, closed := rawPost(t, e.url, path, "", ct, 60<<20, make([]byte, 64<<10))
		if res.StatusCode != http.StatusUnauthorized || !closed() {
			t.Errorf("%s without a token: %d, or the connection stays open", path, res.StatusCode)
		}
		// With a token but declaring more than the limit: 413 at once.
		res, _, closed = rawPost(t, e.url, path, e.token, ct, 65<<20, make([]byte, 64<<10))
		if res.StatusCode != http.StatusRequestEntityTooLarge || !closed() {
			t.Errorf("%s over the limit: %d, or the connection stays open", path, res.StatusCode)
		}
	}
}

// A chunked body (no Content-Length) is limited by the bytes actually read.
func TestStowChunkedBodyLimit(t *testing.T) {
	t.Parallel()
	e := start(t, 1<<20)
	ctype, body := multipartRelated(sample(t, "3.dcm"), bytes.Repeat([]byte{'x'}, 2<<20))
	res, _, _ := rawPost(t, e.url, "/dicomweb/studies", e.token, ctype, -1, body)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked 2 MiB body over a 1 MiB limit: %d", res.StatusCode)
	}
	// Under the limit, chunked works.
	ctype, body = multipartRelated(sample(t, "3.dcm"))
	res, out, _ := rawPost(t, e.url, "/dicomweb/studies", e.token, ctype, -1, body)
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("chunked push under the limit: %d (connection close %v) %s", res.StatusCode, res.Close, out)
	}
}

// The parts of one request are capped: the rest fails with 0xA700 (out of
// resources) and the PACS sends it again.
func TestStowPartsCap(t *testing.T) {
	t.Parallel()
	e := start(t, 64<<20, func(h *dicomweb.Handler) { h.MaxParts = 2 })
	ctype, body := multipartRelated(sample(t, "1.dcm"), sample(t, "3.dcm"), sample(t, "4.dcm"), sample(t, "5.dcm"))
	res, out := post(t, e.url+"/dicomweb/studies", e.token, ctype, body)
	fails := seq(out, "00081198")
	if res.StatusCode != http.StatusAccepted || len(seq(out, "00081199")) != 2 || len(fails) != 1 || first(fails[0], "00081197") != float64(0xA700) {
		t.Fatalf("4 parts with a cap of 2: %d %v", res.StatusCode, out)
	}
	if n := count(t, e.db, "instances"); n != 2 {
		t.Fatalf("%d instances stored, want 2", n)
	}
}

// A multipart body cut short is the sender's fault: the part fails with
// 0xC000 (cannot understand) and the log says so at warn, never error.
func TestStowTruncatedMultipart(t *testing.T) {
	t.Parallel()
	e := start(t, 64<<20)
	ctype, body := multipartRelated(sample(t, "3.dcm"))
	body = body[:len(body)/2]
	res, out := post(t, e.url+"/dicomweb/studies", e.token, ctype, body)
	fails := seq(out, "00081198")
	if res.StatusCode != http.StatusConflict || len(fails) == 0 {
		t.Fatalf("truncated body: %d %v", res.StatusCode, out)
	}
	for _, f := range fails {
		if first(f, "00081197") != float64(0xC000) {
			t.Fatalf("truncated part failed with %v, want 0xC000", first(f, "00081197"))
		}
	}
	logs := e.logs.String()
	if strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, `"level":"WARN"`) {
		t.Fatalf("logged as:\n%s", logs)
	}
	if count(t, e.db, "instances") != 0 || storedBlobs(t, e) != 0 {
		t.Fatal("something of the truncated body was stored")
	}
}

// storedBlobs counts the files under the storage root (Put's tmp excluded).
func storedBlobs(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(e.st.Root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) != "tmp" {
			n++
		}
		return nil
	})
	return n
}

// bigDICOM is a valid 24 MiB instance: a synthesised 1 MiB frame, declared
// as 24 frames with the pixel data grown to match (synthesising 24 MiB pixel
// by pixel takes over a minute under -race).
func bigDICOM(t *testing.T) []byte {
	t.Helper()
	b, err := dicom.Synth{StudyUID: "1.2.826.0.1.99.1", SeriesUID: "1.2.826.0.1.99.1.1", SOPUID: "1.2.826.0.1.99.1.1.1", PatientID: "BIG",
		Rows: 1024, Cols: 1024, BitsAllocated: 8, Pixel: func(_, i, _ int) int { return i & 0xff }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	frames := []byte("\x28\x00\x08\x00IS\x02\x001 ")
	i := bytes.Index(b, frames)
	if i < 0 {
		t.Fatal("no NumberOfFrames \"1 \" in the synthesised file")
	}
	copy(b[i+len(frames)-2:], "24")
	j := bytes.LastIndex(b, []byte("\xe0\x7f\x10\x00O"))
	const frame = 1024 * 1024
	if j < 0 || j+12+frame != len(b) || binary.LittleEndian.Uint32(b[j+8:]) != frame {
		t.Fatal("the pixel data is not the last element, of one frame")
	}
	binary.LittleEndian.PutUint32(b[j+8:], 24*frame)
	out := make([]byte, len(b)+23*frame)
	copy(out, b)
	for k := len(b); k < len(out); k += frame {
		copy(out[k:], b[j+12:])
	}
	if _, err := dicom.ReadMeta(bytes.NewReader(out), int64(len(out))); err != nil {
		t.Fatalf("the grown file: %v", err)
	}
	return out
}

// An authenticated 24 MiB push is streamed to storage, never held in memory:
// the whole process allocates far less than the body while storing it. (Not
// parallel: the allocation counter is the process's.)
func TestStowStreamsLargeBody(t *testing.T) {
	e := start(t, 64<<20)
	big := bigDICOM(t)
	const boundary = "radpass-big-boundary"
	head := fmt.Sprintf("--%s\r\nContent-Type: application/dicom\r\n\r\n", boundary)
	tail := fmt.Sprintf("\r\n--%s--\r\n", boundary)
	size := int64(len(head) + len(big) + len(tail))
	req, _ := http.NewRequest(http.MethodPost, e.url+"/dicomweb/studies",
		io.MultiReader(strings.NewReader(head), bytes.NewReader(big), strings.NewReader(tail)))
	req.ContentLength = size
	req.Header.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+boundary)
	req.Header.Set("Authorization", "Bearer "+e.token)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	runtime.ReadMemStats(&after)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if res.StatusCode != http.StatusOK || len(seq(out, "00081199")) != 1 {
		t.Fatalf("large push: %d %s", res.StatusCode, raw)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(size)/4 {
		t.Fatalf("storing a %d MiB body allocated %d MiB: the body is buffered", size>>20, alloc>>20)
	}
}

// STOW-RS reveals nothing of another department (UIDs are a namespace per
// department): an instance another department holds is answered exactly as
// an unknown one, and stored for the sender.
func TestStowOtherDepartmentRevealsNothing(t *testing.T) {
	t.Parallel()
	e := start(t, 64<<20)
	ctype, body := multipartRelated(sample(t, "2.dcm"))
	unknown, unknownOut := post(t, e.url+"/dicomweb/studies", e.token, ctype, body) // nobody has it yet
	if unknown.StatusCode != http.StatusOK {
		t.Fatalf("first push: %d %v", unknown.StatusCode, unknownOut)
	}
	// SOUTH pushes what NORTH holds, to /studies and to /studies/{uid}.
	res, out := post(t, e.url+"/dicomweb/studies", e.other, ctype, body)
	if res.StatusCode != unknown.StatusCode || fmt.Sprint(out) != fmt.Sprint(unknownOut) {
		t.Fatalf("other department's instance: %d %v, an unknown one: %d %v", res.StatusCode, out, unknown.StatusCode, unknownOut)
	}
	var uid string
	if err := e.db.NewSelect().Table("studies").Column("study_uid").Where("department_id = ?", e.dept.ID).Scan(context.Background(), &uid); err != nil {
		t.Fatal(err)
	}
	if res, out := post(t, e.url+"/dicomweb/studies/"+uid, e.other, ctype, body); res.StatusCode != http.StatusOK {
		t.Fatalf("to the study UID another department holds: %d %v", res.StatusCode, out)
	}
	var perDept []int
	if err := e.db.NewRaw(`SELECT count(*) FROM studies GROUP BY department_id ORDER BY department_id`).Scan(context.Background(), &perDept); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(perDept) != "[1 1]" || count(t, e.db, "instances") != 2 || storedBlobs(t, e) != 1 {
		t.Fatalf("studies per department %v, %d instances, %d files", perDept, count(t, e.db, "instances"), storedBlobs(t, e))
	}
}
