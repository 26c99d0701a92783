package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkBotDurability: what durable commits cost the bot's writes per
// update (a code saved in one transaction, then the update offset), on
// this machine's disk, as ratios to the bot's 2,000 updates/s goal:
//   - synchronous=FULL (Durable): an fsync of the WAL at every commit;
//   - synchronous=NORMAL with SyncWAL before each reply, the bot's way;
//     here one caller at a time, the worst case (in the bot, the replies
//     going out together share one fsync; BenchmarkUpdates measures that
//     end to end);
//   - synchronous=NORMAL alone, not durable, for reference.
func BenchmarkBotDurability(b *testing.B) {
	const updates = 1000
	rate := func(b *testing.B, syncEach bool, opts ...Option) float64 {
		s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		ctx := context.Background()
		start := time.Now()
		for i := range updates {
			code := fmt.Sprintf("QQ%09dBR", i)
			if _, err := s.AddPackagesAs(ctx, ChatRef{ID: int64(i + 1)}, []PackageItem{{Code: code}}, AddOptions{By: int64(i + 1), MaxPerChat: 100, MaxPerPerson: 200}); err != nil {
				b.Fatal(err)
			}
			if syncEach {
				if err := s.SyncWAL(); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.SetMeta(ctx, "bot_update_offset:1", fmt.Sprint(i)); err != nil {
				b.Fatal(err)
			}
		}
		return updates / time.Since(start).Seconds()
	}
	for b.Loop() {
		normal := rate(b, false, ManualCheckpoint())
		full := rate(b, false, ManualCheckpoint(), Durable())
		synced := rate(b, true, ManualCheckpoint())
		b.ReportMetric(full/2000, "full/2000")
		b.ReportMetric(synced/2000, "syncwal_serial/2000")
		b.ReportMetric(normal/2000, "not_durable/2000")
		b.Logf("bot writes per update: synchronous=FULL %.0f/s (%.2f× the 2,000/s goal); NORMAL + SyncWAL, one at a time %.0f/s (%.2f×); NORMAL, not durable, %.0f/s (%.2f×)",
			full, full/2000, synced, synced/2000, normal, normal/2000)
	}
}

// SyncWAL: concurrent callers share fsyncs, and a WAL file SQLite
// deleted and created again (its last connection closed) is synced, not
// the old one.
func TestSyncWALGroupsAndFollowsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s := mustOpen(t, path)
	ctx := t.Context()
	if err := s.SetMeta(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	// An fsync is running (held here) while 64 callers arrive: the next
	// one covers them all.
	s.wal.mu.Lock()
	s.wal.syncing = true
	s.wal.mu.Unlock()
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if err := s.SyncWAL(); err != nil {
				t.Error(err)
			}
		})
	}
	for {
		s.wal.mu.Lock()
		asked := s.wal.asked
		s.wal.mu.Unlock()
		if asked == 64 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.wal.mu.Lock()
	s.wal.syncing = false
	s.wal.cond.Broadcast()
	s.wal.mu.Unlock()
	wg.Wait()
	if n := s.WALSyncs(); n != 1 {
		t.Fatalf("%d fsyncs for 64 callers waiting on one, want 1", n)
	}
	old, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// The pool's connections all close: SQLite removes the WAL; the next
	// write makes a new one.
	s.db.SetMaxIdleConns(0)
	s.db.SetMaxIdleConns(2)
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Skip("the WAL file was not removed when the connections closed")
	}
	if err := s.SetMeta(ctx, "k", "w"); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncWAL(); err != nil {
		t.Fatal(err)
	}
	cur, _ := os.Stat(path + "-wal")
	fi, err := s.wal.f.Stat()
	if err != nil || !os.SameFile(fi, cur) || os.SameFile(fi, old) && !os.SameFile(old, cur) {
		t.Fatal("SyncWAL synced a WAL file SQLite had replaced")
	}
}
