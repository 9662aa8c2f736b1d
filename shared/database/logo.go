package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"
)

// DepartmentLogo is the letter-header logo of a department, a PNG re-encoded
// by the settings page (never the uploaded bytes).
type DepartmentLogo struct {
	bun.BaseModel `bun:"table:department_logos"`

	DepartmentID int64     `bun:"department_id,pk"`
	PNG          []byte    `bun:"png"`
	Width        int       `bun:"width"`
	Height       int       `bun:"height"`
	UpdatedAt    time.Time `bun:"updated_at,nullzero,default:now()"`
}

// LoadLogo returns the department's logo PNG, or nil when it has none.
func LoadLogo(ctx context.Context, db bun.IDB, departmentID int64) ([]byte, error) {
	var png []byte
	err := db.NewSelect().Model((*DepartmentLogo)(nil)).Column("png").Where("department_id = ?", departmentID).Scan(ctx, &png)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return png, err
}
