package systemd

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/coreos/go-systemd/v22/journal"
)

// journalSend is journal.Send's shape, injected so tests see the entries.
type journalSend func(message string, priority journal.Priority, vars map[string]string) error

// journalOutput is what every handler derived from one NewLogger call
// shares: one lock, so entries and their barrier wait go out one at a time.
type journalOutput struct {
	mu      sync.Mutex
	send    journalSend
	barrier func() error // nil: don't wait for journald
	stderr  io.Writer    // fallback when send fails
	prefix  string       // "<N>" for the fallback line, set under mu
}

// Write is the fallback text handler's output: the line goes to stderr,
// which is the journal stream, with a syslog priority prefix ("<3>…") so
// journald keeps the priority.
func (o *journalOutput) Write(p []byte) (int, error) {
	if o.prefix == "" {
		return o.stderr.Write(p)
	}
	b := make([]byte, 0, len(o.prefix)+len(p))
	b = append(append(b, o.prefix...), p...)
	if _, err := o.stderr.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// journalHandler is a slog.Handler writing entries with journald's native
// protocol: PRIORITY from the level, MESSAGE, SYSLOG_IDENTIFIER, and one
// field per attribute (key upper-cased, [A-Z0-9_] only, groups as a
// prefix: code → CODE, http.status → HTTP_STATUS). MESSAGE also carries the
// attributes as key=value text, so plain `journalctl -u` output reads like
// the text handler's and `journalctl -u X CODE=…` still filters by field.
//
// After each entry it waits, through barrier, until journald has taken it
// in, so a process that exits right after its last line still has that
// line attributed to its unit (systemd issue 2913).
type journalHandler struct {
	out    *journalOutput
	ident  string
	level  slog.Leveler
	text   slog.Handler // fallback, with the same attributes and groups
	groups []string     // open groups, outermost first
	attrs  []field      // rendered attributes from WithAttrs
}

type field struct {
	name string // journal field name: G_CODE
	key  string // text key: g.code
	val  string
}

func newJournalHandler(ident string, level slog.Leveler, stderr io.Writer, send journalSend, barrier func() error) *journalHandler {
	out := &journalOutput{send: send, barrier: barrier, stderr: stderr}
	return &journalHandler{
		out:   out,
		ident: ident,
		level: level,
		text:  slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}),
	}
}

func (h *journalHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = h.attrs[:len(h.attrs):len(h.attrs)]
	for _, a := range as {
		h2.attrs = appendAttr(h2.attrs, h.groups, a)
	}
	h2.text = h.text.WithAttrs(as)
	return &h2
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(h.groups[:len(h.groups):len(h.groups)], name)
	h2.text = h.text.WithGroup(name)
	return &h2
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	fields := h.attrs[:len(h.attrs):len(h.attrs)]
	r.Attrs(func(a slog.Attr) bool {
		fields = appendAttr(fields, h.groups, a)
		return true
	})
	vars := make(map[string]string, len(fields)+1)
	var msg strings.Builder
	msg.WriteString(r.Message)
	for _, f := range fields {
		vars[f.name] = f.val
		msg.WriteByte(' ')
		msg.WriteString(f.key)
		msg.WriteByte('=')
		msg.WriteString(quoteText(f.val))
	}
	vars["SYSLOG_IDENTIFIER"] = h.ident
	pri := priority(r.Level)

	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	if err := h.out.send(msg.String(), pri, vars); err != nil {
		// No journal socket (or the entry was refused): the line still
		// reaches the journal through stderr, which is its stream.
		h.out.prefix = "<" + strconv.Itoa(int(pri)) + ">"
		defer func() { h.out.prefix = "" }()
		return h.text.Handle(ctx, r)
	}
	if h.out.barrier != nil {
		_ = h.out.barrier() // best effort: the entry itself is sent
	}
	return nil
}

// priority maps slog levels to syslog priorities: Debug 7, Info 6, Warn 4,
// Error 3 (levels in between round towards the less severe).
func priority(l slog.Level) journal.Priority {
	switch {
	case l < slog.LevelInfo:
		return journal.PriDebug
	case l < slog.LevelWarn:
		return journal.PriInfo
	case l < slog.LevelError:
		return journal.PriWarning
	default:
		return journal.PriErr
	}
}

// appendAttr renders a (resolved) attribute under the open groups; groups
// flatten into prefixes, empty attributes and empty groups vanish.
func appendAttr(fs []field, groups []string, a slog.Attr) []field {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return fs
	}
	if a.Value.Kind() == slog.KindGroup {
		as := a.Value.Group()
		if len(as) == 0 {
			return fs
		}
		if a.Key != "" {
			groups = append(groups[:len(groups):len(groups)], a.Key)
		}
		for _, ga := range as {
			fs = appendAttr(fs, groups, ga)
		}
		return fs
	}
	path := append(groups[:len(groups):len(groups)], a.Key)
	return append(fs, field{
		name: fieldName(path),
		key:  strings.Join(path, "."),
		val:  valueText(a.Value),
	})
}

