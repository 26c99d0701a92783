package tracking

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"
)

type memUsage struct {
	mu   sync.Mutex
	n    map[string]int64
	fail error
}

func (m *memUsage) AddUsage(ctx context.Context, provider, month string, n int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.n[provider+"|"+month] += n
	return nil
}

func (m *memUsage) Usage(ctx context.Context, provider, month string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[provider+"|"+month], nil
}

// billedProvider bills one unit per code asked.
type billedProvider struct {
	fakeProvider
	billed int64
}

func (b *billedProvider) Track(ctx context.Context, codes []string) (map[string]Result, error) {
	b.billed += int64(len(codes))
	return b.fakeProvider.Track(ctx, codes)
}
func (b *billedProvider) Billed() int64 { return b.billed }

func TestMeterRecordsAndEnforces(t *testing.T) {
	now := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	store := &memUsage{n: map[string]int64{"paid|2026-12": 5, "paid|2026-11": 999}}
	p := &billedProvider{fakeProvider: fakeProvider{name: "paid", max: 10, answers: map[string]Status{"A": Found, "B": NotYet, "C": Found}}}
	m, err := NewMeter(t.Context(), p, store, 9, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if u := m.Usage(); u.Used != 5 || u.Remaining() != 4 || u.String() != "paid=5/9" {
		t.Fatalf("usage %+v %q", u, u.String())
	}
	if _, err := m.Track(t.Context(), []string{"A", "B", "C"}); err != nil {
		t.Fatal(err)
	}
	if store.n["paid|2026-12"] != 8 || m.Usage().Used != 8 {
		t.Fatalf("stored %d, meter %d, want 8", store.n["paid|2026-12"], m.Usage().Used)
	}
	// 8 < 9: one more call goes (and overshoots to 10); then ErrQuota.
	if _, err := m.Track(t.Context(), []string{"A", "B"}); err != nil {
		t.Fatal(err)
	}
	_, err = m.Track(t.Context(), []string{"A"})
	if !errors.Is(err, ErrQuota) || !m.Usage().Spent() {
		t.Fatalf("err = %v, usage %+v", err, m.Usage())
	}
	if len(p.calls) != 2 {
		t.Errorf("provider called %d times, want 2", len(p.calls))
	}
	// Next month: a fresh budget.
	now = now.AddDate(0, 1, 0)
	if _, err := m.Track(t.Context(), []string{"A"}); err != nil {
		t.Fatalf("new month: %v", err)
	}
	if store.n["paid|2027-01"] != 1 {
		t.Errorf("january usage %d", store.n["paid|2027-01"])
	}
}

func TestMeterWithoutBilledAndStoreFailure(t *testing.T) {
	store := &memUsage{n: map[string]int64{}}
	p := &fakeProvider{name: "free", max: 5, answers: map[string]Status{}}
	m, err := NewMeter(t.Context(), p, store, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	store.fail = errors.New("disk full")
	m.Track(t.Context(), []string{"A"})
	if m.Err() == nil || m.Usage().Used != 0 {
		t.Fatalf("store failure: err %v used %d", m.Err(), m.Usage().Used)
	}
	store.fail = nil
	m.Track(t.Context(), []string{"A"})
	if u := m.Usage(); u.Used != 2 || u.Remaining() != -1 || u.String() != "free=2" {
		t.Fatalf("usage %+v (one unit per call, the failed record retried)", u)
	}
	// The chain falls through a spent meter like any quota error.
	spent, _ := NewMeter(t.Context(), &fakeProvider{name: "a", max: 5}, &memUsage{n: map[string]int64{"a|" + Month(time.Now()): 3}}, 3, nil)
	b := &fakeProvider{name: "b", max: 5, answers: map[string]Status{"X": Found}}
	got, err := NewChain(spent, b).Track(t.Context(), []Request{{Code: "X"}})
	if got["X"].Provider != "b" || !errors.Is(err, ErrQuota) {
		t.Fatalf("chain over a spent meter: %v %v", got, err)
	}
}

func TestSlowdown(t *testing.T) {
	mid := time.Date(2026, 12, 16, 12, 0, 0, 0, time.UTC) // ~half of December gone
	tests := []struct {
		used, budget int64
		at           time.Time
		want         float64
	}{
		{500, 0, mid, 1},     // no budget
		{400, 1000, mid, 1},  // under half
		{500, 1000, mid, 1},  // on pace
		{750, 1000, mid, 3},  // 750 in half a month vs 250 for the other half
		{990, 1000, mid, 48}, // capped
		{1000, 1000, mid, MaxSlowdown},
		{600, 1000, time.Date(2026, 12, 1, 0, 10, 0, 0, time.UTC), MaxSlowdown}, // burst at the month's start
	}
	for _, tc := range tests {
		u := Usage{Used: tc.used, Budget: tc.budget}
		got := u.Slowdown(tc.at)
		if math.Abs(got-tc.want) > 0.1 {
			t.Errorf("Slowdown(%d/%d at %v) = %.2f, want %.2f", tc.used, tc.budget, tc.at, got, tc.want)
		}
	}
	u := Usage{Used: 750, Budget: 1000}
	if d := u.Interval(mid, 0, 5*time.Minute); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("Interval(0, 5m) = %v, want ~15m", d)
	}
	if d := u.Interval(mid, time.Hour, 5*time.Minute); d < 170*time.Minute || d > 190*time.Minute {
		t.Errorf("Interval(1h) = %v, want ~3h", d)
	}
	if d := (Usage{Used: 1, Budget: 1000}).Interval(mid, time.Hour, time.Minute); d != time.Hour {
		t.Errorf("no slowdown: %v", d)
	}
}

func TestUsageAllowanceSpreadsTheMonth(t *testing.T) {
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) // 30 days
	for _, tc := range []struct {
		at   time.Time
		used int64
		want int64
	}{
		{nov, 0, 33},                           // one day's share ahead
		{nov.Add(15 * 24 * time.Hour), 0, 533}, // unspent days carry over
		{nov.Add(15 * 24 * time.Hour), 530, 3},
		{nov.Add(15 * 24 * time.Hour), 600, 0},             // ahead of the calendar: nothing
		{nov.Add(29*24*time.Hour + 23*time.Hour), 990, 10}, // never past the budget
	} {
		u := Usage{Provider: "siterastreio", Budget: 1000, Used: tc.used}
		if got := u.Allowance(tc.at); got != tc.want {
			t.Errorf("Allowance(%v) with %d used = %d, want %d", tc.at, tc.used, got, tc.want)
		}
	}
	if got := (Usage{Used: 5}).Allowance(nov); got != -1 {
		t.Errorf("no budget: %d, want -1", got)
	}
}

