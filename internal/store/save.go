package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/schedule"
	"github.com/rastreio/rastreio/internal/tracking"
)

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

// SaveResults stores the answers of pass: new events (deduplicated, at
// most tracking.MaxEvents of one answer), each parcel's state, last status
// and backoff, and the notifications for every chat not paused that tracks
// the code, rendered by render and queued in the outbox. Each chat's
// watermark moves with the notifications, so no event is announced twice
// to a chat. Each code is saved whole in one transaction; a long save
// commits between codes every MaxWriteHold and lets other writers in (see
// shortTx), so the bot never waits long for the database. On error, the
// stats count what was committed before it.
func (s *Store) SaveResults(ctx context.Context, pass int64, results []Checked, render RenderFunc) (SaveStats, error) {
	var total SaveStats
	for done := 0; done < len(results); {
		var chunk SaveStats
		n := 0
		err := s.shortTx(ctx, done > 0, func(tx *sql.Tx, hold *holdTimer) error {
			w := s.newSaver(tx, render)
			w.schedule = s.schedule
			chunk, n = SaveStats{}, 0
			for _, c := range results[done:] {
				st, err := w.save(ctx, pass, c)
				if err != nil {
					return fmt.Errorf("%s: %w", c.Code, err)
				}
				chunk.add(st)
				n++
				if hold.over() {
					break
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: save results: %w", err)
		}
		total.add(chunk)
		done += n
	}
	return total, nil
}

// saver holds the statements of one SaveResults/CatchUp/ExpireParcels
// transaction: the pool's prepared statements (Store.stmt), bound to the
// transaction when first used, so a pass does not parse them again for
// every commit.
type saver struct {
	s        *Store
	tx       *sql.Tx
	now      int64
	render   RenderFunc
	schedule ScheduleFunc // nil: next_due stays 0 (every pass)
	stmts    [len(saverSQL)]*sql.Stmt
}

const parcelCols = "state, provider, last_kind, last_status, last_event_at, found_at, final_at, checked_at, checked_by, next_pass, misses, last_event_id, created_at, next_due, synced_at"

// The saver's statements.
const (
	selParcel = iota
	selParcelKeys
	updParcel
	insEvent
	selTracked
	selAfter
	selNewest
	insOutbox
	updMark
)

var saverSQL = [...]string{
	selParcel: "SELECT " + parcelCols + ", 0, NULL FROM parcels WHERE code = ?",
	// The parcel with its stored events' keys (how many, and joined by
	// keySep), to store only the events it does not have.
	selParcelKeys: "SELECT " + parcelCols + `, (SELECT count(*) FROM events e WHERE e.code = p.code),
		(SELECT group_concat(event_key, char(31)) FROM events e WHERE e.code = p.code) FROM parcels p WHERE code = ?`,
	updParcel: `UPDATE parcels SET state = ?, provider = ?, last_kind = ?, last_status = ?, last_event_at = ?,
			found_at = ?, final_at = ?, checked_at = ?, checked_by = ?, next_pass = ?, misses = ?, last_event_id = ?, next_due = ?, synced_at = ? WHERE code = ?`,
	insEvent: evInsertSQL,
	selTracked: `SELECT t.chat_id, t.description, t.notified_event_id FROM tracked t JOIN chats c ON c.id = t.chat_id
			WHERE t.code = ? AND c.paused_at IS NULL ORDER BY t.chat_id`,
	selAfter:  evSelect + " WHERE code = ? AND id > ? ORDER BY happened_at, id",
	selNewest: evSelect + " WHERE code = ? ORDER BY happened_at DESC, id DESC LIMIT 1",
	insOutbox: "INSERT INTO outbox (chat_id, code, body, created_at) VALUES (?, ?, ?, ?)",
	updMark:   "UPDATE tracked SET notified_event_id = ? WHERE chat_id = ? AND code = ?",
}

func (s *Store) newSaver(tx *sql.Tx, render RenderFunc) *saver {
	return &saver{s: s, tx: tx, now: s.unix(), render: render}
}

// stmt returns statement i bound to the transaction (closed with it; the
// pool's statement stays).
func (w *saver) stmt(ctx context.Context, i int) (*sql.Stmt, error) {
	if w.stmts[i] == nil {
		st, err := w.s.stmt(ctx, saverSQL[i])
		if err != nil {
			return nil, err
		}
		w.stmts[i] = w.tx.StmtContext(ctx, st)
	}
	return w.stmts[i], nil
}

// parcelRow is a parcels row as the tracker reads and writes it.
type parcelRow struct {
	code                          string
	state, provider               string
	lastKind, lastStatus          string
	lastEventAt, foundAt, finalAt sql.NullInt64
	checkedAt                     sql.NullInt64
	checkedBy                     string
	nextPass, misses, lastEventID int64
	createdAt                     int64
	nextDue                       int64 // unix seconds (0: next pass)
	syncedAt                      sql.NullInt64
}

func (w *saver) load(ctx context.Context, code string) (*parcelRow, error) {
	p, _, err := w.loadWith(ctx, selParcel, code)
	return p, err
}

// loadWith reads the parcel with statement q, and with selParcelKeys its
// stored events' keys.
func (w *saver) loadWith(ctx context.Context, q int, code string) (*parcelRow, map[string]bool, error) {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	p := &parcelRow{code: code}
	var n int
	var keys sql.NullString
	err = st.QueryRowContext(ctx, code).Scan(&p.state, &p.provider, &p.lastKind, &p.lastStatus,
		&p.lastEventAt, &p.foundAt, &p.finalAt, &p.checkedAt, &p.checkedBy, &p.nextPass, &p.misses, &p.lastEventID, &p.createdAt, &p.nextDue, &p.syncedAt, &n, &keys)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil // removed meanwhile (the last chat deleted it)
	}
	if err != nil {
		return nil, nil, err
	}
	known := make(map[string]bool, n)
	if keys.Valid {
		ks := strings.Split(keys.String, keySep)
		if len(ks) != n {
			// A key holding the separator: known stays short, and those
			// events are offered again to the insert, which ignores them.
			ks = nil
		}
		for _, k := range ks {
			known[k] = true
		}
	}
	return p, known, nil
}

// keySep joins event keys read together (char(31), the ASCII unit
// separator, which no provider puts in an event).
const keySep = "\x1f"

func (w *saver) store(ctx context.Context, p *parcelRow) error {
	st, err := w.stmt(ctx, updParcel)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, p.state, p.provider, p.lastKind, p.lastStatus, p.lastEventAt,
		p.foundAt, p.finalAt, p.checkedAt, p.checkedBy, p.nextPass, p.misses, p.lastEventID, p.nextDue, p.syncedAt, p.code)
	return err
}

// ScheduleFunc returns when a code with facts f, answered at now, is
// next due (internal/schedule.Next with the operator's policy).
type ScheduleFunc func(f schedule.Facts, now time.Time) time.Time

// SetSchedule makes SaveResults store each answered code's next due time
// (the adaptive schedule). Without one, next_due stays 0 and the pass
// counter alone spaces checks (RASTREIO_RECHECK_INTERVAL set).
func (s *Store) SetSchedule(f ScheduleFunc) { s.schedule = f }

// reschedule sets p.nextDue from the schedule.
func (w *saver) reschedule(p *parcelRow) {
	if w.schedule == nil {
		p.nextDue = 0
		return
	}
	f := schedule.Facts{Code: p.code, State: p.state, Kind: tracking.Kind(p.lastKind), Provider: p.provider,
		Misses: int(p.misses), Since: time.Unix(p.createdAt, 0)}
	if p.lastEventAt.Valid {
		f.LastMoved = time.Unix(p.lastEventAt.Int64, 0)
	}
	if p.syncedAt.Valid {
		f.Synced = time.Unix(p.syncedAt.Int64, 0)
	}
	switch {
	case p.state == stateFinal && p.finalAt.Valid:
		f.Since = time.Unix(p.finalAt.Int64, 0)
	case p.state == stateActive && p.foundAt.Valid:
		f.Since = time.Unix(p.foundAt.Int64, 0)
	}
	p.nextDue = w.schedule(f, time.Unix(w.now, 0)).Unix()
}

// backoffPasses is the spacing, in passes, after the n-th consecutive miss
// (n ≥ 1): 1, 2, 4, … capped at MaxBackoffPasses.
func backoffPasses(n int64) int64 {
	if n <= 1 {
		return 1
	}
	if n > 6 {
		return MaxBackoffPasses
	}
	return min(int64(1)<<(n-1), MaxBackoffPasses)
}

func (w *saver) save(ctx context.Context, pass int64, c Checked) (SaveStats, error) {
	var st SaveStats
	p, known, err := w.loadWith(ctx, selParcelKeys, c.Code)
	if err != nil || p == nil {
		return st, err
	}
	if p.state != stateNew && p.state != stateNotFound && p.state != stateActive && p.state != stateFinal {
		return st, nil // expired or invalid meanwhile
	}
	r := c.Result
	p.checkedAt = sql.NullInt64{Int64: w.now, Valid: true}
	p.checkedBy = r.Provider
	if !r.Synced.IsZero() {
		p.syncedAt = sql.NullInt64{Int64: r.Synced.Unix(), Valid: true}
	}
	switch {
	case r.Status == tracking.Found && len(r.Events) > 0:
		st.Found = 1
		return w.saveFound(ctx, pass, p, known, r, st)
	case r.Status == tracking.Invalid && (p.state == stateNew || p.state == stateNotFound):
		st.Invalid = 1
		p.state = stateInvalid
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
	case stateNew, stateNotFound:
		st.NotFound = 1
		p.state = stateNotFound
		p.nextPass = pass + backoffPasses(p.misses)
	case stateActive:
		p.nextPass = pass + 1
	case stateFinal:
		p.nextPass = pass + backoffPasses(p.misses+1)
	}
	w.reschedule(p)
	return st, w.store(ctx, p)
}

func (w *saver) saveFound(ctx context.Context, pass int64, p *parcelRow, known map[string]bool, r tracking.Result, st SaveStats) (SaveStats, error) {
	prevState, prevLast := p.state, p.lastEventID
	r.Events = tracking.KeepNewest(r.Events) // whatever the provider
	// Most answers repeat what is stored (known, read with the parcel):
	// only the others are inserted.
	ins, err := w.stmt(ctx, insEvent)
	if err != nil {
		return st, err
	}
	var fresh []Event
	for _, e := range r.Events {
		k := evKey(e)
		if known[k] {
			continue
		}
		known[k] = true
		id, err := evInsert(ctx, ins, p.code, r.Provider, e, w.now)
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
	newest := newestEvent(r.Events)
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
		if p.state != stateFinal || !p.finalAt.Valid {
			p.finalAt = sql.NullInt64{Int64: w.now, Valid: true}
		}
		p.state = stateFinal
		p.nextPass = pass + backoffPasses(p.misses+1)
	} else {
		p.state = stateActive
		p.finalAt = sql.NullInt64{}
		p.nextPass = pass + 1
	}
	w.reschedule(p)
	if err := w.store(ctx, p); err != nil {
		return st, err
	}
	if len(fresh) == 0 {
		// Nothing new: chats that still lag behind (added since, or
		// resumed) are CatchUp's, which begins every pass.
		return st, nil
	}
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].At.Before(fresh[j].At) })
	n, err := w.notifyLagging(ctx, p.code, p.lastEventID, prevLast, fresh, &newest, prevState == stateNotFound)
	st.Queued = n
	return st, err
}

