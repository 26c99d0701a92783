package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

// Package is one code a chat tracks, with the parcel's last known status
// as the tracker left it.
type Package struct {
	Code        string
	Description string
	AddedAt     time.Time
	State       string // parcels.state: new, notfound, active, final, expired, invalid
	LastKind    string // tracking.Kind of the newest event, "" before any
	LastStatus  string // the newest event's text
	LastEventAt time.Time
	CheckedAt   time.Time // zero: never checked yet
	CheckedBy   string    // provider that answered last
	// AddedBy is the Telegram user id of the person who added the code
	// to this chat; 0 when nobody can be named (see AddOptions.By).
	AddedBy int64
}

// PackageItem is a code to track with the chat's description.
type PackageItem struct {
	Code        string
	Description string
	// KeepName keeps the description of a code the chat already tracks
	// with one (Description is then only used when it has none): a
	// forwarded message names what someone else called the parcel.
	KeepName bool
}

// AddResult says what AddPackages did with each code.
type AddResult struct {
	Added   []PackageItem // newly tracked by the chat
	Renamed []PackageItem // already tracked, description replaced
	Kept    []PackageItem // already tracked, unchanged (with the stored description)
	OverCap []string      // refused: the chat reached its cap
	// OverPersonCap is refused because the person who sent them already
	// added AddOptions.MaxPerPerson codes across all chats.
	OverPersonCap []string
	// Current is, among Added, the codes another chat already tracks
	// whose status is known: their newest event. The chat starts past it
	// (the tracker does not announce it), so the bot shows it at once.
	Current []Current
}

// Current is a code's current status: its newest stored event.
type Current struct {
	PackageItem
	Event tracking.Event
}

// AddOptions says who adds codes and the caps that apply.
type AddOptions struct {
	// By is the Telegram user id of the person who sent the codes, the
	// only thing stored about them: it lets them remove the code in a
	// group and counts their codes across chats. 0 when no person can be
	// named (a message sent as the group or as a channel): nothing is
	// stored and the per-person cap does not apply.
	By           int64
	MaxPerChat   int // codes one chat may track
	MaxPerPerson int // codes By may have added across all chats; 0: no cap
}

// Accepted is every code the chat now tracks from the request, in order
// added, renamed, kept.
func (r AddResult) Accepted() []PackageItem {
	out := append([]PackageItem(nil), r.Added...)
	out = append(out, r.Renamed...)
	return append(out, r.Kept...)
}

// AddPackages makes chat track items in one transaction: new codes are
// added while the chat holds fewer than max codes, a tracked code with a
// new non-empty description is renamed (unless it keeps its name, see
// PackageItem.KeepName). The chat is created or
// un-paused. A parcel that had expired starts over as new.
func (s *Store) AddPackages(ctx context.Context, chat ChatRef, items []PackageItem, max int) (AddResult, error) {
	return s.AddPackagesAs(ctx, chat, items, AddOptions{MaxPerChat: max})
}

// AddPackagesAs is AddPackages for the person o.By, with both caps: a new
// code is refused when the chat holds o.MaxPerChat codes (OverCap) or
// o.By already added o.MaxPerPerson codes across all chats
// (OverPersonCap). Renaming a tracked code is never refused.
func (s *Store) AddPackagesAs(ctx context.Context, chat ChatRef, items []PackageItem, o AddOptions) (AddResult, error) {
	var st [len(pkAddSQL)]*sql.Stmt
	for i, q := range pkAddSQL {
		var err error
		if st[i], err = s.stmt(ctx, q); err != nil {
			return AddResult{}, fmt.Errorf("store: add packages to chat %d: %w", chat.ID, err)
		}
	}
	kind := chat.Kind
	if kind == "" {
		kind = "private"
	}
	var res AddResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res = AddResult{}
		var t [len(pkAddSQL)]*sql.Stmt
		for i := range st {
			t[i] = tx.StmtContext(ctx, st[i])
		}
		now := s.unix()
		if _, err := t[pkUpsertChat].ExecContext(ctx, chat.ID, kind, chat.Title, now, now); err != nil {
			return err
		}
		var count, mine int
		if err := t[pkCount].QueryRowContext(ctx, chat.ID).Scan(&count); err != nil {
			return err
		}
		var by any // NULL: nobody to name
		if o.By != 0 {
			by = o.By
			if err := t[pkCountBy].QueryRowContext(ctx, o.By).Scan(&mine); err != nil {
				return err
			}
		}
		for _, it := range items {
			var old string
			err := t[pkDescription].QueryRowContext(ctx, chat.ID, it.Code).Scan(&old)
			switch {
			case err == nil:
				if it.Description == "" || it.Description == old || it.KeepName && old != "" {
					res.Kept = append(res.Kept, PackageItem{Code: it.Code, Description: old})
					continue
				}
				if _, err := t[pkRename].ExecContext(ctx, it.Description, chat.ID, it.Code); err != nil {
					return err
				}
				res.Renamed = append(res.Renamed, it)
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if count >= o.MaxPerChat {
				res.OverCap = append(res.OverCap, it.Code)
				continue
			}
			if o.By != 0 && o.MaxPerPerson > 0 && mine >= o.MaxPerPerson {
				res.OverPersonCap = append(res.OverPersonCap, it.Code)
				continue
			}
			if _, err := t[pkInsertParcel].ExecContext(ctx, it.Code, now); err != nil {
				return err
			}
			var mark int64
			if err := t[pkInsertTracked].QueryRowContext(ctx, chat.ID, it.Code, it.Description, now, by).Scan(&mark); err != nil {
				return err
			}
			if mark > 0 {
				evs, err := evScan(rowsOr(t[pkNewest].QueryContext(ctx, it.Code)))
				if err != nil {
					return err
				}
				if len(evs) > 0 {
					res.Current = append(res.Current, Current{PackageItem: it, Event: evs[0].Event})
				}
			}
			count++
			mine++
			res.Added = append(res.Added, it)
		}
		return nil
	})
	if err != nil {
		return AddResult{}, fmt.Errorf("store: add packages to chat %d: %w", chat.ID, err)
	}
	return res, nil
}

