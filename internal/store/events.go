package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

// Event is one stored movement of a parcel (a row of events).
type Event struct {
	ID       int64
	Code     string
	Provider string
	tracking.Event
}

// Events returns code's stored events, oldest first (the bot's history
// view and the tracker's notifications read them).
func (s *Store) Events(ctx context.Context, code string) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, evSelect+" WHERE code = ? ORDER BY happened_at, id", code)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", code, err)
	}
	evs, err := evScan(rows)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", code, err)
	}
	return evs, nil
}

// RecentEvents returns code's newest n events, oldest first, and how
// many it has in all (the bot's history view shows the last ones and
// counts the others).
func (s *Store) RecentEvents(ctx context.Context, code string, n int) ([]Event, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM events WHERE code = ?", code).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: events of %s: %w", code, err)
	}
	rows, err := s.db.QueryContext(ctx, evSelect+" WHERE code = ? ORDER BY happened_at DESC, id DESC LIMIT ?", code, n)
	if err != nil {
		return nil, 0, fmt.Errorf("store: events of %s: %w", code, err)
	}
	evs, err := evScan(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("store: events of %s: %w", code, err)
	}
	slices.Reverse(evs)
	return evs, max(total, len(evs)), nil
}

const evSelect = "SELECT id, code, event_key, codigo, tipo, kind, description, detail, location, destination, address, happened_at, provider FROM events"

type evRows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}

func evScan(rows evRows) ([]Event, error) {
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var e Event
		var kind string
		var at int64
		if err := rows.Scan(&e.ID, &e.Code, &e.Key, &e.Codigo, &e.Tipo, &kind, &e.Description, &e.Detail, &e.Location, &e.Destination, &e.Address, &at, &e.Provider); err != nil {
			return nil, err
		}
		e.Kind = tracking.Kind(kind)
		e.At = time.Unix(at, 0).UTC()
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// evKey is the event's dedup key: the provider's own, else
// codigo|tipo|instant|location (never the wording, which changes).
func evKey(e tracking.Event) string {
	if k := strings.TrimSpace(e.Key); k != "" {
		return k
	}
	return e.Codigo + "|" + e.Tipo + "|" + strconv.FormatInt(e.At.Unix(), 10) + "|" + e.Location
}

// evInsert stores e for code unless an event with the same key is there;
// it returns the new row's id, or 0 when the event was already known.
func evInsert(ctx context.Context, stmt *sql.Stmt, code, provider string, e tracking.Event, now int64) (int64, error) {
	kind := e.Kind
	if kind == "" {
		kind = tracking.KindOther
	}
	res, err := stmt.ExecContext(ctx, code, evKey(e), e.Codigo, e.Tipo, string(kind),
		e.Description, strings.TrimSpace(e.Detail), e.Location, e.Destination, e.Address, e.At.Unix(), provider, now)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, err
	}
	return res.LastInsertId()
}

const evInsertSQL = `INSERT INTO events (code, event_key, codigo, tipo, kind, description, detail, location, destination, address, happened_at, provider, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code, event_key) DO NOTHING`
