package tracking

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Billed is implemented by providers that count the units they are billed
// for since they were built: requests for Site Rastreio (and, for
// information, the official API), registered numbers for 17TRACK.
type Billed interface {
	Billed() int64
}

// UsageStore keeps each provider's monthly usage (internal/store
// implements it). Months are "2006-01", UTC.
type UsageStore interface {
	AddUsage(ctx context.Context, provider, month string, n int64) error
	Usage(ctx context.Context, provider, month string) (int64, error)
}

// MaxSlowdown caps Slowdown: however far ahead of the calendar spending
// runs, a code is still re-checked, just MaxSlowdown times less often.
const MaxSlowdown = 48.0

// Month returns the usage month of t ("2006-01", UTC).
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

// Usage is a provider's consumption this month.
type Usage struct {
	Provider string
	Month    string
	Used     int64
	Budget   int64 // 0: no budget
}

// Remaining is what is left of the budget (-1 without a budget).
func (u Usage) Remaining() int64 {
	if u.Budget <= 0 {
		return -1
	}
	return max(0, u.Budget-u.Used)
}

// Spent reports whether a budget is set and used up.
func (u Usage) Spent() bool { return u.Budget > 0 && u.Used >= u.Budget }

// String renders "siterastreio=120/1000" (or "correios=37" without a budget)
// for the summary line and STATUS=.
func (u Usage) String() string {
	s := u.Provider + "=" + strconv.FormatInt(u.Used, 10)
	if u.Budget > 0 {
		s += "/" + strconv.FormatInt(u.Budget, 10)
	}
	return s
}

// Slowdown is how many times longer than usual to wait before re-checking
// this provider's codes so the budget lasts until the month ends: 1 with no
// budget, below half of it, or while spending keeps pace with the
// calendar; otherwise the ratio of the spending rate so far to the rate
// the rest of the budget allows, capped at MaxSlowdown (MaxSlowdown once
// the budget is spent).
func (u Usage) Slowdown(now time.Time) float64 {
	if u.Budget <= 0 || u.Used*2 < u.Budget {
		return 1
	}
	if u.Used >= u.Budget {
		return MaxSlowdown
	}
	now = now.UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0)
	elapsed := max(now.Sub(start), time.Hour).Hours()
	left := max(end.Sub(now), time.Hour).Hours()
	rate := float64(u.Used) / elapsed
	allowed := float64(u.Budget-u.Used) / left
	f := rate / allowed
	switch {
	case f < 1:
		return 1
	case f > MaxSlowdown:
		return MaxSlowdown
	}
	return f
}

// Interval scales a re-check interval by the slowdown. With base 0
// (every pass) the pass spacing stands in for it, so a slowdown of 4 means
// every 4th pass.
func (u Usage) Interval(now time.Time, base, passSpacing time.Duration) time.Duration {
	f := u.Slowdown(now)
	if f <= 1 {
		return base
	}
	return time.Duration(float64(max(base, passSpacing)) * f)
}

// Meter wraps a Provider: it records what each call was billed in the
// usage store (so the month's usage survives passes), and refuses calls
// with ErrQuota once a monthly budget is spent, so the chain moves codes
// not yet found on to the next provider and the summary says why. Calls
// already in flight may overshoot the budget by their own cost.
type Meter struct {
	p      Provider
	store  UsageStore
	budget int64
	now    func() time.Time

	mu      sync.Mutex
	month   string
	used    int64
	flushed int64 // the provider's Billed() already recorded
	calls   int64 // fallback count for providers without Billed
	err     error // last store failure
}

// NewMeter wraps p with a monthly budget (0: none), loading this month's
// usage. now may be nil (time.Now).
func NewMeter(ctx context.Context, p Provider, store UsageStore, monthlyBudget int64, now func() time.Time) (*Meter, error) {
	if now == nil {
		now = time.Now
	}
	m := &Meter{p: p, store: store, budget: monthlyBudget, now: now, month: Month(now())}
	used, err := store.Usage(ctx, p.Name(), m.month)
	if err != nil {
		return nil, fmt.Errorf("tracking: usage of %s: %w", p.Name(), err)
	}
	m.used = used
	return m, nil
}

// Name implements Provider.
func (m *Meter) Name() string { return m.p.Name() }

// MaxBatch implements Provider.
func (m *Meter) MaxBatch() int { return m.p.MaxBatch() }

// Provider returns the wrapped provider.
func (m *Meter) Provider() Provider { return m.p }

// Usage returns this month's usage so far.
func (m *Meter) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rollLocked()
	return Usage{Provider: m.p.Name(), Month: m.month, Used: m.used, Budget: m.budget}
}

// Err returns the last failure to record usage (nil when all went well).
func (m *Meter) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *Meter) rollLocked() {
	if mo := Month(m.now()); mo != m.month {
		m.month, m.used = mo, 0
	}
}

// Track implements Provider.
func (m *Meter) Track(ctx context.Context, codes []string) (map[string]Result, error) {
	m.mu.Lock()
	m.rollLocked()
	if m.budget > 0 && m.used >= m.budget {
		used := m.used
		m.mu.Unlock()
		return nil, fmt.Errorf("%s: monthly budget spent (%d of %d): %w", m.p.Name(), used, m.budget, ErrQuota)
	}
	m.mu.Unlock()
	res, err := m.p.Track(ctx, codes)
	m.record(context.WithoutCancel(ctx))
	return res, err
}

// record adds what the provider billed since the last record to the
// store.
func (m *Meter) record(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var total int64
	if b, ok := m.p.(Billed); ok {
		total = b.Billed()
	} else {
		m.calls++
		total = m.calls
	}
	delta := total - m.flushed
	if delta <= 0 {
		return
	}
	if err := m.store.AddUsage(ctx, m.p.Name(), m.month, delta); err != nil {
		m.err = err
		return // retried with the next call's delta
	}
	m.flushed = total
	m.used += delta
}

// Allowance is how many billed units may be spent at now so that the
// budget lasts the month: the budget spread evenly over the month, plus
// one day's share ahead, less what was used. Days that spend less leave
// more for the days after. -1 without a budget.
func (u Usage) Allowance(now time.Time) int64 {
	if u.Budget <= 0 {
		return -1
	}
	now = now.UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	month := start.AddDate(0, 1, 0).Sub(start)
	line := float64(u.Budget) * float64(now.Sub(start)+24*time.Hour) / float64(month)
	return max(0, min(int64(line), u.Budget)-u.Used)
}

// AllowedFrom is the first moment from now on when Allowance is at least
// one: now itself when something may be spent now (or there is no
// budget), else when the month's line passes what was used, at the
// latest when the next month begins (usage counts from zero again).
func (u Usage) AllowedFrom(now time.Time) time.Time {
	if u.Allowance(now) != 0 {
		return now
	}
	utc := now.UTC()
	start := time.Date(utc.Year(), utc.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0)
	if u.Used >= u.Budget {
		return end
	}
	// Allowance ≥ 1 once Budget × (t − start + 24 h) / month ≥ Used + 1.
	month := end.Sub(start)
	t := start.Add(time.Duration(float64(month)*float64(u.Used+1)/float64(u.Budget)) - 24*time.Hour).Truncate(time.Second)
	for !t.After(now) || u.Allowance(t) < 1 { // float rounding: step to the exact second
		if !t.Before(end) {
			return end
		}
		t = t.Add(time.Second)
	}
	return t
}
