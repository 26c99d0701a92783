package systemd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/rastreio/rastreio/internal/config"
)

// entry is one journal entry as the handler handed it to send.
type entry struct {
	msg  string
	pri  journal.Priority
	vars map[string]string
}

type recorder struct {
	mu      sync.Mutex
	entries []entry
	err     error // returned by send
}

func (r *recorder) send(msg string, pri journal.Priority, vars map[string]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.entries = append(r.entries, entry{msg, pri, vars})
	return nil
}

func (r *recorder) all() []entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]entry(nil), r.entries...)
}

// slogtest's cases use the groups G, H, I and lower-case keys; the result
// function rebuilds the nested map from the flattened journal fields.
func TestJournalHandlerSlogtest(t *testing.T) {
	var rec *recorder
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		rec = &recorder{}
		return newJournalHandler("test", slog.LevelInfo, &bytes.Buffer{}, rec.send, nil)
	}, func(t *testing.T) map[string]any {
		es := rec.all()
		if len(es) != 1 {
			t.Fatalf("got %d entries, want 1", len(es))
		}
		e := es[0]
		m := map[string]any{slog.LevelKey: e.pri}
		// journald stamps entries itself: the handler drops Record.Time on
		// purpose, so only the zero-time case must lack it.
		if !strings.HasSuffix(t.Name(), "/zero-time") {
			m[slog.TimeKey] = "journald"
		}
		var suffix strings.Builder
		for name, val := range e.vars {
			if name == "SYSLOG_IDENTIFIER" {
				continue
			}
			parts := strings.Split(name, "_")
			cur := m
			for _, p := range parts[:len(parts)-1] {
				sub, ok := cur[p].(map[string]any)
				if !ok {
					sub = map[string]any{}
					cur[p] = sub
				}
				cur = sub
			}
			cur[strings.ToLower(parts[len(parts)-1])] = val
		}
		// MESSAGE is the message, then each attribute as key=value.
		msg, rest, _ := strings.Cut(e.msg, " ")
		for _, kv := range strings.Fields(rest) {
			k, v, _ := strings.Cut(kv, "=")
			name := strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
			if e.vars[name] != v {
				t.Errorf("MESSAGE has %s=%s, field %s=%q", k, v, name, e.vars[name])
			}
			suffix.WriteString(" " + kv)
		}
		if got := len(strings.Fields(rest)); got != len(e.vars)-1 {
			t.Errorf("MESSAGE %q carries %d attributes, want %d", e.msg, got, len(e.vars)-1)
		}
		m[slog.MessageKey] = msg
		return m
	})
}

type hidden string

func (hidden) LogValue() slog.Value { return slog.StringValue("[redacted]") }

