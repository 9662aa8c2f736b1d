// Command stress-bodies is the request-body part of make bench's stress
// section: n parallel POSTs of mb MiB each to a running
// radpass serve, either without a token (-mode anon: the server must answer
// 401 without reading them) or as authenticated STOW-RS pushes of real,
// distinct DICOM instances (-mode stow: streamed to storage). Bodies are
// generated while sending, so the client holds little memory; the script
// reads the server's peak RSS. It prints the answers it got.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/radpass/radpass/shared/dicom"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server host:port")
	mode := flag.String("mode", "anon", "anon (no token) or stow (authenticated)")
	token := flag.String("token", "", "API token (stow)")
	n := flag.Int("n", 20, "parallel requests")
	mb := flag.Int("mb", 60, "MiB per request")
	flag.Parse()
	size := int64(*mb) << 20
	var (
		mu      sync.Mutex
		answers = map[string]int{}
		wg      sync.WaitGroup
	)
	tmpl, err := newTemplate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	for i := range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got string
			if *mode == "anon" {
				got = anon(*addr, size)
			} else {
				got = stow(*addr, *token, tmpl, i, size)
			}
			mu.Lock()
			answers[got]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	var keys []string
	for k := range answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d× %s", answers[k], k))
	}
	fmt.Printf("%d parallel %d MiB %s requests in %.1f s: %s\n", *n, *mb, *mode, time.Since(start).Seconds(), strings.Join(parts, ", "))
}

// anon sends a whole 60 MiB body without a token, as an attacker would (no
// Expect: 100-continue), and reads whatever answer comes.
func anon(addr string, size int64) string {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "dial error"
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /dicomweb/studies HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=x\r\nContent-Length: %d\r\n\r\n", addr, size)
	go func() { _, _ = io.Copy(conn, io.LimitReader(zeros{}, size)) }() // stops when the server closes
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "no answer"
	}
	res.Body.Close()
	return res.Status
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// template is one real 6 MiB DICOM instance whose UIDs are replaced per part.
type template struct {
	raw                 []byte
	study, series, inst string
}

func newTemplate() (*template, error) {
	t := &template{study: "1.2.826.0.1.3680043.10.999.111111111", series: "1.2.826.0.1.3680043.10.999.222222222",
		inst: "1.2.826.0.1.3680043.10.999.333333333"}
	raw, err := dicom.Synth{StudyUID: t.study, SeriesUID: t.series, SOPUID: t.inst, PatientID: "STRESS", PatientName: "Stress^Test",
		Modality: "CT", Rows: 2048, Cols: 1536, BitsAllocated: 16, BitsStored: 12, Pixel: func(_, i, _ int) int { return i % 4096 }}.Bytes()
	t.raw = raw
	return t, err
}

// part is the instance with distinct UIDs (same length as the template's).
func (t *template) part(req, part int) io.Reader {
	b := bytes.ReplaceAll(t.raw, []byte(t.study), []byte(fmt.Sprintf("%s%09d", t.study[:len(t.study)-9], req)))
	b = bytes.ReplaceAll(b, []byte(t.series), []byte(fmt.Sprintf("%s%09d", t.series[:len(t.series)-9], req)))
	b = bytes.ReplaceAll(b, []byte(t.inst), []byte(fmt.Sprintf("%s%09d", t.inst[:len(t.inst)-9], req*1000+part)))
	return bytes.NewReader(b)
}

// stow pushes about size bytes of distinct instances in one request.
func stow(addr, token string, t *template, req int, size int64) string {
	const boundary = "radpass-stress-boundary"
	parts := int(size / int64(len(t.raw)))
	pr, pw := io.Pipe()
	go func() {
		for p := range parts {
			fmt.Fprintf(pw, "--%s\r\nContent-Type: application/dicom\r\n\r\n", boundary)
			if _, err := io.Copy(pw, t.part(req, p)); err != nil {
				return
			}
			io.WriteString(pw, "\r\n")
		}
		fmt.Fprintf(pw, "--%s--\r\n", boundary)
		pw.Close()
	}()
	r, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/dicomweb/studies", pr)
	r.Header.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+boundary)
	r.Header.Set("Authorization", "Bearer "+token)
	cl := &http.Client{Timeout: 5 * time.Minute}
	res, err := cl.Do(r)
	if err != nil {
		return "error: " + err.Error()
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.Status
}
