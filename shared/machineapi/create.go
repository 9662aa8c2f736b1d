package machineapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/web"
)

// CreateRequest is the body of POST /api/v1/accesses: the staff print
// form's fields, with the studies named by UID or accession number.
type CreateRequest struct {
	Studies       []buckets.StudyRef `json:"studies"`
	Verification  string             `json:"verification"`
	SMSRegion     string             `json:"sms_region"`
	Phone         string             `json:"phone"`
	Email         string             `json:"email"`
	Scope         string             `json:"scope"`
	Reason        string             `json:"reason"`
	Language      string             `json:"language"`
	ValidUntil    string             `json:"valid_until"` // empty: the department's default validity
	PatientAgreed bool               `json:"patient_agreed"`
	Anonymize     bool               `json:"anonymize"`
	Message       string             `json:"message"`
	Label         *LabelRequest      `json:"label"`
}

// LabelRequest puts a label on the studies for one user or one group.
type LabelRequest struct {
	ID      int64 `json:"id"`
	UserID  int64 `json:"user_id,omitempty"`
	GroupID int64 `json:"group_id,omitempty"`
}

// printForm is the request as the print form the rules check.
func (r *CreateRequest) printForm(today time.Time, dept *database.Department) buckets.PrintForm {
	f := buckets.PrintForm{
		Verification: r.Verification, SMSRegion: r.SMSRegion, Phone: r.Phone, Email: r.Email,
		Scope: r.Scope, Reason: r.Reason, Language: r.Language, ValidUntil: r.ValidUntil,
		Agreed: r.PatientAgreed, Anonymize: r.Anonymize, Message: r.Message,
	}
	if f.ValidUntil == "" {
		f.ValidUntil = buckets.DefaultValidity(today, dept).Format(time.DateOnly)
	}
	if r.Label != nil {
		f.AddLabel = true
		f.LabelID = strconv.FormatInt(r.Label.ID, 10)
		switch {
		case r.Label.UserID != 0 && r.Label.GroupID == 0:
			f.LabelFor = "u:" + strconv.FormatInt(r.Label.UserID, 10)
		case r.Label.GroupID != 0 && r.Label.UserID == 0:
			f.LabelFor = "g:" + strconv.FormatInt(r.Label.GroupID, 10)
		}
	}
	return f
}

