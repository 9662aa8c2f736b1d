package users

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/i18n"
)

// SetLanguage stores user id's display language (one of i18n.Languages).
func SetLanguage(ctx context.Context, db bun.IDB, id int64, lang string) error {
	if !i18n.Valid(lang) {
		return apperr.New(apperr.Invalid, "error.language")
	}
	_, err := db.NewUpdate().Table("users").Set("language = ?", lang).Where("id = ?", id).Exec(ctx)
	return err
}
