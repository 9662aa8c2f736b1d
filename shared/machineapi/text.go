package machineapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
)

// badText answers a body whose text PostgreSQL would not keep as sent, as
// the page forms do (web.RefuseBadFormText): not UTF-8 is 400 (RFC 8259
// wants UTF-8; the decoder would swap the bytes for U+FFFD), a NUL
// character in a key or a string is 422 naming the field (the driver drops
// it: "AC\u0000C1" would find study "ACC1", and a reason could shrink under
// its length rule into a 500), titled by the i18n key title. ok is false
// when it answered.
func (h *Handler) badText(c fiber.Ctx, raw []byte, title string) (ok bool, err error) {
	if !utf8.Valid(raw) {
		return false, h.problem(c, http.StatusBadRequest, "bad-json", "api.problem.json")
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return true, nil // the typed decode answers it
	}
	field, found := nulField("", v)
	if !found {
		return true, nil
	}
	return false, h.problem(c, http.StatusUnprocessableEntity, "invalid", title,
		fieldProblems(problemLang(c), buckets.FieldErrors{{Field: field, Key: "error.form.encoding", Args: []any{"Field", field}}})...)
}

// nulField is the path ("studies[0].accession_number") of the first key or
// string under v that holds a NUL character.
func nulField(path string, v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return path, strings.IndexByte(v, 0) >= 0
	case []any:
		for i, e := range v {
			if f, ok := nulField(path+"["+strconv.Itoa(i)+"]", e); ok {
				return f, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return strconv.QuoteToASCII(p), true
			}
			if f, ok := nulField(p, v[k]); ok {
				return f, true
			}
		}
	}
	return "", false
}