func TestJournalHandlerFields(t *testing.T) {
	when := time.Date(2026, 12, 1, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		log     func(*slog.Logger)
		pri     journal.Priority
		msg     string
		want    map[string]string
		missing []string
	}{
		{
			name: "summary line",
			log: func(l *slog.Logger) {
				l.Info("pass done", "pass_id", 42, "codes", 12, "duration", 1500*time.Millisecond)
			},
			pri:  journal.PriInfo,
			msg:  "pass done pass_id=42 codes=12 duration=1.5s",
			want: map[string]string{"PASS_ID": "42", "CODES": "12", "DURATION": "1.5s", "SYSLOG_IDENTIFIER": "rastreio-tracker"},
		},
		{
			name: "code and chat",
			log: func(l *slog.Logger) {
				l.Warn("chat blocked the bot", "chat_id", int64(-1001234), "code", "QQ850419295BR")
			},
			pri:  journal.PriWarning,
			msg:  "chat blocked the bot chat_id=-1001234 code=QQ850419295BR",
			want: map[string]string{"CHAT_ID": "-1001234", "CODE": "QQ850419295BR"},
		},
		{
			name: "error value and quoting",
			log: func(l *slog.Logger) {
				l.Error("cannot open the database", "error", errors.New("disk I/O error"), "path", "/var/lib/rastreio/rastreio.db")
			},
			pri:  journal.PriErr,
			msg:  `cannot open the database error="disk I/O error" path=/var/lib/rastreio/rastreio.db`,
			want: map[string]string{"ERROR": "disk I/O error", "PATH": "/var/lib/rastreio/rastreio.db"},
		},
		{
			name: "debug",
			log:  func(l *slog.Logger) { l.Debug("update", "update_id", 7) },
			pri:  journal.PriDebug,
			msg:  "update update_id=7",
			want: map[string]string{"UPDATE_ID": "7"},
		},
		{
			name: "between levels rounds down in severity",
			log:  func(l *slog.Logger) { l.Log(context.Background(), slog.LevelWarn-1, "x") },
			pri:  journal.PriInfo,
			msg:  "x",
		},
		{
			name: "above error",
			log:  func(l *slog.Logger) { l.Log(context.Background(), slog.LevelError+4, "x") },
			pri:  journal.PriErr,
			msg:  "x",
		},
		{
			name: "groups and odd keys",
			log: func(l *slog.Logger) {
				l.WithGroup("http").Info("request", "status-code", 429, "retry after", 3, "_x", 1, "9lives", 2)
			},
			pri:  journal.PriInfo,
			msg:  "request http.status-code=429 http.retry after=3 http._x=1 http.9lives=2",
			want: map[string]string{"HTTP_STATUS_CODE": "429", "HTTP_RETRY_AFTER": "3", "HTTP__X": "1", "HTTP_9LIVES": "2"},
		},
		{
			name: "leading underscore or digit",
			log:  func(l *slog.Logger) { l.Info("m", "_trusted", 1, "2fa", 2) },
			pri:  journal.PriInfo,
			msg:  "m _trusted=1 2fa=2",
			want: map[string]string{"X_TRUSTED": "1", "X_2FA": "2"},
		},
		{
			name:    "reserved names are not overwritten",
			log:     func(l *slog.Logger) { l.Info("m", "message", "x", "priority", 0, "syslog_identifier", "evil") },
			pri:     journal.PriInfo,
			msg:     "m message=x priority=0 syslog_identifier=evil",
			want:    map[string]string{"X_MESSAGE": "x", "X_PRIORITY": "0", "X_SYSLOG_IDENTIFIER": "evil", "SYSLOG_IDENTIFIER": "rastreio-tracker"},
			missing: []string{"MESSAGE", "PRIORITY"},
		},
		{
			name: "secrets stay redacted",
			log: func(l *slog.Logger) {
				l.Info("config", "token", config.Secret("123456:AAH-secret"), "key", hidden("k"))
			},
			pri:  journal.PriInfo,
			msg:  "config token=[redacted] key=[redacted]",
			want: map[string]string{"TOKEN": "[redacted]", "KEY": "[redacted]"},
		},
		{
			name: "time and multi-line values",
			log:  func(l *slog.Logger) { l.Info("m", "at", when, "body", "a\nb") },
			pri:  journal.PriInfo,
			msg:  `m at=2026-12-01T03:04:05Z body="a\nb"`,
			want: map[string]string{"AT": "2026-12-01T03:04:05Z", "BODY": "a\nb"},
		},
		{
			name: "with attrs before and after a group",
			log: func(l *slog.Logger) {
				l.With("pass_id", 3).WithGroup("chat").With("id", 5).Info("sent", "code", "QQ850419295BR")
			},
			pri:  journal.PriInfo,
			msg:  "sent pass_id=3 chat.id=5 chat.code=QQ850419295BR",
			want: map[string]string{"PASS_ID": "3", "CHAT_ID": "5", "CHAT_CODE": "QQ850419295BR"},
		},
		{
			name: "long names are cut to 64 bytes",
			log:  func(l *slog.Logger) { l.Info("m", strings.Repeat("a", 70), 1) },
			pri:  journal.PriInfo,
			msg:  "m " + strings.Repeat("a", 70) + "=1",
			want: map[string]string{strings.Repeat("A", 64): "1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			l := slog.New(newJournalHandler("rastreio-tracker", slog.LevelDebug, &bytes.Buffer{}, rec.send, nil))
			tc.log(l)
			es := rec.all()
			if len(es) != 1 {
				t.Fatalf("got %d entries, want 1", len(es))
			}
			e := es[0]
			if e.pri != tc.pri {
				t.Errorf("priority %d, want %d", e.pri, tc.pri)
			}
			if e.msg != tc.msg {
				t.Errorf("MESSAGE %q, want %q", e.msg, tc.msg)
			}
			for k, v := range tc.want {
				if e.vars[k] != v {
					t.Errorf("%s=%q, want %q (fields %v)", k, e.vars[k], v, e.vars)
				}
			}
			for _, k := range tc.missing {
				if _, ok := e.vars[k]; ok {
					t.Errorf("field %s present: %v", k, e.vars)
				}
			}
			for k := range e.vars {
				if !validFieldName(k) {
					t.Errorf("invalid journal field name %q", k)
				}
			}
		})
	}
}

