package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/radpass/radpass/shared/storage"
)

const storageUsage = `usage: radpass storage migrate --to s3 [--from DIR] [--jobs N] [--verify]

copies the local DICOM folder (RADPASS_DATA_DIR/dicom, or --from DIR) to the
S3 bucket of RADPASS_S3_BUCKET (RADPASS_S3_ENDPOINT, RADPASS_S3_REGION, AWS
credentials). It can be stopped and run again: objects already there with the
same size are skipped. Every copy is hashed on the way; --verify also reads
every object back and checks its SHA-256. The local folder is left as it is.`

// cmdStorage runs `radpass storage migrate`.
func cmdStorage(ctx context.Context, load configLoader, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "migrate" {
		return usageErr(storageUsage)
	}
	fs := flag.NewFlagSet("storage migrate", flag.ContinueOnError)
	fs.SetOutput(out)
	to := fs.String("to", "", "destination: s3")
	from := fs.String("from", "", "local DICOM folder (default RADPASS_DATA_DIR/dicom)")
	jobs := fs.Int("jobs", 4, "parallel copies")
	verify := fs.Bool("verify", false, "read every object back and check its SHA-256")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr("%v", err)
	}
	if *to != "s3" || fs.NArg() != 0 {
		return usageErr(storageUsage)
	}
	if *jobs < 1 || *jobs > 64 {
		return usageErr("--jobs must be from 1 to 64")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if !cfg.Storage.S3() {
		return usageErr("RADPASS_S3_BUCKET is not set: it names the bucket to copy to")
	}
	dir := *from
	if dir == "" {
		dir = dicomDir(cfg)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageErr("%s is not a folder", dir)
	}
	src, err := storage.NewFS(dir)
	if err != nil {
		return err
	}
	st, err := storage.Open(ctx, cfg.Storage, "", nil)
	if err != nil {
		return err
	}
	dst := st.(*storage.S3)
	fmt.Fprintf(out, "copying %s to s3://%s\n", dir, cfg.Storage.S3Bucket)
	bar := newProgress(out)
	p, err := storage.MigrateToS3(ctx, src, dst, storage.MigrateOptions{Workers: *jobs, Verify: *verify, Progress: bar.update})
	bar.done(p)
	fmt.Fprintf(out, "%d files (%s): %d copied, %d already there, %d failed\n",
		p.Files, human(p.Bytes), p.Copied, p.Skipped, p.Fails)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "done; run it again after the last import to the local folder, then set RADPASS_S3_BUCKET for serve")
	return nil
}

// progress draws a bar on a terminal and plain lines elsewhere (a log, a pipe).
type progress struct {
	out      io.Writer
	terminal bool
	start    time.Time
	mu       sync.Mutex
	last     time.Time
	lastPct  int64
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, start: time.Now(), lastPct: -10}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (b *progress) update(p storage.MigrateProgress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	pct := int64(100)
	if p.Bytes > 0 {
		pct = p.DoneBytes * 100 / p.Bytes
	}
	now := time.Now()
	if b.terminal {
		// Redrawn at most ten times a second, and at the end.
		if now.Sub(b.last) < 100*time.Millisecond && p.DoneFiles != p.Files {
			return
		}
		b.last = now
		const width = 30
		fill := int(pct * width / 100)
		fmt.Fprintf(b.out, "\r[%s%s] %3d%% %d/%d files %s/%s %s/s ", strings.Repeat("#", fill), strings.Repeat(".", width-fill),
			pct, p.DoneFiles, p.Files, human(p.DoneBytes), human(p.Bytes), human(rate(p.DoneBytes, now.Sub(b.start))))
		return
	}
	// Plain: a line per 10 %.
	if pct/10 == b.lastPct/10 && p.DoneFiles != p.Files {
		return
	}
	b.lastPct = pct
	fmt.Fprintf(b.out, "%3d%% %d/%d files %s/%s\n", pct, p.DoneFiles, p.Files, human(p.DoneBytes), human(p.Bytes))
}

func (b *progress) done(storage.MigrateProgress) {
	if b.terminal {
		fmt.Fprintln(b.out)
	}
}

func rate(n int64, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}

// human is a byte count in binary units.
func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
