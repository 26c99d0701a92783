package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Outbox: notifications the tracker queued with the events they announce,
// delivered by its sender. A row is deleted only after Telegram accepted
// it, so a crash repeats at most the messages in flight.

// OutboxMsg is one queued notification.
type OutboxMsg struct {
	ID       int64
	ChatID   int64
	Code     string
	Body     string
	Attempts int
}

// A chat's messages go out in id order: a message waiting for its
// not_before holds back the chat's later ones (else a retried "in
// transit" could arrive after "delivered").
const outboxDue = `o.not_before <= ?1 AND c.paused_at IS NULL AND NOT EXISTS (
	SELECT 1 FROM outbox h WHERE h.chat_id = o.chat_id AND h.id < o.id AND h.not_before > ?1)`

// PendingOutbox returns up to limit messages with id > afterID that may
// be sent now (not_before passed, no earlier message of the chat waiting)
// to chats not paused, in id order.
func (s *Store) PendingOutbox(ctx context.Context, afterID int64, limit int) ([]OutboxMsg, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT o.id, o.chat_id, o.code, o.body, o.attempts FROM outbox o JOIN chats c ON c.id = o.chat_id
WHERE o.id > ?2 AND `+outboxDue+`
ORDER BY o.id`+sqlLimit(limit), s.unix(), afterID)
	if err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	defer rows.Close()
	var ms []OutboxMsg
	for rows.Next() {
		var m OutboxMsg
		if err := rows.Scan(&m.ID, &m.ChatID, &m.Code, &m.Body, &m.Attempts); err != nil {
			return nil, fmt.Errorf("store: pending outbox: %w", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	return ms, nil
}

// PendingOutboxChat returns up to limit messages of one chat with id >
// afterID that may be sent now, in id order (empty for a paused chat).
func (s *Store) PendingOutboxChat(ctx context.Context, chatID, afterID int64, limit int) ([]OutboxMsg, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT o.id, o.chat_id, o.code, o.body, o.attempts FROM outbox o JOIN chats c ON c.id = o.chat_id
WHERE o.chat_id = ?2 AND o.id > ?3 AND `+outboxDue+`
ORDER BY o.id`+sqlLimit(limit), s.unix(), chatID, afterID)
	if err != nil {
		return nil, fmt.Errorf("store: pending outbox of chat %d: %w", chatID, err)
	}
	defer rows.Close()
	var ms []OutboxMsg
	for rows.Next() {
		var m OutboxMsg
		if err := rows.Scan(&m.ID, &m.ChatID, &m.Code, &m.Body, &m.Attempts); err != nil {
			return nil, fmt.Errorf("store: pending outbox of chat %d: %w", chatID, err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending outbox of chat %d: %w", chatID, err)
	}
	return ms, nil
}

// OutboxLen counts the queued messages (all chats, due or not).
func (s *Store) OutboxLen(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: outbox length: %w", err)
	}
	return n, nil
}

// QueueMessage leaves body for the tracker's next delivery to chatID, not
// before notBefore: the bot's way not to lose a reply Telegram would not
// take now (a long retry_after, a network failure). ErrNotFound when the
// chat is unknown (nothing to deliver to).
func (s *Store) QueueMessage(ctx context.Context, chatID int64, body string, notBefore time.Time) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO outbox (chat_id, code, body, created_at, not_before)
SELECT id, '', ?, ?, ? FROM chats WHERE id = ?`, body, s.unix(), notBefore.Unix(), chatID)
	if err != nil {
		return fmt.Errorf("store: queue message for chat %d: %w", chatID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// OutboxQueued reports whether message id is still in the outbox: the
// bot drops a chat's queued messages when it stops tracking a code
// (RemovePackage, DeleteChatData), also ones a sender holds in memory.
func (s *Store) OutboxQueued(ctx context.Context, id int64) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE id = ?", id).Scan(&n); err != nil {
		return false, fmt.Errorf("store: outbox %d: %w", id, err)
	}
	return n > 0, nil
}

// DeleteOutbox removes a delivered (or abandoned) message.
func (s *Store) DeleteOutbox(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM outbox WHERE id = ?", id); err != nil {
		return fmt.Errorf("store: delete outbox %d: %w", id, err)
	}
	return nil
}

// DeferOutbox keeps a message for later: not before notBefore, with one
// more failed attempt counted when failed is set. It returns the attempts.
func (s *Store) DeferOutbox(ctx context.Context, id int64, notBefore time.Time, failed bool) (int, error) {
	inc := 0
	if failed {
		inc = 1
	}
	var n int
	err := s.db.QueryRowContext(ctx,
		"UPDATE outbox SET not_before = ?, attempts = attempts + ? WHERE id = ? RETURNING attempts",
		notBefore.Unix(), inc, id).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: defer outbox %d: %w", id, err)
	}
	return n, nil
}

// PauseChat marks a chat Telegram will not let the bot write to (blocked,
// kicked, chat not found). Its codes stop being polled and its messages
// wait in the outbox until the bot clears paused_at (the person wrote
// again); they are delivered then.
func (s *Store) PauseChat(ctx context.Context, chatID int64) error {
	now := s.unix()
	_, err := s.db.ExecContext(ctx,
		"UPDATE chats SET paused_at = ?, updated_at = ? WHERE id = ? AND paused_at IS NULL", now, now, chatID)
	if err != nil {
		return fmt.Errorf("store: pause chat %d: %w", chatID, err)
	}
	return nil
}

// MigrateChat moves chat from to its new id to (a group that became a
// supergroup): tracked codes and queued messages follow it. When to
// already exists, the two are merged (to's own descriptions win).
func (s *Store) MigrateChat(ctx context.Context, from, to int64) error {
	if from == to {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.unix()
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM chats WHERE id = ?", to).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			_, err := tx.ExecContext(ctx,
				"UPDATE chats SET id = ?, kind = 'supergroup', updated_at = ? WHERE id = ?", to, now, from)
			return err
		}
		for _, q := range []string{
			`INSERT INTO tracked (chat_id, code, description, added_at, notified_event_id, added_by)
			 SELECT ?, code, description, added_at, notified_event_id, added_by FROM tracked WHERE chat_id = ?
			 ON CONFLICT (chat_id, code) DO NOTHING`,
			"UPDATE outbox SET chat_id = ? WHERE chat_id = ?",
		} {
			if _, err := tx.ExecContext(ctx, q, to, from); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM chats WHERE id = ?", from)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrate chat %d to %d: %w", from, to, err)
	}
	return nil
}
