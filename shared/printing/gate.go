package printing

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// gate bounds the letters rendered at once to the CPUs: a render is
// CPU work holding about 11 MB until it is done, so more at once only hold
// more memory for longer (150 unbounded parallel prints take 1.22 GB). A print waits
// for a slot as long as its request lives. The zero value is ready to use.
type gate struct {
	once    sync.Once
	slots   chan struct{}
	renders atomic.Int64
}

// do runs render holding a slot; ctx's error when the request ends first.
func (g *gate) do(ctx context.Context, render func() error) error {
	g.once.Do(func() { g.slots = make(chan struct{}, max(runtime.GOMAXPROCS(0), 1)) })
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.slots }()
	g.renders.Add(1)
	return render()
}
