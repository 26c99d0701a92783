// Package tracker runs one tracking pass: it expires what was tracked too
// long, picks the due codes, asks the provider in batches, stores new
// events and the notifications they cause in one transaction each
// (store.SaveResults), and delivers the outbox to Telegram within the
// platform's limits (sender.go). cmd/tracker wires it and logs the
// Summary as the pass's last line.
package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rastreio/rastreio/internal/message"
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
	// SendRate is Telegram sends per second overall (TELEGRAM_SEND_RATE).
	SendRate float64
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
	// Progress, when set, is told how the queries go, every few seconds
	// (cmd/tracker puts it in systemd's STATUS=).
	Progress func(status string)
}

// Defaults.
const (
	DefaultPassMax       = 2 * time.Minute
	DefaultSendRate      = 25
	DefaultWorkers       = 8
	DefaultBatchSize     = 50
	DefaultMaxFailures   = 3
	DefaultChatInterval  = 1010 * time.Millisecond // 1 s (from the previous answer) plus a margin
	DefaultGroupInterval = 3010 * time.Millisecond // 20 a minute, plus a margin
	DefaultMaxAttempts   = 5
	// MaxInFlight is the most messages being sent at once, which is also
	// the most a crash can repeat.
	MaxInFlight = 4
	// TelegramMaxPerSecond is Telegram's overall limit.
	TelegramMaxPerSecond = 30
)

func (o *Options) defaults() {
	if o.PassMax <= 0 {
		o.PassMax = DefaultPassMax
	}
	if o.SendRate <= 0 {
		o.SendRate = DefaultSendRate
	}
	o.SendRate = min(o.SendRate, TelegramMaxPerSecond)
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.ChatInterval <= 0 {
		o.ChatInterval = DefaultChatInterval
	}
	if o.GroupInterval <= 0 {
		o.GroupInterval = DefaultGroupInterval
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// progressEvery spaces Progress calls.
const progressEvery = 5 * time.Second

// ErrTelegramAuth means Telegram rejected the bot token (401).
var ErrTelegramAuth = errors.New("tracker: telegram rejected the bot token")

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
	return append(a, slog.Duration("duration", s.Duration.Round(time.Millisecond)))
}

// Status is a one-line summary for systemctl status.
func (s Summary) Status() string {
	st := fmt.Sprintf("pass %d: %d due, %d checked, %d new events, %d sent, %d left, %d provider errors, %s",
		s.Pass, s.Due, s.Checked, s.NewEvents, s.Sent, s.Left, s.ProviderErrors, s.Duration.Round(time.Second))
	if s.Stopped != "" {
		st += ", stopped: " + s.Stopped
	}
	return st
}

// Pass is one tracking pass.
type Pass struct {
	store    *store.Store
	provider Provider
	tg       Sender
	opt      Options
	log      *slog.Logger
	now      func() time.Time
}

// New prepares a pass.
func New(st *store.Store, p Provider, tg Sender, opt Options) *Pass {
	opt.defaults()
	return &Pass{store: st, provider: p, tg: tg, opt: opt, log: opt.Logger, now: time.Now}
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
	start := p.now()
	deadline := start.Add(p.opt.PassMax)
	// Leave part of the bound to deliver what the queries produced.
	queryDeadline := deadline.Add(-min(p.opt.PassMax/4, 30*time.Second))
	db := context.WithoutCancel(ctx) // commits finish even after SIGTERM

	var sum Summary
	finish := func(err error) (Summary, error) {
		if n, lerr := p.store.OutboxLen(db); lerr == nil {
			sum.Left = n
		}
		sum.Duration = p.now().Sub(start)
		return sum, err
	}
	pass, err := p.store.BeginPass(db)
	if err != nil {
		return finish(fmt.Errorf("tracker: %w", err))
	}
	sum.Pass = pass
	exp, queued, err := p.store.ExpireParcels(db, Render)
	if err != nil {
		return finish(fmt.Errorf("tracker: %w", err))
	}
	sum.Expired, sum.Queued = exp, queued
	caught, err := p.store.CatchUp(db, Render)
	if err != nil {
		return finish(fmt.Errorf("tracker: %w", err))
	}
	sum.Queued += caught
	due, err := p.store.DueParcels(db, pass, p.opt.Recheck, p.opt.RecheckFor)
	if err != nil {
		return finish(fmt.Errorf("tracker: %w", err))
	}
	sum.Due = len(due)

	// Deliver while querying: the sender drains the outbox (including what
	// an earlier pass left) and is woken up by every commit.
	snd := newSender(p.store, p.tg, p.opt, p.log)
	queryDone := make(chan struct{})
	var wg sync.WaitGroup
	var sendErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		sendErr = snd.run(ctx, deadline, queryDone)
	}()

	qstart := p.now()
	qerr := p.query(ctx, db, pass, due, queryDeadline, &sum, snd.wake)
	sum.QueryTime = p.now().Sub(qstart)
	close(queryDone)
	wg.Wait()
	sum.Sent, sum.Failed, sum.Retried429 = snd.sent, snd.failed, snd.retried
	sum.PausedChats, sum.MigratedChats = snd.paused, snd.migrated
	if ctx.Err() != nil && sum.Stopped == "" {
		sum.Stopped = "signal"
	}
	return finish(errors.Join(qerr, sendErr))
}

// batch is a group of due codes asked in one provider call.
type batch []tracking.Request

