package buckets_test

import (
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/otp"
)

func TestOTPIsSixDigitsAndValidForTenMinutes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		after time.Duration
		want  buckets.Outcome
	}{
		{"at once", 0, buckets.Open},
		{"at 9 min 59 s", 9*time.Minute + 59*time.Second, buckets.Open},
		{"at 10 min 0 s", 10 * time.Minute, buckets.Open},
		{"at 10 min 1 s", 10*time.Minute + time.Second, buckets.Refused},
		{"an hour later", time.Hour, buckets.Refused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := f.print(database.VerifySMS, nil, nil)
			c := f.issue(p.b.ID, "198.51.100.7")
			if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(c.Plain) {
				t.Fatalf("code %q is not 6 digits", c.Plain)
			}
			if c.Channel != database.VerifySMS || c.Destination != "+32470123489" || c.Language != "en" {
				t.Fatalf("code goes to %s %s in %s", c.Channel, c.Destination, c.Language)
			}
			f.clk.Add(tc.after)
			if got := f.checkOTP(p.b.ID, c.Plain); got != tc.want {
				t.Fatalf("right code %v after issue: %v, want %v", tc.after, got, tc.want)
			}
			wantFailures := 0
			if tc.want == buckets.Refused {
				wantFailures = 1
			}
			if got := f.bucket(p.b.ID).Failures; got != wantFailures {
				t.Fatalf("%d failures, want %d", got, wantFailures)
			}
		})
	}
}

func TestOTPSingleUseAndBoundToItsBucket(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.print(database.VerifySMS, nil, nil)
	b := f.print(database.VerifyEmail, nil, nil)
	ca := f.issue(a.b.ID, "198.51.100.7").Plain
	cb := f.issue(b.b.ID, "198.51.100.7").Plain
	for ca == cb { // one chance in a million: draw B's again
		f.clk.Add(otp.CooldownResend)
		cb = f.issue(b.b.ID, "198.51.100.7").Plain
	}
	if got := f.checkOTP(b.b.ID, ca); got != buckets.Refused {
		t.Fatalf("A's code on B: %v", got)
	}
	if got := f.bucket(b.b.ID).Failures; got != 1 {
		t.Fatalf("A's code on B counted %d failures on B, want 1", got)
	}
	if got := f.checkOTP(a.b.ID, ca); got != buckets.Open {
		t.Fatalf("A's code on A: %v", got)
	}
	if got := f.checkOTP(a.b.ID, ca); got != buckets.Refused {
		t.Fatalf("A's code used twice: %v", got)
	}
	if got := f.bucket(a.b.ID).Failures; got != 1 {
		t.Fatalf("the second use counted %d failures, want 1", got)
	}
	if got := f.checkOTP(b.b.ID, cb); got != buckets.Open {
		t.Fatalf("B's own code: %v", got)
	}
}

func TestOTPResendReplacesTheCodeKeepsTheCounter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.print(database.VerifySMS, nil, nil)
	first := f.issue(p.b.ID, "198.51.100.7").Plain
	f.checkOTP(p.b.ID, otherCode(first))
	f.checkOTP(p.b.ID, otherCode(first))

	f.clk.Add(otp.CooldownResend - time.Second)
	if _, err := f.s.IssueOTP(f.ctx, p.b.ID, "198.51.100.7"); !errors.Is(err, buckets.ErrCooldown) {
		t.Fatalf("resend after 59 s: %v, want ErrCooldown", err)
	}
	f.clk.Add(time.Second)
	second := f.issue(p.b.ID, "198.51.100.7").Plain
	if got := f.bucket(p.b.ID).Failures; got != 2 {
		t.Fatalf("a resend left %d failures, want 2 (unchanged)", got)
	}
	if second != first {
		if got := f.checkOTP(p.b.ID, first); got != buckets.Refused {
			t.Fatalf("the replaced code: %v", got)
		}
		if got := f.bucket(p.b.ID).Failures; got != 3 {
			t.Fatalf("the replaced code counted to %d, want 3", got)
		}
	}
	if got := f.checkOTP(p.b.ID, second); got != buckets.Open {
		t.Fatalf("the new code: %v", got)
	}
	if got := f.bucket(p.b.ID).Failures; got != 0 {
		t.Fatalf("the right code left %d failures", got)
	}
}

