// Package pass runs one tracking pass: it expires what was tracked too
// long, picks the due codes, asks the provider in batches (query.go),
// stores new events and the notifications they cause in short
// transactions, each code whole (store.SaveResults), and meanwhile has internal/delivery send the
// outbox. Everything reads one injected clock, so a pass runs as well on
// a virtual one. cmd/tracker wires it and logs the Summary as the pass's
// last line.
package pass

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rastreio/rastreio/internal/clock"
	"github.com/rastreio/rastreio/internal/delivery"
	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/schedule"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/tracking"
)

// Provider answers for batches of codes, each with the provider it is
// pinned to (a *tracking.Chain). Results are valid even when the error is
// not: codes missing from the map had no answer this time.
type Provider interface {
	Track(ctx context.Context, reqs []tracking.Request) (map[string]tracking.Result, error)
}

// Options tune a pass. Zero values take the defaults.
type Options struct {
	// PassMax bounds the whole pass (config RASTREIO_PASS_MAX_DURATION).
	PassMax time.Duration
	// Recheck is the least time between two checks of an active code
	// (RASTREIO_RECHECK_INTERVAL; 0: every pass).
	Recheck time.Duration
	// RecheckFor overrides Recheck for codes pinned to a provider (its
	// own setting, stretched when its monthly budget runs short).
	RecheckFor map[string]time.Duration
	// Adaptive: choose due codes by their stored next due time (the
	// schedule, RASTREIO_RECHECK_INTERVAL unset) instead of Recheck and
	// the pass counter.
	Adaptive bool
	// Allowance is, per provider with a budget, how many billed checks
	// this pass may spend (tracking.Usage.Allowance); codes not pinned to
	// a provider count against FirstProvider. Due codes beyond it wait,
	// the likeliest to move going first, and the summary says checks are
	// slowed.
	Allowance     map[string]int64
	FirstProvider string
	// SendRate is Telegram sends per second overall (TELEGRAM_SEND_RATE).
	SendRate float64
	// Clock is the pass's one clock (default: the wall clock).
	Clock clock.Clock
	// Workers is how many provider batches may be asked at once; the
	// provider's own limiter paces them.
	Workers int
	// BatchSize is how many codes one worker asks for at once (the chain
	// splits them per provider's MaxBatch).
	BatchSize int
	// MaxFailures is how many provider calls in a row may fail before the
	// pass stops querying.
	MaxFailures int
	// ChatInterval and GroupInterval space two sends to one chat (Telegram:
	// about 1 per second per chat, 20 per minute per group).
	ChatInterval, GroupInterval time.Duration
	// MaxAttempts is how many passes a message that Telegram refuses (for
	// another reason than limits, blocks or migrations) is tried.
	MaxAttempts int
	Logger      *slog.Logger
	// Render turns stored notices into messages (default Render);
	// `rastreio-tracker simulate` wraps it to know which events each
	// message carries.
	Render store.RenderFunc
	// Progress, when set, is told how the queries go, every few seconds
	// (cmd/tracker puts it in systemd's STATUS=).
	Progress func(status string)
}

// Defaults (delivery's are in internal/delivery).
const (
	DefaultPassMax     = 2 * time.Minute
	DefaultWorkers     = 8
	DefaultBatchSize   = 50
	DefaultMaxFailures = 3
)