// validFieldName is journald's rule (journal_field_valid).
func validFieldName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '_' || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func TestJournalHandlerLevel(t *testing.T) {
	rec := &recorder{}
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	l := slog.New(newJournalHandler("x", &lv, &bytes.Buffer{}, rec.send, nil))
	l.Info("dropped")
	l.Warn("kept")
	lv.Set(slog.LevelDebug)
	l.Debug("kept too")
	es := rec.all()
	if len(es) != 2 || es[0].msg != "kept" || es[1].msg != "kept too" {
		t.Fatalf("entries %+v, want kept and kept too", es)
	}
}

// When journald refuses the entry, the line goes to stderr (the journal
// stream) with its syslog priority prefix, and nothing waits on journald.
func TestJournalHandlerFallback(t *testing.T) {
	rec := &recorder{err: errors.New("no journal socket")}
	var buf bytes.Buffer
	waited := 0
	l := slog.New(newJournalHandler("x", slog.LevelInfo, &buf, rec.send, func() error { waited++; return nil }))
	l.With("pass_id", 1).Warn("rate limited", "code", "QQ850419295BR")
	l.Error("gave up")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("stderr %q, want 2 lines", buf.String())
	}
	if !strings.HasPrefix(lines[0], "<4>time=") || !strings.Contains(lines[0], "msg=\"rate limited\" pass_id=1 code=QQ850419295BR") {
		t.Errorf("line 1 %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "<3>time=") || !strings.Contains(lines[1], "level=ERROR msg=\"gave up\"") {
		t.Errorf("line 2 %q", lines[1])
	}
	if waited != 0 {
		t.Errorf("barrier waited %d times for unsent entries", waited)
	}
}

// fakeJournald listens on a unixgram socket and reads datagrams slowly, in
// order, as journald does; it records what it read.
type fakeJournald struct {
	conn  *net.UnixConn
	path  string
	delay time.Duration
	mu    sync.Mutex
	got   []string
	done  chan struct{}
}

func startFakeJournald(t *testing.T, delay time.Duration, reading bool) *fakeJournald {
	t.Helper()
	dir, err := os.MkdirTemp("", "jd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "socket")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	j := &fakeJournald{conn: c, path: p, delay: delay, done: make(chan struct{})}
	t.Cleanup(func() {
		c.Close()
		<-j.done
	})
	if !reading {
		close(j.done)
		return j
	}
	go func() {
		defer close(j.done)
		buf := make([]byte, 1<<16)
		for {
			time.Sleep(j.delay)
			n, _, err := c.ReadFromUnix(buf)
			if err != nil {
				return
			}
			j.mu.Lock()
			j.got = append(j.got, string(buf[:n]))
			j.mu.Unlock()
		}
	}()
	return j
}

func (j *fakeJournald) read() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.got...)
}

// The point of the barrier: when a log call returns, journald has read the
// entry, even when it is slow to get to it.
func TestJournalBarrierWaitsForJournald(t *testing.T) {
	jd := startFakeJournald(t, 30*time.Millisecond, true)
	send, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: jd.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	sendFn := func(msg string, _ journal.Priority, _ map[string]string) error {
		_, err := send.Write([]byte("MESSAGE=" + msg))
		return err
	}
	b := newJournalBarrier(jd.path, 5*time.Second)
	l := slog.New(newJournalHandler("x", slog.LevelInfo, &bytes.Buffer{}, sendFn, b.Wait))
	for i := range 3 {
		msg := fmt.Sprintf("line %d", i)
		l.Info(msg)
		got := jd.read()
		var entries []string
		for _, g := range got {
			if g != "" {
				entries = append(entries, g)
			}
		}
		if len(entries) != i+1 || entries[i] != "MESSAGE="+msg {
			t.Fatalf("after logging %q journald had read %q", msg, got)
		}
		// The barrier's own datagram is empty, so journald makes no entry.
		// (The reader may not have recorded it yet: it was read, not handled.)
		deadline := time.Now().Add(time.Second)
		for len(got) < 2*(i+1) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			got = jd.read()
		}
		if len(got) != 2*(i+1) || got[len(got)-1] != "" {
			t.Fatalf("journald read %q, want each entry followed by an empty datagram", got)
		}
	}
}

