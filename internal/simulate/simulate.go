package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/rastreio/rastreio/internal/clock"
	"github.com/rastreio/rastreio/internal/pass"
	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/schedule"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/tracking"
)

// Policies: when the tracker checks a code.
const (
	// Default is the adaptive schedule (RASTREIO_RECHECK_INTERVAL unset).
	Default = "default"
	// EveryPass is every active code at every pass, backoff counted in
	// passes (RASTREIO_RECHECK_INTERVAL=0), the behaviour before the
	// schedule.
	EveryPass = "every-pass"
	// Oracle checks a code once right after each of its events becomes
	// visible (at the first pass after it): the least any schedule
	// could spend for the same delays.
	Oracle = "oracle"
)

// Policies lists the policies in the order results are reported.
var Policies = []string{Default, EveryPass, Oracle}

// Defaults.
const (
	// PassInterval is the unit's RestartSec: the time from one pass's
	// end to the next one's start.
	PassInterval = 3 * time.Minute
	// Linger is how long after its last event a parcel stays tracked (a
	// person removes a delivered parcel, or it expires): long enough for
	// the schedule's last re-checks of a final code.
	Linger = 4 * 24 * time.Hour
)

// Options tune a replay. Zero values take the defaults.
type Options struct {
	// Providers to replay (default every provider of the table).
	Providers []string
	// Policies to replay (default Policies).
	Policies []string
	// Budgets are monthly budgets in billed units per provider (none
	// unless set, as with <NAME>_MONTHLY_BUDGET=unlimited).
	Budgets map[string]int64
	// PassInterval is the time between passes (default PassInterval).
	PassInterval time.Duration
	// TempDir holds the temporary databases (default: /dev/shm when
	// writable, else os.TempDir).
	TempDir string
	// Parallel is how many replays run at once (default: GOMAXPROCS, or
	// more so that the every-pass replays, the long ones and about
	// equally long, all run together and end together).
	Parallel int
}

func (o *Options) defaults() {
	if len(o.Providers) == 0 {
		o.Providers = provider.Names()
	}
	if len(o.Policies) == 0 {
		o.Policies = Policies
	}
	if o.PassInterval <= 0 {
		o.PassInterval = PassInterval
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			if f, err := os.CreateTemp("/dev/shm", "rastreio-probe-"); err == nil {
				f.Close()
				os.Remove(f.Name())
				o.TempDir = "/dev/shm"
			}
		}
	}
}

// Result is one provider under one policy. Delays are in seconds counted
// in waking hours only (07:00–22:00 Brasília), from the moment an event
// is visible to the provider (or the code was added, if later) to the
// moment (fake) Telegram accepted the message carrying it.
type Result struct {
	Provider                string           `json:"provider"`
	Policy                  string           `json:"policy"`
	RequestsPerParcel       float64          `json:"requests_per_parcel"`
	BilledPerParcel         float64          `json:"billed_per_parcel"`
	DelayMedianS            float64          `json:"delay_median_s"`
	DelayP90S               float64          `json:"delay_p90_s"`
	ActionableDelayMedianS  float64          `json:"actionable_delay_median_s"`
	ActionableDelayP90S     float64          `json:"actionable_delay_p90_s"`
	Missed                  int              `json:"missed"`
	Repeated                int              `json:"repeated"`
	Requests, Billed        int64            `json:"-"`
	BilledByMonth           map[string]int64 `json:"-"`
	Budget                  int64            `json:"-"` // 0: none
	Passes                  int              `json:"-"` // passes run (empty ones skipped)
	Delays, ActionableDelay []float64        `json:"-"`
}

// Report is a whole replay.
type Report struct {
	Parcels int      `json:"parcels"`
	Events  int      `json:"events"`
	Results []Result `json:"results"`
}