func (o *Options) defaults() {
	if o.PassMax <= 0 {
		o.PassMax = DefaultPassMax
	}
	if o.Clock == nil {
		o.Clock = clock.Real
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Render == nil {
		o.Render = Render
	}
}

// MaxDue bounds the due codes one adaptive pass takes, the most overdue
// first: more than a per-request provider can answer within a pass's
// bound, and few enough that choosing them among a million codes stays
// under 50 ms (store BenchmarkDueAtMillion).
const MaxDue = 2000

// withinBudget keeps, for each provider with an allowance, at most that
// many of its due codes, the likeliest to bring news a person acts on
// first (then the most overdue), and names the providers it held back.
func (p *Pass) withinBudget(due []store.Due) ([]store.Due, []string) {
	if len(p.opt.Allowance) == 0 {
		return due, nil
	}
	byProvider := map[string][]store.Due{}
	var kept []store.Due
	for _, d := range due {
		prov := d.Provider
		if prov == "" {
			prov = p.opt.FirstProvider
		}
		if _, ok := p.opt.Allowance[prov]; !ok {
			kept = append(kept, d)
			continue
		}
		byProvider[prov] = append(byProvider[prov], d)
	}
	var slowed []string
	for prov, ds := range byProvider {
		allowed := int(max(p.opt.Allowance[prov], 0))
		if len(ds) > allowed {
			sort.SliceStable(ds, func(i, j int) bool {
				return schedule.Priority(ds[i].State, tracking.Kind(ds[i].Kind)) > schedule.Priority(ds[j].State, tracking.Kind(ds[j].Kind))
			})
			ds = ds[:allowed]
			slowed = append(slowed, prov)
		}
		kept = append(kept, ds...)
	}
	// Back to the order they came in: the most overdue first.
	keep := make(map[string]bool, len(kept))
	for _, d := range kept {
		keep[d.Code] = true
	}
	out := due[:0:0]
	for _, d := range due {
		if keep[d.Code] {
			out = append(out, d)
		}
	}
	sort.Strings(slowed)
	return out, slowed
}

// progressEvery spaces Progress calls.
const progressEvery = 5 * time.Second

// ErrTelegramAuth means Telegram rejected the bot token (401).
var ErrTelegramAuth = delivery.ErrTelegramAuth

// Summary is what a pass did, for the log line and systemd's STATUS=.
type Summary struct {
	Pass           int64
	Due            int // codes due this pass
	Checked        int // codes the provider answered for
	Found          int
	NotFound       int
	Invalid        int
	NewEvents      int
	Queued         int // notifications written to the outbox
	Expired        int // codes that left the list
	Requests       int // provider calls made
	ProviderErrors int // provider calls that failed
	Stopped        string
	Slowed         []string      // providers whose budget held checks back
	QueryTime      time.Duration // time spent querying providers
	Sent           int           // messages Telegram accepted
	Failed         int           // sends that failed (retried next pass or given up)
	Retried429     int           // 429 answers waited out
	PausedChats    int
	MigratedChats  int
	Left           int // messages still in the outbox at the end
	Duration       time.Duration
}

// Attrs are the summary's log attributes.
func (s Summary) Attrs() []slog.Attr {
	a := []slog.Attr{
		slog.Int64("pass", s.Pass),
		slog.Int("due", s.Due),
		slog.Int("checked", s.Checked),
		slog.Int("found", s.Found),
		slog.Int("not_found", s.NotFound),
		slog.Int("invalid", s.Invalid),
		slog.Int("new_events", s.NewEvents),
		slog.Int("expired", s.Expired),
		slog.Int("queued", s.Queued),
		slog.Int("sent", s.Sent),
		slog.Int("failed", s.Failed),
		slog.Int("retried_429", s.Retried429),
		slog.Int("paused_chats", s.PausedChats),
		slog.Int("migrated_chats", s.MigratedChats),
		slog.Int("outbox_left", s.Left),
		slog.Int("requests", s.Requests),
		slog.Int("provider_errors", s.ProviderErrors),
		slog.Duration("query_duration", s.QueryTime.Round(time.Millisecond)),
	}
	if s.Stopped != "" {
		a = append(a, slog.String("stopped", s.Stopped))
	}
	if len(s.Slowed) > 0 {
		a = append(a, slog.String("slowed", strings.Join(s.Slowed, ",")))
	}
	return append(a, slog.Duration("duration", s.Duration.Round(time.Millisecond)))
}

// Status is a one-line summary for systemctl status.
func (s Summary) Status() string {
	st := fmt.Sprintf("pass %d: %d due, %d checked, %d new events, %d sent, %d left, %d provider errors, %s",
		s.Pass, s.Due, s.Checked, s.NewEvents, s.Sent, s.Left, s.ProviderErrors, s.Duration.Round(time.Second))
	if s.Stopped != "" {
		st += ", stopped: " + s.Stopped
	}
	if len(s.Slowed) > 0 {
		st += ", checks slowed by the budget of " + strings.Join(s.Slowed, ", ")
	}
	return st
}

// Pass is one tracking pass.
type Pass struct {
	store    *store.Store
	provider Provider
	tg       delivery.Sender
	opt      Options
	log      *slog.Logger
	clock    clock.Clock
}

// New prepares a pass.
func New(st *store.Store, p Provider, tg delivery.Sender, opt Options) *Pass {
	opt.defaults()
	return &Pass{store: st, provider: p, tg: tg, opt: opt, log: opt.Logger, clock: opt.Clock}
}

// Render turns a stored notice into its Telegram HTML message.
func Render(n store.Notice) string {
	switch n.Kind {
	case store.NoticeFirst:
		if len(n.Events) > 0 {
			return message.FirstStatus(n.Code, n.Description, n.Events[len(n.Events)-1], n.Appeared)
		}
	case store.NoticeEvents:
		return message.NewEvents(n.Code, n.Description, n.Events)
	case store.NoticeInvalid:
		return message.InvalidCode(n.Code, n.Description)
	case store.NoticeExpiredNotFound:
		return message.ExpiredNotFound(n.Code, n.Description)
	case store.NoticeExpiredFinal:
		return message.ExpiredFinal(n.Code, n.Description)
	case store.NoticeExpiredIdle:
		return message.ExpiredIdle(n.Code, n.Description)
	}
	return message.NewEvents(n.Code, n.Description, n.Events)
}

// Run runs the pass. ctx ending (SIGTERM) stops it taking new work: what
// was received is committed, messages in flight finish, nothing new is
// sent. The error is non-nil when the pass could not do its work (the
// database failed) or when credentials were rejected (wrapping
// tracking.ErrAuth or ErrTelegramAuth); the Summary is filled either way.
func (p *Pass) Run(ctx context.Context) (Summary, error) {
	start := p.clock.Now()
	deadline := start.Add(p.opt.PassMax)
	// Leave part of the bound to deliver what the queries produced.
	queryDeadline := deadline.Add(-min(p.opt.PassMax/4, 30*time.Second))
	db := context.WithoutCancel(ctx) // commits finish even after SIGTERM

	var sum Summary
	due, err := p.begin(db, &sum)
	if err == nil {
		err = p.queryAndDeliver(ctx, db, due, queryDeadline, deadline, &sum)
	}
	if n, lerr := p.store.OutboxLen(db); lerr == nil {
		sum.Left = n
	}
	sum.Duration = p.clock.Now().Sub(start)
	return sum, err
}

// begin counts the pass, expires what was tracked too long, queues what
// chats that lag behind are owed, and lists the due codes.
func (p *Pass) begin(ctx context.Context, sum *Summary) ([]store.Due, error) {
	pass, err := p.store.BeginPass(ctx)
	if err != nil {
		return nil, fmt.Errorf("pass: %w", err)
	}
	sum.Pass = pass
	exp, queued, err := p.store.ExpireParcels(ctx, p.opt.Render)
	if err != nil {
		return nil, fmt.Errorf("pass: %w", err)
	}
	sum.Expired, sum.Queued = exp, queued
	caught, err := p.store.CatchUp(ctx, p.opt.Render)
	if err != nil {
		return nil, fmt.Errorf("pass: %w", err)
	}
	sum.Queued += caught
	var due []store.Due
	if p.opt.Adaptive {
		due, err = p.store.DueAt(ctx, p.clock.Now(), MaxDue)
	} else {
		due, err = p.store.DueParcels(ctx, pass, p.opt.Recheck, p.opt.RecheckFor)
	}
	if err != nil {
		return nil, fmt.Errorf("pass: %w", err)
	}
	due, sum.Slowed = p.withinBudget(due)
	sum.Due = len(due)
	return due, nil
}

// queryAndDeliver asks for the due codes while delivery drains the
// outbox (including what an earlier pass left), woken by every commit.
func (p *Pass) queryAndDeliver(ctx, db context.Context, due []store.Due, queryDeadline, deadline time.Time, sum *Summary) error {
	dl := delivery.New(p.store, p.tg, delivery.Options{
		SendRate: p.opt.SendRate, ChatInterval: p.opt.ChatInterval, GroupInterval: p.opt.GroupInterval,
		MaxAttempts: p.opt.MaxAttempts, Logger: p.log, Clock: p.clock,
	})
	// The queries take no time on a virtual clock: hold it before
	// delivery starts waiting on it.
	release := p.clock.Hold()
	queryDone := make(chan struct{})
	var wg sync.WaitGroup
	var stats delivery.Stats
	var sendErr error
	wg.Go(func() { stats, sendErr = dl.Run(ctx, deadline, queryDone) })

	q := &query{Pass: p, db: db, sum: sum, wake: dl.Wake}
	qstart := p.clock.Now()
	qerr := q.run(ctx, due, queryDeadline)
	sum.QueryTime = p.clock.Now().Sub(qstart)
	release()
	close(queryDone)
	wg.Wait()
	sum.Sent, sum.Failed, sum.Retried429 = stats.Sent, stats.Failed, stats.Retried429
	sum.PausedChats, sum.MigratedChats = stats.PausedChats, stats.MigratedChats
	if ctx.Err() != nil && sum.Stopped == "" {
		sum.Stopped = "signal"
	}
	err := errors.Join(qerr, sendErr, stats.OutboxStuck)
	switch {
	case store.IsDiskFull(err):
		sum.Stopped = "disk full: the database cannot be written; free space on its filesystem"
	case stats.OutboxStuck != nil:
		sum.Stopped = "the outbox cannot be written; delivery stopped"
	}
	return err
}