// Statements of AddPackages, prepared once (it runs for every message
// with codes).
const (
	pkUpsertChat = iota
	pkCount
	pkCountBy
	pkDescription
	pkRename
	pkInsertParcel
	pkInsertTracked
	pkNewest
)

var pkAddSQL = [...]string{
	pkUpsertChat:  chatsUpsertSQL,
	pkCount:       "SELECT count(*) FROM tracked WHERE chat_id = ?",
	pkCountBy:     "SELECT count(*) FROM tracked WHERE added_by = ?",
	pkDescription: "SELECT description FROM tracked WHERE chat_id = ? AND code = ?",
	pkRename:      "UPDATE tracked SET description = ? WHERE chat_id = ? AND code = ?",
	pkInsertParcel: `INSERT INTO parcels (code, created_at) VALUES (?, ?)
		ON CONFLICT (code) DO UPDATE SET state = '` + stateNew + `', next_pass = 0, next_due = 0, misses = 0
		WHERE parcels.state = '` + stateExpired + `'`,
	// A code another chat already tracks starts at its parcel's newest
	// event: the bot shows the current status at once (AddResult.Current),
	// so the tracker does not announce it again.
	pkInsertTracked: `INSERT INTO tracked (chat_id, code, description, added_at, added_by, notified_event_id)
		SELECT ?1, ?2, ?3, ?4, ?5, CASE WHEN state IN ` + sqlStates(stateActive, stateFinal) + ` THEN last_event_id ELSE 0 END
		FROM parcels WHERE code = ?2
		RETURNING notified_event_id`,
	pkNewest: evSelect + " WHERE code = ? ORDER BY happened_at DESC, id DESC LIMIT 1",
}

// RemovePackage stops chat from tracking code; false if it did not.
func (s *Store) RemovePackage(ctx context.Context, chatID int64, code string) (bool, error) {
	var removed bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM tracked WHERE chat_id = ? AND code = ?", chatID, code)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		removed = n > 0
		// Notifications queued for it would arrive after "parei de acompanhar".
		_, err = tx.ExecContext(ctx, "DELETE FROM outbox WHERE chat_id = ? AND code = ?", chatID, code)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: remove %s from chat %d: %w", code, chatID, err)
	}
	return removed, nil
}

const packagesSelectSQL = `SELECT t.code, t.description, t.added_at, p.state, p.last_kind, p.last_status,
  p.last_event_at, p.checked_at, p.checked_by, coalesce(t.added_by, 0)
FROM tracked t JOIN parcels p ON p.code = t.code`

func packagesScan(sc interface{ Scan(...any) error }) (Package, error) {
	var p Package
	var added int64
	var lastEvent, checked sql.NullInt64
	if err := sc.Scan(&p.Code, &p.Description, &added, &p.State, &p.LastKind, &p.LastStatus, &lastEvent, &checked, &p.CheckedBy, &p.AddedBy); err != nil {
		return p, err
	}
	p.AddedAt = time.Unix(added, 0)
	if lastEvent.Valid {
		p.LastEventAt = time.Unix(lastEvent.Int64, 0)
	}
	if checked.Valid {
		p.CheckedAt = time.Unix(checked.Int64, 0)
	}
	return p, nil
}

// Packages lists the codes chat tracks in the order they were added.
func (s *Store) Packages(ctx context.Context, chatID int64) ([]Package, error) {
	rows, err := s.db.QueryContext(ctx, packagesSelectSQL+" WHERE t.chat_id = ? ORDER BY t.added_at, t.rowid", chatID)
	if err != nil {
		return nil, fmt.Errorf("store: packages of chat %d: %w", chatID, err)
	}
	defer rows.Close()
	var out []Package
	for rows.Next() {
		p, err := packagesScan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: packages of chat %d: %w", chatID, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: packages of chat %d: %w", chatID, err)
	}
	return out, nil
}

// TrackedPackage returns code as chat tracks it, or ErrNotFound.
func (s *Store) TrackedPackage(ctx context.Context, chatID int64, code string) (Package, error) {
	p, err := packagesScan(s.db.QueryRowContext(ctx, packagesSelectSQL+" WHERE t.chat_id = ? AND t.code = ?", chatID, code))
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: package %s of chat %d: %w", code, chatID, err)
	}
	return p, nil
}
