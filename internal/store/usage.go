package store

import (
	"context"
	"fmt"
)

// AddUsage adds n requests to provider's count for month ("2006-01", UTC).
func (s *Store) AddUsage(ctx context.Context, provider, month string, n int64) error {
	if n == 0 {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `
INSERT INTO provider_usage (provider, month, requests) VALUES (?, ?, ?)
ON CONFLICT (provider, month) DO UPDATE SET requests = requests + excluded.requests`,
		provider, month, n)
	if err != nil {
		return fmt.Errorf("store: add usage %s %s: %w", provider, month, err)
	}
	return nil
}

// Usage returns provider's request count for month ("2006-01"), 0 when
// none was recorded.
func (s *Store) Usage(ctx context.Context, provider, month string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx,
		"SELECT COALESCE(SUM(requests), 0) FROM provider_usage WHERE provider = ? AND month = ?", provider, month).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: usage %s %s: %w", provider, month, err)
	}
	return n, nil
}
