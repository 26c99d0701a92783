// Package clock is the one clock of a tracker pass: the pass, its
// queries and delivery read the time and wait through a Clock, so the
// same code runs on the wall clock (Real) in production and on a virtual
// clock (Virtual) in tests and in `rastreio-tracker simulate`, which
// replays a month of journeys in seconds.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine d from now, unless stopped.
	AfterFunc(d time.Duration, f func()) Timer
	// Hold marks work that takes no time on a virtual clock (a provider
	// call, a send in flight): a Virtual clock does not move while any
	// hold is taken. Call the returned func once the work is done. The
	// real clock ignores holds.
	Hold() (release func())
}

// Timer is a stoppable timer; C is nil for an AfterFunc timer.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; false if it already fired or
	// was stopped.
	Stop() bool
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

func (realClock) Hold() func() { return func() {} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// WithDeadline is context.WithDeadline on c: the context ends with
// context.DeadlineExceeded when c reaches deadline.
func WithDeadline(ctx context.Context, c Clock, deadline time.Time) (context.Context, context.CancelFunc) {
	if _, ok := c.(realClock); ok {
		return context.WithDeadline(ctx, deadline)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	t := c.AfterFunc(deadline.Sub(c.Now()), func() { cancel(context.DeadlineExceeded) })
	return &deadlineCtx{Context: cctx, deadline: deadline}, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// deadlineCtx reports the virtual deadline and DeadlineExceeded as its
// error (not context.Canceled) once it passed.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Err() error {
	if c.Context.Err() == nil {
		return nil
	}
	if cause := context.Cause(c.Context); cause == context.DeadlineExceeded {
		return cause
	}
	return c.Context.Err()
}

// Sleep waits d on c, or until ctx ends (then it returns ctx's error).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
