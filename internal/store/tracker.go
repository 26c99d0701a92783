package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

// Tracker bookkeeping: the pass counter, which parcels are due, and saving
// a provider's answers together with the notifications they cause (the
// outbox) in one transaction.
//
// Backoff is counted in passes (meta "tracker_pass"): a parcel is due when
// the counter reached its next_pass. Expiry is counted in time.

// Parcel states (parcels.state; see migrations/001_init.sql).
const (
	trStateNew      = "new"
	trStateNotFound = "notfound"
	trStateActive   = "active"
	trStateFinal    = "final"
	trStateInvalid  = "invalid"
)

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
	trPassKey   = "tracker_pass"
	trPassAtKey = "tracker_pass_at" // unix start time of the latest pass
)

// LastPassAt returns when the latest pass began (zero: none yet), so the
// time between passes (systemd's RestartSec plus a pass) can be known.
func (s *Store) LastPassAt(ctx context.Context) (time.Time, error) {
	v, err := s.Meta(ctx, trPassAtKey)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: %s: %w", trPassAtKey, err)
	}
	return time.Unix(n, 0), nil
}

// BeginPass increments the pass counter, records the pass's start time
// and returns the new pass number.
func (s *Store) BeginPass(ctx context.Context) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			trPassAtKey, strconv.FormatInt(s.unix(), 10)); err != nil {
			return err
		}
		var v string
		err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", trPassKey).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		n, _ = strconv.ParseInt(v, 10, 64)
		n++
		_, err = tx.ExecContext(ctx,
			"INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			trPassKey, strconv.FormatInt(n, 10))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: begin pass: %w", err)
	}
	return n, nil
}

