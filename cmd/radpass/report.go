package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/ingest"
)

const reportUsage = "usage: radpass report add --department CODE --study UID --status preliminary|final [--available-at TIME] FILE (.txt UTF-8 or .pdf)"

// cmdReport attaches a report to a study, as the report API does.
func cmdReport(ctx context.Context, load configLoader, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageErr(reportUsage)
	}
	fs := flag.NewFlagSet("report add", flag.ContinueOnError)
	fs.SetOutput(out)
	dept := fs.String("department", "", "department code")
	study := fs.String("study", "", "Study Instance UID")
	status := fs.String("status", "", "preliminary or final")
	avail := fs.String("available-at", "", "embargo: RFC 3339 time or YYYY-MM-DD from which the patient may read it")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr("%v", err)
	}
	if *dept == "" || *study == "" || fs.NArg() != 1 {
		return usageErr(reportUsage)
	}
	at, err := dicomweb.ParseAvailableAt(*avail)
	if err != nil {
		return usageErr("--available-at: %v", err)
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return usageErr("%v", err)
	}
	if len(data) > 64<<20 {
		return usageErr("the report file is larger than 64 MB")
	}
	rep := ingest.Report{Status: *status, AvailableAt: at}
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		rep.PDF = bytes.NewReader(data)
	} else {
		rep.Text = string(data)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	env, err := openDeptStorage(ctx, cfg, out, *dept)
	if err != nil {
		return err
	}
	defer env.Close()
	db, d, st := env.DB, env.Dept, env.Store
	s, err := ingest.AttachReport(ctx, db, st, d.ID, *study, rep)
	switch {
	case errors.Is(err, ingest.ErrNotFound):
		return &exitError{1, fmt.Errorf("no study %s in department %s", *study, d.Code)}
	case errors.Is(err, ingest.ErrReportStatus), errors.Is(err, ingest.ErrReportEmpty),
		errors.Is(err, ingest.ErrReportText), errors.Is(err, ingest.ErrReportPDF):
		return usageErr("%v", err)
	case err != nil:
		return err
	}
	fmt.Fprintf(out, "report stored for study %s: %s", s.StudyUID, s.ReportStatus)
	if s.ReportAvailableAt != nil {
		fmt.Fprintf(out, ", available to the patient from %s", s.ReportAvailableAt.Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintln(out)
	return nil
}
