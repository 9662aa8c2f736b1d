package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/storage"
)

// Report statuses.
const (
	StatusPreliminary = "preliminary"
	StatusFinal       = "final"
)

// MaxReportText bounds a plain-text report.
const MaxReportText = 1 << 20

// Report errors (callers map them to 4xx answers).
var (
	ErrReportStatus = errors.New("status must be preliminary or final")
	ErrReportEmpty  = errors.New("the report is empty")
	ErrReportText   = errors.New("the report text is not UTF-8 or too long")
	ErrReportPDF    = errors.New("the file is not a PDF")
	ErrReportRead   = errors.New("the report could not be read to its end")
)

// Report is one report upload: Text or PDF (not both).
type Report struct {
	Text        string
	PDF         io.Reader
	Status      string
	AvailableAt *time.Time // embargo: the patient side shows it from then on
}

// AttachReport stores the report of a study of deptID (ErrNotFound for any
// study of another department, so no one learns it exists).
func AttachReport(ctx context.Context, db *bun.DB, st storage.Store, deptID int64, studyUID string, rep Report) (*database.Study, error) {
	if rep.Status != StatusPreliminary && rep.Status != StatusFinal {
		return nil, ErrReportStatus
	}
	study, err := StudyByUID(ctx, db, deptID, studyUID)
	if err != nil {
		return nil, err
	}
	text, pdfKey := "", ""
	created := false
	if rep.PDF != nil {
		br := bufio.NewReader(rep.PDF)
		head, _ := br.Peek(5)
		if len(head) == 0 {
			return nil, ErrReportEmpty
		}
		if !bytes.Equal(head, []byte("%PDF-")) {
			return nil, ErrReportPDF
		}
		src := &sourceReader{r: br}
		if pdfKey, _, created, err = st.Put(ctx, src); err != nil {
			if src.err != nil {
				return nil, fmt.Errorf("%w: %v", ErrReportRead, src.err)
			}
			return nil, err
		}
	} else {
		text = strings.TrimSpace(strings.ReplaceAll(rep.Text, "\x00", ""))
		if text == "" {
			return nil, ErrReportEmpty
		}
		if len(text) > MaxReportText || !utf8.ValidString(text) {
			return nil, ErrReportText
		}
	}
	var at *time.Time
	if rep.AvailableAt != nil {
		u := rep.AvailableAt.UTC()
		at = &u
	}
	// The replaced PDF is removed once nothing names it any more (another
	// study may hold the same file); a failed update removes the new one.
	oldKey := ""
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if pdfKey != "" {
			if err := lockBlob(ctx, tx, st, pdfKey); err != nil {
				return err
			}
		}
		if err := tx.NewSelect().Model((*database.Study)(nil)).Column("report_pdf_key").
			Where("id = ?", study.ID).For("UPDATE").Scan(ctx, &oldKey); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Model(study).
			Set("report_text = ?", text).Set("report_pdf_key = ?", pdfKey).
			Set("report_status = ?", rep.Status).Set("report_available_at = ?", at).
			WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		if created {
			_, _ = DeleteUnreferenced(ctx, db, st, pdfKey, 0)
		}
		return nil, err
	}
	if oldKey != "" && oldKey != pdfKey {
		// Best effort: the orphan sweep removes it later if this fails.
		_, _ = DeleteUnreferenced(ctx, db, st, oldKey, 0)
	}
	study.ReportText, study.ReportPDFKey, study.ReportStatus, study.ReportAvailableAt = text, pdfKey, rep.Status, at
	return study, nil
}