// Due is a parcel to ask a provider about.
type Due struct {
	Code     string
	State    string
	Provider string // the provider that first found it ("" if none yet)
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
WHERE p.state IN ('new', 'notfound', 'active', 'final')
  AND p.next_pass <= ?
  AND EXISTS (SELECT 1 FROM tracked t JOIN chats c ON c.id = t.chat_id
              WHERE t.code = p.code AND c.paused_at IS NULL)
ORDER BY p.state <> 'new', p.checked_at IS NOT NULL, p.checked_at, p.code`, pass)
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
		if d.State == trStateActive && checked.Valid {
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

// NoticeKind says what a notification announces.
type NoticeKind int

// Kinds of notifications.
const (
	NoticeFirst           NoticeKind = iota + 1 // first result for this chat: the current status
	NoticeEvents                                // new events, oldest first
	NoticeInvalid                               // the provider says the code is invalid
	NoticeExpiredNotFound                       // never found in ExpireNotFound: dropped
	NoticeExpiredFinal                          // final for ExpireFinal: dropped
	NoticeExpiredIdle                           // no movement for ExpireIdle: dropped
)

// Notice is one notification to render for one chat.
type Notice struct {
	Kind        NoticeKind
	ChatID      int64
	Code        string
	Description string // the chat's own description of the code
	// Events: for NoticeFirst the current status (one event); for
	// NoticeEvents every new event, oldest first.
	Events []tracking.Event
	// Appeared: NoticeFirst for a code that was not found at first.
	Appeared bool
}

// RenderFunc turns a notice into the Telegram HTML body queued in the
// outbox.
type RenderFunc func(Notice) string

// Checked is a provider's answer for one code.
type Checked struct {
	Code   string
	Result tracking.Result // Result.Provider names who answered
}

// SaveStats counts what SaveResults did.
type SaveStats struct {
	Found     int // codes with events
	NotFound  int // codes not found (yet)
	Invalid   int // codes newly marked invalid
	NewEvents int // events stored for the first time
	Queued    int // notifications written to the outbox
}

func (a *SaveStats) add(b SaveStats) {
	a.Found += b.Found
	a.NotFound += b.NotFound
	a.Invalid += b.Invalid
	a.NewEvents += b.NewEvents
	a.Queued += b.Queued
}

// SaveResults stores the answers of pass in one transaction: new events
// (deduplicated), each parcel's state, last status and backoff, and the
// notifications for every chat not paused that tracks the code, rendered
// by render and queued in the outbox. Each chat's watermark moves with the
// notifications, so no event is announced twice to a chat.
func (s *Store) SaveResults(ctx context.Context, pass int64, results []Checked, render RenderFunc) (SaveStats, error) {
	var total SaveStats
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		w, err := trPrepare(ctx, tx, s.unix(), render)
		if err != nil {
			return err
		}
		defer w.close()
		total = SaveStats{}
		for _, c := range results {
			st, err := w.save(ctx, pass, c)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Code, err)
			}
			total.add(st)
		}
		return nil
	})
	if err != nil {
		return SaveStats{}, fmt.Errorf("store: save results: %w", err)
	}
	return total, nil
}

// trWriter holds the statements of one SaveResults/CatchUp transaction.
type trWriter struct {
	now    int64
	render RenderFunc
	stmts  []*sql.Stmt

	selParcel, updParcel, insEvent, selTracked, selAfter, selNewest, insOutbox, updMark *sql.Stmt
}

const trParcelCols = "state, provider, last_kind, last_status, last_event_at, found_at, final_at, checked_at, checked_by, next_pass, misses, last_event_id, created_at"

func trPrepare(ctx context.Context, tx *sql.Tx, now int64, render RenderFunc) (*trWriter, error) {
	w := &trWriter{now: now, render: render}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.selParcel, "SELECT " + trParcelCols + " FROM parcels WHERE code = ?"},
		{&w.updParcel, `UPDATE parcels SET state = ?, provider = ?, last_kind = ?, last_status = ?, last_event_at = ?,
			found_at = ?, final_at = ?, checked_at = ?, checked_by = ?, next_pass = ?, misses = ?, last_event_id = ? WHERE code = ?`},
		{&w.insEvent, evInsertSQL},
		{&w.selTracked, `SELECT t.chat_id, t.description, t.notified_event_id FROM tracked t JOIN chats c ON c.id = t.chat_id
			WHERE t.code = ? AND c.paused_at IS NULL ORDER BY t.chat_id`},
		{&w.selAfter, evSelect + " WHERE code = ? AND id > ? ORDER BY happened_at, id"},
		{&w.selNewest, evSelect + " WHERE code = ? ORDER BY happened_at DESC, id DESC LIMIT 1"},
		{&w.insOutbox, "INSERT INTO outbox (chat_id, code, body, created_at) VALUES (?, ?, ?, ?)"},
		{&w.updMark, "UPDATE tracked SET notified_event_id = ? WHERE chat_id = ? AND code = ?"},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			w.close()
			return nil, err
		}
		*p.dst = st
		w.stmts = append(w.stmts, st)
	}
	return w, nil
}

func (w *trWriter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// trParcel is a parcels row as the tracker reads and writes it.
type trParcel struct {
	code                          string
	state, provider               string
	lastKind, lastStatus          string
	lastEventAt, foundAt, finalAt sql.NullInt64
	checkedAt                     sql.NullInt64
	checkedBy                     string
	nextPass, misses, lastEventID int64
	createdAt                     int64
}

func (w *trWriter) load(ctx context.Context, code string) (*trParcel, error) {
	p := &trParcel{code: code}
	err := w.selParcel.QueryRowContext(ctx, code).Scan(&p.state, &p.provider, &p.lastKind, &p.lastStatus,
		&p.lastEventAt, &p.foundAt, &p.finalAt, &p.checkedAt, &p.checkedBy, &p.nextPass, &p.misses, &p.lastEventID, &p.createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // removed meanwhile (the last chat deleted it)
	}
	return p, err
}

func (w *trWriter) store(ctx context.Context, p *trParcel) error {
	_, err := w.updParcel.ExecContext(ctx, p.state, p.provider, p.lastKind, p.lastStatus, p.lastEventAt,
		p.foundAt, p.finalAt, p.checkedAt, p.checkedBy, p.nextPass, p.misses, p.lastEventID, p.code)
	return err
}

// trBackoff is the spacing, in passes, after the n-th consecutive miss
// (n ≥ 1): 1, 2, 4, … capped at MaxBackoffPasses.
func trBackoff(n int64) int64 {
	if n <= 1 {
		return 1
	}
	if n > 6 {
		return MaxBackoffPasses
	}
	return min(int64(1)<<(n-1), MaxBackoffPasses)
}

func (w *trWriter) save(ctx context.Context, pass int64, c Checked) (SaveStats, error) {
	var st SaveStats
	p, err := w.load(ctx, c.Code)
	if err != nil || p == nil {
		return st, err
	}
	if p.state != trStateNew && p.state != trStateNotFound && p.state != trStateActive && p.state != trStateFinal {
		return st, nil // expired or invalid meanwhile
	}
	r := c.Result
	p.checkedAt = sql.NullInt64{Int64: w.now, Valid: true}
	p.checkedBy = r.Provider
	switch {
	case r.Status == tracking.Found && len(r.Events) > 0:
		st.Found = 1
		return w.saveFound(ctx, pass, p, r, st)
	case r.Status == tracking.Invalid && (p.state == trStateNew || p.state == trStateNotFound):
		st.Invalid = 1
		p.state = trStateInvalid
		p.nextPass = 0
		if err := w.store(ctx, p); err != nil {
			return st, err
		}
		n, err := w.notifyAll(ctx, p.code, NoticeInvalid)
		st.Queued = n
		return st, err
	}
	// Not found (yet), not ours, unsupported, or an answer that
	// contradicts what is known: a miss, with backoff.
	p.misses++
	switch p.state {
	case trStateNew, trStateNotFound:
		st.NotFound = 1
		p.state = trStateNotFound
		p.nextPass = pass + trBackoff(p.misses)
	case trStateActive:
		p.nextPass = pass + 1
	case trStateFinal:
		p.nextPass = pass + trBackoff(p.misses+1)
	}
	return st, w.store(ctx, p)
}

func (w *trWriter) saveFound(ctx context.Context, pass int64, p *trParcel, r tracking.Result, st SaveStats) (SaveStats, error) {
	prevState, prevLast := p.state, p.lastEventID
	var fresh []Event
	for _, e := range r.Events {
		id, err := evInsert(ctx, w.insEvent, p.code, r.Provider, e, w.now)
		if err != nil {
			return st, err
		}
		if id != 0 {
			fresh = append(fresh, Event{ID: id, Code: p.code, Provider: r.Provider, Event: e})
			p.lastEventID = max(p.lastEventID, id)
		}
	}
	st.NewEvents = len(fresh)

	// The current status is the newest event; a correction (EST) does not
	// decide whether the parcel is final.
	newest := trNewest(r.Events)
	var decisive tracking.Event
	for i, e := range r.Events {
		if e.Kind != tracking.KindCorrection && (i == 0 || decisive.Kind == "" || !e.At.Before(decisive.At)) {
			decisive = e
		}
	}
	p.lastKind, p.lastStatus = string(newest.Kind), newest.Description
	p.lastEventAt = sql.NullInt64{Int64: newest.At.Unix(), Valid: true}
	if !p.foundAt.Valid {
		p.foundAt = sql.NullInt64{Int64: w.now, Valid: true}
	}
	if p.provider == "" {
		p.provider = r.Provider
	}
	if len(fresh) > 0 {
		p.misses = 0
	} else {
		p.misses++
	}
	if decisive.Kind.Final() {
		if p.state != trStateFinal || !p.finalAt.Valid {
			p.finalAt = sql.NullInt64{Int64: w.now, Valid: true}
		}
		p.state = trStateFinal
		p.nextPass = pass + trBackoff(p.misses+1)
	} else {
		p.state = trStateActive
		p.finalAt = sql.NullInt64{}
		p.nextPass = pass + 1
	}
	if err := w.store(ctx, p); err != nil {
		return st, err
	}
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].At.Before(fresh[j].At) })
	n, err := w.notifyLagging(ctx, p.code, p.lastEventID, prevLast, fresh, &newest, prevState == trStateNotFound)
	st.Queued = n
	return st, err
}

// trNewest returns the newest event (the last one among equal times).
func trNewest(evs []tracking.Event) tracking.Event {
	var n tracking.Event
	for i, e := range evs {
		if i == 0 || !e.At.Before(n.At) {
			n = e
		}
	}
	return n
}

type trChat struct {
	id   int64
	desc string
	mark int64
}

func (w *trWriter) chats(ctx context.Context, code string) ([]trChat, error) {
	rows, err := w.selTracked.QueryContext(ctx, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []trChat
	for rows.Next() {
		var c trChat
		if err := rows.Scan(&c.id, &c.desc, &c.mark); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

func (w *trWriter) queue(ctx context.Context, n Notice) error {
	_, err := w.insOutbox.ExecContext(ctx, n.ChatID, n.Code, w.render(n), w.now)
	return err
}

// notifyLagging queues, for every active chat of code whose watermark is
// below last, the events it was not told about, and moves its watermark
// to last. fresh are the events just stored (ids above prevLast), newest
// the current status (nil: read it from the database).
func (w *trWriter) notifyLagging(ctx context.Context, code string, last, prevLast int64, fresh []Event, newest *tracking.Event, appeared bool) (int, error) {
	if last == 0 {
		return 0, nil
	}
	chats, err := w.chats(ctx, code)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, c := range chats {
		if c.mark >= last {
			continue
		}
		n := Notice{ChatID: c.id, Code: code, Description: c.desc}
		switch {
		case c.mark == 0:
			n.Kind, n.Appeared = NoticeFirst, appeared
			if newest == nil {
				evs, err := evScan(trRows(w.selNewest.QueryContext(ctx, code)))
				if err != nil {
					return queued, err
				}
				if len(evs) == 0 {
					continue
				}
				newest = &evs[0].Event
			}
			n.Events = []tracking.Event{*newest}
		case c.mark == prevLast && len(fresh) > 0:
			n.Kind = NoticeEvents
			for _, e := range fresh {
				n.Events = append(n.Events, e.Event)
			}
		default:
			evs, err := evScan(trRows(w.selAfter.QueryContext(ctx, code, c.mark)))
			if err != nil {
				return queued, err
			}
			n.Kind = NoticeEvents
			for _, e := range evs {
				n.Events = append(n.Events, e.Event)
			}
		}
		if len(n.Events) > 0 {
			if err := w.queue(ctx, n); err != nil {
				return queued, err
			}
			queued++
		}
		if _, err := w.updMark.ExecContext(ctx, last, c.id, code); err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// notifyAll queues a notice of kind to every active chat tracking code.
func (w *trWriter) notifyAll(ctx context.Context, code string, kind NoticeKind) (int, error) {
	chats, err := w.chats(ctx, code)
	if err != nil {
		return 0, err
	}
	for i, c := range chats {
		if err := w.queue(ctx, Notice{Kind: kind, ChatID: c.id, Code: code, Description: c.desc}); err != nil {
			return i, err
		}
	}
	return len(chats), nil
}

// trErrRows lets evScan report a failed query.
type trErrRows struct{ err error }

func (r trErrRows) Next() bool        { return false }
func (r trErrRows) Scan(...any) error { return r.err }
func (r trErrRows) Err() error        { return r.err }
func (r trErrRows) Close() error      { return nil }

func trRows(rows *sql.Rows, err error) evRows {
	if err != nil {
		return trErrRows{err}
	}
	return rows
}

// CatchUp queues the notifications owed to chats that lag behind their
// parcels' events: a chat that added a code another chat already tracks
// (its first message: the current status) and a chat that was paused and
// resumed (every event it missed). It returns how many it queued.
func (s *Store) CatchUp(ctx context.Context, render RenderFunc) (int, error) {
	const chunk = 500
	total := 0
	for {
		rows, err := s.db.QueryContext(ctx, `
SELECT DISTINCT t.code FROM tracked t
JOIN parcels p ON p.code = t.code
JOIN chats c ON c.id = t.chat_id
WHERE c.paused_at IS NULL AND t.notified_event_id < p.last_event_id
  AND p.state IN ('active', 'final')
LIMIT ?`, chunk)
		if err != nil {
			return total, fmt.Errorf("store: catch up: %w", err)
		}
		var codes []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return total, fmt.Errorf("store: catch up: %w", err)
			}
			codes = append(codes, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("store: catch up: %w", err)
		}
		if len(codes) == 0 {
			return total, nil
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			w, err := trPrepare(ctx, tx, s.unix(), render)
			if err != nil {
				return err
			}
			defer w.close()
			for _, code := range codes {
				p, err := w.load(ctx, code)
				if err != nil {
					return err
				}
				if p == nil {
					continue
				}
				n, err := w.notifyLagging(ctx, code, p.lastEventID, -1, nil, nil, false)
				if err != nil {
					return err
				}
				total += n
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: catch up: %w", err)
		}
		if len(codes) < chunk {
			return total, nil
		}
	}
}

// ExpireParcels removes the parcels tracked for too long without news —
// never found in ExpireNotFound, final for ExpireFinal, or found but idle
// for ExpireIdle, and added by every chat tracking them at least that long
// ago (a chat that just added a code gets the full time) — after queuing
// one message to each active chat tracking them. Removing a parcel removes its events and tracked rows; messages
// already queued stay in the outbox. It returns how many it removed and
// how many messages it queued.
func (s *Store) ExpireParcels(ctx context.Context, render RenderFunc) (expired, queued int, err error) {
	now := s.now()
	notFound := now.Add(-ExpireNotFound).Unix()
	final := now.Add(-ExpireFinal).Unix()
	idle := now.Add(-ExpireIdle).Unix()
	for {
		rows, err := s.db.QueryContext(ctx, `
SELECT p.code, p.state FROM parcels p
WHERE ((p.state IN ('new', 'notfound') AND p.created_at <= ?1
        AND NOT EXISTS (SELECT 1 FROM tracked t WHERE t.code = p.code AND t.added_at > ?1))
    OR (p.state = 'final' AND p.final_at <= ?2
        AND NOT EXISTS (SELECT 1 FROM tracked t WHERE t.code = p.code AND t.added_at > ?2))
    OR (p.state = 'active' AND MAX(COALESCE(p.last_event_at, 0), COALESCE(p.found_at, p.created_at)) <= ?3
        AND NOT EXISTS (SELECT 1 FROM tracked t WHERE t.code = p.code AND t.added_at > ?3)))
LIMIT 500`, notFound, final, idle)
		if err != nil {
			return expired, queued, fmt.Errorf("store: expire: %w", err)
		}
		type exp struct {
			code string
			kind NoticeKind
		}
		var list []exp
		for rows.Next() {
			var code, state string
			if err := rows.Scan(&code, &state); err != nil {
				rows.Close()
				return expired, queued, fmt.Errorf("store: expire: %w", err)
			}
			k := NoticeExpiredIdle
			switch state {
			case trStateNew, trStateNotFound:
				k = NoticeExpiredNotFound
			case trStateFinal:
				k = NoticeExpiredFinal
			}
			list = append(list, exp{code, k})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return expired, queued, fmt.Errorf("store: expire: %w", err)
		}
		if len(list) == 0 {
			return expired, queued, nil
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			w, err := trPrepare(ctx, tx, s.unix(), render)
			if err != nil {
				return err
			}
			defer w.close()
			for _, e := range list {
				n, err := w.notifyAll(ctx, e.code, e.kind)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "DELETE FROM parcels WHERE code = ?", e.code); err != nil {
					return err
				}
				queued += n
				expired++
			}
			return nil
		})
		if err != nil {
			return expired, queued, fmt.Errorf("store: expire: %w", err)
		}
	}
}
