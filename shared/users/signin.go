package users

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/database"
)

// Outcome is how a staff sign-in try ended; the handler maps it to a page.
type Outcome int

const (
	SignedIn      Outcome = iota // session made (then ran), audited "ok"
	MustChange                   // right password after a reset: a new password first
	Wrong                        // unknown user, wrong password or disabled account: one answer for all
	Locked                       // this account name from this address: too many failures
	AddressLocked                // this address: too many failures across account names
	Busy                         // every slot taken for the whole wait: try again shortly
)

var outcomeNames = [...]string{"signed_in", "must_change", "wrong", "locked", "address_locked", "busy"}

func (o Outcome) String() string { return outcomeNames[o] }

// SignInRequest is a staff sign-in try as typed, from address IP.
type SignInRequest struct {
	Username, Password, IP string
}

// SignInResult is the outcome, the user when known, and the account name
// as normalized (the page echoes it).
type SignInResult struct {
	Outcome  Outcome
	User     *database.User
	Username string
}

// SignIns runs the staff sign-in protocol: throttles, password check,
// disabled accounts, forced password change and the audit trail.
type SignIns struct {
	DB       bun.IDB
	Throttle *auth.Throttle // per account name and address
	// IPThrottle counts failed sign-ins per client address (nil: none).
	IPThrottle *auth.Throttle
	Log        *slog.Logger
}

var errNoUser = errors.New("no such user")

// reserve takes a slot of th for key within wait. A lock ends the try as
// locked (recorded with detail), a full queue as Busy: ok is false then.
func (s *SignIns) reserve(ctx context.Context, th *auth.Throttle, key string, wait time.Duration, res *SignInResult, locked Outcome, detail, ip string) (ok bool, err error) {
	switch err := th.Reserve(ctx, key, wait); {
	case errors.Is(err, auth.ErrLocked):
		s.Record(ctx, audit.SignInLock, detail, nil, res.Username, ip)
		res.Outcome = locked
		return false, nil
	case errors.Is(err, auth.ErrBusy):
		res.Outcome = Busy
		return false, nil
	default:
		return err == nil, err
	}
}

