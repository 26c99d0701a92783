package telegramtest

import (
	"testing"
	"time"
)

func TestLimitsRule(t *testing.T) {
	l := Limits{PerWindow: 3, Window: time.Second, ChatGap: time.Second, GroupPerWindow: 2, GroupWindow: time.Minute}
	lim := (&Server{}).limiterFor(l)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	send := func(chat int64, at time.Duration) *Fault {
		return lim.rule(&Call{Method: "sendMessage", ChatID: chat, Time: t0.Add(at)})
	}
	steps := []struct {
		chat int64
		at   time.Duration
		want int // 0 ok, else retry_after
	}{
		{1, 0, 0},
		{2, 10 * time.Millisecond, 0},
		{1, 500 * time.Millisecond, 1},   // same chat under 1 s
		{1, 1600 * time.Millisecond, 0},  // past its retry_after window (0.5 s + 1 s) and 1 s after its last send
		{-5, 1700 * time.Millisecond, 0}, // group
		{3, 1710 * time.Millisecond, 0},
		{6, 1730 * time.Millisecond, 1},   // 4th in one second overall (1.6, 1.7, 1.71)
		{-5, 2800 * time.Millisecond, 0},  // group's 2nd in a minute
		{-5, 4000 * time.Millisecond, 58}, // 1.7 s + 60 s - 4 s, rounded up
	}
	for i, st := range steps {
		f := send(st.chat, st.at)
		got := 0
		if f != nil {
			got = f.RetryAfter
		}
		if got != st.want {
			t.Fatalf("step %d (chat %d at %v): retry_after %d, want %d", i, st.chat, st.at, got, st.want)
		}
	}
	s := lim.Stats()
	if s.Accepted != 6 || s.Violations != 3 || s.Chat != 1 || s.Global != 1 || s.Group != 1 || s.MaxInWindow != 3 {
		t.Fatalf("stats %v", s)
	}
	// Inside a retry_after window even a well-spaced send is refused.
	if f := send(-5, 10*time.Second); f == nil {
		t.Fatal("send inside retry_after window accepted")
	}
	if s := lim.Stats(); s.InWindow != 1 {
		t.Fatalf("InWindow=%d, want 1", s.InWindow)
	}
	// Other methods are not limited.
	if f := lim.rule(&Call{Method: "getMe", Time: t0}); f != nil {
		t.Fatal("getMe limited")
	}
}
