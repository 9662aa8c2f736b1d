package print

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/web"
)

// confirmView is STEP 3.
type confirmView struct {
	Bucket     *database.Bucket
	Studies    []*database.Study
	Ref        string // grouped; "" once the session no longer holds it
	Dest       string // masked
	Access     string
	HowTo      string
	ValidUntil string
	CopyText   string
	LetterURL  string
	OpenNow    bool
	AgainURL   string // PRINT AGAIN: STEP 2 with the same selection
}

// Confirm is STEP 3: what was printed, with PRINT THIS INFORMATION (same
// number, another language), COPY THIS INFORMATION and PRINT AGAIN. The number
// shows only while this session holds it; afterwards it cannot be recovered.
func (h *Handlers) Confirm(c fiber.Ctx) error {
	b, studies, err := h.loadBucket(c, web.CurrentUser(c))
	if err != nil {
		return err
	}
	t := i18n.For(web.Lang(c))
	lt := i18n.For(b.Language) // the copied text is for the patient, in the letter's language
	v := &confirmView{
		Bucket: b, Studies: studies,
		Dest:       maskedDestination(b),
		Access:     letter.AccessText(t, b.Scope, b.Anonymized),
		HowTo:      letter.HowToText(t, b.Verification, b.Destination),
		ValidUntil: letter.FormatDate(web.Lang(c), b.ValidUntil),
		LetterURL:  "/staff/print/" + strconv.FormatInt(b.ID, 10) + "/letter?lang=" + b.Language,
		AgainURL:   "/staff/print?" + studyArgs(buckets.StudyIDs(studies)),
	}
	if n, ok := h.recallRef(c, b.ID); ok {
		v.Ref = n.Grouped()
		v.OpenNow = c.Query("open") == "1"
		v.CopyText = copyText(lt, h.Buckets.Letters.SignInURL, n, b)
	}
	return web.Render(c, http.StatusOK, "staff/print_confirm", web.NewPage(c, "print.confirm.title", v))
}

// copyText is what COPY THIS INFORMATION puts on the clipboard: reference
// number, validity and how to sign in, ready to paste into an e-mail.
func copyText(t i18n.Translator, signIn string, n refnum.Number, b *database.Bucket) string {
	lines := []string{
		t("letter.ref.label") + ": " + n.Grouped(),
		t("letter.valid", "Date", letter.FormatDate(b.Language, b.ValidUntil)),
		t("letter.howto.title") + ":",
		"1. " + t("letter.howto.open", "URL", letter.QRURL(signIn, n, b.Language)),
		"2. " + letter.HowToText(t, b.Verification, b.Destination),
		letter.AccessText(t, b.Scope, b.Anonymized),
	}
	return strings.Join(lines, "\n")
}

func maskedDestination(b *database.Bucket) string {
	switch b.Verification {
	case database.VerifySMS:
		return letter.MaskPhone(b.Destination)
	case database.VerifyEmail:
		return letter.MaskEmail(b.Destination)
	}
	return ""
}

// loadBucket finds a bucket the user may see (404 otherwise) with its patient,
// department and studies.
func (h *Handlers) loadBucket(c fiber.Ctx, u *database.User) (*database.Bucket, []*database.Study, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, nil, err
	}
	ctx := c.Context()
	b, err := h.Buckets.ForStaff(ctx, u, id)
	if errors.Is(err, buckets.ErrNotFound) {
		return nil, nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	if err != nil {
		return nil, nil, err
	}
	studies, err := h.Buckets.Studies(ctx, b.ID)
	if err != nil {
		return nil, nil, err
	}
	return b, studies, nil
}
