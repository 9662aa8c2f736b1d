package print

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/informed"
)

// noticeForm is the print form's part for issue 17: the message when a
// result is ready, the new-device alert, and a contact for a
// date-of-birth-only access (which has none of its own).
type noticeForm struct {
	ReadyNotice bool
	DeviceAlert bool
	Contact     string
}

// defaultNotice presets the choices: this user's last ones, else the
// department's default for the message and no alert.
func (h *Handlers) defaultNotice(ctx context.Context, u *database.User, dept int64) (noticeForm, error) {
	p, err := informed.UserPrefs(ctx, h.Buckets.DB, u.ID)
	if err != nil || p != nil {
		if p == nil {
			return noticeForm{}, err
		}
		return noticeForm{ReadyNotice: p.ReadyNotice, DeviceAlert: p.DeviceAlert}, nil
	}
	on, err := informed.ReadyDefault(ctx, h.Buckets.DB, dept)
	return noticeForm{ReadyNotice: on}, err
}

func parseNotice(c fiber.Ctx) noticeForm {
	return noticeForm{
		ReadyNotice: c.FormValue("ready_notice") != "",
		DeviceAlert: c.FormValue("device_alert") != "",
		Contact:     strings.TrimSpace(c.FormValue("notice_contact")),
	}
}

// check turns the form into an access's settings: the contact counts only
// for a date-of-birth-only access, as an e-mail address or a mobile number
// of the chosen SMS country (the print form's rules). It returns the field
// error's i18n key, or "".
func (n noticeForm) check(f buckets.PrintForm, dept *database.Department) (*informed.Settings, string) {
	st := &informed.Settings{ReadyNotice: n.ReadyNotice, DeviceAlert: n.DeviceAlert}
	if f.Verification != database.VerifyDOB || n.Contact == "" {
		return st, ""
	}
	if strings.Contains(n.Contact, "@") {
		if !buckets.ValidEmail(n.Contact) {
			return nil, "informed.print.contact.invalid"
		}
		st.ContactChannel, st.Contact = database.VerifyEmail, n.Contact
		return st, ""
	}
	e164, ok := buckets.MobileE164(n.Contact, f.SMSRegion)
	if !ok || !buckets.RegionAllowed(dept, f.SMSRegion) {
		return nil, "informed.print.contact.invalid"
	}
	st.ContactChannel, st.Contact = database.VerifySMS, e164
	return st, ""
}

// keepNotice stores the settings in the print's transaction.
func keepNotice(ctx context.Context, tx bun.Tx, bucketID int64, st *informed.Settings) error {
	if !st.ReadyNotice && !st.DeviceAlert && st.Contact == "" {
		return nil
	}
	st.BucketID = bucketID
	return informed.SaveSettings(ctx, tx, st)
}
