package dicomweb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"golang.org/x/sync/semaphore"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v3"
	dcm "github.com/suyashkumar/dicom"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/dicomzip"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/web"
)

// LinkBase is the path under which viewer links serve DICOMweb: a link's
// base is LinkBase+"/"+token, or LinkBase with the token sent as
// "Authorization: Bearer <token>".
const LinkBase = "/dicomweb/l"

// Reader serves DICOMweb read only (QIDO-RS, WADO-RS) through viewer
// links: exactly the studies of the link's access, de-identified for an
// anonymized access. No cookie is read or set on these routes.
type Reader struct {
	Links    *Links
	Buckets  *buckets.Service
	Store    storage.Store
	Renderer *dicom.Renderer
	Audit    audit.Trail
	Log      *slog.Logger
	// Origins may read the answers from a browser (CORS); none: no CORS
	// header at all (RADPASS_DICOMWEB_ORIGINS).
	Origins []string
	// Rate and Burst bound the requests of one link across all instances
	// (ratelimit.go): Burst at once, then Rate a second (429 past it).
	// 0: DefaultRate, DefaultBurst.
	Rate, Burst float64

	mu      sync.Mutex
	budgets map[int64]*linkBudget
	reads   map[string]*pixelRead // shared frame reads by pixelKey (pixels.go)
	budget  *semaphore.Weighted   // nil: pixelBudget, the process's (pixels.go)
}

// streamMax bounds one streamed answer (a whole study).
const streamMax = web.DownloadMax

