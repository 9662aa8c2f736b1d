package dicomweb

import (
	"context"
	"math"
	"sync"
	"time"
)

// Defaults of the per-link rate limit: a viewer opening a large study
// fetches its metadata and every frame at once.
const (
	DefaultRate  = 100
	DefaultBurst = 2000
)

// The budget of a link is a token bucket in PostgreSQL
// (viewer_link_budget), so it holds across server instances. Each instance
// takes it in slices of at most maxSlice requests (one upsert per slice),
// so a request costs no statement while its instance still holds some of
// the slice; an instance holds at most one slice unused, so all instances
// together admit at most Burst plus one slice each beyond the rate.
const maxSlice = 100

// linkBudget is one link's slice in this instance.
type linkBudget struct {
	mu      sync.Mutex
	left    int       // requests of the claimed slice not used yet
	refused time.Time // the shared bucket was empty: refuse until then without asking
	used    time.Time // last request (guarded by Reader.mu)
}

func (r *Reader) limits() (rate, burst float64) {
	rate, burst = r.Rate, r.Burst
	if rate <= 0 {
		rate = DefaultRate
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	return rate, max(burst, 1)
}

// allow takes one request from link id's budget. When refused, wait is
// the Retry-After.
func (r *Reader) allow(ctx context.Context, id int64) (ok bool, wait time.Duration, err error) {
	rate, burst := r.limits()
	now := time.Now()
	r.mu.Lock()
	if r.budgets == nil {
		r.budgets = map[int64]*linkBudget{}
	}
	lb := r.budgets[id]
	if lb == nil {
		if len(r.budgets) > 10000 { // forget idle links now and then
			for k, v := range r.budgets {
				if now.Sub(v.used) > time.Minute {
					delete(r.budgets, k)
				}
			}
		}
		lb = &linkBudget{}
		r.budgets[id] = lb
	}
	lb.used = now
	r.mu.Unlock()

	// One claim at a time per link and instance: the requests that arrive
	// meanwhile share its slice.
	lb.mu.Lock()
	defer lb.mu.Unlock()
	wait = time.Duration(math.Ceil(1/rate)) * time.Second
	if lb.left == 0 {
		if now.Before(lb.refused) {
			return false, wait, nil
		}
		slice := int(min(maxSlice, max(burst/20, 1)))
		var granted float64
		err := r.Links.DB.NewRaw(`
			INSERT INTO viewer_link_budget AS b (link_id, tokens, granted, at)
			VALUES (?0, ?1::float8 - least(?2::float8, ?1::float8), least(?2::float8, ?1::float8), now())
			ON CONFLICT (link_id) DO UPDATE SET
				granted = greatest(least(?2::float8, floor(least(?1::float8, b.tokens + greatest(extract(epoch FROM now() - b.at), 0) * ?3::float8))), 0),
				tokens = least(?1::float8, b.tokens + greatest(extract(epoch FROM now() - b.at), 0) * ?3::float8)
					- greatest(least(?2::float8, floor(least(?1::float8, b.tokens + greatest(extract(epoch FROM now() - b.at), 0) * ?3::float8))), 0),
				at = greatest(b.at, now())
			RETURNING granted`, id, burst, slice, rate).Scan(ctx, &granted)
		if err != nil {
			return false, 0, err
		}
		if granted < 1 {
			// Empty: the next token comes in 1/rate; until then (at most a
			// second) refuse here without a statement.
			lb.refused = now.Add(min(time.Duration(float64(time.Second)/rate), time.Second))
			return false, wait, nil
		}
		lb.left = int(granted)
	}
	lb.left--
	return true, 0, nil
}
