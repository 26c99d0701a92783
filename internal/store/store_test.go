package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// MustOpen opens a fresh database file in a temp dir.
func mustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "rastreio.db")
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestOpenMigrates(t *testing.T) {
	s := mustOpen(t, "")
	v, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := listMigrations()
	if v != len(ms) || v == 0 {
		t.Fatalf("user_version=%d, want %d", v, len(ms))
	}
	var mode string
	s.db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Fatalf("journal_mode=%q, want wal", mode)
	}
	// Foreign keys must be on for every pooled connection, not just one.
	conns := make([]interface{ Close() error }, 0, 3)
	for i := 0; i < 3; i++ {
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var fk int
		if err := c.QueryRowContext(t.Context(), "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Fatalf("conn %d: foreign_keys=%d err=%v, want 1", i, fk, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestReopenKeepsVersionAndRefusesNewer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s := mustOpen(t, path)
	if err := s.SetMeta(t.Context(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := mustOpen(t, path)
	if v, err := s2.Meta(t.Context(), "k"); err != nil || v != "v" {
		t.Fatalf("Meta after reopen = %q, %v; want v", v, err)
	}
	if _, err := s2.Meta(t.Context(), "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Meta(missing) err=%v, want ErrNotFound", err)
	}
	if _, err := s2.db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := Open(t.Context(), path); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: err=%v, want ErrSchemaTooNew", err)
	}
}

// Two Stores on one file (the bot and the tracker) migrate and write at
// once; no "database is locked" may surface and no write may be lost.
func TestConcurrentOpenAndWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	const writers, each = 2, 200
	stores := make([]*Store, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each+writers)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), path)
			if err != nil {
				errs <- err
				return
			}
			stores[i] = s
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Open: %v", err)
	}
	for _, s := range stores {
		t.Cleanup(func() { s.Close() })
	}
	if _, err := stores[0].db.Exec("INSERT INTO meta (key, value) VALUES ('n', '0')"); err != nil {
		t.Fatal(err)
	}
	errs = make(chan error, writers*each)
	for w, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Read-modify-write: fails at once with a deferred tx.
				err := s.inTx(context.Background(), func(tx *sql.Tx) error {
					var n int
					if err := tx.QueryRow("SELECT CAST(value AS INTEGER) FROM meta WHERE key='n'").Scan(&n); err != nil {
						return err
					}
					_, err := tx.Exec("UPDATE meta SET value = ? WHERE key='n'", fmt.Sprint(n+1))
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, _ := stores[1].Meta(t.Context(), "n")
	if v != fmt.Sprint(writers*each) {
		t.Fatalf("counter=%s, want %d", v, writers*each)
	}
}