// Run replays the journeys for every provider and policy asked.
func Run(ctx context.Context, js []Journey, opt Options) (Report, error) {
	opt.defaults()
	rep := Report{Parcels: len(js)}
	for _, j := range js {
		rep.Events += len(j.Events)
	}
	for _, p := range opt.Providers {
		if _, ok := provider.Lookup(p); !ok {
			return rep, fmt.Errorf("simulate: unknown provider %q", p)
		}
	}
	type job struct {
		i      int
		prov   string
		policy string
		res    Result
		err    error
	}
	var jobs []*job
	for _, p := range opt.Providers {
		for _, pol := range opt.Policies {
			jobs = append(jobs, &job{i: len(jobs), prov: p, policy: pol})
		}
	}
	// The every-pass replays run a pass every PassInterval: start them
	// first, together, the shorter ones fill in around them.
	order := append([]*job(nil), jobs...)
	sort.SliceStable(order, func(a, b int) bool { return order[a].policy == EveryPass && order[b].policy != EveryPass })
	if opt.Parallel <= 0 {
		long := 0
		for _, jb := range jobs {
			if jb.policy == EveryPass {
				long++
			}
		}
		opt.Parallel = max(runtime.GOMAXPROCS(0), long)
	}
	sem := make(chan struct{}, opt.Parallel)
	var wg sync.WaitGroup
	for _, jb := range order {
		sem <- struct{}{} // in order
		wg.Go(func() {
			defer func() { <-sem }()
			jb.res, jb.err = replay(ctx, js, jb.prov, jb.policy, opt)
		})
	}
	wg.Wait()
	for _, jb := range jobs {
		if jb.err != nil {
			return rep, fmt.Errorf("simulate: %s, %s: %w", jb.prov, jb.policy, jb.err)
		}
		rep.Results = append(rep.Results, jb.res)
	}
	return rep, nil
}

// run is one replay: one provider, one policy, its own database and
// virtual clock.
type run struct {
	js     []Journey
	model  model
	policy string
	opt    Options

	st    *store.Store
	clock *clock.Virtual
	fake  *fakeProvider
	meter *tracking.Meter
	tg    *telegram
	// removed is when each journey's code stopped being tracked.
	removed []time.Time
}

// action adds or removes a journey's code at a moment.
type action struct {
	at  time.Time
	add bool
	j   int
}