// batches splits due into calls of at most max codes, keeping codes
// pinned to one provider together so each call goes to few providers.
func batches(due []store.Due, max int) []batch {
	var out []batch
	open := map[string]int{} // provider pin → index in out of its open batch
	for _, d := range due {
		i, ok := open[d.Provider]
		if !ok || len(out[i]) >= max {
			out = append(out, make(batch, 0, max))
			i = len(out) - 1
			open[d.Provider] = i
		}
		out[i] = append(out[i], tracking.Request{Code: d.Code, Pinned: d.Provider})
	}
	return out
}

type answer struct {
	codes batch
	res   map[string]tracking.Result
	err   error
}

// query asks the provider for due codes with Workers calls at once and
// saves each answer as it arrives (answers that pile up while a save runs
// are saved together). It stops early on SIGTERM, at queryDeadline, on
// rejected credentials or quota, and after MaxFailures failed calls in a
// row; codes not answered stay due for the next pass.
func (p *Pass) query(ctx, db context.Context, pass int64, due []store.Due, queryDeadline time.Time, sum *Summary, wake func()) error {
	if len(due) == 0 {
		return nil
	}
	qctx, cancel := context.WithDeadline(ctx, queryDeadline)
	defer cancel()
	max := p.opt.BatchSize
	jobs := make(chan batch)
	answers := make(chan answer, p.opt.Workers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // dispatcher
		defer wg.Done()
		defer close(jobs)
		for _, b := range batches(due, max) {
			select {
			case jobs <- b:
			case <-qctx.Done():
				return
			}
		}
	}()
	var workers sync.WaitGroup
	for range p.opt.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for b := range jobs {
				if qctx.Err() != nil {
					continue
				}
				res, err := p.provider.Track(qctx, b)
				answers <- answer{codes: b, res: res, err: err}
			}
		}()
	}
	go func() {
		workers.Wait()
		close(answers)
	}()

	var fatal error
	failures := 0
	stop := func(reason string, err error) {
		if sum.Stopped == "" {
			sum.Stopped = reason
		}
		if err != nil && fatal == nil {
			fatal = err
		}
		cancel()
	}
	var pending []store.Checked
	handle := func(a answer) {
		answered := 0
		for _, rq := range a.codes {
			r, ok := a.res[rq.Code]
			if !ok {
				continue // no answer for it this time: stays due
			}
			answered++
			pending = append(pending, store.Checked{Code: rq.Code, Result: r})
		}
		if a.err != nil && qctx.Err() != nil && answered == 0 {
			return // our own cancel, not the provider's fault
		}
		sum.Requests++
		if a.err == nil {
			failures = 0
			return
		}
		sum.ProviderErrors++
		switch {
		case errors.Is(a.err, tracking.ErrAuth):
			// Returned to cmd/tracker, which logs it and exits 78.
			stop("credentials rejected", fmt.Errorf("tracker: %w", a.err))
		case errors.Is(a.err, tracking.ErrQuota) && answered == 0:
			p.log.Warn("provider quota exhausted", slog.Any("error", a.err))
			stop("quota exhausted", nil)
		case answered > 0:
			// Part of the call went through (another provider of the chain
			// answered): not a dead provider.
			failures = 0
			p.log.Log(ctx, warnFirst(sum.ProviderErrors), "provider call failed in part",
				slog.Int("codes", len(a.codes)), slog.Int("answered", answered), slog.Any("error", a.err))
		default:
			failures++
			p.log.Log(ctx, warnFirst(sum.ProviderErrors), "provider call failed",
				slog.Int("codes", len(a.codes)), slog.Int("in_a_row", failures), slog.Any("error", a.err))
			if failures >= p.opt.MaxFailures {
				stop("provider failing", nil)
			}
		}
	}
	var saveErr error
	lastProgress := time.Now()
	for a := range answers {
		handle(a)
	drain: // save what piled up in one transaction
		for {
			select {
			case more, ok := <-answers:
				if !ok {
					break drain
				}
				handle(more)
			default:
				break drain
			}
		}
		if len(pending) == 0 || saveErr != nil {
			pending = pending[:0]
			continue
		}
		st, err := p.store.SaveResults(db, pass, pending, Render)
		if err != nil {
			saveErr = fmt.Errorf("tracker: %w", err)
			stop("database error", saveErr)
			pending = pending[:0]
			continue
		}
		sum.Checked += len(pending)
		sum.Found += st.Found
		sum.NotFound += st.NotFound
		sum.Invalid += st.Invalid
		sum.NewEvents += st.NewEvents
		sum.Queued += st.Queued
		pending = pending[:0]
		if st.Queued > 0 {
			wake()
		}
		if p.opt.Progress != nil && time.Since(lastProgress) >= progressEvery {
			lastProgress = time.Now()
			p.opt.Progress(fmt.Sprintf("pass %d: %d of %d due codes checked, %d new events", pass, sum.Checked, len(due), sum.NewEvents))
		}
	}
	wg.Wait()
	if sum.Stopped == "" && qctx.Err() != nil && ctx.Err() == nil {
		sum.Stopped = "time bound"
	}
	return fatal
}

// warnFirst is Warn for a pass's first few provider errors, then Debug, so
// a flaky provider does not flood the journal (the summary counts them).
func warnFirst(n int) slog.Level {
	if n <= 5 {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}
