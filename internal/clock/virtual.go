package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Virtual is a clock that moves only when told to (Set, Advance) or when
// everything running on it waits for it: while no hold is taken, a new
// timer or a released hold moves the time straight to the earliest timer
// and fires it. So a pass whose goroutines take holds around their work
// runs on it in no wall time, deterministically.
type Virtual struct {
	mu     sync.Mutex
	now    time.Time
	holds  int
	timers timerHeap
	seq    int64
}

// NewVirtual returns a virtual clock reading start.
func NewVirtual(start time.Time) *Virtual { return &Virtual{now: start} }

// Now implements Clock.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// NewTimer implements Clock.
func (v *Virtual) NewTimer(d time.Duration) Timer {
	t := &vtimer{v: v, c: make(chan time.Time, 1)}
	v.add(t, d)
	return t
}

// AfterFunc implements Clock.
func (v *Virtual) AfterFunc(d time.Duration, f func()) Timer {
	t := &vtimer{v: v, f: f}
	v.add(t, d)
	return t
}

// Hold implements Clock.
func (v *Virtual) Hold() func() {
	v.mu.Lock()
	v.holds++
	v.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			v.mu.Lock()
			v.holds--
			fire := v.idleLocked()
			v.mu.Unlock()
			fire()
		})
	}
}

// Set moves the clock to t (never backwards), firing the timers due by
// then, in order.
func (v *Virtual) Set(t time.Time) {
	for {
		v.mu.Lock()
		if len(v.timers) == 0 || v.timers[0].when.After(t) {
			if t.After(v.now) {
				v.now = t
			}
			v.mu.Unlock()
			return
		}
		fire := v.popLocked()
		v.mu.Unlock()
		fire()
	}
}

// Advance moves the clock d forward (see Set).
func (v *Virtual) Advance(d time.Duration) { v.Set(v.Now().Add(d)) }

// Pending returns how many timers wait.
func (v *Virtual) Pending() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.timers)
}

func (v *Virtual) add(t *vtimer, d time.Duration) {
	v.mu.Lock()
	v.seq++
	t.when, t.seq = v.now.Add(max(d, 0)), v.seq
	heap.Push(&v.timers, t)
	fire := v.idleLocked()
	v.mu.Unlock()
	fire()
}

// idleLocked: with no hold taken, jump to the earliest timer (or fire
// those already due) and return what firing it takes.
func (v *Virtual) idleLocked() func() {
	if v.holds > 0 || len(v.timers) == 0 {
		return func() {}
	}
	return v.popLocked()
}

// popLocked removes the earliest timer, moves the time to it, and returns
// the call that fires it (made without the lock).
func (v *Virtual) popLocked() func() {
	t := heap.Pop(&v.timers).(*vtimer)
	t.fired = true
	if t.when.After(v.now) {
		v.now = t.when
	}
	at := v.now
	if t.f != nil {
		return func() { go t.f() }
	}
	return func() { t.c <- at }
}

type vtimer struct {
	v     *Virtual
	when  time.Time
	seq   int64
	index int
	fired bool
	c     chan time.Time
	f     func()
}

func (t *vtimer) C() <-chan time.Time { return t.c }

func (t *vtimer) Stop() bool {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	if t.fired || t.index < 0 {
		return false
	}
	heap.Remove(&t.v.timers, t.index)
	t.index = -1
	return true
}

type timerHeap []*vtimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*vtimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
