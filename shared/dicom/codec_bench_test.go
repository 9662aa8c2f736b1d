package dicom_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// BenchmarkColdRenderSyntax: cold render (read, parse, decode, LUTs, JPEG
// encode; no render cache) of the 512×512 16-bit CT phantom in each
// transfer syntax, and the reference command-line decoder on the same
// file in the same run (process start and file write included: a floor,
// not a like-for-like): cpu-ms/op is ours, ref-cpu-ms/op theirs, x-ref
// ours / theirs, all in CPU time (user + system) so that a busy machine
// does not decide the ratio.
func BenchmarkColdRenderSyntax(b *testing.B) {
	base := rd.Synth{StudyUID: "1.2.826.0.1", SeriesUID: "1.2.826.0.1.1", SOPUID: "1.2.826.0.1.1.1", PatientID: "B",
		Rows: 512, Cols: 512, BitsAllocated: 16, BitsStored: 16, Slope: "1", Intercept: "-1024",
		WindowCenter: "40", WindowWidth: "400", Pixel: phantom}
	type ref struct {
		tool string
		args []string
		j2k  bool // opj_decompress reads the bare codestream
	}
	for _, c := range []struct {
		x   dicomtest.Syntax
		ref *ref
	}{
		{dicomtest.Syntaxes[0], nil},
		{dicomtest.Syntaxes[3], &ref{tool: "dcmdrle"}},
		{dicomtest.Syntaxes[4], &ref{tool: "dcmdjpeg"}},
		{dicomtest.Syntaxes[5], &ref{tool: "dcmdjpeg"}},
		{dicomtest.Syntaxes[6], &ref{tool: "dcmdjpeg"}},
		{dicomtest.Syntaxes[7], &ref{tool: "dcmdjpls"}},
		{dicomtest.Syntaxes[8], &ref{tool: "dcmdjpls"}},
		{dicomtest.Syntaxes[9], &ref{tool: "opj_decompress", j2k: true}},
		{dicomtest.Syntaxes[10], &ref{tool: "opj_decompress", j2k: true}},
	} {
		b.Run(c.x.Name, func(b *testing.B) {
			s := base
			if c.x.UID == "1.2.840.10008.1.2.4.51" {
				s.BitsStored = 12 // extended JPEG is at most 12-bit
			}
			data := dicomtest.Encode(b, s, c.x)
			r, key := stored(b, data)
			cpu0 := cpuTime()
			renderLoop(b, r, rd.Request{StorageKey: key})
			b.StopTimer()
			// CPU time as well as wall time: on a machine shared with other
			// work the wall figure measures the queue, CPU time the decoder.
			ours := float64((cpuTime() - cpu0).Nanoseconds()) / float64(b.N) / 1e6
			b.ReportMetric(ours, "cpu-ms/op")
			if c.ref == nil {
				return
			}
			dicomtest.NeedTool(b, c.ref.tool)
			dir := b.TempDir()
			in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
			if c.ref.j2k {
				im, err := rd.Decode(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				fr, _ := im.EncodedFrame(0)
				data = fr
				in, out = filepath.Join(dir, "in.j2k"), filepath.Join(dir, "out.pgm")
			}
			if err := os.WriteFile(in, data, 0o600); err != nil {
				b.Fatal(err)
			}
			args := append(append([]string{}, c.ref.args...), in, out)
			if c.ref.j2k {
				args = []string{"-quiet", "-i", in, "-o", out}
			}
			const runs = 10
			var refCPU time.Duration
			for i := 0; i < runs; i++ {
				cmd := exec.Command(c.ref.tool, args...)
				if o, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%s", c.ref.tool, err, o)
				}
				refCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			refMs := float64(refCPU.Nanoseconds()) / runs / 1e6
			b.ReportMetric(refMs, "ref-cpu-ms/op")
			b.ReportMetric(ours/refMs, "x-ref")
		})
	}
}

// cpuTime is the user + system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