// problem answers a request-level error as JSON.
func problem(c fiber.Ctx, status int, msg string) error {
	if status == http.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="radpass-dicomweb"`)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(fiber.Map{"error": msg})
}

// cors sets the CORS headers for an allowed Origin (never credentials).
func (r *Reader) cors(c fiber.Ctx) {
	c.Vary(fiber.HeaderOrigin)
	o := c.Get(fiber.HeaderOrigin)
	if o == "" || !slices.Contains(r.Origins, o) {
		return
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, o)
	c.Set(fiber.HeaderAccessControlExposeHeaders, "Content-Type, Content-Length, Warning")
}

// Preflight answers a CORS preflight of an allowed origin.
func (r *Reader) Preflight(c fiber.Ctx) error {
	r.cors(c)
	if c.GetRespHeader(fiber.HeaderAccessControlAllowOrigin) == "" { // not an allowed origin: no CORS headers
		return c.SendStatus(http.StatusNoContent)
	}
	c.Set(fiber.HeaderAccessControlAllowMethods, "GET, HEAD, OPTIONS")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Authorization, Accept, Content-Type")
	c.Set(fiber.HeaderAccessControlMaxAge, "600")
	return c.SendStatus(http.StatusNoContent)
}

// request is one DICOMweb request of a link.
type request struct {
	c    fiber.Ctx
	link *Link
	cat  *catalog
	base string // the absolute base URL the client used (with the token if in the path)
}

// Serve answers GET LinkBase/[token/]… (see the routes in docs/dicomweb.md).
func (r *Reader) Serve(c fiber.Ctx) error {
	r.cors(c)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	segs := strings.Split(strings.Trim(c.Params("*"), "/"), "/")
	base := c.BaseURL() + LinkBase
	token := ""
	if len(segs) > 0 && strings.HasPrefix(segs[0], LinkPrefix) {
		token, segs = segs[0], segs[1:]
		base += "/" + token
	} else if scheme, t, ok := strings.Cut(strings.TrimSpace(c.Get(fiber.HeaderAuthorization)), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(t)
	}
	link, b, err := r.Links.Resolve(c.Context(), token)
	if errors.Is(err, ErrBadLink) {
		return problem(c, http.StatusUnauthorized, "missing, revoked or expired viewer link")
	}
	if err != nil {
		return r.internal(c, err)
	}
	ok, wait, err := r.allow(c.Context(), link.ID)
	if err != nil {
		return r.internal(c, err)
	}
	if !ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(int(wait/time.Second), 1)))
		return problem(c, http.StatusTooManyRequests, "too many requests for this viewer link")
	}
	cat, err := r.catalog(c.Context(), b)
	if err != nil {
		return r.internal(c, err)
	}
	q := &request{c: c, link: link, cat: cat, base: base}
	err = r.route(q, segs)
	if errors.Is(err, errBusy) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(budgetWait/time.Second)))
		return problem(c, http.StatusServiceUnavailable, err.Error())
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return problem(c, fe.Code, fe.Message)
	}
	if err != nil {
		return r.internal(c, err)
	}
	return nil
}

var errNotFound = fiber.NewError(http.StatusNotFound, "not found")

// route dispatches the path segments after the base.
func (r *Reader) route(q *request, s []string) error {
	n := len(s)
	at := func(i int, v string) bool { return i < n && s[i] == v }
	switch {
	case n == 1 && s[0] == "ohif.json":
		return r.ohifConfig(q)
	case n == 1 && s[0] == "studies":
		return r.searchStudies(q)
	case n == 1 && s[0] == "series":
		return r.searchSeries(q, "")
	case n == 1 && s[0] == "instances":
		return r.searchInstances(q, "", "")
	case n == 3 && s[0] == "series" && s[2] == "instances":
		return r.searchInstances(q, "", s[1])
	case !at(0, "studies") || n < 2:
		return errNotFound
	}
	study := s[1]
	switch {
	case n == 2:
		return r.retrieve(q, q.cat.selectEntries(study, "", ""))
	case n == 3 && s[2] == "metadata":
		return r.metadata(q, q.cat.selectEntries(study, "", ""))
	case n == 3 && s[2] == "series":
		return r.searchSeries(q, study)
	case n == 3 && s[2] == "instances":
		return r.searchInstances(q, study, "")
	case n == 3 && (s[2] == "rendered" || s[2] == "thumbnail"):
		return r.rendered(q, q.cat.selectEntries(study, "", ""), "", s[2] == "thumbnail")
	case !at(2, "series") || n < 4:
		return errNotFound
	}
	series := s[3]
	switch {
	case n == 4:
		return r.retrieve(q, q.cat.selectEntries(study, series, ""))
	case n == 5 && s[4] == "metadata":
		return r.metadata(q, q.cat.selectEntries(study, series, ""))
	case n == 5 && s[4] == "instances":
		return r.searchInstances(q, study, series)
	case n == 5 && (s[4] == "rendered" || s[4] == "thumbnail"):
		return r.rendered(q, q.cat.selectEntries(study, series, ""), "", s[4] == "thumbnail")
	case !at(4, "instances") || n < 6:
		return errNotFound
	}
	es := q.cat.selectEntries(study, series, s[5])
	switch {
	case n == 6:
		return r.retrieve(q, es)
	case n == 7 && s[6] == "metadata":
		return r.metadata(q, es)
	case n == 7 && (s[6] == "rendered" || s[6] == "thumbnail"):
		return r.rendered(q, es, "1", s[6] == "thumbnail")
	case n == 8 && s[6] == "frames":
		return r.frames(q, es, s[7])
	case n == 9 && s[6] == "frames" && (s[8] == "rendered" || s[8] == "thumbnail"):
		return r.rendered(q, es, s[7], s[8] == "thumbnail")
	case n == 8 && s[6] == "bulkdata" && strings.EqualFold(s[7], "7FE00010"):
		return r.frames(q, es, "")
	}
	return errNotFound
}

// recordViews audits what es shows: once per series and ViewWindow, as
// any view of patient data.
func (r *Reader) recordViews(q *request, es []entry) error {
	done := map[int64]bool{}
	b := q.cat.bucket
	for _, e := range es {
		if done[e.Series.ID] {
			continue
		}
		done[e.Series.ID] = true
		ev := audit.ViewerLink(b.ID, q.link.ID, q.c.IP()).Event(audit.SeriesView, &b.DepartmentID,
			map[string]any{"study_id": e.Study.ID, "series_id": e.Series.ID, "via": "dicomweb"})
		if err := r.Audit.RecordView(q.c.Context(), ev, "series:"+strconv.FormatInt(e.Series.ID, 10)); err != nil {
			return err
		}
	}
	return nil
}

// ohifConfig answers the data source OHIF's dicomwebproxy reads (the
// patient's "Open in OHIF" points it here): this link's base for QIDO-RS
// and WADO-RS, frames by WADO-RS.
func (r *Reader) ohifConfig(q *request) error {
	src := map[string]any{
		"name": "radpass", "friendlyName": "RadPass",
		"wadoUriRoot": q.base, "qidoRoot": q.base, "wadoRoot": q.base,
		"qidoSupportsIncludeField": false, "supportsReject": false,
		"imageRendering": "wadors", "thumbnailRendering": "wadors",
		"enableStudyLazyLoad": true, "supportsFuzzyMatching": false, "supportsWildcard": true,
		"omitQuotationForMultipartRequest": true, "singlepart": false,
		"bulkDataURI": map[string]any{"enabled": true},
	}
	b, err := json.Marshal(map[string]any{"servers": map[string]any{"dicomWeb": []any{src}}})
	if err != nil {
		return err
	}
	q.c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return q.c.Send(b)
}

// ---- QIDO-RS ----

// qido reads the common query parameters: limit, offset, includefield
// (every attribute RadPass keeps is always included), fuzzymatching
// (ignored), and the match keys by keyword or tag. Unknown keys are
// ignored with a Warning header (PS3.18 8.3.4.1).
func qido(c fiber.Ctx) (keys map[string]string, limit, offset int, err error) {
	keys = map[string]string{}
	limit, offset = -1, 0
	var unknown []string
	for k, v := range c.Queries() {
		switch k {
		case "limit":
			if limit, err = strconv.Atoi(v); err != nil || limit < 0 {
				return nil, 0, 0, fiber.NewError(http.StatusBadRequest, "bad limit")
			}
		case "offset":
			if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
				return nil, 0, 0, fiber.NewError(http.StatusBadRequest, "bad offset")
			}
		case "includefield", "fuzzymatching":
		default:
			t, ok := keywords[k]
			if !ok && len(k) == 8 {
				if _, herr := strconv.ParseUint(k, 16, 32); herr == nil {
					t, ok = strings.ToUpper(k), true
				}
			}
			if !ok {
				unknown = append(unknown, k)
				continue
			}
			keys[t] = v
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		c.Set("Warning", `299 radpass "the search keys `+strings.Join(unknown, ", ")+` are not supported and were ignored"`)
	}
	return keys, limit, offset, nil
}

// answer filters ds by keys, pages it, and sends it (204 when empty).
func answer(c fiber.Ctx, ds []jsonDataset, keys map[string]string, limit, offset int) error {
	var out []jsonDataset
	for _, d := range ds {
		ok := true
		for t, v := range keys {
			a, has := d[t]
			if !has {
				a = jsonAttr{}
			}
			if !match(a, v) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, d)
		}
	}
	if offset >= len(out) {
		out = nil
	} else {
		out = out[offset:]
	}
	if limit >= 0 && limit < len(out) {
		out = out[:limit]
	}
	if !acceptsJSON(c.Get(fiber.HeaderAccept)) {
		return fiber.NewError(http.StatusNotAcceptable, "QIDO-RS answers application/dicom+json only")
	}
	if len(out) == 0 {
		return c.SendStatus(http.StatusNoContent)
	}
	return sendJSON(c, out)
}

func sendJSON(c fiber.Ctx, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/dicom+json")
	return c.Send(b)
}

// groupBy splits es into runs of one key, in first-seen order.
func groupBy(es []entry, key func(entry) string) [][]entry {
	idx := map[string]int{}
	var out [][]entry
	for _, e := range es {
		k := key(e)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], e)
	}
	return out
}

func (r *Reader) searchStudies(q *request) error {
	keys, limit, offset, err := qido(q.c)
	if err != nil {
		return err
	}
	var ds []jsonDataset
	for _, g := range groupBy(q.cat.entries, func(e entry) string { return e.study }) {
		ds = append(ds, q.cat.studyAttrs(g, q.base))
	}
	return answer(q.c, ds, keys, limit, offset)
}

func (r *Reader) searchSeries(q *request, study string) error {
	keys, limit, offset, err := qido(q.c)
	if err != nil {
		return err
	}
	es := q.cat.selectEntries(study, "", "")
	if study != "" && len(es) == 0 {
		return errNotFound
	}
	var ds []jsonDataset
	for _, g := range groupBy(es, func(e entry) string { return e.series }) {
		d := q.cat.seriesAttrs(g, q.base)
		if study == "" { // a search across studies answers the study's keys too
			for k, v := range q.cat.studyAttrs(q.cat.selectEntries(g[0].study, "", ""), q.base) {
				if _, ok := d[k]; !ok {
					d[k] = v
				}
			}
		}
		ds = append(ds, d)
	}
	return answer(q.c, ds, keys, limit, offset)
}

func (r *Reader) searchInstances(q *request, study, series string) error {
	keys, limit, offset, err := qido(q.c)
	if err != nil {
		return err
	}
	es := q.cat.selectEntries(study, series, "")
	if (study != "" || series != "") && len(es) == 0 {
		return errNotFound
	}
	var ds []jsonDataset
	for _, e := range es {
		d := q.cat.instanceAttrs(e, q.base)
		for k, v := range q.cat.seriesAttrs(q.cat.selectEntries(e.study, e.series, ""), q.base) {
			if _, ok := d[k]; !ok {
				d[k] = v
			}
		}
		if study == "" {
			for k, v := range q.cat.studyAttrs(q.cat.selectEntries(e.study, "", ""), q.base) {
				if _, ok := d[k]; !ok {
					d[k] = v
				}
			}
		}
		ds = append(ds, d)
	}
	return answer(q.c, ds, keys, limit, offset)
}

// ---- WADO-RS ----

// mediaRange is one entry of an Accept header.
type mediaRange struct {
	typ    string
	params map[string]string
}

func parseAccept(h string) []mediaRange {
	if strings.TrimSpace(h) == "" {
		return []mediaRange{{typ: "*/*", params: map[string]string{}}}
	}
	var out []mediaRange
	for _, part := range splitAccept(h) {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			mt, params, err = looseMediaType(part)
		}
		if err != nil {
			continue
		}
		for k, v := range params {
			params[k] = strings.Trim(v, `"`)
		}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				continue
			}
		}
		out = append(out, mediaRange{typ: mt, params: params})
	}
	return out
}

