package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The tracker's word to the bot that a monthly budget slows checks: the
// providers whose budget held due codes back, and when.
const (
	slowedKey   = "tracker_slowed"    // comma-separated provider names
	slowedAtKey = "tracker_slowed_at" // unix time of the last pass that was slowed
)

// RecordSlowed notes, at the end of a pass, the providers whose monthly
// budget held due codes back (nothing when none did: the note ages out,
// see Slowed).
func (s *Store) RecordSlowed(ctx context.Context, providers []string) error {
	if len(providers) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, kv := range [][2]string{{slowedKey, strings.Join(providers, ",")}, {slowedAtKey, strconv.FormatInt(s.unix(), 10)}} {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record slowed providers: %w", err)
	}
	return nil
}

// Slowed returns the providers whose budget slowed a pass at or after
// since (none when no pass was slowed since then).
func (s *Store) Slowed(ctx context.Context, since time.Time) ([]string, error) {
	at, err := s.Meta(ctx, slowedAtKey)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil || time.Unix(n, 0).Before(since) {
		return nil, nil
	}
	v, err := s.Meta(ctx, slowedKey)
	if errors.Is(err, ErrNotFound) || err == nil && v == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.Split(v, ","), nil
}
