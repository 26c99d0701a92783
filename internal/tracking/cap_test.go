package tracking_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

// history builds n events oldest first, the first one a posting event when
// posted, one minute apart.
func history(n int, posted bool) []tracking.Event {
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	evs := make([]tracking.Event, n)
	for i := range evs {
		evs[i] = tracking.Event{Key: fmt.Sprint(i), Kind: tracking.KindTransit, At: t0.Add(time.Duration(i) * time.Minute)}
	}
	if posted && n > 0 {
		evs[0].Kind = tracking.KindPosted
	}
	return evs
}

func TestKeepNewest(t *testing.T) {
	const max = tracking.MaxEvents
	for _, tc := range []struct {
		name   string
		n      int
		posted bool
		want   []string // keys of the first two kept and the last one
	}{
		{"under the bound", 5, true, []string{"0", "1", "4"}},
		{"at the bound", max, true, []string{"0", "1", fmt.Sprint(max - 1)}},
		{"over, posting event kept", 15000, true, []string{"0", fmt.Sprint(15000 - max + 1), "14999"}},
		{"over, no posting event", 15000, false, []string{fmt.Sprint(15000 - max), fmt.Sprint(15000 - max + 1), "14999"}},
		{"one over, posting event replaces the oldest kept", max + 1, true, []string{"0", "2", fmt.Sprint(max)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := history(tc.n, tc.posted)
			got := tracking.KeepNewest(in)
			if want := min(tc.n, max); len(got) != want {
				t.Fatalf("kept %d events, want %d", len(got), want)
			}
			if k := []string{got[0].Key, got[1].Key, got[len(got)-1].Key}; fmt.Sprint(k) != fmt.Sprint(tc.want) {
				t.Fatalf("kept %v (first two, last), want %v", k, tc.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].At.Before(got[i-1].At) {
					t.Fatalf("event %d older than the one before it", i)
				}
			}
			if tc.n > max && &got[0] == &in[0] {
				t.Fatal("a long history kept its backing array")
			}
			// Stable: the kept events, asked again, are kept whole.
			if again := tracking.KeepNewest(got); len(again) != len(got) || again[0].Key != got[0].Key {
				t.Fatal("keeping the kept events changed them")
			}
		})
	}
}
