package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/ingest"
)

// importUsage is the usage line of cmdImport, which imports files, folders
// and .zip archives into a department; its exit code is 1 when any file was
// rejected.
const importUsage = "usage: radpass import --department CODE [--workers N] [--quiet] PATH... (files, folders, .zip archives)"

func cmdImport(ctx context.Context, load configLoader, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(out)
	dept := fs.String("department", "", "code of the department the studies belong to")
	quiet := fs.Bool("quiet", false, "no progress bar")
	workers := fs.Int("workers", 4, "files imported in parallel (1 to 16)")
	if err := fs.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	if *workers < 1 || *workers > 16 {
		return usageErr("--workers must be between 1 and 16")
	}
	if *dept == "" || fs.NArg() == 0 {
		return usageErr(importUsage)
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
	im := &ingest.Importer{DB: db, Store: st, DepartmentID: d.ID, Workers: *workers}
	var progress func(ingest.Progress)
	if !*quiet && term.IsTerminal(int(os.Stderr.Fd())) {
		progress = progressBar(os.Stderr)
	}
	start := time.Now()
	sum, err := im.ImportPaths(ctx, fs.Args(), progress)
	if progress != nil {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	printSummary(out, sum, elapsed)
	ev := audit.CLI().Event(audit.DICOMImport, &d.ID, map[string]any{"studies_added": sum.Studies, "series_added": sum.Series,
		"instances_added": sum.Instances, "already_present": sum.Already, "rejected": len(sum.Rejected), "bytes": sum.Bytes})
	ev.Outcome = outcomeOf(sum)
	if aerr := audit.Record(ctx, db, ev); aerr != nil {
		return aerr
	}
	if n := len(sum.Rejected); n > 0 {
		return &exitError{1, fmt.Errorf("%d file(s) rejected", n)}
	}
	return nil
}

func outcomeOf(s *ingest.Summary) string {
	switch {
	case len(s.Rejected) == 0:
		return "ok"
	case s.Instances+s.Already > 0:
		return "partial"
	}
	return "failed"
}

func printSummary(out io.Writer, s *ingest.Summary, elapsed time.Duration) {
	secs := max(elapsed.Seconds(), 1e-6)
	mb := float64(s.Bytes) / (1 << 20)
	fmt.Fprintf(out, "studies added:     %d\n", s.Studies)
	fmt.Fprintf(out, "series added:      %d\n", s.Series)
	fmt.Fprintf(out, "instances added:   %d\n", s.Instances)
	fmt.Fprintf(out, "already present:   %d\n", s.Already)
	if s.Skipped > 0 {
		fmt.Fprintf(out, "skipped:           %d (DICOMDIR and other non-image files)\n", s.Skipped)
	}
	fmt.Fprintf(out, "rejected:          %d\n", len(s.Rejected))
	for _, r := range s.Rejected {
		fmt.Fprintf(out, "  rejected %s: %s\n", r.Name, r.Reason)
	}
	fmt.Fprintf(out, "read %.1f MB in %.2f s: %.1f MB/s, %.1f instances/s\n", mb, secs, mb/secs, float64(s.Instances+s.Already)/secs)
}

// progressBar redraws one line on a terminal.
func progressBar(w io.Writer) func(ingest.Progress) {
	last := time.Time{}
	return func(p ingest.Progress) {
		if time.Since(last) < 100*time.Millisecond && p.Done < p.Total {
			return
		}
		last = time.Now()
		frac := 1.0
		if p.Total > 0 {
			frac = min(float64(p.Done)/float64(p.Total), 1)
		}
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(w, "\r[%s%s] %3.0f%%  %d files  %.1f/%.1f MB", strings.Repeat("#", n), strings.Repeat("-", width-n),
			frac*100, p.Files, float64(p.Done)/(1<<20), float64(p.Total)/(1<<20))
	}
}
