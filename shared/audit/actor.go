package audit

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// Actor kinds as stored in audit_events.actor_kind.
const (
	KindStaff   = "staff"
	KindPatient = "patient"
	KindAPI     = "api" // a machine token (STOW-RS, reports)
	KindSystem  = "system"
	KindShare   = "share" // a doctor signed in through a patient's share
	KindLink    = "link"  // a viewer link (a DICOMweb client of a patient's access)
)

// Actor is who does an action; every audit event is built from one (Event),
// so the actor columns are filled the same way everywhere.
type Actor struct {
	Kind   string
	User   *database.User // a signed-in staff user, or nil
	ID     *int64         // actor_id: the staff user or the machine token
	Name   string         // actor_name
	Bucket *int64         // a patient's bucket
	IP     string
}

// Staff is the actor for a signed-in staff user at ip; with u nil, the system.
func Staff(u *database.User, ip string) Actor {
	if u == nil {
		return Actor{Kind: KindSystem, IP: ip}
	}
	return Actor{Kind: KindStaff, User: u, ID: &u.ID, Name: u.Username, IP: ip}
}

// StaffName is a staff sign-in try under a typed account name, whose user
// may not exist (u nil); the name is the one typed.
func StaffName(u *database.User, name, ip string) Actor {
	a := Actor{Kind: KindStaff, Name: name, IP: ip}
	if u != nil {
		a.User, a.ID = u, &u.ID
	}
	return a
}

// Patient is the patient holding bucket id (nil: a try that matched none).
func Patient(bucket *int64, ip string) Actor {
	a := Actor{Kind: KindPatient, Bucket: bucket, IP: ip}
	if bucket != nil {
		a.Name = "bucket:" + strconv.FormatInt(*bucket, 10)
	}
	return a
}

// Share is the doctor using share shareID of bucket bucketID at ip.
func Share(bucketID, shareID int64, ip string) Actor {
	return Actor{Kind: KindShare, ID: &shareID, Name: "share:" + strconv.FormatInt(shareID, 10), Bucket: &bucketID, IP: ip}
}

// Machine is a client of the machine API with token id and name.
func Machine(tokenID int64, tokenName, ip string) Actor {
	return Actor{Kind: KindAPI, ID: &tokenID, Name: "token:" + tokenName, IP: ip}
}

// ViewerLink is a DICOMweb client using viewer link linkID of bucket bucketID.
func ViewerLink(bucketID, linkID int64, ip string) Actor {
	return Actor{Kind: KindLink, ID: &linkID, Name: "link:" + strconv.FormatInt(linkID, 10), Bucket: &bucketID, IP: ip}
}

// System is the server acting on its own (a block after too many failures).
func System() Actor { return Actor{Kind: KindSystem} }

// CLI is the actor of a command-line action.
func CLI() Actor { return Actor{Kind: KindSystem, Name: "cli"} }

// Event is action by a, for department dept (nil: none), with details.
// The caller may set Outcome and BucketID on the result.
func (a Actor) Event(action string, dept *int64, details map[string]any) *Event {
	kind := a.Kind
	if kind == "" {
		kind = KindSystem
	}
	return &Event{Action: action, ActorKind: kind, ActorID: a.ID, ActorName: a.Name,
		DepartmentID: dept, BucketID: a.Bucket, IP: a.IP, Details: details}
}

// Record appends action by a, for department dept (nil: none), with details.
func (a Actor) Record(ctx context.Context, db bun.IDB, action string, dept *int64, details map[string]any) error {
	return Record(ctx, db, a.Event(action, dept, details))
}
