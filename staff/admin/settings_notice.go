package admin

import (
	"context"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/staff/staffweb"
)

// noticeSettings is the settings page's part for the "result ready"
// message: the department's default at print time and this month's count.
type noticeSettings struct {
	ReadyDefault bool
	Month        informed.MonthCount
	fromForm     bool // ReadyDefault is what was posted
}

func (h *Handlers) loadNotice(c fiber.Ctx, data *settingsData) error {
	if h.Informed == nil {
		return nil
	}
	var err error
	if !data.Notice.fromForm {
		if data.Notice.ReadyDefault, err = informed.ReadyDefault(c.Context(), h.Informed.DB, data.Dept.ID); err != nil {
			return err
		}
	}
	data.Notice.Month, err = h.Informed.SentThisMonth(c.Context(), data.Dept.ID)
	return err
}

// saveReadyDefault stores the default with its audit row when it changed.
func (h *Handlers) saveReadyDefault(c fiber.Ctx, deptID int64, on bool) error {
	if h.Informed == nil {
		return nil
	}
	return database.InTx(c.Context(), h.Informed.DB, func(ctx context.Context, tx bun.Tx) error {
		was, err := informed.ReadyDefault(ctx, tx, deptID)
		if err != nil || was == on {
			return err
		}
		if err := informed.SetReadyDefault(ctx, tx, deptID, on); err != nil {
			return err
		}
		return staffweb.Actor(c).Record(ctx, tx, audit.SettingsUpdate, &deptID, map[string]any{"ready_notice_default": on})
	})
}
