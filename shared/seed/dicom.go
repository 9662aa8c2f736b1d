package seed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
)

// sampleStudy names the exam each real sample file joins as one more
// series: the PET slices a PET-CT, the prostate MR an MRI prostate, the
// chest radiograph a chest X-ray, the enhanced (multi-frame) CT a CT
// abdomen, the secondary capture a CT brain.
var sampleStudy = []struct{ file, exam string }{
	{"1.dcm", "PET-CT whole body"}, {"2.dcm", "PET-CT whole body"},
	{"3.dcm", "MRI prostate"}, {"4.dcm", "X-ray chest PA/LAT"},
	{"5.dcm", "CT abdomen/pelvis"}, {"6.dcm", "CT brain without contrast"},
}

// demoSalt makes the UIDs of the demo: new UIDs, the same on every run.
const demoSalt = "radpass-demo"

// placeSamples gives each real sample file the first study of its exam
// (a study of a patient with a birth date, so it can be printed); a small
// demo without such a study leaves the sample out.
func placeSamples(plans []*studyPlan) {
	for _, s := range sampleStudy {
		for _, p := range plans {
			if p.desc == s.exam && p.patient.BirthDate != nil && (len(p.samples) == 0 || s.exam == "PET-CT whole body") {
				p.samples = append(p.samples, s.file)
				break
			}
		}
	}
}

// importStudies generates every study's instances and stores them through
// the importer, workers studies at a time.
func importStudies(ctx context.Context, db *bun.DB, st storage.Store, plans []*studyPlan, workers int, res *Result) error {
	var dir string
	for _, p := range plans {
		if len(p.samples) > 0 {
			d, err := dicom.SampleDir()
			if err != nil {
				return err
			}
			dir = d
			break
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *studyPlan)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				n, size, err := importStudy(ctx, db, st, dir, p)
				mu.Lock()
				res.Instances += n
				res.Bytes += size
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range plans {
		select {
		case jobs <- p:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// importStudy stores one study: its synthetic series, then its samples.
func importStudy(ctx context.Context, db *bun.DB, st storage.Store, sampleDir string, p *studyPlan) (n int, size int64, err error) {
	im := &ingest.Importer{DB: db, Store: st, DepartmentID: p.dept.ID}
	put := func(name string, b []byte) error {
		r := im.Import(ctx, name, bytes.NewReader(b))
		if r.Outcome != ingest.Added {
			return fmt.Errorf("seed: %s not added: %s", name, r.Reason)
		}
		n++
		size += r.Bytes
		return nil
	}
	err = p.files(put)
	for i := range p.series {
		p.series[i].picture = nil // frees the study's cached slices
	}
	if err != nil {
		return n, size, err
	}
	id := dicom.Identity{PatientID: p.patient.PatientID, BirthDate: p.patient.BirthDate, Sex: p.patient.Sex,
		Name: dicom.PersonName{Family: p.patient.FamilyName, Given: p.patient.GivenName}}
	for k, name := range p.samples {
		b, err := os.ReadFile(filepath.Join(sampleDir, name))
		if err != nil {
			return n, size, err
		}
		into := &dicom.Into{StudyUID: p.uid, StudyDate: p.date.Format("20060102"), StudyTime: p.studyTime,
			Accession: p.accession, Description: p.desc, ReferringPhysician: p.referring, SeriesNumber: len(p.series) + k + 1}
		c, err := dicom.CopyInto(bytes.NewReader(b), int64(len(b)), id, demoSalt, into)
		if err != nil {
			return n, size, fmt.Errorf("sample %s: %w", name, err)
		}
		if err := put(name, c); err != nil {
			return n, size, err
		}
	}
	return n, size, nil
}