func TestOTPSendLimits(t *testing.T) {
	t.Parallel()
	t.Run("five per bucket per day", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.print(database.VerifySMS, nil, nil)
		for i := 0; i < otp.MaxSendsPerDay; i++ {
			f.issue(p.b.ID, "198.51.100.7")
			f.clk.Add(otp.CooldownResend)
		}
		if _, err := f.s.IssueOTP(f.ctx, p.b.ID, "198.51.100.9"); !errors.Is(err, buckets.ErrSendLimit) {
			t.Fatalf("sixth send in a day: %v, want ErrSendLimit", err)
		}
		// 24 h after the first send one is free again.
		f.clk.Set(start.Add(24*time.Hour + time.Second))
		f.issue(p.b.ID, "198.51.100.7")
	})
	t.Run("per address", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var ps []printed
		for i := 0; i < 3; i++ {
			ps = append(ps, f.print(database.VerifyEmail, nil, nil))
		}
		for sent := 0; sent < buckets.MaxSendsPerIPHour; sent++ {
			f.issue(ps[sent%2].b.ID, "198.51.100.7")
			if sent%2 == 1 {
				f.clk.Add(otp.CooldownResend)
			}
		}
		if _, err := f.s.IssueOTP(f.ctx, ps[2].b.ID, "198.51.100.7"); !errors.Is(err, buckets.ErrIPLimit) {
			t.Fatalf("send %d from one address: %v, want ErrIPLimit", buckets.MaxSendsPerIPHour+1, err)
		}
		f.issue(ps[2].b.ID, "198.51.100.8") // another address may
		f.clk.Add(time.Hour)
		f.clk.Add(otp.CooldownResend)
		f.issue(ps[2].b.ID, "198.51.100.7") // and this one an hour later
	})
	t.Run("a failed send counts for no limit and leaves no code", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.print(database.VerifySMS, nil, nil)
		var last *buckets.Code
		// More failed sends than any limit allows, without waiting.
		for i := 0; i < buckets.MaxSendsPerIPHour+otp.MaxSendsPerDay; i++ {
			c, err := f.s.IssueOTP(f.ctx, p.b.ID, "198.51.100.7")
			if err != nil {
				t.Fatalf("send %d after failed sends: %v", i+1, err)
			}
			if err := f.s.SendDone(f.ctx, c, p.b.ID, "198.51.100.7", errors.New("provider down")); err != nil {
				t.Fatal(err)
			}
			last = c
		}
		if b := f.bucket(p.b.ID); b.OTPHash != nil || b.OTPExpiresAt != nil {
			t.Fatal("a failed send left its code usable")
		}
		if got := f.checkOTP(p.b.ID, last.Plain); got != buckets.Refused {
			t.Fatalf("the code of a failed send: %v", got)
		}
		if n := f.events(p.b.ID, audit.PatientOTPSend, "failed"); n != buckets.MaxSendsPerIPHour+otp.MaxSendsPerDay {
			t.Fatalf("%d failed-send events", n)
		}
		// A good send still works, and only that one counts.
		ok := f.issue(p.b.ID, "198.51.100.7").Plain
		if got := f.checkOTP(p.b.ID, ok); got != buckets.Open {
			t.Fatalf("code of the good send: %v", got)
		}
	})
	t.Run("failed sends have a cap of their own", func(t *testing.T) {
		t.Parallel()
		// A provider that answers with an error after taking the message
		// (a timeout, a 502 from its gateway) may still deliver it: without
		// this cap one session could send SMS after SMS through such a
		// provider, every one "failed" and so free.
		f := newFixture(t)
		p := f.print(database.VerifySMS, nil, nil)
		for i := 0; i < otp.MaxFailedSendsPerDay; i++ {
			c, err := f.s.IssueOTP(f.ctx, p.b.ID, "198.51.100."+strconv.Itoa(i%200))
			if err != nil {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
			if err := f.s.SendDone(f.ctx, c, p.b.ID, "198.51.100.7", errors.New("vonage: HTTP 502")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.IssueOTP(f.ctx, p.b.ID, "203.0.113.9"); !errors.Is(err, buckets.ErrSendLimit) {
			t.Fatalf("attempt %d after %d failed ones: %v, want ErrSendLimit", otp.MaxFailedSendsPerDay+1, otp.MaxFailedSendsPerDay, err)
		}
		// The cap is per 24 hours, like the daily limit.
		f.clk.Add(24*time.Hour + time.Second)
		f.issue(p.b.ID, "203.0.113.9")
	})
	t.Run("a failed send clears only its own code", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.print(database.VerifySMS, nil, nil)
		old, err := f.s.IssueOTP(f.ctx, p.b.ID, "198.51.100.7")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(otp.CooldownResend)
		cur := f.issue(p.b.ID, "198.51.100.7")
		if old.Plain == cur.Plain {
			t.Skip("the two codes are equal (one in a million)")
		}
		if err := f.s.SendDone(f.ctx, old, p.b.ID, "198.51.100.7", errors.New("late failure")); err != nil {
			t.Fatal(err)
		}
		if got := f.checkOTP(p.b.ID, cur.Plain); got != buckets.Open {
			t.Fatalf("the newer code after the older send failed: %v", got)
		}
	})
	t.Run("only OTP buckets get codes", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.print(database.VerifyDOB, nil, nil)
		if _, err := f.s.IssueOTP(f.ctx, p.b.ID, "198.51.100.7"); !errors.Is(err, buckets.ErrNoOTP) {
			t.Fatalf("code for a dob bucket: %v", err)
		}
		if _, err := f.s.IssueOTP(f.ctx, p.b.ID+1000, "198.51.100.7"); !errors.Is(err, buckets.ErrNotFound) {
			t.Fatalf("code for no bucket: %v", err)
		}
	})
}