// reserved are fields this handler (or journald's conventions) own; an
// attribute mangling into one of them gets an X_ prefix instead.
var reserved = map[string]bool{
	"MESSAGE": true, "MESSAGE_ID": true, "PRIORITY": true,
	"CODE_FILE": true, "CODE_LINE": true, "CODE_FUNC": true,
}

// fieldName turns a group path and key into a valid journal field name:
// [A-Z0-9_], not starting with a digit or '_', at most 64 bytes.
func fieldName(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('_')
		}
		for _, r := range p {
			switch {
			case r >= 'a' && r <= 'z':
				b.WriteRune(unicode.ToUpper(r))
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
	}
	n := b.String()
	if n == "" || n[0] == '_' || (n[0] >= '0' && n[0] <= '9') {
		n = "X_" + strings.TrimLeft(n, "_")
	}
	if reserved[n] || strings.HasPrefix(n, "SYSLOG_") {
		n = "X_" + n
	}
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

func valueText(v slog.Value) string {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return x.Error()
		case encoding.TextMarshaler:
			if b, err := x.MarshalText(); err == nil {
				return string(b)
			}
		case []byte:
			return string(x)
		}
		return fmt.Sprint(v.Any())
	default:
		return v.String()
	}
}

// quoteText quotes a value for the MESSAGE text when the text handler
// would: empty, spaces, '=', quotes, control or invalid characters.
func quoteText(s string) string {
	if s == "" {
		return `""`
	}
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r == '=' || r == '"' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// journalSocket is where journald reads native-protocol entries (and
// where go-systemd's journal.Send writes them).
const journalSocket = "/run/systemd/journal/socket"

// errBarrierTimeout: journald did not take our entries in time.
var errBarrierTimeout = errors.New("systemd: journald did not read the log entries in time")

// journalBarrier makes "the entry is in the journal, attributed to our
// unit" a fact before the program goes on (systemd issue 2913). journald
// attributes a native entry to a unit by reading /proc/PID/cgroup of the
// sender when it processes the datagram; if the process has exited by then,
// the entry lands under no unit and `journalctl -u` misses it. The
// barrier sends an empty datagram to journald's socket (journald ignores
// it: no fields) and waits until the kernel says journald has read it
// (SIOCOUTQ, the bytes of our datagrams not yet received, is 0). journald
// reads its socket in order and handles one datagram completely before the
// next, so the entries sent before the empty one were attributed while this
// process was still alive.
type journalBarrier struct {
	path    string
	timeout time.Duration
	conn    *net.UnixConn
	slow    bool // the last wait timed out: wait only briefly until one succeeds
}

func newJournalBarrier(path string, timeout time.Duration) *journalBarrier {
	return &journalBarrier{path: path, timeout: timeout}
}

// Wait returns once journald has read everything sent to it before the
// call, or errBarrierTimeout. Callers serialise calls.
func (b *journalBarrier) Wait() error {
	if b.conn == nil {
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: b.path, Net: "unixgram"})
		if err != nil {
			return fmt.Errorf("systemd: journal barrier: %w", err)
		}
		b.conn = c
	}
	timeout := b.timeout
	if b.slow {
		timeout = min(timeout, 10*time.Millisecond)
	}
	deadline := time.Now().Add(timeout)
	// journald's queue holds few datagrams (net.unix.max_dgram_qlen, 10 by
	// default); while it is full the send fails with EAGAIN (Go does not
	// wait on an empty write): retry until the deadline.
	for {
		_, err := b.conn.Write(nil)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EAGAIN) {
			b.conn.Close()
			b.conn = nil
			return fmt.Errorf("systemd: journal barrier: %w", err)
		}
		if time.Now().After(deadline) {
			b.slow = true
			return errBarrierTimeout
		}
		time.Sleep(100 * time.Microsecond)
	}
	for i := 0; ; i++ {
		n, err := outq(b.conn)
		if err != nil {
			return fmt.Errorf("systemd: journal barrier: %w", err)
		}
		if n == 0 {
			b.slow = false
			return nil
		}
		if time.Now().After(deadline) {
			b.slow = true
			return errBarrierTimeout
		}
		if i < 20 {
			runtime.Gosched()
		} else {
			time.Sleep(min(time.Duration(i-19)*20*time.Microsecond, time.Millisecond))
		}
	}
}

// outq is the number of bytes c has sent that the receiver has not read
// yet (ioctl SIOCOUTQ, which Linux defines as TIOCOUTQ).
func outq(c *net.UnixConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int32
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