// Create is POST /api/v1/accesses: the print rules of the staff form, one
// transaction, 201 with the reference number (once) and the letter links.
// With an Idempotency-Key, a second request with the same key and body is
// answered 200 with the same access (reference_number null, header
// Idempotent-Replayed: true) and creates nothing; the same key with another
// body is 422.
func (h *Handler) Create(c fiber.Ctx) error {
	m, ok, err := h.admit(c)
	if !ok {
		return err
	}
	body, ok := web.LimitedBody(c, BodyLimit)
	defer web.FinishBody(c, body)
	if !ok {
		return h.problem(c, http.StatusRequestEntityTooLarge, "too-large", "api.problem.toolarge")
	}
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt != "application/json" {
		return h.problem(c, http.StatusUnsupportedMediaType, "media-type", "api.problem.mediatype")
	}
	raw, err := io.ReadAll(body)
	if body.TooLarge() {
		return h.problem(c, http.StatusRequestEntityTooLarge, "too-large", "api.problem.toolarge")
	}
	if err != nil {
		return h.problem(c, http.StatusBadRequest, "bad-json", "api.problem.json")
	}
	if ok, err := h.badText(c, raw, "api.problem.invalid"); !ok {
		return err
	}
	var req CreateRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return h.problem(c, http.StatusBadRequest, "bad-json", "api.problem.json")
	}
	key := c.Get("Idempotency-Key")
	if key != "" && !validIdempotencyKey(key) {
		return h.problem(c, http.StatusBadRequest, "idempotency-key", "api.problem.idemkey")
	}
	// The request as decoded (not its bytes): spacing and key order do not
	// make another body.
	canon, _ := json.Marshal(req)
	reqHash := sha256.Sum256(canon)
	ctx := c.Context()
	if key != "" {
		rec, err := findByKey(ctx, h.DB, m.TokenID, key)
		if err != nil {
			return h.internal(c, err)
		}
		if rec != nil {
			return h.replay(c, m, rec, reqHash[:])
		}
	}

	dept := new(database.Department)
	if err := h.DB.NewSelect().Model(dept).Where("id = ?", m.DepartmentID).Scan(ctx); err != nil {
		return h.internal(c, err)
	}
	lang := problemLang(c)
	sel, errs, err := h.Buckets.SelectByRefs(ctx, m.DepartmentID, req.Studies)
	if err != nil {
		return h.internal(c, err)
	}
	ch, err := buckets.LoadPrintChoices(ctx, h.DB, m.DepartmentID)
	if err != nil {
		return h.internal(c, err)
	}
	today := h.Buckets.Today()
	form := req.printForm(today, dept)
	if key != "" {
		form.FormToken = formToken(key)
	}
	pr, formErrs := form.Check(today, dept, ch)
	errs = append(errs, formErrs...)
	if len(errs) > 0 {
		return h.problem(c, http.StatusUnprocessableEntity, "invalid", "api.problem.invalid", fieldProblems(lang, errs)...)
	}

	now := h.Buckets.Time()
	_ = DropExpiredNumbers(ctx, h.DB, now) // housekeeping; a failure only keeps them until the next create
	res, err := h.Buckets.CreateByMachine(ctx, m, c.IP(), sel, pr, buckets.Hooks{
		Keep: func(ctx context.Context, tx bun.Tx, b *database.Bucket, n refnum.Number) error {
			sealed, err := seal(h.Key, b.ID, n)
			if err != nil {
				return err
			}
			rec := &record{BucketID: b.ID, TokenID: m.TokenID, RequestHash: reqHash[:], SealedRef: &sealed, LetterUntil: now.Add(LetterTTL)}
			if key != "" {
				rec.IdempotencyHash = idempotencyHash(key)
			}
			_, err = tx.NewInsert().Model(rec).Exec(ctx)
			return err
		},
	})
	var fe *apperr.Error
	switch {
	case errors.As(err, &fe) && fe.Field != "":
		return h.problem(c, http.StatusUnprocessableEntity, "invalid", "api.problem.invalid",
			fieldProblems(lang, buckets.FieldErrors{{Field: fe.Field, Key: fe.Key, Args: fe.Args}})...)
	case err != nil:
		return h.internal(c, err)
	}
	if res.Duplicate {
		// The same key in flight at the same time: the first one's access.
		rec, err := findByBucket(ctx, h.DB, res.Bucket.ID)
		if err != nil || rec == nil {
			return h.internal(c, errors.Join(err, errors.New("duplicate access without its API record")))
		}
		return h.replay(c, m, rec, reqHash[:])
	}
	a, err := h.load(c, m, res.Bucket.ID)
	if err != nil {
		return h.internal(c, err)
	}
	num := res.Number.Grouped()
	a.ReferenceNumber = &num
	c.Set(fiber.HeaderLocation, h.BaseURL+"/api/v1/accesses/"+strconv.FormatInt(a.ID, 10))
	return c.Status(http.StatusCreated).JSON(a)
}

// replay answers a request whose Idempotency-Key made an access already:
// the same body gets that access (200, no number), another body 422.
func (h *Handler) replay(c fiber.Ctx, m buckets.Machine, rec *record, reqHash []byte) error {
	if !bytes.Equal(rec.RequestHash, reqHash) {
		return h.problem(c, http.StatusUnprocessableEntity, "idempotency-key-reused", "api.problem.idemreused")
	}
	a, err := h.load(c, m, rec.BucketID)
	if err != nil {
		return h.internal(c, err)
	}
	c.Set("Idempotent-Replayed", "true")
	c.Set(fiber.HeaderLocation, h.BaseURL+"/api/v1/accesses/"+strconv.FormatInt(a.ID, 10))
	return c.Status(http.StatusOK).JSON(a)
}

// load is the answer about access id as m sees it.
func (h *Handler) load(c fiber.Ctx, m buckets.Machine, id int64) (*Access, error) {
	ctx := c.Context()
	b, studies, err := h.Buckets.ForMachine(ctx, m, id)
	if err != nil {
		return nil, err
	}
	rec, err := findByBucket(ctx, h.DB, id)
	if err != nil {
		return nil, err
	}
	return h.accessOf(b, studies, rec, h.Buckets.Time()), nil
}
