package print

import (
	"strings"

	"github.com/gofiber/fiber/v3"
	"github.com/nyaruka/phonenumbers"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// regionOption is one entry of the country-prefix menu.
type regionOption struct {
	Code   string
	Prefix int
}

// regionOptions are the SMS prefixes RadPass sends to that the department allows.
func regionOptions(dept *database.Department) []regionOption {
	var out []regionOption
	for _, r := range buckets.SMSRegions {
		if buckets.RegionAllowed(dept, r) {
			out = append(out, regionOption{Code: r, Prefix: phonenumbers.GetCountryCodeForRegion(r)})
		}
	}
	return out
}

// parsePrintForm reads STEP 2 as typed (normalised), so a wrong value is
// shown back as it was; its rules are buckets.PrintForm.Check.
func parsePrintForm(c fiber.Ctx) buckets.PrintForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	on := func(k string) bool { return c.FormValue(k) != "" }
	f := buckets.PrintForm{
		Verification: v("verification"),
		SMSRegion:    v("sms_region"),
		Phone:        v("phone"),
		Email:        v("email"),
		Scope:        v("scope"),
		Reason:       v("reason"),
		Language:     v("language"),
		ValidUntil:   v("valid_until"),
		Agreed:       on("agreed"),
		AddLabel:     on("add_label"),
		LabelID:      v("label"),
		LabelFor:     v("label_for"),
		Anonymize:    on("anonymize"),
		Message:      c.FormValue("message"),
		PrintNow:     on("print_now"),
		FormToken:    c.FormValue("form_token"),
	}
	f.Normalize()
	return f
}
