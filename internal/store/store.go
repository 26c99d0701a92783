// Package store keeps rastreio's state in one SQLite file shared by the
// bot and the tracker: chats, tracked parcels, events, the notification
// outbox, tokens and small key/value state.
//
// Every connection runs in WAL mode with a busy timeout, foreign keys on
// and BEGIN IMMEDIATE for transactions (see Open), so the two processes
// can write the same file without "database is locked" surfacing.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/rastreio/rastreio/migrations"
)

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrSchemaTooNew means the database was migrated by a newer binary.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this program")

// BusyTimeout is how long a writer waits for the other process's
// transaction before giving up.
const BusyTimeout = 10 * time.Second

// Store is the SQLite database. It is safe for concurrent use.
type Store struct {
	db       *sql.DB
	now      func() time.Time
	stmts    sync.Map     // query → *sql.Stmt, see stmt
	schedule ScheduleFunc // see SetSchedule
	wal      walSync      // see SyncWAL
}

// Option tunes Open.
type Option func(*openOptions)

type openOptions struct {
	driver      string
	noSync      bool
	synchronous string
	busy        time.Duration
}

// busyTimeout replaces BusyTimeout (tests: a wait longer than d fails).
func busyTimeout(d time.Duration) Option { return func(o *openOptions) { o.busy = d } }

// Throwaway opens a database that runs many passes in one process and
// may be lost: commits do not wait for the disk (PRAGMA synchronous=OFF;
// a crash of the machine may corrupt it) and each connection keeps its
// prepared statements (go-sqlite3's _stmt_cache_size). For the replay of
// `rastreio-tracker simulate` only.
func Throwaway() Option { return func(o *openOptions) { o.noSync = true } }

// Durable makes every commit durable before it returns
// (synchronous=FULL: an fsync of the WAL at each commit). The bot does
// not use it: it calls SyncWAL before a reply instead, one fsync shared by
// the replies in flight, which costs far less per update
// (BenchmarkBotDurability measures both).
func Durable() Option { return func(o *openOptions) { o.synchronous = "FULL" } }

// driverManualCheckpoint is go-sqlite3 with SQLite's automatic WAL
// checkpoint turned off on every connection.
const driverManualCheckpoint = "sqlite3_rastreio_manual_checkpoint"

func init() {
	sql.Register(driverManualCheckpoint, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
			return err
		},
	})
}

// ManualCheckpoint turns off SQLite's automatic checkpoint on this
// process's connections: the caller runs Checkpoint itself, off its hot
// path (by default the commit that crosses 1000 WAL pages copies them
// back and fsyncs, stalling that one writer for milliseconds). The other
// process keeps checkpointing automatically.
func ManualCheckpoint() Option { return func(o *openOptions) { o.driver = driverManualCheckpoint } }