// AllowedFrom is the first second Allowance turns positive.
func TestUsageAllowedFrom(t *testing.T) {
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) // 30 days: 1000 a month is 33.3 a day
	for _, tc := range []struct {
		at   time.Time
		used int64
		want time.Time
	}{
		{nov, 0, nov}, // something to spend now
		{nov.Add(15 * 24 * time.Hour), 600, nov.Add(17*24*time.Hour + 43*time.Minute + 12*time.Second)}, // 30 d × 601/1000 − 1 d
		{nov.Add(29 * 24 * time.Hour), 1000, nov.AddDate(0, 1, 0)},                                      // spent: next month
	} {
		u := Usage{Budget: 1000, Used: tc.used}
		got := u.AllowedFrom(tc.at)
		if !got.Equal(tc.want) {
			t.Errorf("AllowedFrom(%v) with %d used = %v, want %v", tc.at, tc.used, got, tc.want)
		}
		if got.Before(nov.AddDate(0, 1, 0)) && (u.Allowance(got) < 1 || got.After(tc.at) && u.Allowance(got.Add(-time.Second)) != 0) {
			t.Errorf("AllowedFrom(%v) = %v: allowance %d there, %d a second before", tc.at, got, u.Allowance(got), u.Allowance(got.Add(-time.Second)))
		}
	}
	if got := (Usage{Used: 5}).AllowedFrom(nov); !got.Equal(nov) {
		t.Errorf("no budget: %v", got)
	}
}
