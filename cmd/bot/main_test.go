package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/systemd"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

// runMain is main without os.Exit: run, then the exit status main maps
// its error to.
func runMain(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	return systemd.Exit(program, run(ctx, args, getenv, io.Discard, stderr), stderr)
}

// -version answers before any setting is read: no token, no database.
func TestVersion(t *testing.T) {
	old := version
	version = "v1.2.3-test"
	t.Cleanup(func() { version = old })
	for _, arg := range []string{"-version", "--version"} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), []string{"rastreio-bot", arg}, env(nil), &stdout, &stderr)
		if code := systemd.Exit(program, err, &stderr); code != 0 {
			t.Fatalf("%s: exit %d; stderr:\n%s", arg, code, stderr.String())
		}
		if got := stdout.String(); got != "rastreio-bot v1.2.3-test\n" {
			t.Errorf("%s printed %q", arg, got)
		}
		if stderr.Len() != 0 {
			t.Errorf("%s wrote to stderr: %q", arg, stderr.String())
		}
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// syncBuffer is a stderr the bot goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func checkStderr(t *testing.T, out, mustName, token string) {
	t.Helper()
	ls := lines(out)
	if len(ls) == 0 || len(ls) > 3 {
		t.Fatalf("stderr has %d lines, want 1 to 3:\n%s", len(ls), out)
	}
	if !strings.Contains(ls[len(ls)-1], mustName) {
		t.Fatalf("last stderr line %q does not name %s", ls[len(ls)-1], mustName)
	}
	if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
		t.Fatalf("a Go trace on stderr:\n%s", out)
	}
	if strings.TrimSpace(token) != "" {
		_, secret, _ := strings.Cut(token, ":")
		if strings.Contains(out, token) || (secret != "" && strings.Contains(out, secret)) {
			t.Fatalf("the token leaked to stderr:\n%s", out)
		}
	}
}

func TestExitCodes(t *testing.T) {
	fake := telegramtest.New(t)
	dead := deadEndpoint(t)
	oldDelay := getMeRetryDelay
	getMeRetryDelay = 10 * time.Millisecond
	t.Cleanup(func() { getMeRetryDelay = oldDelay })
	const wrong = "111:wrong-token-secret-part"
	for _, tc := range []struct {
		name   string
		env    map[string]string
		code   int
		names  string
		within time.Duration
	}{
		{"missing token", map[string]string{}, 78, "TELEGRAM_BOT_TOKEN", time.Second},
		{"blank token", map[string]string{"TELEGRAM_BOT_TOKEN": "  \n"}, 78, "TELEGRAM_BOT_TOKEN", time.Second},
		{"malformed endpoint", map[string]string{"TELEGRAM_BOT_TOKEN": fake.Token, "TELEGRAM_API_ENDPOINT": "not a url %s"}, 78, "TELEGRAM_API_ENDPOINT", time.Second},
		{"endpoint without verbs", map[string]string{"TELEGRAM_BOT_TOKEN": fake.Token, "TELEGRAM_API_ENDPOINT": fake.URL()}, 78, "TELEGRAM_API_ENDPOINT", time.Second},
		{"plain http endpoint", map[string]string{"TELEGRAM_BOT_TOKEN": fake.Token, "TELEGRAM_API_ENDPOINT": "http://api.telegram.org/bot%s/%s"}, 78, "TELEGRAM_API_ENDPOINT", time.Second},
		{"bad max codes", map[string]string{"TELEGRAM_BOT_TOKEN": fake.Token, "RASTREIO_MAX_CODES_PER_CHAT": "lots"}, 78, "RASTREIO_MAX_CODES_PER_CHAT", time.Second},
		{"rejected token", map[string]string{"TELEGRAM_BOT_TOKEN": wrong, "TELEGRAM_API_ENDPOINT": fake.Endpoint()}, 78, "TELEGRAM_BOT_TOKEN", 5 * time.Second},
		{"unreachable", map[string]string{"TELEGRAM_BOT_TOKEN": wrong, "TELEGRAM_API_ENDPOINT": dead}, 69, "TELEGRAM_API_ENDPOINT", 5 * time.Second},
		{"endpoint path not found", map[string]string{"TELEGRAM_BOT_TOKEN": fake.Token, "TELEGRAM_API_ENDPOINT": fake.URL() + "/nobot%s/%s"}, 78, "TELEGRAM_API_ENDPOINT", 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["RASTREIO_DB"] = filepath.Join(t.TempDir(), "r.db")
			var stderr syncBuffer
			start := time.Now()
			code := runMain(t.Context(), []string{"rastreio-bot"}, env(tc.env), &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if d := time.Since(start); d > tc.within {
				t.Fatalf("took %v, want under %v", d, tc.within)
			}
			checkStderr(t, stderr.String(), tc.names, tc.env["TELEGRAM_BOT_TOKEN"])
		})
	}
	if n := fake.Count("getMe"); n != 0 {
		// The wrong token is refused before the call is logged; one try only.
		t.Fatalf("getMe logged %d times", n)
	}
}

