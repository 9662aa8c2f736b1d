package patient

import (
	"bufio"
	"context"
	"io"
	"net"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/dicomzip"
	"github.com/radpass/radpass/shared/web"
)

// anonSlots bounds the anonymized downloads de-identifying at once. As the
// writer passes files on in pieces (progressWriter), a slot is held until its
// download's current file has mostly reached the client: the bound is on
// memory, and four slow phones make a fifth anonymized download wait.
var anonSlots = make(chan struct{}, 4)

// downloadTimeout bounds one download: a phone on a slow line may need long,
// but a stalled client must not hold files open forever.
const downloadTimeout = 30 * time.Minute

// Download streams the bucket's DICOM files as one ZIP with a DICOMDIR and a
// read-me in the bucket's language: file by file, never a temporary copy of
// the whole study. An anonymized bucket's files are de-identified (DICOM
// PS3.15 basic profile) on the way out.
func (h *Handlers) Download(c fiber.Ctx) error {
	b := bucketOf(c)
	files, err := h.Buckets.Files(c.Context(), b.ID)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fiber.ErrNotFound
	}
	items := make([]dicomzip.Item, len(files))
	studies := map[int64]bool{}
	for i, f := range files {
		items[i] = dicomzip.StoreItem(f.Study, f.Series, f.Instance, h.Store)
		studies[f.Study.ID] = true
	}
	ids := make([]int64, 0, len(studies))
	for id := range studies {
		ids = append(ids, id)
	}
	if err := audit.Record(c.Context(), h.DB, &audit.Event{Action: audit.StudyDownload, ActorKind: "patient", ActorName: patientName(b),
		DepartmentID: &b.DepartmentID, BucketID: &b.ID, IP: c.IP(),
		Details: map[string]any{"studies": ids, "files": len(items), "anonymized": b.Anonymized}}); err != nil {
		return err
	}
	opt := dicomzip.Options{Anonymize: b.Anonymized, Number: b.AnonNumber, Lang: b.Language, Now: h.Buckets.Time()}
	web.NoStore(c)
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="radpass-images.zip"`)
	log, bucketID, reqID := h.Log, b.ID, c.RequestID()
	// The server's write timeout is one deadline for the whole response
	// (fasthttp sets it once): any download slower than that was cut off
	// with a broken ZIP (7.5 MB on a 50 kB/s line: 150 s > 120 s). Here it
	// bounds each stretch without progress instead; downloadTimeout bounds
	// the whole.
	pw := &progressWriter{conn: c.RequestCtx().Conn(), idle: c.App().Server().WriteTimeout}
	// The body is written after the handler returns: use a context of its own.
	return c.SendStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), downloadTimeout)
		defer cancel()
		pw.w = w
		if opt.Anonymize {
			// De-identifying holds one whole file in memory: a few at a
			// time, whatever the number of downloads (50 parallel anonymized
			// downloads of a 7.5 MB X-ray took 760 MB). The others wait here,
			// their response already begun.
			select {
			case anonSlots <- struct{}{}:
				defer func() { <-anonSlots }()
			case <-ctx.Done():
				return
			}
		}
		opt.OnSkip = func(it dicomzip.Item, reason error) {
			log.WarnContext(ctx, "download: file left out", "request_id", reqID, "bucket_id", bucketID, "reason", reason.Error())
		}
		if err := dicomzip.Write(ctx, pw, items, opt); err != nil {
			// Headers are gone: the client sees a truncated ZIP, which unzip refuses.
			log.ErrorContext(ctx, "download failed", "request_id", reqID, "bucket_id", bucketID, "error", err.Error())
		}
		_ = w.Flush()
	})
}

// progressWriter moves the connection's write deadline idle ahead whenever
// the download makes progress (at most a few times per idle period), so a
// slow but steady client gets the whole file while a stalled one is still
// cut off after idle.
type progressWriter struct {
	w     io.Writer
	conn  net.Conn
	idle  time.Duration
	moved time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.conn != nil && p.idle > 0 {
			if now := time.Now(); now.Sub(p.moved) > p.idle/8 {
				_ = p.conn.SetWriteDeadline(now.Add(p.idle))
				p.moved = now
			}
		}
		// At most writeChunk at a time: the response stream behind w copies
		// every write it is given and queues a few of them, so one write of
		// a whole de-identified file (the DICOM writer hands over the pixel
		// data in one piece) was a copy of the file waiting for the client,
		// whatever the slots bound; in chunks, a slow client holds back the
		// writer instead.
		k, err := p.w.Write(b[:min(len(b), writeChunk)])
		n += k
		if err != nil {
			return n, err
		}
		b = b[k:]
	}
	return n, nil
}

// writeChunk is the largest piece progressWriter passes on at once.
const writeChunk = 64 << 10