// newestEvent returns the newest event (the last one among equal times).
func newestEvent(evs []tracking.Event) tracking.Event {
	var n tracking.Event
	for i, e := range evs {
		if i == 0 || !e.At.Before(n.At) {
			n = e
		}
	}
	return n
}

type trackingChat struct {
	id   int64
	desc string
	mark int64
}

func (w *saver) chats(ctx context.Context, code string) ([]trackingChat, error) {
	st, err := w.stmt(ctx, selTracked)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []trackingChat
	for rows.Next() {
		var c trackingChat
		if err := rows.Scan(&c.id, &c.desc, &c.mark); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

func (w *saver) queue(ctx context.Context, n Notice) error {
	st, err := w.stmt(ctx, insOutbox)
	if err == nil {
		_, err = st.ExecContext(ctx, n.ChatID, n.Code, w.render(n), w.now)
	}
	return err
}

// notifyLagging queues, for every active chat of code whose watermark is
// below last, the events it was not told about, and moves its watermark
// to last. fresh are the events just stored (ids above prevLast), newest
// the current status (nil: read it from the database).
func (w *saver) notifyLagging(ctx context.Context, code string, last, prevLast int64, fresh []Event, newest *tracking.Event, appeared bool) (int, error) {
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
				evs, err := w.events(ctx, selNewest, code)
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
			evs, err := w.events(ctx, selAfter, code, c.mark)
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
		mark, err := w.stmt(ctx, updMark)
		if err != nil {
			return queued, err
		}
		if _, err := mark.ExecContext(ctx, last, c.id, code); err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// notifyAll queues a notice of kind to every active chat tracking code.
func (w *saver) notifyAll(ctx context.Context, code string, kind NoticeKind) (int, error) {
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

// events runs the event query q.
func (w *saver) events(ctx context.Context, q int, args ...any) ([]Event, error) {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return evScan(rowsOr(st.QueryContext(ctx, args...)))
}

// errRows lets evScan report a failed query.
type errRows struct{ err error }

func (r errRows) Next() bool        { return false }
func (r errRows) Scan(...any) error { return r.err }
func (r errRows) Err() error        { return r.err }
func (r errRows) Close() error      { return nil }

func rowsOr(rows *sql.Rows, err error) evRows {
	if err != nil {
		return errRows{err}
	}
	return rows
}
