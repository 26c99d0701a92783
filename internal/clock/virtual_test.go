package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// With nothing holding it, a virtual clock jumps to the timer someone
// waits for; while a hold is taken it does not move.
func TestVirtualJumpsOnlyWhenIdle(t *testing.T) {
	v := NewVirtual(t0)
	if err := Sleep(t.Context(), v, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := v.Now(); !got.Equal(t0.Add(90 * time.Second)) {
		t.Fatalf("after Sleep(90s) Now = %v, want %v", got, t0.Add(90*time.Second))
	}
	release := v.Hold()
	tm := v.NewTimer(time.Minute)
	select {
	case <-tm.C():
		t.Fatal("timer fired while the clock was held")
	case <-time.After(20 * time.Millisecond):
	}
	release()
	select {
	case at := <-tm.C():
		if want := t0.Add(150 * time.Second); !at.Equal(want) {
			t.Fatalf("fired at %v, want %v", at, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("timer did not fire once the hold was released")
	}
}

func TestVirtualSetFiresInOrderAndStop(t *testing.T) {
	v := NewVirtual(t0)
	release := v.Hold()
	defer release()
	var got []int
	done := make(chan int, 3)
	for i, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
		v.AfterFunc(d, func() { done <- i })
	}
	stopped := v.NewTimer(1500 * time.Millisecond)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop: want true once, then false")
	}
	v.Set(t0.Add(10 * time.Second))
	for range 3 {
		got = append(got, <-done)
	}
	// AfterFunc runs each f in its own goroutine: the order of the calls
	// is the order of the times, but goroutines may finish in any order.
	if len(got) != 3 || v.Pending() != 0 {
		t.Fatalf("fired %v, %d pending; want all three and none pending", got, v.Pending())
	}
	if !v.Now().Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("Now = %v", v.Now())
	}
}

func TestWithDeadlineOnVirtual(t *testing.T) {
	v := NewVirtual(t0)
	release := v.Hold()
	ctx, cancel := WithDeadline(t.Context(), v, t0.Add(time.Minute))
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || !d.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Deadline = %v %v", d, ok)
	}
	v.Advance(59 * time.Second)
	if ctx.Err() != nil {
		t.Fatalf("ended early: %v", ctx.Err())
	}
	v.Advance(time.Second)
	release()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want DeadlineExceeded", ctx.Err())
	}
}