// SignIn checks the credentials of r. For a right password on an enabled
// account without a pending password change, then runs (the caller makes
// the session there) before the sign-in is audited; its error is returned.
//
// Every limit reserves a slot before the password is checked (one step
// under a per-key lock each), so parallel guesses cannot all slip past a
// limit together, and 80 parallel sign-ins from one address cannot all
// hash. Only failed checks keep their slot: a right password gives it back,
// and while the slots are held by checks in flight a sign-in waits for one
// rather than being refused, so a shift change behind one hospital address
// is never locked out by its own correct sign-ins. One address guessing
// across many account names is stopped first; its refused tries do not
// count against the accounts it names.
func (s *SignIns) SignIn(ctx context.Context, r SignInRequest, then func(u *database.User) error) (res *SignInResult, err error) {
	username := strings.ToLower(strings.TrimSpace(r.Username))
	res = &SignInResult{Outcome: Wrong, Username: username}
	if username == "" || r.Password == "" || len(username) > 64 || len(r.Password) > MaxPassword {
		return res, nil
	}
	ipKey := auth.StaffIPKey(r.IP)
	// One budget for all the waiting (address slot, account slot, hash slot).
	deadline := time.Now().Add(auth.HashWait)
	left := func() time.Duration { return max(time.Until(deadline), time.Millisecond) }
	if s.IPThrottle != nil {
		if ok, err := s.reserve(ctx, s.IPThrottle, ipKey, left(), res, AddressLocked, "refused-ip", r.IP); err != nil {
			return nil, err
		} else if !ok {
			return res, nil
		}
	}
	// The lock is per account name and address: wrong passwords typed
	// elsewhere never lock a radiographer out at their own workstation.
	key := auth.StaffPairKey(username, r.IP)
	ipHeld, keyHeld, failed, locked := s.IPThrottle != nil, false, false, false
	releaseKey := func(failed bool) error {
		keyHeld = false
		var err error
		locked, err = s.Throttle.Release(ctx, key, failed)
		return err
	}
	// Whatever happens below, the slots taken are given back; only a
	// wrong password counts.
	defer func() {
		if keyHeld {
			if err := releaseKey(false); err != nil {
				s.warn(ctx, "sign-in release failed", err)
			}
		}
		if ipHeld {
			if _, err := s.IPThrottle.Release(ctx, ipKey, failed); err != nil {
				s.warn(ctx, "sign-in release failed", err)
			}
		}
	}()
	if ok, err := s.reserve(ctx, s.Throttle, key, left(), res, Locked, "refused", r.IP); err != nil {
		return nil, err
	} else if !ok {
		return res, nil
	}
	keyHeld = true
	// Across all addresses an account is only slowed down, never locked.
	acctKey := auth.StaffAccountKey(username)
	delay, err := s.Throttle.Slowdown(ctx, acctKey)
	if err != nil {
		return nil, err
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.refund(ctx, acctKey)
			return nil, ctx.Err()
		}
	}
	u, err := s.checkCredentials(ctx, username, r.Password, left())
	res.User = u
	if errors.Is(err, auth.ErrBusy) {
		// Not a failure of the user's: give every reserved try back.
		s.refund(ctx, acctKey)
		res.Outcome = Busy
		return res, nil
	}
	if errors.Is(err, errNoUser) {
		failed = true
		if err := releaseKey(true); err != nil {
			return nil, err
		}
		s.Record(ctx, audit.SignInFail, "failed", u, username, r.IP)
		if locked {
			res.Outcome = Locked
		}
		return res, nil
	}
	s.refund(ctx, acctKey)
	if err != nil {
		return nil, err
	}
	if err := releaseKey(false); err != nil {
		return nil, err
	}
	if err := s.Throttle.Reset(ctx, key); err != nil {
		return nil, err
	}
	if u.MustChangePassword {
		// After a password reset: a new password first, then signed in.
		s.Record(ctx, audit.SignIn, "password_change_required", u, username, r.IP)
		res.Outcome = MustChange
		return res, nil
	}
	if then != nil {
		if err := then(u); err != nil {
			return nil, err
		}
	}
	s.Record(ctx, audit.SignIn, "ok", u, username, r.IP)
	res.Outcome = SignedIn
	return res, nil
}

// checkCredentials returns the user when the password matches an enabled
// account; errNoUser (with the user, if known) otherwise.
func (s *SignIns) checkCredentials(ctx context.Context, username, password string, wait time.Duration) (*database.User, error) {
	u := new(database.User)
	err := s.DB.NewSelect().Model(u).Where("username = ?", username).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		if err := auth.VerifyNoUser(ctx, password, wait); err != nil {
			return nil, err
		}
		return nil, errNoUser
	}
	if err != nil {
		return nil, err
	}
	ok, err := auth.Verify(ctx, password, u.PasswordHash, wait)
	if err != nil {
		return nil, err
	}
	if !ok || u.Disabled {
		return u, errNoUser
	}
	return u, nil
}

// refund gives back tries Slowdown counted (a success, or a try never
// checked). The answer does not depend on it, so a failure is only logged.
func (s *SignIns) refund(ctx context.Context, keys ...string) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range keys {
		if err := s.Throttle.Refund(ctx, k); err != nil {
			s.warn(ctx, "sign-in refund failed", err)
		}
	}
}

// Record audits a sign-in or sign-out step of account name username (u
// when known). The answer never depends on it, so a failure is only logged.
func (s *SignIns) Record(ctx context.Context, action, outcome string, u *database.User, username, ip string) {
	var dept *int64
	if u != nil {
		dept = u.DepartmentID
	}
	e := audit.StaffName(u, username, ip).Event(action, dept, nil)
	e.Outcome = outcome
	if err := audit.Record(ctx, s.DB, e); err != nil && s.Log != nil {
		s.Log.ErrorContext(ctx, "audit write failed", "action", action, "error", err.Error())
	}
}

func (s *SignIns) warn(ctx context.Context, msg string, err error) {
	if s.Log != nil {
		s.Log.WarnContext(ctx, msg, "error", err.Error())
	}
}
