package codec

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// The C decoders (CharLS, OpenJPEG) cannot be interrupted, and a crafted
// codestream can keep one busy for long: fuzzing found a 260-byte JPEG-LS
// frame of 16x12 pixels on which CharLS 2.4 spends 13 s before it reports
// the data invalid. So they run in a lane of their own: at most half the
// cores at once, and a caller waits at most CBudget for its result. A frame
// past the budget is refused (the viewer shows "preview not available")
// while the C call finishes in the background, still holding its place in
// the lane: a hostile study can slow other C-decoded previews, never the
// server.
var (
	cLane = make(chan struct{}, max(1, runtime.NumCPU()/2))
	// CBudget bounds one C decode, waiting for the lane included: far above
	// a real frame (a 512x512 16-bit one takes 12-27 ms of CPU here).
	CBudget = 5 * time.Second
)

// ErrTooSlow: the frame was not decoded within CBudget.
var ErrTooSlow = errors.New("decoder took too long")

// InCLane runs fn, a call into a C decoder, under the lane's rules.
func InCLane(fn func() (*Frame, error)) (*Frame, error) {
	deadline := time.NewTimer(CBudget)
	defer deadline.Stop()
	select {
	case cLane <- struct{}{}:
	case <-deadline.C:
		return nil, fmt.Errorf("%w: %w (waiting for the decoder)", ErrCorrupt, ErrTooSlow)
	}
	type result struct {
		f   *Frame
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-cLane }()
		f, err := fn()
		done <- result{f, err}
	}()
	select {
	case r := <-done:
		return r.f, r.err
	case <-deadline.C:
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, ErrTooSlow)
	}
}