// splitAccept splits an Accept header at the commas outside quotes.
func splitAccept(h string) []string {
	var out []string
	quoted, start := false, 0
	for i, ch := range h {
		switch {
		case ch == '"':
			quoted = !quoted
		case ch == ',' && !quoted:
			out = append(out, h[start:i])
			start = i + 1
		}
	}
	return append(out, h[start:])
}

func acceptsJSON(h string) bool {
	for _, m := range parseAccept(h) {
		switch m.typ {
		case "application/dicom+json", "application/json", "*/*", "application/*":
			return true
		}
	}
	return false
}

// dicomAccept decides a retrieve's answer: multipart/related with
// application/dicom parts. Each instance is sent in its stored (or
// de-identified) transfer syntax, which the client accepts with
// transfer-syntax=* or by naming it; without the parameter the stored
// syntax is sent too (named in each part's Content-Type). ok is false when
// nothing acceptable can be served (406).
func dicomAccept(h string, served []string) (ok bool) {
	for _, m := range parseAccept(h) {
		if m.typ != "multipart/related" && m.typ != "*/*" && m.typ != "multipart/*" {
			continue
		}
		if t := m.params["type"]; m.typ == "multipart/related" && t != "" && t != "application/dicom" {
			continue
		}
		ts := m.params["transfer-syntax"]
		if ts == "" || ts == "*" {
			return true
		}
		all := true
		for _, s := range served {
			if s != ts {
				all = false
			}
		}
		if all {
			return true
		}
	}
	return false
}