func TestJournalBarrierTimeout(t *testing.T) {
	jd := startFakeJournald(t, 0, false) // never reads
	b := newJournalBarrier(jd.path, 50*time.Millisecond)
	start := time.Now()
	if err := b.Wait(); !errors.Is(err, errBarrierTimeout) {
		t.Fatalf("Wait = %v, want errBarrierTimeout", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("first Wait took %v, want about 50ms", d)
	}
	// journald is stuck: later waits give up quickly so logging stays cheap.
	start = time.Now()
	if err := b.Wait(); !errors.Is(err, errBarrierTimeout) {
		t.Fatalf("second Wait = %v, want errBarrierTimeout", err)
	}
	if d := time.Since(start); d > 40*time.Millisecond {
		t.Errorf("second Wait took %v, want about 10ms", d)
	}
}

// journald's queue is full: the barrier's own send keeps trying until its
// timeout (stuck journald), and goes through once journald reads again.
func TestJournalBarrierFullQueue(t *testing.T) {
	jd := startFakeJournald(t, 0, false) // never reads
	fill, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: jd.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer fill.Close()
	for i := 0; ; i++ {
		fill.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := fill.Write([]byte("MESSAGE=x")); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			break
		}
		if i > 100000 {
			t.Fatal("the queue never filled")
		}
	}
	b := newJournalBarrier(jd.path, 50*time.Millisecond)
	start := time.Now()
	if err := b.Wait(); !errors.Is(err, errBarrierTimeout) {
		t.Fatalf("Wait = %v, want errBarrierTimeout", err)
	}
	if d := time.Since(start); d < 10*time.Millisecond || d > 2*time.Second {
		t.Errorf("Wait took %v with a full queue, want about 50ms", d)
	}
	// journald drains its queue: the next wait succeeds.
	done := make(chan error, 1)
	go func() { done <- newJournalBarrier(jd.path, 5*time.Second).Wait() }()
	buf := make([]byte, 1024)
	for {
		jd.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := jd.conn.ReadFromUnix(buf)
		if err != nil {
			t.Fatalf("the barrier's datagram never came: %v", err)
		}
		if n == 0 {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Wait after the queue drained = %v", err)
	}
}

func TestJournalBarrierNoSocket(t *testing.T) {
	b := newJournalBarrier(filepath.Join(t.TempDir(), "none"), time.Second)
	if err := b.Wait(); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Wait = %v, want ENOENT", err)
	}
}

// NewLogger picks the journal only when fd 2 is the journal stream
// (JOURNAL_STREAM holds its device and inode) and stderr is os.Stderr.
func TestNewLoggerChoosesHandler(t *testing.T) {
	var st syscall.Stat_t
	if err := syscall.Fstat(2, &st); err != nil {
		t.Fatal(err)
	}
	stream := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	tests := []struct {
		name    string
		env     string
		stderr  func() *os.File
		journal bool
	}{
		{"terminal or pipe", "", func() *os.File { return os.Stderr }, false},
		{"journal stream", stream, func() *os.File { return os.Stderr }, true},
		{"other stream", "1:2", func() *os.File { return os.Stderr }, false},
		{"not os.Stderr", stream, func() *os.File { return os.Stdout }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("JOURNAL_STREAM", tc.env)
			h := NewLogger("x", slog.LevelInfo, tc.stderr()).Handler()
			_, isJournal := h.(*journalHandler)
			if isJournal != tc.journal {
				t.Fatalf("handler %T, journal %v", h, tc.journal)
			}
			if !tc.journal {
				if _, ok := h.(*slog.TextHandler); !ok {
					t.Fatalf("handler %T, want *slog.TextHandler", h)
				}
			}
		})
	}
	var buf bytes.Buffer
	NewLogger("x", slog.LevelWarn, &buf).Info("hidden")
	NewLogger("x", slog.LevelWarn, &buf).Warn("shown", "code", "QQ850419295BR")
	if s := buf.String(); strings.Contains(s, "hidden") || !strings.Contains(s, "level=WARN msg=shown code=QQ850419295BR") {
		t.Errorf("text output %q", s)
	}
}