func replay(ctx context.Context, js []Journey, prov, policy string, opt Options) (Result, error) {
	dir, err := os.MkdirTemp(opt.TempDir, "rastreio-simulate-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "replay.db"), store.Throwaway())
	if err != nil {
		return Result{}, err
	}
	defer st.Close()

	var actions []action
	for i, j := range js {
		end := j.AddedAt
		if n := len(j.Events); n > 0 {
			end = j.Events[n-1].At
		}
		actions = append(actions, action{at: j.AddedAt, add: true, j: i},
			action{at: end.Add(Linger), j: i})
	}
	sort.SliceStable(actions, func(a, b int) bool { return actions[a].at.Before(actions[b].at) })

	r := &run{js: js, model: modelFor(prov), policy: policy, opt: opt, st: st,
		clock: clock.NewVirtual(actions[0].at), removed: make([]time.Time, len(js))}
	st.SetClock(r.clock.Now)
	r.fake = newFakeProvider(r.model, r.clock.Now, js)
	budget := opt.Budgets[prov]
	if r.meter, err = tracking.NewMeter(ctx, r.fake, st, budget, r.clock.Now); err != nil {
		return Result{}, err
	}
	r.tg = newTelegram(r.clock.Now)
	switch policy {
	case Default:
		pol := schedule.Policy{Freshness: map[string]time.Duration{}}
		for _, spec := range provider.All() {
			if spec.Refresh > 0 {
				pol.Freshness[spec.Name] = spec.Refresh
			}
		}
		st.SetSchedule(func(f schedule.Facts, now time.Time) time.Time { return schedule.Next(f, now, pol) })
	case Oracle:
		st.SetSchedule(r.oracle)
	case EveryPass:
	default:
		return Result{}, fmt.Errorf("unknown policy %q", policy)
	}
	passes, err := r.loop(ctx, actions)
	if err != nil {
		return Result{}, err
	}
	res := r.measure()
	res.Provider, res.Policy, res.Passes, res.Budget = prov, policy, passes, budget
	return res, nil
}

// oracle is the schedule of the Oracle policy: due when the code's next
// event becomes visible to the provider.
func (r *run) oracle(f schedule.Facts, now time.Time) time.Time {
	next := now.Add(365 * 24 * time.Hour)
	if j := r.fake.journeys[f.Code]; j != nil {
		for _, e := range j.Events {
			if at, ok := r.fake.visible(f.Code, e); ok && at.After(now) && at.Before(next) {
				next = at
			}
		}
	}
	return next
}

// loop runs the passes, RestartSec apart, adding and removing codes as
// the journeys say, until every journey is over. A pass that would find
// nothing to do (no code due, nothing to send) is skipped: it would
// change nothing.
func (r *run) loop(ctx context.Context, actions []action) (int, error) {
	opt := pass.Options{Clock: r.clock, Render: r.tg.render, Logger: slog.New(slog.DiscardHandler)}
	if r.policy != EveryPass {
		opt.Adaptive = true
	}
	interval := r.opt.PassInterval
	next := actions[0].at
	tracked, passes := 0, 0
	for ai := 0; ; {
		for ai < len(actions) && !actions[ai].at.After(next) {
			a := actions[ai]
			r.clock.Set(a.at)
			if err := r.apply(ctx, a); err != nil {
				return passes, err
			}
			if a.add {
				tracked++
			} else {
				tracked--
			}
			ai++
		}
		if tracked == 0 {
			if ai == len(actions) {
				return passes, nil
			}
			next = align(next, actions[ai].at, interval)
			continue
		}
		r.clock.Set(next)
		now := r.clock.Now()
		u := r.meter.Usage()
		if a := u.Allowance(now); a >= 0 && opt.Adaptive {
			opt.Allowance = map[string]int64{r.model.name: a}
			opt.FirstProvider = r.model.name
		}
		if !opt.Adaptive {
			opt.RecheckFor = map[string]time.Duration{r.model.name: u.Interval(now, 0, interval)}
		}
		p := pass.New(r.st, tracking.NewChain(r.meter), r.tg, opt)
		if _, err := p.Run(ctx); err != nil {
			return passes, err
		}
		passes++
		next = r.clock.Now().Add(interval)
		if opt.Adaptive {
			until, err := r.idleUntil(ctx)
			if err != nil {
				return passes, err
			}
			if ai < len(actions) && actions[ai].at.Before(until) {
				until = actions[ai].at
			}
			next = align(next, until, interval)
		}
	}
}

// align returns the first pass time from next on, interval apart, at or
// after at.
func align(next, at time.Time, interval time.Duration) time.Time {
	if !at.After(next) {
		return next
	}
	n := (at.Sub(next) + interval - 1) / interval
	return next.Add(n * interval)
}

// idleUntil is when the adaptive schedule next has work: now when the
// outbox is not empty, else the earliest next_due of a tracked code, or
// later when the provider's budget allows no check until then (a
// replay's codes all go to its one provider, so a pass before then
// would ask nothing).
func (r *run) idleUntil(ctx context.Context) (time.Time, error) {
	now := r.clock.Now()
	if n, err := r.st.OutboxLen(ctx); err != nil || n > 0 {
		return now, err
	}
	due, err := r.st.EarliestDue(ctx)
	if err != nil {
		return now, err
	}
	if at := r.meter.Usage().AllowedFrom(now); at.After(due) {
		due = at
	}
	return due, nil
}

// apply adds a journey's code (one private chat per journey, as the bot
// does) or removes it.
func (r *run) apply(ctx context.Context, a action) error {
	j := r.js[a.j]
	chat := int64(a.j + 1)
	if a.add {
		_, err := r.st.AddPackages(ctx, store.ChatRef{ID: chat, Kind: "private"},
			[]store.PackageItem{{Code: j.Code}}, 1<<30)
		return err
	}
	r.removed[a.j] = r.clock.Now()
	_, err := r.st.RemovePackage(ctx, chat, j.Code)
	return err
}