// multipartWriter writes one multipart/related answer.
type multipartWriter struct {
	w        io.Writer
	boundary string
}

func newBoundary() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "radpass-" + hex.EncodeToString(b)
}

func (m *multipartWriter) part(h textproto.MIMEHeader) error {
	var b strings.Builder
	b.WriteString("\r\n--" + m.boundary + "\r\n")
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Location"} {
		if v := h.Get(k); v != "" {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	_, err := io.WriteString(m.w, b.String())
	return err
}

func (m *multipartWriter) close() error {
	_, err := io.WriteString(m.w, "\r\n--"+m.boundary+"--\r\n")
	return err
}

// anonSlots bounds the instances being de-identified at once (each holds
// one whole file in memory).
var anonSlots = make(chan struct{}, 4)

// retrieve sends the instances es as multipart/related application/dicom.
func (r *Reader) retrieve(q *request, es []entry) error {
	if len(es) == 0 {
		return errNotFound
	}
	served := make([]string, len(es))
	for i, e := range es {
		served[i] = q.cat.servedTransferSyntax(e.Instance)
	}
	if !dicomAccept(q.c.Get(fiber.HeaderAccept), served) {
		return fiber.NewError(http.StatusNotAcceptable, `this server sends multipart/related; type="application/dicom" in the stored transfer syntax (transfer-syntax=*)`)
	}
	if err := r.recordViews(q, es); err != nil {
		return err
	}
	boundary := newBoundary()
	q.c.Set(fiber.HeaderContentType, `multipart/related; type="application/dicom"; boundary=`+boundary)
	cat, log, reqID := q.cat, r.Log, q.c.RequestID()
	return web.SendStreamWriter(q.c, streamMax, func(ctx context.Context, w io.Writer) error {
		mw := &multipartWriter{w: w, boundary: boundary}
		for i, e := range es {
			if err := r.writeInstance(ctx, mw, cat, e, served[i]); err != nil {
				if log != nil {
					log.ErrorContext(ctx, "dicomweb: retrieve failed", "request_id", reqID, "instance_id", e.Instance.ID, "error", err.Error())
				}
				return err
			}
		}
		return mw.close()
	})
}

// writeInstance writes one instance as a part: the stored bytes, or the
// de-identified file of an anonymized access (as its ZIP has it).
func (r *Reader) writeInstance(ctx context.Context, mw *multipartWriter, cat *catalog, e entry, ts string) error {
	blob, err := r.Store.Open(ctx, e.Instance.StorageKey)
	if err != nil {
		return err
	}
	defer blob.Close()
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", `application/dicom; transfer-syntax=`+ts)
	if cat.uids == nil {
		h.Set("Content-Length", strconv.FormatInt(blob.Size(), 10))
		if err := mw.part(h); err != nil {
			return err
		}
		_, err = io.Copy(mw.w, storage.ContextReader(ctx, io.NewSectionReader(blob, 0, blob.Size())))
		return err
	}
	select {
	case anonSlots <- struct{}{}:
		defer func() { <-anonSlots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	w := holdWeight(blob.Size())
	if err := r.acquireBudget(ctx, w); err != nil {
		return err
	}
	defer r.pixels().Release(w)
	ds, err := dicomzip.Deidentified(blob, blob.Size(), cat.bucket.AnonNumber, cat.uids)
	if err != nil {
		return err
	}
	if err := mw.part(h); err != nil {
		return err
	}
	return dcmWrite(mw.w, ds)
}

// readHeader reads e's data set as it is served, without its pixel data
// (metadata): an anonymized access's de-identified by the ZIP's rule.
func (r *Reader) readHeader(ctx context.Context, cat *catalog, e entry) (*dcm.Dataset, error) {
	blob, err := r.Store.Open(ctx, e.Instance.StorageKey)
	if err != nil {
		return nil, err
	}
	defer blob.Close()
	ds, _, err := dicom.ReadHeader(blob, blob.Size())
	if err != nil || cat.uids == nil {
		return ds, err
	}
	if deid.BurnedIn(ds) {
		return nil, deid.ErrBurnedIn
	}
	if err := deid.Apply(ds, dicomzip.DeidOptions(cat.bucket.AnonNumber, cat.uids)); err != nil {
		return nil, err
	}
	return ds, nil
}

// metadata sends the DICOM JSON of es (pixel data as a BulkDataURI).
func (r *Reader) metadata(q *request, es []entry) error {
	if len(es) == 0 {
		return errNotFound
	}
	if !acceptsJSON(q.c.Get(fiber.HeaderAccept)) {
		return fiber.NewError(http.StatusNotAcceptable, "metadata is sent as application/dicom+json only")
	}
	if err := r.recordViews(q, es); err != nil {
		return err
	}
	out := make([]jsonDataset, 0, len(es))
	for _, e := range es {
		ds, err := r.readHeader(q.c.Context(), q.cat, e)
		if err != nil {
			return err
		}
		inst := q.base + "/studies/" + e.study + "/series/" + e.series + "/instances/" + e.sop
		d := toJSON(ds, inst+"/bulkdata/7FE00010")
		d[tTransferSyntax] = str("UI", q.cat.servedTransferSyntax(e.Instance))
		out = append(out, d)
	}
	return sendJSON(q.c, out)
}

// rendered sends a rendered frame (image/jpeg, or image/png when asked) of
// the first of es: of frame list's first frame ("" = 1). A thumbnail is at
// most 128 pixels.
func (r *Reader) rendered(q *request, es []entry, list string, thumb bool) error {
	if len(es) == 0 {
		return errNotFound
	}
	frame := 1
	if list != "" {
		f, err := strconv.Atoi(strings.Split(list, ",")[0])
		if err != nil || f < 1 {
			return fiber.NewError(http.StatusBadRequest, "bad frame number")
		}
		frame = f
	}
	png, ok := false, false
	for _, m := range parseAccept(q.c.Get(fiber.HeaderAccept)) {
		switch m.typ {
		case "image/jpeg", "image/*", "*/*":
			ok = true
		case "image/png":
			png, ok = true, true
		}
		if ok { // the first acceptable type wins
			break
		}
	}
	if !ok {
		return fiber.NewError(http.StatusNotAcceptable, "rendered images are image/jpeg or image/png")
	}
	e := es[0]
	if frame > max(e.Instance.Frames, 1) {
		return errNotFound
	}
	size := 0
	if thumb {
		size = 128
	}
	if v := q.c.Query("viewport"); v != "" {
		w, _, _ := strings.Cut(v, ",")
		if n, err := strconv.Atoi(w); err == nil && n > 0 {
			size = dicom.SnapSize(n)
		}
	}
	if err := r.recordViews(q, es[:1]); err != nil {
		return err
	}
	res, err := r.Renderer.Render(q.c.Context(), dicom.Request{StorageKey: e.Instance.StorageKey, Frame: frame - 1, Size: size, PNG: png, Lang: q.cat.bucket.Language})
	if errors.Is(err, dicom.ErrFrame) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	q.c.Set(fiber.HeaderContentType, res.ContentType)
	return q.c.Send(res.Data)
}

// frames sends frames list (1-based, comma-separated; "" = all) of the one
// instance es as multipart/related parts of the stored pixel data:
// application/octet-stream for native pixels, the compressed bitstream
// (named by its transfer syntax) otherwise.
func (r *Reader) frames(q *request, es []entry, list string) error {
	if len(es) != 1 {
		return errNotFound
	}
	e := es[0]
	ts := q.cat.servedTransferSyntax(e.Instance)
	native := isNative(ts)
	okType := false
	for _, m := range parseAccept(q.c.Get(fiber.HeaderAccept)) {
		if m.typ != "multipart/related" && m.typ != "*/*" && m.typ != "multipart/*" {
			continue
		}
		t, want := m.params["type"], m.params["transfer-syntax"]
		if want != "" && want != "*" && want != ts {
			continue
		}
		if t == "" || t == "application/octet-stream" || t == "*/*" || (!native && t == bitstreamType(ts)) {
			if t == "application/octet-stream" && !native && want == "" {
				continue // uncompressed frames asked, compressed stored
			}
			okType = true
			break
		}
	}
	if !okType {
		return fiber.NewError(http.StatusNotAcceptable, "frames are sent as stored (transfer-syntax="+ts+")")
	}
	// The frames as stored: de-identification leaves pixel data unchanged,
	// so an anonymized access's frames are the stored ones too. They are
	// shared with concurrent requests for the same file and held (within
	// pixelBudget) until this answer is sent.
	all, done, err := r.readFrames(q.c.Context(), e.Instance.StorageKey, ts, max(e.Instance.Frames, 1))
	if errors.Is(err, errFrames) {
		return fiber.NewError(http.StatusNotAcceptable, err.Error())
	}
	if err != nil {
		return err
	}
	sending := false
	defer func() {
		if !sending {
			done()
		}
	}()
	var pick []int
	if list == "" {
		for i := range all {
			pick = append(pick, i)
		}
	} else {
		// Each frame at most once: the answer stays within the instance's
		// pixel data, whatever the length of the list.
		seen := make(map[int]bool)
		for _, f := range strings.Split(list, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || seen[n] {
				return fiber.NewError(http.StatusBadRequest, "bad frame number")
			}
			if n > len(all) {
				return errNotFound
			}
			seen[n] = true
			pick = append(pick, n-1)
		}
	}
	if err := r.recordViews(q, es); err != nil {
		return err
	}
	typ := "application/octet-stream"
	if !native {
		typ = bitstreamType(ts)
	}
	// The answer is streamed from the shared frames, never copied whole.
	boundary := newBoundary()
	q.c.Set(fiber.HeaderContentType, `multipart/related; type="`+typ+`"; boundary=`+boundary)
	var (
		head strings.Builder
		rs   []io.Reader
		size int
	)
	mw := &multipartWriter{w: &head, boundary: boundary}
	for _, i := range pick {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", typ+"; transfer-syntax="+ts)
		h.Set("Content-Length", strconv.Itoa(len(all[i])))
		head.Reset()
		if err := mw.part(h); err != nil {
			return err
		}
		rs = append(rs, strings.NewReader(head.String()), bytes.NewReader(all[i]))
		size += head.Len() + len(all[i])
	}
	head.Reset()
	if err := mw.close(); err != nil {
		return err
	}
	rs = append(rs, strings.NewReader(head.String()))
	size += head.Len()
	sending = true
	return web.SendStream(q.c, &framesBody{Reader: io.MultiReader(rs...), done: done}, size, streamMax)
}

// isNative reports an uncompressed transfer syntax.
func isNative(ts string) bool {
	switch ts {
	case implicitVRLE, explicitVRLE, "1.2.840.10008.1.2.2", deflatedLE:
		return true
	}
	return false
}

// bitstreamType is the media type of a compressed transfer syntax's frames (PS3.18 8.7.3.3.2).
func bitstreamType(ts string) string {
	switch ts {
	case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70":
		return "image/jpeg"
	case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81":
		return "image/jls"
	case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91":
		return "image/jp2"
	case "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203":
		return "image/jphc"
	case "1.2.840.10008.1.2.5":
		return "image/dicom-rle"
	}
	return "application/octet-stream"
}

func (r *Reader) internal(c fiber.Ctx, err error) error {
	if apperr.IsUnavailable(err) { // an outage: 503, the client retries (as stow.go)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(apperr.RetryAfter))
		return problem(c, http.StatusServiceUnavailable, "the database is unavailable, try again later")
	}
	if r.Log != nil {
		r.Log.ErrorContext(c.Context(), "dicomweb request failed", "request_id", c.RequestID(), "error", err.Error())
	}
	return problem(c, http.StatusInternalServerError, "internal error")
}
