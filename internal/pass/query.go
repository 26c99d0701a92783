package pass

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rastreio/rastreio/internal/clock"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/tracking"
)

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

// answer is one provider call's outcome.
type answer struct {
	codes batch
	res   map[string]tracking.Result
	err   error
}

// query asks the provider for a pass's due codes: Workers calls at once,
// each answer saved as it arrives (answers that pile up while a save runs
// are saved together). It stops early on SIGTERM, at its deadline, on
// rejected credentials or quota, and after MaxFailures failed calls in a
// row; codes not answered stay due for the next pass.
type query struct {
	*Pass
	db   context.Context // outlives SIGTERM: commits finish
	sum  *Summary
	wake func() // tells delivery that messages were queued

	qctx     context.Context // ends the calls
	cancel   context.CancelFunc
	due      int
	pending  []store.Checked // answered, not saved yet
	failures int             // failed calls in a row
	fatal    error           // returned to Run
	saveErr  error
	progress time.Time // last Progress call
}

func (q *query) run(ctx context.Context, due []store.Due, deadline time.Time) error {
	if len(due) == 0 {
		return nil
	}
	q.due = len(due)
	q.qctx, q.cancel = clock.WithDeadline(ctx, q.clock, deadline)
	defer q.cancel()
	q.progress = q.clock.Now()

	bs := batches(due, q.opt.BatchSize)
	if len(bs) == 1 { // most passes: one call, no workers to hand it to
		res, err := q.provider.Track(q.qctx, bs[0])
		q.tally(ctx, answer{codes: bs[0], res: res, err: err})
		q.save()
		return q.end(ctx)
	}
	answers := make(chan answer, q.opt.Workers)
	var wg sync.WaitGroup
	wg.Go(func() {
		q.ask(bs, answers)
		close(answers)
	})
	for a := range answers {
		q.tally(ctx, a)
		for more := true; more; { // what piled up is saved with it
			select {
			case a, ok := <-answers:
				if ok {
					q.tally(ctx, a)
				}
				more = ok
			default:
				more = false
			}
		}
		q.save()
	}
	wg.Wait()
	return q.end(ctx)
}

// end says why the queries stopped early, if they did, and returns the
// error for Run.
func (q *query) end(ctx context.Context) error {
	if q.sum.Stopped == "" && q.qctx.Err() != nil && ctx.Err() == nil {
		q.sum.Stopped = "time bound"
	}
	return q.fatal
}

// ask hands the batches to Workers goroutines calling the provider, and
// returns once they all ended.
func (q *query) ask(bs []batch, answers chan<- answer) {
	jobs := make(chan batch)
	var workers sync.WaitGroup
	for range min(q.opt.Workers, len(bs)) {
		workers.Go(func() {
			for b := range jobs {
				if q.qctx.Err() != nil {
					continue
				}
				res, err := q.provider.Track(q.qctx, b)
				answers <- answer{codes: b, res: res, err: err}
			}
		})
	}
feed:
	for _, b := range bs {
		select {
		case jobs <- b:
		case <-q.qctx.Done():
			break feed
		}
	}
	close(jobs)
	workers.Wait()
}

// stop ends the queries; reason goes to the summary, err (if any) to Run.
func (q *query) stop(reason string, err error) {
	if q.sum.Stopped == "" {
		q.sum.Stopped = reason
	}
	if err != nil && q.fatal == nil {
		q.fatal = err
	}
	q.cancel()
}

// tally keeps an answer's results for saving and judges the call.
func (q *query) tally(ctx context.Context, a answer) {
	answered := 0
	for _, rq := range a.codes {
		if r, ok := a.res[rq.Code]; ok {
			answered++
			q.pending = append(q.pending, store.Checked{Code: rq.Code, Result: r})
		} // else: no answer for it this time, it stays due
	}
	if a.err != nil && q.qctx.Err() != nil && answered == 0 {
		return // our own cancel, not the provider's fault
	}
	q.sum.Requests++
	if a.err == nil {
		q.failures = 0
		return
	}
	q.sum.ProviderErrors++
	level := warnFirst(q.sum.ProviderErrors)
	switch {
	case errors.Is(a.err, tracking.ErrAuth):
		// Returned to cmd/tracker, which logs it and exits 78.
		q.stop("credentials rejected", fmt.Errorf("pass: %w", a.err))
	case errors.Is(a.err, tracking.ErrQuota) && answered == 0:
		q.log.Warn("provider quota exhausted", slog.Any("error", a.err))
		q.stop("quota exhausted", nil)
	case answered > 0:
		// Part of the call went through (another provider of the chain
		// answered): not a dead provider.
		q.failures = 0
		q.log.Log(ctx, level, "provider call failed in part",
			slog.Int("codes", len(a.codes)), slog.Int("answered", answered), slog.Any("error", a.err))
	default:
		q.failures++
		q.log.Log(ctx, level, "provider call failed",
			slog.Int("codes", len(a.codes)), slog.Int("in_a_row", q.failures), slog.Any("error", a.err))
		if q.failures >= q.opt.MaxFailures {
			q.stop("provider failing", nil)
		}
	}
}

// save stores the pending results (store.SaveResults: short
// transactions) and wakes delivery when they queued messages. After a
// failed save nothing more is saved.
func (q *query) save() {
	defer func() { q.pending = q.pending[:0] }()
	if len(q.pending) == 0 || q.saveErr != nil {
		return
	}
	// A long save commits in parts: what it committed before an error
	// counts, and is delivered.
	st, err := q.store.SaveResults(q.db, q.sum.Pass, q.pending, q.opt.Render)
	if err != nil {
		q.saveErr = fmt.Errorf("pass: %w", err)
		q.stop("database error", q.saveErr)
	} else {
		q.sum.Checked += len(q.pending)
	}
	q.sum.Found += st.Found
	q.sum.NotFound += st.NotFound
	q.sum.Invalid += st.Invalid
	q.sum.NewEvents += st.NewEvents
	q.sum.Queued += st.Queued
	if st.Queued > 0 {
		q.wake()
	}
	if err != nil {
		return
	}
	if now := q.clock.Now(); q.opt.Progress != nil && now.Sub(q.progress) >= progressEvery {
		q.progress = now
		q.opt.Progress(fmt.Sprintf("pass %d: %d of %d due codes checked, %d new events", q.sum.Pass, q.sum.Checked, q.due, q.sum.NewEvents))
	}
}

// warnFirst is Warn for a pass's first few provider errors, then Debug, so
// a flaky provider does not flood the journal (the summary counts them).
func warnFirst(n int) slog.Level {
	if n <= 5 {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}
