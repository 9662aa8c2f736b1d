package patient

import (
	"context"
	"io"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/dicomzip"
	"github.com/radpass/radpass/shared/web"
)

// anonSlots bounds the anonymized downloads de-identifying at once. The
// stream's writes wait until the client has taken them (web.SendStreamWriter
// hands them over through a pipe), so no copy of a de-identified file queues
// up behind a slow phone; a slot is held until its download's current file
// has mostly reached the client: four slow phones make a fifth wait.
var anonSlots = make(chan struct{}, 4)

// downloadTimeout bounds one download as a whole.
const downloadTimeout = web.DownloadMax

// Download streams the bucket's DICOM files as one ZIP with a DICOMDIR and a
// read-me in the bucket's language: file by file, never a temporary copy of
// the whole study. An anonymized bucket's files are de-identified (DICOM
// PS3.15 basic profile) on the way out.
func (h *Handlers) Download(c fiber.Ctx) error {
	b := bucketOf(c)
	files, leftOut, err := h.Buckets.FilesFor(c.Context(), viewerOf(c))
	if err != nil {
		return err
	}
	if len(files)+len(leftOut) == 0 {
		return fiber.ErrNotFound
	}
	items := make([]dicomzip.Item, len(files))
	studies := map[int64]bool{}
	for i, f := range files {
		items[i] = dicomzip.StoreItem(f.Study, f.Series, f.Instance, h.Store)
		studies[f.Study.ID] = true
	}
	// Images the bucket does not see are named in the read-me, never opened.
	var left []dicomzip.Item
	for _, f := range leftOut {
		left = append(left, dicomzip.Item{SeriesUID: f.Series.SeriesUID, Modality: f.Series.Modality,
			SeriesNumber: f.Series.Number, InstanceNumber: f.Instance.Number})
		studies[f.Study.ID] = true
	}
	ids := make([]int64, 0, len(studies))
	for id := range studies {
		ids = append(ids, id)
	}
	opt := dicomzip.Options{Anonymize: b.Anonymized, Number: b.AnonNumber, Lang: b.Language, Now: h.Buckets.Time(), LeftOut: left}
	if b.Anonymized {
		opt.UIDKey = h.Buckets.AnonUIDKey(b) // the UIDs its viewer links serve
	}
	log, bucketID, reqID := h.Log, b.ID, c.RequestID()
	opt.OnSkip = func(it dicomzip.Item, reason error) {
		log.Warn("download: file left out", "request_id", reqID, "bucket_id", bucketID, "reason", reason.Error())
	}
	// Everything that can fail is decided before the answer begins (each
	// file's header read, de-identified, its DICOMDIR records built): a
	// failure here is an error page, not a broken ZIP.
	dl, err := dicomzip.Prepare(c.Context(), items, opt)
	if err != nil {
		return err
	}
	if err := h.Audit.Record(c.Context(), actorOf(c, b).Event(audit.StudyDownload, &b.DepartmentID,
		map[string]any{"studies": ids, "files": len(items), "left_out": len(left), "anonymized": b.Anonymized})); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="radpass-images.zip"`)
	// A slow but steady phone gets the whole ZIP, a stalled one is cut off
	// after the server's write timeout (web.SendStreamWriter).
	return web.SendStreamWriter(c, downloadTimeout, func(ctx context.Context, w io.Writer) error {
		if opt.Anonymize {
			// De-identifying holds one whole file in memory: a few at a
			// time, whatever the number of downloads (50 parallel anonymized
			// downloads of a 7.5 MB X-ray took 760 MB). The others wait here,
			// their response already begun.
			select {
			case anonSlots <- struct{}{}:
				defer func() { <-anonSlots }()
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := dl.Write(ctx, w)
		if err != nil {
			// Headers are gone: the client sees a broken download (the
			// storage or the connection failed while streaming).
			log.ErrorContext(ctx, "download failed", "request_id", reqID, "bucket_id", bucketID, "error", err.Error())
		}
		return err
	})
}
