package delivery

import (
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/store"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

var telegramLimits = Limits{SendRate: 30, ChatInterval: time.Second, GroupInterval: 3 * time.Second,
	InFlight: MaxInFlight, PerSecond: TelegramMaxPerSecond}

// drive sends everything offered to q, each answered after latency,
// and returns the start times per chat and overall.
func drive(t *testing.T, q *Queue, latency time.Duration) (starts []time.Time, perChat map[int64][]time.Time) {
	t.Helper()
	perChat = map[int64][]time.Time{}
	type flight struct {
		m    store.OutboxMsg
		slot *Slot
		at   time.Time
	}
	var inFlight []flight
	now := t0
	for steps := 0; q.Len() > 0; steps++ {
		if steps > 100000 {
			t.Fatal("queue never drained")
		}
		m, ok, wake := q.Next(now)
		if ok {
			if q.InFlight() >= MaxInFlight {
				t.Fatalf("%d in flight, Next still gave a message", q.InFlight())
			}
			inFlight = append(inFlight, flight{m, q.Start(m, now), now.Add(latency)})
			starts = append(starts, now)
			perChat[m.ChatID] = append(perChat[m.ChatID], now)
			continue
		}
		// Advance to the next answer or wake time.
		next := wake
		for _, f := range inFlight {
			if next.IsZero() || f.at.Before(next) {
				next = f.at
			}
		}
		if next.IsZero() {
			t.Fatal("nothing to wait for, queue not empty")
		}
		now = maxTime(now, next)
		kept := inFlight[:0]
		for _, f := range inFlight {
			if !f.at.After(now) {
				q.Answered(f.m, f.slot, f.at)
				q.Done(f.m)
			} else {
				kept = append(kept, f)
			}
		}
		inFlight = kept
	}
	return starts, perChat
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func offer(q *Queue, chat int64, n int, id *int64) {
	for range n {
		*id++
		q.Offer(store.OutboxMsg{ID: *id, ChatID: chat})
	}
}

// Telegram's limits hold on the Queue's own decisions: ≤ 30 starts in any
// second, one chat ≥ 1 s apart, a group ≥ 3 s apart (20 a minute).
func TestQueueKeepsTelegramLimits(t *testing.T) {
	q := NewQueue(telegramLimits)
	var id int64
	for c := int64(1); c <= 60; c++ {
		offer(q, c, 3, &id)
	}
	offer(q, -100, 3, &id)
	starts, perChat := drive(t, q, 20*time.Millisecond)
	if len(starts) != 60*3+3 {
		t.Fatalf("%d sends, want %d", len(starts), 60*3+3)
	}
	for i := TelegramMaxPerSecond; i < len(starts); i++ {
		if d := starts[i].Sub(starts[i-TelegramMaxPerSecond]); d <= time.Second {
			t.Fatalf("send %d starts %v after the one %d before it: more than %d in a second", i, d, TelegramMaxPerSecond, TelegramMaxPerSecond)
		}
	}
	for chat, ts := range perChat {
		gap := time.Second
		if chat < 0 {
			gap = 3 * time.Second
		}
		for i := 1; i < len(ts); i++ {
			if d := ts[i].Sub(ts[i-1]); d < gap {
				t.Fatalf("chat %d: sends %v apart, want ≥ %v", chat, d, gap)
			}
		}
	}
}

// A retry_after pauses every chat, not only the one that got the 429.
func TestQueuePauseHoldsEveryone(t *testing.T) {
	q := NewQueue(telegramLimits)
	var id int64
	offer(q, 1, 2, &id)
	offer(q, 2, 1, &id)
	m, ok, _ := q.Next(t0)
	if !ok {
		t.Fatal("nothing to send")
	}
	slot := q.Start(m, t0)
	q.Answered(m, slot, t0.Add(10*time.Millisecond))
	until := t0.Add(5 * time.Second)
	q.Pause(m, until)
	if _, ok, wake := q.Next(t0.Add(time.Second)); ok || !wake.Equal(until) {
		t.Fatalf("Next during the pause: ok=%v wake=%v, want wait until %v", ok, wake, until)
	}
	if got, ok, _ := q.Next(until); !ok || got.ID != m.ID {
		t.Fatalf("after the pause Next = %+v %v, want the same message again", got, ok)
	}
}

// A chat with many messages holds at most PerChat in memory and is topped
// up in order when it drains.
func TestQueueTopUp(t *testing.T) {
	q := NewQueue(telegramLimits)
	var id int64
	offer(q, 1, PerChat+3, &id)
	if q.Len() != PerChat {
		t.Fatalf("held %d, want %d", q.Len(), PerChat)
	}
	if _, ok := q.NeedsTopUp(1); ok {
		t.Fatal("top-up asked while messages are held")
	}
	for id := int64(1); id <= PerChat; id++ {
		q.Done(store.OutboxMsg{ID: id, ChatID: 1})
	}
	after, ok := q.NeedsTopUp(1)
	if !ok || after != PerChat {
		t.Fatalf("NeedsTopUp = %d %v, want after id %d", after, ok, PerChat)
	}
}

// A migrated group's messages move to the new id, in order.
func TestQueueMove(t *testing.T) {
	q := NewQueue(telegramLimits)
	var id int64
	offer(q, -1, 2, &id)
	q.Move(-1, -1001)
	m, ok, _ := q.Next(t0)
	if !ok || m.ChatID != -1001 || m.ID != 1 {
		t.Fatalf("Next = %+v %v, want message 1 for the new chat", m, ok)
	}
}