// Checkpoint copies what it can of the WAL back into the database
// without waiting for readers or writers (PRAGMA wal_checkpoint(PASSIVE)).
func (s *Store) Checkpoint(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// Open opens (creating if needed) the database at path, checks that WAL
// is on and applies pending migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := openOptions{driver: "sqlite3", synchronous: "NORMAL", busy: BusyTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(int(o.busy/time.Millisecond)))
	q.Set("_foreign_keys", "on")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", o.synchronous)
	if o.noSync {
		q.Set("_synchronous", "OFF")
		q.Set("_stmt_cache_size", "64")
	}
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()
	db, err := sql.Open(o.driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One writer at a time per process; readers share the pool.
	db.SetMaxOpenConns(maxConns)
	db.SetConnMaxIdleTime(time.Minute)
	s := &Store{db: db, now: time.Now}
	s.wal.path = abs + "-wal"
	s.wal.cond = sync.NewCond(&s.wal.mu)
	if err := s.initRetrying(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// initRetrying runs init, retrying while the other process holds a lock
// SQLite does not wait for: switching a new file to WAL and WAL recovery
// answer SQLITE_BUSY at once, without the busy handler, when the bot and
// the tracker open a fresh database together.
func (s *Store) initRetrying(ctx context.Context) error {
	deadline := time.Now().Add(BusyTimeout)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := s.init(ctx)
		if err == nil || !IsBusy(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(wait + time.Duration(rand.Int64N(int64(wait))))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal (is the file on a local filesystem?)", mode)
	}
	return s.migrate(ctx)
}

// Close closes the database.
func (s *Store) Close() error {
	s.wal.mu.Lock()
	if s.wal.f != nil && !s.wal.syncing {
		s.wal.f.Close()
		s.wal.f = nil
	}
	s.wal.mu.Unlock()
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// stmt returns q prepared once for the pool (database/sql prepares it on
// each connection the first time that connection runs it), so hot paths
// skip SQLite's parser. Inside a transaction use tx.StmtContext on it.
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if v, ok := s.stmts.Load(q); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

// SetClock replaces the store's clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

func (s *Store) unix() int64 { return s.now().Unix() }

// SchemaVersion returns PRAGMA user_version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

type migration struct {
	version int
	name    string
}

func listMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want name %03d_*.sql", n, i+1)
		}
		ms = append(ms, migration{version: v, name: n})
	}
	return ms, nil
}

// migrate applies each pending migration in its own BEGIN IMMEDIATE
// transaction that re-reads user_version, so two processes starting at
// once serialize and each file runs exactly once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	cur, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if cur > len(ms) {
		return fmt.Errorf("%w (version %d, this program knows %d)", ErrSchemaTooNew, cur, len(ms))
	}
	for _, m := range ms {
		if m.version <= cur {
			continue
		}
		if err := s.applyMigration(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, m migration) error {
	body, err := migrations.FS.ReadFile(m.name)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v >= m.version {
		return nil // the other process applied it meanwhile
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return err
	}
	return tx.Commit()
}

// inTx runs fn inside one write transaction (BEGIN IMMEDIATE).
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Meta returns the value stored under key, or ErrNotFound.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores value under key.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	st, err := s.stmt(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
	if err == nil {
		_, err = st.ExecContext(ctx, key, value)
	}
	if err != nil {
		return fmt.Errorf("store: set meta %s: %w", key, err)
	}
	return nil
}

// IsBusy reports whether err is SQLite's "database is locked" after the
// busy timeout ran out.
func IsBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// maxConns is the size of a Store's connection pool.
const maxConns = 4

// FillDisk makes this Store behave as on a full disk, for tests and
// drills: every write that needs a new database page fails with
// SQLITE_FULL (SQLite's max_page_count, set to the current size on each
// of its connections, which are then kept open). Reads and writes that
// fit in the pages already there still work, as on a real full disk
// where SQLite reuses free pages.
func (s *Store) FillDisk(ctx context.Context) error {
	var pages int
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return fmt.Errorf("store: fill disk: %w", err)
	}
	s.db.SetMaxIdleConns(maxConns)
	s.db.SetConnMaxIdleTime(0)
	conns := make([]*sql.Conn, 0, maxConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range maxConns {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: fill disk: %w", err)
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
			return fmt.Errorf("store: fill disk: %w", err)
		}
	}
	return nil
}

// IsDiskFull reports whether err is SQLite finding no room to write
// (SQLITE_FULL: the filesystem is full, or the database hit its size
// limit). Nothing written in the failed transaction was kept.
func IsDiskFull(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrFull
}

// walSync is the state of SyncWAL's group commit.
type walSync struct {
	path    string
	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	asked   uint64 // the last request
	done    uint64 // every request up to done is durable (or failed with err)
	err     error
	syncing bool
	syncs   uint64 // fsyncs done
}

// WALSyncs is how many fsyncs SyncWAL did.
func (s *Store) WALSyncs() uint64 {
	s.wal.mu.Lock()
	defer s.wal.mu.Unlock()
	return s.wal.syncs
}

// SyncWAL makes every commit this process made before the call durable:
// one fsync of the WAL file. Under synchronous=NORMAL a commit reaches
// the WAL but not the disk, so a power loss may roll it back; a caller
// about to tell a person "saved" calls SyncWAL first. Concurrent callers
// share one fsync (group commit): while one runs, the callers that
// arrive wait for the next, which covers them all.
func (s *Store) SyncWAL() error {
	w := &s.wal
	w.mu.Lock()
	defer w.mu.Unlock()
	w.asked++
	mine := w.asked
	for w.done < mine {
		if w.syncing {
			w.cond.Wait()
			continue
		}
		// Every request up to covers was made after its commit, and
		// before this fsync starts: the fsync covers them.
		covers := w.asked
		w.syncing = true
		w.mu.Unlock()
		err := w.fsync()
		w.mu.Lock()
		w.syncing = false
		w.syncs++
		w.done, w.err = covers, err
		w.cond.Broadcast()
	}
	if w.err != nil {
		return fmt.Errorf("store: sync WAL: %w", w.err)
	}
	return nil
}

// fsync syncs the WAL file, opening it again when SQLite replaced it (it
// deletes the file when its last connection closes).
func (w *walSync) fsync() error {
	cur, err := os.Stat(w.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no WAL: every commit was checkpointed (and synced) into the database
	}
	if err != nil {
		return err
	}
	if w.f != nil {
		if fi, err := w.f.Stat(); err != nil || !os.SameFile(fi, cur) {
			w.f.Close()
			w.f = nil
		}
	}
	if w.f == nil {
		if w.f, err = os.Open(w.path); err != nil {
			return err
		}
	}
	return w.f.Sync()
}