// TestRejectedTokenNotRetried counts the getMe requests a 401 causes.
func TestRejectedTokenNotRetried(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(401)
		w.Write([]byte(`{"ok":false,"error_code":401,"description":"Unauthorized"}`))
	}))
	defer srv.Close()
	var stderr syncBuffer
	code := runMain(t.Context(), nil, env(map[string]string{
		"TELEGRAM_BOT_TOKEN": "42:abcdefghijklmnop", "TELEGRAM_API_ENDPOINT": srv.URL + "/bot%s/%s",
		"RASTREIO_DB": filepath.Join(t.TempDir(), "r.db"),
	}), &stderr)
	if code != 78 || n != 1 {
		t.Fatalf("exit %d after %d getMe calls; want 78 after 1", code, n)
	}
	checkStderr(t, stderr.String(), "TELEGRAM_BOT_TOKEN", "42:abcdefghijklmnop")
}

// TestUnreachableWithinBound uses the real start-up bounds against an
// endpoint that accepts connections and never answers.
func TestUnreachableBoundsAddUp(t *testing.T) {
	worst := time.Duration(getMeAttempts)*getMeTimeout + 3*time.Second
	if startTimeout > 28*time.Second || worst > 30*time.Second {
		t.Fatalf("start-up may take %v (bound %v), over the 30 s contract", worst, startTimeout)
	}
	if testing.Short() {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, never answer
		}
	}()
	oldTimeout, oldDelay := getMeTimeout, getMeRetryDelay
	getMeTimeout, getMeRetryDelay = 300*time.Millisecond, 50*time.Millisecond
	defer func() { getMeTimeout, getMeRetryDelay = oldTimeout, oldDelay }()
	var stderr syncBuffer
	start := time.Now()
	code := runMain(t.Context(), nil, env(map[string]string{
		"TELEGRAM_BOT_TOKEN": "42:abcdefghijklmnop", "TELEGRAM_API_ENDPOINT": "http://" + ln.Addr().String() + "/bot%s/%s",
		"RASTREIO_DB": filepath.Join(t.TempDir(), "r.db"),
	}), &stderr)
	if code == 0 || time.Since(start) > 3*time.Second {
		t.Fatalf("exit %d after %v", code, time.Since(start))
	}
	checkStderr(t, stderr.String(), "TELEGRAM_API_ENDPOINT", "42:abcdefghijklmnop")
}

func deadEndpoint(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/bot%s/%s"
}

// providerTrap fails the test on any request: the bot must never call
// Correios or a tracking provider.
func providerTrap(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the bot called a tracking provider: %s %s", r.Method, r.URL)
		w.WriteHeader(500)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRunEndToEnd runs the whole program: start, commands, SIGTERM,
// restart, with every provider URL pointing at a trap.
func TestRunEndToEnd(t *testing.T) {
	fake := telegramtest.New(t)
	trap := providerTrap(t)
	db := filepath.Join(t.TempDir(), "rastreio.db")
	vars := map[string]string{
		"TELEGRAM_BOT_TOKEN":    fake.Token,
		"TELEGRAM_API_ENDPOINT": fake.Endpoint(),
		"RASTREIO_DB":           db,
		"CORREIOS_API_URL":      trap,
		"CORREIOS_USER":         "user",
		"CORREIOS_ACCESS_CODE":  "secret",
		"SITERASTREIO_API_URL":  trap,
		"SITERASTREIO_API_KEY":  "key",
		"TRACK17_API_URL":       trap,
		"TRACK17_API_KEY":       "key17",
		"LOG_LEVEL":             "debug",
	}
	start := func() (context.CancelFunc, chan int, *syncBuffer) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan int, 1)
		stderr := &syncBuffer{}
		go func() { done <- runMain(ctx, []string{"rastreio-bot"}, env(vars), stderr) }()
		return cancel, done, stderr
	}
	stop := func(cancel context.CancelFunc, done chan int, stderr *syncBuffer) {
		t.Helper()
		begin := time.Now()
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, stderr.String())
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no exit within 5 s of SIGTERM")
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Fatalf("stop took %v", d)
		}
		_, secret, _ := strings.Cut(fake.Token, ":")
		if strings.Contains(stderr.String(), secret) {
			t.Fatal("the token is in the logs")
		}
	}

	cancel, done, stderr := start()
	say := func(chat int64, text string) string {
		t.Helper()
		before := len(fake.Messages(chat))
		fake.PushMessage(chat, 0, text)
		return fake.WaitMessage(t, chat, before).Text
	}
	if got := say(1, "/start"); !strings.Contains(got, "Site Rastreio (Wonca Labs), 17TRACK e API oficial dos Correios") {
		t.Fatalf("/start = %q", got)
	}
	if got := say(1, "QQ850419295BR tênis <b>&"); !strings.Contains(got, "tênis <b>& · QQ850419295BR") {
		t.Fatalf("confirmation = %q", got)
	}
	if got := say(1, "/pacotes"); !strings.Contains(got, "QQ850419295BR") {
		t.Fatalf("/pacotes = %q", got)
	}
	before := len(fake.Messages(1))
	fake.PushMessage(1, 0, "/gif")
	fake.WaitMessages(t, 1, before+2)
	time.Sleep(50 * time.Millisecond) // mid long poll
	stop(cancel, done, stderr)
	if !strings.Contains(stderr.String(), "rastreio-bot started") {
		t.Fatalf("no start line in the log:\n%s", stderr.String())
	}

	// Restart: data kept, nothing handled twice, the GIF not uploaded again.
	cancel, done, stderr = start()
	if got := say(1, "/list"); !strings.Contains(got, "tênis <b>&") {
		t.Fatalf("after restart /list = %q", got)
	}
	before = len(fake.Messages(1))
	fake.PushMessage(1, 0, "/gif")
	fake.WaitMessages(t, 1, before+2)
	stop(cancel, done, stderr)
	if n := len(fake.Messages(1)); n != 8 {
		t.Fatalf("%d messages to the person, want 8 (start, confirmation, list, 2 GIFs, list, 2 GIFs)", n)
	}
	uploads := 0
	for _, c := range fake.Calls("sendAnimation") {
		uploads += len(c.Uploads)
	}
	if uploads != 2 {
		t.Fatalf("%d uploads, want 2 (first /gif only)", uploads)
	}
	if fake.Count("getMe") != 2 || fake.Count("setMyCommands") != 4 {
		t.Fatalf("getMe %d, setMyCommands %d; want one getMe and two menus per start", fake.Count("getMe"), fake.Count("setMyCommands"))
	}
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.TrackedPackage(t.Context(), 1, "QQ850419295BR"); err != nil {
		t.Fatal(err)
	}
}

