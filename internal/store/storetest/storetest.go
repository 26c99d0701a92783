// Package storetest arranges and inspects a rastreio database for tests
// outside package store: rows the programs would have written (a chat
// tracking a code, a parcel the tracker checked, a queued message) and
// what they did write (parcels, tracked codes, chats, the outbox), without
// raw SQL in each test.
//
// A DB is a connection of its own to the database file, beside the
// store(s) the test runs, as a second process would be: it sees what they
// committed, and what it writes they see.
package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver

	"github.com/rastreio/rastreio/internal/store"
)

// DB is a test's own connection to a rastreio database.
type DB struct {
	tb testing.TB
	db *sql.DB
}

// Open connects to the database at path, creating and migrating it first
// as store.Open does; the connection closes when the test ends. A failure
// ends the test.
func Open(tb testing.TB, path string) *DB {
	tb.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		tb.Fatal(err)
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(int(store.BusyTimeout/time.Millisecond)))
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite3", (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return &DB{tb: tb, db: db}
}

func (d *DB) exec(q string, args ...any) {
	d.tb.Helper()
	if _, err := d.db.Exec(q, args...); err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// Tracked is a chat tracking a code.
type Tracked struct {
	Chat        int64
	Kind        string // the chat's kind when Track creates it; "" is private
	Code        string
	Description string
	Added       time.Time // tracked.added_at, and the chat's creation; zero: the Unix epoch
}

// Track saves rows in one transaction, as the bot would have: the chat
// (kept if there), the parcel (kept if there, else new and created now)
// and the chat's tracking of it.
func (d *DB) Track(rows ...Tracked) {
	d.tb.Helper()
	tx, err := d.db.Begin()
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	defer tx.Rollback()
	var stmts [3]*sql.Stmt
	for i, q := range []string{
		"INSERT INTO chats (id, kind, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
		"INSERT INTO parcels (code, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
		"INSERT INTO tracked (chat_id, code, description, added_at) VALUES (?, ?, ?, ?)",
	} {
		if stmts[i], err = tx.Prepare(q); err != nil {
			d.tb.Fatalf("storetest: %v", err)
		}
	}
	now := time.Now().Unix()
	for _, r := range rows {
		kind := r.Kind
		if kind == "" {
			kind = "private"
		}
		added := unix(r.Added)
		for i, args := range [][]any{{r.Chat, kind, added, added}, {r.Code, now}, {r.Chat, r.Code, r.Description, added}} {
			if _, err := stmts[i].Exec(args...); err != nil {
				d.tb.Fatalf("storetest: track %s for chat %d: %v", r.Code, r.Chat, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
}

// Tracked returns every chat's tracked codes, by chat then code (Kind is
// not read).
func (d *DB) Tracked() []Tracked {
	d.tb.Helper()
	rows, err := d.db.Query("SELECT chat_id, code, description, added_at FROM tracked ORDER BY chat_id, code")
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	defer rows.Close()
	var out []Tracked
	for rows.Next() {
		var r Tracked
		var added int64
		if err := rows.Scan(&r.Chat, &r.Code, &r.Description, &added); err != nil {
			d.tb.Fatalf("storetest: %v", err)
		}
		if added != 0 {
			r.Added = time.Unix(added, 0)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	return out
}

// Parcel is what the tracker knows of a code.
type Parcel struct {
	Code        string
	State       string // new, notfound, active, final
	Provider    string // the provider the code is pinned to; "" for none
	LastKind    string
	LastStatus  string
	LastEventAt time.Time
	CheckedAt   time.Time
	CheckedBy   string
}

// Parcel returns the parcel of code, and false when there is none.
func (d *DB) Parcel(code string) (Parcel, bool) {
	d.tb.Helper()
	p := Parcel{Code: code}
	var lastAt, checkedAt sql.NullInt64
	err := d.db.QueryRow(`SELECT state, provider, last_kind, last_status, last_event_at, checked_at, checked_by
		FROM parcels WHERE code = ?`, code).Scan(&p.State, &p.Provider, &p.LastKind, &p.LastStatus, &lastAt, &checkedAt, &p.CheckedBy)
	if err == sql.ErrNoRows {
		return Parcel{}, false
	}
	if err != nil {
		d.tb.Fatalf("storetest: parcel %s: %v", code, err)
	}
	if lastAt.Valid {
		p.LastEventAt = time.Unix(lastAt.Int64, 0)
	}
	if checkedAt.Valid {
		p.CheckedAt = time.Unix(checkedAt.Int64, 0)
	}
	return p, true
}

// ParcelsIn counts the parcels in state.
func (d *DB) ParcelsIn(state string) int {
	d.tb.Helper()
	var n int
	if err := d.db.QueryRow("SELECT COUNT(*) FROM parcels WHERE state = ?", state).Scan(&n); err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	return n
}

// SetChecked records a provider's answer on p.Code as the tracker would
// leave it: State, LastKind, LastStatus, LastEventAt, CheckedAt and
// CheckedBy (a zero time is stored as NULL). The parcel must exist.
func (d *DB) SetChecked(p Parcel) {
	d.tb.Helper()
	null := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.Unix()
	}
	res, err := d.db.Exec(`UPDATE parcels SET state = ?, last_kind = ?, last_status = ?, last_event_at = ?, checked_at = ?, checked_by = ?
		WHERE code = ?`, p.State, p.LastKind, p.LastStatus, null(p.LastEventAt), null(p.CheckedAt), p.CheckedBy, p.Code)
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		d.tb.Fatalf("storetest: no parcel %s", p.Code)
	}
}

// Event is an event of a parcel as the tracker stores it.
type Event struct {
	Code        string
	Key         string // dedup key, unique per code
	Kind        string // tracking.Kind
	Description string
	Location    string
	At          time.Time
}

// AddEvents stores events of parcels that exist, in one transaction.
func (d *DB) AddEvents(evs ...Event) {
	d.tb.Helper()
	tx, err := d.db.Begin()
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	defer tx.Rollback()
	for _, e := range evs {
		if _, err := tx.Exec(`INSERT INTO events (code, event_key, kind, description, location, happened_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0)`,
			e.Code, e.Key, e.Kind, e.Description, e.Location, e.At.Unix()); err != nil {
			d.tb.Fatalf("storetest: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
}

// Chat is a chat as stored.
type Chat struct {
	ID     int64
	Kind   string
	Title  string
	Paused bool
}

// Chats returns every chat, by id.
func (d *DB) Chats() []Chat {
	d.tb.Helper()
	rows, err := d.db.Query("SELECT id, kind, title, paused_at IS NOT NULL FROM chats ORDER BY id")
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	defer rows.Close()
	var out []Chat
	for rows.Next() {
		var c Chat
		if err := rows.Scan(&c.ID, &c.Kind, &c.Title, &c.Paused); err != nil {
			d.tb.Fatalf("storetest: %v", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	return out
}

// Queued is a message in the outbox.
type Queued struct {
	ID        int64
	Chat      int64
	Code      string
	Body      string
	NotBefore time.Time // zero: due at once
}

// Outbox returns the queued messages, oldest first.
func (d *DB) Outbox() []Queued {
	d.tb.Helper()
	rows, err := d.db.Query("SELECT id, chat_id, code, body, not_before FROM outbox ORDER BY id")
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	defer rows.Close()
	var out []Queued
	for rows.Next() {
		var q Queued
		var notBefore int64
		if err := rows.Scan(&q.ID, &q.Chat, &q.Code, &q.Body, &notBefore); err != nil {
			d.tb.Fatalf("storetest: %v", err)
		}
		if notBefore != 0 {
			q.NotBefore = time.Unix(notBefore, 0)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	return out
}

// Queue adds messages to the outbox as a pass queues them, in one
// transaction, creating the chats missing (private, created at the Unix
// epoch). ID is ignored: the outbox numbers its rows.
func (d *DB) Queue(msgs ...Queued) {
	d.tb.Helper()
	tx, err := d.db.Begin()
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	defer tx.Rollback()
	chat, err := tx.Prepare("INSERT INTO chats (id, created_at, updated_at) VALUES (?, 0, 0) ON CONFLICT DO NOTHING")
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	msg, err := tx.Prepare("INSERT INTO outbox (chat_id, code, body, created_at, not_before) VALUES (?, ?, ?, 0, ?)")
	if err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
	for _, m := range msgs {
		if _, err := chat.Exec(m.Chat); err != nil {
			d.tb.Fatalf("storetest: %v", err)
		}
		if _, err := msg.Exec(m.Chat, m.Code, m.Body, unix(m.NotBefore)); err != nil {
			d.tb.Fatalf("storetest: queue for chat %d: %v", m.Chat, err)
		}
	}
	if err := tx.Commit(); err != nil {
		d.tb.Fatalf("storetest: %v", err)
	}
}

// ClearOutbox drops every queued message.
func (d *DB) ClearOutbox() { d.tb.Helper(); d.exec("DELETE FROM outbox") }

// OutboxDueNow lifts every retry_after wait: each queued message is due.
func (d *DB) OutboxDueNow() { d.tb.Helper(); d.exec("UPDATE outbox SET not_before = 0") }

// Unpause resumes a paused chat, as its next message to the bot would.
func (d *DB) Unpause(chat int64) {
	d.tb.Helper()
	d.exec("UPDATE chats SET paused_at = NULL WHERE id = ?", chat)
}

// OutboxDeletesNeedRoom makes removing an outbox row write a large row
// elsewhere (a trigger). On a real full disk every write fails, deletes
// included, because the WAL cannot grow; under Store.FillDisk only writes
// that need new pages do, and this makes a delete one of them. It returns
// the undo, which needs no room.
func (d *DB) OutboxDeletesNeedRoom() (undo func()) {
	d.tb.Helper()
	d.exec("CREATE TABLE storetest_filler (b BLOB)")
	d.exec("CREATE TRIGGER storetest_outbox_needs_room AFTER DELETE ON outbox BEGIN INSERT INTO storetest_filler VALUES (randomblob(200000)); END")
	return func() {
		d.tb.Helper()
		d.exec("DROP TRIGGER storetest_outbox_needs_room")
	}
}
