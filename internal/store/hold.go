package store

import (
	"context"
	"database/sql"
	"time"
)

// MaxWriteHold is how long one of the tracker's write transactions goes
// on taking more work: past it, the work in hand commits and the rest goes
// to a new transaction, after a pause (writeYield). The bot and the tracker
// share one SQLite file, and a writer waiting for the lock only polls for
// it (SQLite's busy handler sleeps up to 100 ms between tries, with no
// queue): a pass that held the lock for the whole of a large save made the
// bot's writes wait, and fail after BusyTimeout.
const MaxWriteHold = 100 * time.Millisecond

// writeYield is the pause between two transactions of one long write:
// long enough that a writer polling every 100 ms finds the lock free within
// a couple of polls (BenchmarkBotWaitDuringSave measures the longest wait).
const writeYield = 50 * time.Millisecond

// holdTimer tells a transaction's loop when it has held the lock long
// enough. It reads the wall clock: the lock is held in real time, whatever
// clock the store dates its rows with.
type holdTimer struct{ start time.Time }

func (h *holdTimer) over() bool { return time.Since(h.start) >= MaxWriteHold }

// shortTx runs fn in a write transaction, with a timer fn checks between
// units of work it keeps whole: fn stops at one that ends past MaxWriteHold
// and returns, and what it did commits. yield first pauses writeYield, for
// a transaction that continues a long write (give other writers their
// turn).
func (s *Store) shortTx(ctx context.Context, yield bool, fn func(tx *sql.Tx, hold *holdTimer) error) error {
	if yield {
		t := time.NewTimer(writeYield)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return fn(tx, &holdTimer{start: time.Now()})
	})
}
