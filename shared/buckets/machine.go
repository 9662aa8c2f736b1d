package buckets

import (
	"context"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
)

// Machine is an API token acting for its department (the RIS API): it
// creates accesses of its department's studies and manages the accesses
// that tokens of its department created.
type Machine struct {
	TokenID      int64
	Name         string
	DepartmentID int64
}

func (m Machine) actor(ip string) audit.Actor { return audit.Machine(m.TokenID, m.Name, ip) }

// sees: an access of the token's department that a token created (accesses
// printed at the desk are managed at the desk).
func (m Machine) sees(b *database.Bucket) bool {
	return b.DepartmentID == m.DepartmentID && b.CreatedByToken != nil
}

// creator is who creates a bucket: a staff user or a machine token.
type creator struct {
	user    *database.User
	machine *Machine
}

func (c creator) stamp(b *database.Bucket) {
	if c.machine != nil {
		b.CreatedByToken = &c.machine.TokenID
		return
	}
	b.CreatedBy = c.user.ID
}

func (c creator) actor(ip string) audit.Actor {
	if c.machine != nil {
		return c.machine.actor(ip)
	}
	return audit.Staff(c.user, ip)
}

// labeller is the staff user a print's label rows name (0: none).
func (c creator) labeller() int64 {
	if c.user != nil {
		return c.user.ID
	}
	return 0
}

// formKey names a form token in flight: per user, or per token.
func (c creator) formKey(tokenHash []byte) string {
	if c.machine != nil {
		return "t" + strconv.FormatInt(c.machine.TokenID, 10) + ":" + string(tokenHash)
	}
	return "u" + strconv.FormatInt(c.user.ID, 10) + ":" + string(tokenHash)
}

// conflict is the insert's ON CONFLICT clause: the unique index of the
// creator's form tokens.
func (c creator) conflict() string {
	if c.machine != nil {
		return "CONFLICT (created_by_token, form_token_hash) WHERE form_token_hash IS NOT NULL AND created_by_token IS NOT NULL DO NOTHING"
	}
	return "CONFLICT (created_by, form_token_hash) WHERE form_token_hash IS NOT NULL DO NOTHING"
}

// where narrows q to the creator's bucket of a form token hash.
func (c creator) where(q *bun.SelectQuery, tokenHash []byte) *bun.SelectQuery {
	if c.machine != nil {
		return q.Where("created_by_token = ? AND form_token_hash = ?", c.machine.TokenID, tokenHash)
	}
	return q.Where("created_by = ? AND form_token_hash = ?", c.user.ID, tokenHash)
}

// StudyRef names a study the way a RIS knows it: its Study Instance UID or
// its accession number (exactly one of the two).
type StudyRef struct {
	StudyUID  string `json:"study_uid,omitempty"`
	Accession string `json:"accession_number,omitempty"`
}

// MaxStudyRefs bounds the studies of one machine print.
const MaxStudyRefs = 100

// SelectByRefs is Select for a machine token of department dept: each
// reference names studies of that department (an accession number may name
// several); an unknown one, or another department's, is a field error of
// studies[i], as is a reference with neither or both names. The rules of
// the selection itself (one patient, a known birth date) are Select's, as a
// field error of "studies".
func (s *Service) SelectByRefs(ctx context.Context, dept int64, refs []StudyRef) (*Selection, FieldErrors, error) {
	var errs FieldErrors
	if len(refs) == 0 {
		return nil, FieldErrors{{Field: "studies", Key: "access.error.studies.none"}}, nil
	}
	if len(refs) > MaxStudyRefs {
		return nil, FieldErrors{{Field: "studies", Key: "access.error.studies.many", Args: []any{"Max", MaxStudyRefs}}}, nil
	}
	var ids []int64
	seen := map[int64]bool{}
	for i, r := range refs {
		field := "studies[" + strconv.Itoa(i) + "]"
		if (r.StudyUID == "") == (r.Accession == "") || len(r.StudyUID) > 64 || len(r.Accession) > 64 {
			errs = append(errs, FieldError{Field: field, Key: "access.error.study.ref"})
			continue
		}
		var found []int64
		q := s.DB.NewSelect().Table("studies").Column("id").Where("department_id = ?", dept)
		if r.StudyUID != "" {
			q = q.Where("study_uid = ?", r.StudyUID)
		} else {
			q = q.Where("accession = ?", r.Accession)
		}
		if err := q.Order("id").Limit(MaxStudyRefs+1).Scan(ctx, &found); err != nil {
			return nil, nil, err
		}
		if len(found) == 0 {
			errs = append(errs, FieldError{Field: field, Key: "access.error.study.unknown"})
			continue
		}
		for _, id := range found {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	if len(ids) > MaxStudyRefs {
		return nil, FieldErrors{{Field: "studies", Key: "access.error.studies.many", Args: []any{"Max", MaxStudyRefs}}}, nil
	}
	sel, err := s.selectWhere(ctx, ids, func(d int64) bool { return d == dept })
	if ae, ok := err.(*apperr.Error); ok && ae.Code == apperr.Invalid {
		return nil, FieldErrors{{Field: "studies", Key: ae.Key, Args: ae.Args}}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return sel, nil, nil
}

// ForMachine loads access id with its studies if m sees it (ErrNotFound otherwise).
func (s *Service) ForMachine(ctx context.Context, m Machine, id int64) (*database.Bucket, []*database.Study, error) {
	if id <= 0 {
		return nil, nil, ErrNotFound
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !m.sees(b) {
		return nil, nil, ErrNotFound
	}
	studies, err := s.Studies(ctx, b.ID)
	return b, studies, err
}

// RevokeByMachine is Revoke by a machine token, for the accesses it sees.
func (s *Service) RevokeByMachine(ctx context.Context, m Machine, id int64, ip, reason string) (*database.Bucket, error) {
	return s.revoke(ctx, machineManager{m}, id, ip, reason)
}

// ExtendByMachine is Extend by a machine token, for the accesses it sees.
func (s *Service) ExtendByMachine(ctx context.Context, m Machine, id int64, ip, reason string, until time.Time) (*database.Bucket, error) {
	return s.extend(ctx, machineManager{m}, id, ip, reason, until)
}

// LetterByMachine records that token m had the letter of b served in lang.
func (s *Service) LetterByMachine(ctx context.Context, m Machine, ip string, b *database.Bucket, lang string) error {
	ev := m.actor(ip).Event(audit.BucketLetter, &b.DepartmentID, map[string]any{"language": lang})
	ev.BucketID = &b.ID
	return audit.Record(ctx, s.DB, ev)
}

// manager is who runs a management action: a staff user or a machine token.
type manager interface {
	sees(b *database.Bucket) bool
	mayManage(b *database.Bucket) bool
	actor(ip string) audit.Actor
}

type staffManager struct{ u *database.User }

func (m staffManager) sees(b *database.Bucket) bool {
	return m.u != nil && m.u.CanSeeDepartment(b.DepartmentID)
}
func (m staffManager) mayManage(b *database.Bucket) bool { return CanManage(m.u, b) }
func (m staffManager) actor(ip string) audit.Actor       { return audit.Staff(m.u, ip) }

type machineManager struct{ m Machine }

func (m machineManager) sees(b *database.Bucket) bool  { return m.m.sees(b) }
func (machineManager) mayManage(*database.Bucket) bool { return true }
func (m machineManager) actor(ip string) audit.Actor   { return m.m.actor(ip) }
