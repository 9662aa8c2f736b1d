package ingest

import (
	"archive/zip"
	"bufio"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Rejection names a refused file and why.
type Rejection struct{ Name, Reason string }

// Summary counts what a batch did.
type Summary struct {
	Studies, Series, Instances int // newly added
	Already                    int // instances that were stored before
	Skipped                    int // DICOMDIR and the like: not instances
	Bytes                      int64
	Rejected                   []Rejection
}

// Add counts one result.
func (s *Summary) Add(r Result) {
	s.Bytes += r.Bytes
	switch r.Outcome {
	case Added:
		s.Instances++
		if r.NewStudy {
			s.Studies++
		}
		if r.NewSeries {
			s.Series++
		}
	case AlreadyPresent:
		s.Already++
	case Rejected:
		s.Rejected = append(s.Rejected, Rejection{r.Name, r.Reason})
	}
}

// Progress is reported after each file.
type Progress struct {
	Files       int
	Done, Total int64 // bytes
}

// ImportPaths imports files, folders (recursively) and .zip archives, one
// file at a time so memory stays flat whatever the batch size.
func (im *Importer) ImportPaths(ctx context.Context, paths []string, progress func(Progress)) (*Summary, error) {
	sum := &Summary{}
	var total int64
	for _, p := range paths {
		_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			return nil
		})
	}
	pr := Progress{Total: total}
	report := func(n int64) {
		pr.Files++
		pr.Done += n
		if progress != nil {
			progress(pr)
		}
	}
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if err != nil {
				sum.Rejected = append(sum.Rejected, Rejection{path, "cannot read: " + cleanErr(err)})
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			info, _ := d.Info()
			size := int64(0)
			if info != nil {
				size = info.Size()
			}
			if skipName(d.Name()) {
				sum.Skipped++
				report(size)
				return nil
			}
			if isZip(path) {
				im.importZip(ctx, path, sum)
			} else {
				f, err := os.Open(path)
				if err != nil {
					sum.Rejected = append(sum.Rejected, Rejection{path, "cannot read: " + cleanErr(err)})
				} else {
					sum.Add(im.Import(ctx, path, f))
					f.Close()
				}
			}
			report(size)
			return nil
		})
		if err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func (im *Importer) importZip(ctx context.Context, path string, sum *Summary) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		sum.Rejected = append(sum.Rejected, Rejection{path, "broken zip archive"})
		return
	}
	defer zr.Close()
	for _, f := range zr.File {
		if ctx.Err() != nil {
			return
		}
		name := path + ":" + f.Name
		if f.FileInfo().IsDir() {
			continue
		}
		if skipName(filepath.Base(f.Name)) {
			sum.Skipped++
			continue
		}
		rc, err := f.Open()
		if err != nil {
			sum.Rejected = append(sum.Rejected, Rejection{name, "cannot read zip entry"})
			continue
		}
		sum.Add(im.Import(ctx, name, rc))
		rc.Close()
	}
}

// skipName: files that accompany DICOM on media but are not instances.
func skipName(name string) bool {
	n := strings.ToUpper(name)
	return n == "DICOMDIR" || strings.HasPrefix(name, ".") || n == "README.TXT" || n == "AUTORUN.INF"
}

func isZip(path string) bool {
	if strings.EqualFold(filepath.Ext(path), ".zip") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := bufio.NewReader(f).Peek(4)
	return err == nil && string(b) == "PK\x03\x04"
}

func cleanErr(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	if err == io.EOF {
		return "unexpected end of file"
	}
	return err.Error()
}
