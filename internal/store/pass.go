package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/schedule"
)

// A tracker pass, step by step, each in its own file:
//   - pass.go (this file): the parcel states, beginning a pass (its
//     counter and start time) and choosing the due codes;
//   - save.go: saving a provider's answers with the notifications they
//     cause (the outbox), each code in one transaction;
//   - hold.go: how long one write transaction may hold the lock;
//   - catchup.go: what chats that lag behind their parcels are owed;
//   - expire.go: codes tracked too long leave the list.
//
// Backoff is counted in passes (meta "tracker_pass"): a parcel is due when
// the counter reached its next_pass. Expiry is counted in time.

// Parcel states (parcels.state; see migrations/001_init.sql).
const (
	stateNew      = schedule.StateNew
	stateNotFound = schedule.StateNotFound
	stateActive   = schedule.StateActive
	stateFinal    = schedule.StateFinal
	stateInvalid  = "invalid"
	// stateExpired is no longer written (expiry deletes the row); a code
	// added again over such a row of an older version starts anew.
	stateExpired = "expired"
)

// sqlStates renders states as an SQL list: ('new', 'notfound').
func sqlStates(states ...string) string {
	q := make([]string, len(states))
	for i, s := range states {
		q[i] = "'" + s + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// sqlLimit renders " LIMIT n" into a query's text: SQLite plans with the
// LIMIT, so a bound LIMIT parameter makes it re-prepare the statement at
// every run (tens of microseconds), while callers pass a few constants.
func sqlLimit(n int) string { return " LIMIT " + strconv.Itoa(max(n, 0)) }

// Tracker tuning.
const (
	// MaxBackoffPasses caps the spacing of re-checks of codes not found
	// yet and of final codes: 1, 2, 4, … passes, at most this many.
	MaxBackoffPasses = 32
	// ExpireNotFound: a code never found for this long leaves the list.
	ExpireNotFound = 30 * 24 * time.Hour
	// ExpireFinal: a delivered, returned or lost code leaves the list this
	// long after it became final.
	ExpireFinal = 30 * 24 * time.Hour
	// ExpireIdle: a code found but without any movement for this long
	// (counted from its last event, or from when we first found it if
	// that is later: an old code just added gets the full time) leaves the
	// list too (nothing is tracked forever).
	ExpireIdle = 90 * 24 * time.Hour
)

const (
	passKey   = "tracker_pass"
	passAtKey = "tracker_pass_at" // unix start time of the latest pass
)

// LastPassAt returns when the latest pass began (zero: none yet), so the
// time between passes (systemd's RestartSec plus a pass) can be known.
func (s *Store) LastPassAt(ctx context.Context) (time.Time, error) {
	v, err := s.Meta(ctx, passAtKey)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: %s: %w", passAtKey, err)
	}
	return time.Unix(n, 0), nil
}

// BeginPass increments the pass counter, records the pass's start time
// and returns the new pass number, in one statement.
func (s *Store) BeginPass(ctx context.Context) (int64, error) {
	st, err := s.stmt(ctx, `
INSERT INTO meta (key, value) VALUES (?1, '1'), (?2, ?3)
ON CONFLICT (key) DO UPDATE SET value = CASE WHEN key = ?1 THEN CAST(value AS INTEGER) + 1 ELSE excluded.value END
RETURNING key, value`)
	if err != nil {
		return 0, fmt.Errorf("store: begin pass: %w", err)
	}
	rows, err := st.QueryContext(ctx, passKey, passAtKey, strconv.FormatInt(s.unix(), 10))
	if err != nil {
		return 0, fmt.Errorf("store: begin pass: %w", err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return 0, fmt.Errorf("store: begin pass: %w", err)
		}
		if k == passKey {
			n, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: begin pass: %w", err)
	}
	if n == 0 {
		return 0, fmt.Errorf("store: begin pass: the counter was not returned")
	}
	return n, nil
}

// Due is a parcel to ask a provider about.
type Due struct {
	Code     string
	State    string
	Provider string // the provider that first found it ("" if none yet)
	Kind     string // its newest event's kind ("" if none yet)
}

// DueAt lists, for the adaptive schedule, the parcels due at now (next_due
// reached), most overdue first, at most limit: every parcel not expired or
// invalid that at least one chat not paused tracks.
func (s *Store) DueAt(ctx context.Context, now time.Time, limit int) ([]Due, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT p.code, p.state, p.provider, p.last_kind FROM parcels p INDEXED BY parcels_next_due
WHERE p.next_due <= ?
  AND p.state IN `+sqlStates(stateNew, stateNotFound, stateActive, stateFinal)+`
  AND EXISTS (SELECT 1 FROM tracked t JOIN chats c ON c.id = t.chat_id
              WHERE t.code = p.code AND c.paused_at IS NULL)
ORDER BY p.next_due, p.code
`+sqlLimit(limit), now.Unix())
	if err != nil {
		return nil, fmt.Errorf("store: due parcels: %w", err)
	}
	defer rows.Close()
	var due []Due
	for rows.Next() {
		var d Due
		if err := rows.Scan(&d.Code, &d.State, &d.Provider, &d.Kind); err != nil {
			return nil, fmt.Errorf("store: due parcels: %w", err)
		}
		due = append(due, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: due parcels: %w", err)
	}
	return due, nil
}

// EarliestDue returns the earliest next_due among the parcels a chat
// tracks (Unix 0 when one is due at once; the zero time when none), so
// a replay can skip the passes that would find nothing to do.
func (s *Store) EarliestDue(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	err := s.db.QueryRowContext(ctx, `
SELECT min(p.next_due) FROM parcels p
WHERE p.state IN `+sqlStates(stateNew, stateNotFound, stateActive, stateFinal)+`
  AND EXISTS (SELECT 1 FROM tracked t WHERE t.code = p.code)`).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: earliest due: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.Unix(at.Int64, 0), nil
}

// NextDue returns the earliest next_due among the parcels an active chat
// tracks (zero when none), for the bot's "first status by …" promise.
func (s *Store) NextDue(ctx context.Context, code string) (time.Time, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, "SELECT next_due FROM parcels WHERE code = ?", code).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) || at == 0 {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: next due: %w", err)
	}
	return time.Unix(at, 0), nil
}

// DueParcels lists the parcels to check in pass: every parcel not expired
// or invalid, tracked by at least one chat that is not paused, whose
// backoff allows this pass. An active parcel checked less than its
// provider's re-check interval ago (perProvider[pin], else recheck) waits.
// New codes come first, then the least recently checked.
func (s *Store) DueParcels(ctx context.Context, pass int64, recheck time.Duration, perProvider map[string]time.Duration) ([]Due, error) {
	now := s.now()
	rows, err := s.db.QueryContext(ctx, `
SELECT p.code, p.state, p.provider, p.checked_at FROM parcels p
WHERE p.state IN `+sqlStates(stateNew, stateNotFound, stateActive, stateFinal)+`
  AND p.next_pass <= ?
  AND EXISTS (SELECT 1 FROM tracked t JOIN chats c ON c.id = t.chat_id
              WHERE t.code = p.code AND c.paused_at IS NULL)
ORDER BY p.state <> '`+stateNew+`', p.checked_at IS NOT NULL, p.checked_at, p.code`, pass)
	if err != nil {
		return nil, fmt.Errorf("store: due parcels: %w", err)
	}
	defer rows.Close()
	var due []Due
	for rows.Next() {
		var d Due
		var checked sql.NullInt64
		if err := rows.Scan(&d.Code, &d.State, &d.Provider, &checked); err != nil {
			return nil, fmt.Errorf("store: due parcels: %w", err)
		}
		if d.State == stateActive && checked.Valid {
			iv := recheck
			if piv, ok := perProvider[d.Provider]; ok {
				iv = piv
			}
			if iv > 0 && now.Sub(time.Unix(checked.Int64, 0)) < iv {
				continue
			}
		}
		due = append(due, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: due parcels: %w", err)
	}
	return due, nil
}
