package ingest

import (
	"archive/zip"
	"bufio"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
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

// ImportPaths imports files, folders (recursively) and .zip archives. A few
// workers import files in parallel (database round trips dominate), each
// streaming one file at a time, so memory stays flat whatever the batch size.
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
	var mu sync.Mutex
	pr := Progress{Total: total}
	done := func(n int64, f func(*Summary)) {
		mu.Lock()
		defer mu.Unlock()
		f(sum)
		pr.Files++
		pr.Done += n
		if progress != nil {
			progress(pr)
		}
	}
	type job struct {
		path string
		size int64
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < max(im.Workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if isZip(j.path) {
					part := &Summary{}
					im.importZip(ctx, j.path, part)
					done(j.size, func(s *Summary) { s.merge(part) })
					continue
				}
				f, err := os.Open(j.path)
				if err != nil {
					done(j.size, func(s *Summary) { s.Rejected = append(s.Rejected, Rejection{j.path, "cannot read: " + cleanErr(err)}) })
					continue
				}
				r := im.Import(ctx, j.path, f)
				f.Close()
				done(j.size, func(s *Summary) { s.Add(r) })
			}
		}()
	}
	var walkErr error
	for _, p := range paths {
		walkErr = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if err != nil {
				done(0, func(s *Summary) { s.Rejected = append(s.Rejected, Rejection{path, "cannot read: " + cleanErr(err)}) })
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			var size int64
			if info, err := d.Info(); err == nil {
				size = info.Size()
			}
			if skipName(d.Name()) {
				done(size, func(s *Summary) { s.Skipped++ })
				return nil
			}
			jobs <- job{path, size}
			return nil
		})
		if walkErr != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	sort.Slice(sum.Rejected, func(i, j int) bool { return sum.Rejected[i].Name < sum.Rejected[j].Name })
	return sum, walkErr
}

func (s *Summary) merge(o *Summary) {
	s.Studies += o.Studies
	s.Series += o.Series
	s.Instances += o.Instances
	s.Already += o.Already
	s.Skipped += o.Skipped
	s.Bytes += o.Bytes
	s.Rejected = append(s.Rejected, o.Rejected...)
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
