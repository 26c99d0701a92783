package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Token returns the access token cached for provider, the user (identity)
// it was issued to and its expiry, or ErrNotFound. Callers compare user
// with their own credentials and ignore a token issued to someone else.
func (s *Store) Token(ctx context.Context, provider string) (user, token string, expires time.Time, err error) {
	var exp int64
	err = s.db.QueryRowContext(ctx,
		"SELECT user, token, expires_at FROM tokens WHERE provider = ?", provider).Scan(&user, &token, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", time.Time{}, ErrNotFound
	}
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("store: token %s: %w", provider, err)
	}
	return user, token, time.Unix(exp, 0).UTC(), nil
}

// SaveToken caches provider's access token, replacing any earlier one.
func (s *Store) SaveToken(ctx context.Context, provider, user, token string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `
INSERT INTO tokens (provider, user, token, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (provider) DO UPDATE SET user = excluded.user, token = excluded.token, expires_at = excluded.expires_at`,
		provider, user, token, expires.Unix())
	if err != nil {
		return fmt.Errorf("store: save token %s: %w", provider, err)
	}
	return nil
}
