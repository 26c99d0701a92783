package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkDueAtMillion: choosing a pass's due codes (DueAt, the adaptive
// schedule) among 1,000,000 tracked codes (10,000 chats), 1 % of them due
// and the rest spread over the next days; a pass takes the 2,000 most
// overdue (pass.MaxDue). Figure: the query's time as a
// ratio to its 50 ms bound.
func BenchmarkDueAtMillion(b *testing.B) {
	const (
		codes = 1_000_000
		chats = 10_000
		bound = 50 * time.Millisecond
		limit = 2000 // pass.MaxDue
	)
	s := mustOpen(b, filepath.Join(b.TempDir(), "due.db"))
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tx, err := s.db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for c := range chats {
		if _, err := tx.Exec("INSERT INTO chats (id, created_at, updated_at) VALUES (?, 0, 0)", int64(c+1)); err != nil {
			b.Fatal(err)
		}
	}
	insP, _ := tx.Prepare("INSERT INTO parcels (code, state, created_at, next_due) VALUES (?, ?, 0, ?)")
	insT, _ := tx.Prepare("INSERT INTO tracked (chat_id, code, added_at) VALUES (?, ?, 0)")
	for i := range codes {
		code := fmt.Sprintf("QQ%09dBR", i)
		due := now.Add(time.Duration(i%4000) * time.Minute) // 1 in 100 due now or before
		if i%100 == 0 {
			due = now.Add(-time.Duration(i%600) * time.Minute)
		}
		if _, err := insP.Exec(code, stateActive, due.Unix()); err != nil {
			b.Fatal(err)
		}
		if _, err := insT.Exec(int64(i%chats+1), code); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var took time.Duration
	var n int
	for range b.N {
		start := time.Now()
		due, err := s.DueAt(ctx, now, limit)
		took = time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		n = len(due)
	}
	b.StopTimer()
	if n != limit {
		b.Fatalf("%d due, want the %d most overdue", n, limit)
	}
	b.ReportMetric(float64(took.Microseconds())/1000, "ms")
	b.ReportMetric(float64(took)/float64(bound), "ratio_of_bound")
	b.Logf("due codes among %d: %d in %v = %.2f of the %v bound", codes, n, took.Round(time.Microsecond), float64(took)/float64(bound), bound)
}
