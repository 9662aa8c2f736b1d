package audit

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/store"
)

// Actor is who does an action, for the audit event a domain function writes
// in its transaction: a staff user (web pages) or, with User nil, the command
// line ("cli") or the system.
type Actor struct {
	User *store.User
	Name string // when User is nil: "cli", "system"
	IP   string
}

// Staff is the actor for a signed-in staff user at ip.
func Staff(u *store.User, ip string) Actor { return Actor{User: u, IP: ip} }

// CLI is the actor of a command-line action.
func CLI() Actor { return Actor{Name: "cli"} }

// Record appends action by a, for department dept (nil: none), with details.
func (a Actor) Record(ctx context.Context, db bun.IDB, action string, dept *int64, details map[string]any) error {
	e := &Event{Action: action, ActorKind: "system", ActorName: a.Name, DepartmentID: dept, IP: a.IP, Details: details}
	if a.User != nil {
		e.ActorKind, e.ActorID, e.ActorName = "staff", &a.User.ID, a.User.Username
	}
	return Record(ctx, db, e)
}
