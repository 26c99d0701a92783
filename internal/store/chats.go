package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Chat is a private conversation or a group the bot talks to.
type Chat struct {
	ID        int64
	Kind      string // private, group, supergroup, channel
	Title     string
	CreatedAt time.Time
	PausedAt  time.Time // zero when active
}

// ChatRef names a chat as an update shows it, for the upserts that make
// sure the chat exists.
type ChatRef struct {
	ID    int64
	Kind  string
	Title string
}

const chatsUpsertSQL = `INSERT INTO chats (id, kind, title, created_at, updated_at, paused_at)
VALUES (?, ?, ?, ?, ?, NULL)
ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, title = excluded.title,
  updated_at = excluded.updated_at, paused_at = NULL`

// chatsUpsert creates the chat or marks it active (a person wrote).
func chatsUpsert(ctx context.Context, tx *sql.Tx, c ChatRef, now int64) error {
	kind := c.Kind
	if kind == "" {
		kind = "private"
	}
	_, err := tx.ExecContext(ctx, chatsUpsertSQL, c.ID, kind, c.Title, now, now)
	return err
}

// TouchChat records that someone wrote in chat c: it creates the chat if
// new and un-pauses it if Telegram had refused messages to it. It only
// writes when something changes.
func (s *Store) TouchChat(ctx context.Context, c ChatRef) error {
	var paused sql.NullInt64
	var kind, title string
	err := s.db.QueryRowContext(ctx, "SELECT paused_at, kind, title FROM chats WHERE id = ?", c.ID).Scan(&paused, &kind, &title)
	if err == nil && !paused.Valid && (c.Kind == "" || c.Kind == kind) && c.Title == title {
		return nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: touch chat %d: %w", c.ID, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error { return chatsUpsert(ctx, tx, c, s.unix()) })
	if err != nil {
		return fmt.Errorf("store: touch chat %d: %w", c.ID, err)
	}
	return nil
}

// GetChat returns the chat id, or ErrNotFound.
func (s *Store) GetChat(ctx context.Context, id int64) (Chat, error) {
	var c Chat
	var created int64
	var paused sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT id, kind, title, created_at, paused_at FROM chats WHERE id = ?", id).
		Scan(&c.ID, &c.Kind, &c.Title, &created, &paused)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: chat %d: %w", id, err)
	}
	c.CreatedAt = time.Unix(created, 0)
	if paused.Valid {
		c.PausedAt = time.Unix(paused.Int64, 0)
	}
	return c, nil
}

// DeleteChatData deletes everything kept about chat id (LGPD): the chat,
// its codes and descriptions, its queued notifications, and the parcels
// and events no other chat tracks. It returns how many codes it tracked.
func (s *Store) DeleteChatData(ctx context.Context, id int64) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT code FROM tracked WHERE chat_id = ?", id)
		if err != nil {
			return err
		}
		var codes []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			codes = append(codes, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n = len(codes)
		if _, err := tx.ExecContext(ctx, "DELETE FROM outbox WHERE chat_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM chats WHERE id = ?", id); err != nil {
			return err
		}
		for _, c := range codes {
			if _, err := tx.ExecContext(ctx, "DELETE FROM parcels WHERE code = ? AND NOT EXISTS (SELECT 1 FROM tracked WHERE code = ?)", c, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete chat %d: %w", id, err)
	}
	return n, nil
}

// Counts returns how many chats and tracked codes (distinct) there are,
// for the status line.
func (s *Store) Counts(ctx context.Context) (chats, codes int, err error) {
	err = s.db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM chats), (SELECT count(DISTINCT code) FROM tracked)").Scan(&chats, &codes)
	if err != nil {
		return 0, 0, fmt.Errorf("store: counts: %w", err)
	}
	return chats, codes, nil
}