// TestRunNotifiesSystemd runs the bot under a fake NOTIFY_SOCKET with a
// watchdog: READY with a status line after start-up, WATCHDOG pings while
// the update loop works, STOPPING on the way out.
func TestRunNotifiesSystemd(t *testing.T) {
	dir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))

	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	fake := telegramtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, nil, env(map[string]string{
			"TELEGRAM_BOT_TOKEN": fake.Token, "TELEGRAM_API_ENDPOINT": fake.Endpoint(),
			"RASTREIO_DB": filepath.Join(t.TempDir(), "r.db"),
		}), io.Discard)
	}()
	next := func() string {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(5 * time.Second):
			t.Fatal("no sd_notify message")
		}
		return ""
	}
	if m := next(); !strings.HasPrefix(m, "READY=1") || !strings.Contains(m, "STATUS=polling, 0 chats, 0 codes") {
		t.Fatalf("first notification %q, want READY=1 with the status", m)
	}
	if fake.Count("getMe") != 1 || fake.Count("setMyCommands") != 2 {
		t.Fatal("READY before getMe and setMyCommands")
	}
	pings := 0
	for pings < 3 {
		if m := next(); m == "WATCHDOG=1" {
			pings++
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	for {
		m := next()
		if m == "STOPPING=1" {
			break
		}
		if m != "WATCHDOG=1" {
			t.Fatalf("unexpected %q before STOPPING=1", m)
		}
	}
}

// Run by hand with the usual umask 022, the bot creates the database for
// its own user only; a token taken from the environment while systemd
// credentials are in use gets one warning line (never the token).
func TestPrivateFilesAndTokenFromEnvWarning(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	fake := telegramtest.New(t)
	db := filepath.Join(t.TempDir(), "rastreio.db")
	vars := map[string]string{
		"TELEGRAM_BOT_TOKEN":    fake.Token,
		"TELEGRAM_API_ENDPOINT": fake.Endpoint(),
		"RASTREIO_DB":           db,
		"CREDENTIALS_DIRECTORY": t.TempDir(),
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	stderr := &syncBuffer{}
	go func() { done <- runMain(ctx, []string{"rastreio-bot"}, env(vars), stderr) }()
	fake.WaitCalls(t, "setMyCommands", 1)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) && p != db {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s: mode %v, want no access for group and others", filepath.Base(p), m)
		}
	}
	out := stderr.String()
	if n := strings.Count(out, "overrides the credential telegram-bot-token"); n != 1 {
		t.Fatalf("%d warnings about the token from the environment in:\n%s", n, out)
	}
	_, secret, _ := strings.Cut(fake.Token, ":")
	if strings.Contains(out, secret) {
		t.Fatal("the token reached the log")
	}
	// Without credentials in use, no warning.
	delete(vars, "CREDENTIALS_DIRECTORY")
	ctx, cancel = context.WithCancel(t.Context())
	stderr = &syncBuffer{}
	go func() { done <- runMain(ctx, []string{"rastreio-bot"}, env(vars), stderr) }()
	fake.WaitCalls(t, "setMyCommands", 2)
	cancel()
	<-done
	if strings.Contains(stderr.String(), "overrides the credential") {
		t.Fatalf("warned without credentials: %s", stderr.String())
	}
}
