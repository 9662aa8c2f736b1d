// Command benchgen writes a folder of real DICOM files for the import
// benchmark: copies of the sample files with new Study, Series and SOP
// Instance UIDs (same length, replaced in place), until the folder holds the
// requested size. Used by scripts/bench-dicom.sh.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/radpass/radpass/shared/dicom"
)

func main() {
	out := flag.String("out", "", "folder to write")
	mb := flag.Int("mb", 520, "total size in MB")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: benchgen -out DIR [-mb N]")
		os.Exit(2)
	}
	if err := run(*out, int64(*mb)<<20); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

type sample struct {
	data []byte
	uids []string // SOP, series, study: longest-lived replaced last
}

func run(out string, total int64) error {
	dir, err := dicom.SampleDir()
	if err != nil {
		return err
	}
	var samples []sample
	// 6.dcm is deflated: its UIDs are not visible as bytes, so it is left out.
	for _, n := range []string{"1.dcm", "2.dcm", "3.dcm", "4.dcm", "5.dcm"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		m, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		samples = append(samples, sample{b, []string{m.SOPInstanceUID, m.SeriesUID, m.StudyUID}})
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var written int64
	files := 0
	for k := 1; written < total; k++ {
		sub := filepath.Join(out, fmt.Sprintf("study%05d", k))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		for fi, s := range samples {
			b := bytes.Clone(s.data)
			for kind, uid := range s.uids {
				if len(uid) < 12 {
					return fmt.Errorf("UID %q too short to rewrite", uid)
				}
				suffix := fmt.Sprintf("%d%d%07d", fi+1, kind+1, k)
				b = bytes.ReplaceAll(b, []byte(uid), []byte(uid[:len(uid)-len(suffix)]+suffix))
			}
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%d.dcm", fi+1)), b, 0o644); err != nil {
				return err
			}
			written += int64(len(b))
			files++
		}
	}
	fmt.Printf("benchgen: %d files, %.0f MB in %s\n", files, float64(written)/(1<<20), out)
	return nil
}
