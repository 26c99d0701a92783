package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/siterastreio/siterastreiotest"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/store/storetest"
	"github.com/rastreio/rastreio/internal/systemd"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

// childEnv marks a re-executed test binary that runs the real program.
const childEnv = "RASTREIO_TRACKER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" { // as main does
		setMemoryLimit(os.Getenv)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := systemd.Exit(program, run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr), os.Stderr)
		stop()
		if os.Getenv("RASTREIO_MEMSTATS") != "" {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(os.Stderr, "memstats: sys=%d heap_sys=%d heap_released=%d heap_inuse=%d stack_sys=%d other=%d gc_sys=%d mspan=%d\n",
				ms.Sys>>20, ms.HeapSys>>20, ms.HeapReleased>>20, ms.HeapInuse>>20, ms.StackSys>>20, ms.OtherSys>>20, ms.GCSys>>20, ms.MSpanSys>>20)
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// runMain is main without os.Exit: run, then the exit status main maps
// its error to.
func runMain(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	return systemd.Exit(program, run(ctx, args, getenv, io.Discard, stderr), stderr)
}

// -version answers before any setting is read: no token, no provider, no
// database, no lock.
func TestVersion(t *testing.T) {
	old := version
	version = "v1.2.3-test"
	t.Cleanup(func() { version = old })
	for _, arg := range []string{"-version", "--version"} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), []string{"rastreio-tracker", arg}, getenv(nil), &stdout, &stderr)
		if code := systemd.Exit(program, err, &stderr); code != 0 {
			t.Fatalf("%s: exit %d; stderr:\n%s", arg, code, stderr.String())
		}
		if got := stdout.String(); got != "rastreio-tracker v1.2.3-test\n" {
			t.Errorf("%s printed %q", arg, got)
		}
		if stderr.Len() != 0 {
			t.Errorf("%s wrote to stderr: %q", arg, stderr.String())
		}
	}
}

const (
	testUser = "rastreio-user"
	testPass = "s3cret-access-code"
)

// fixture is a database with tracked codes, a fake Correios and a fake
// Telegram.
type fixture struct {
	dir, db  string
	correios *correiostest.Server
	tg       *telegramtest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, db: filepath.Join(dir, "rastreio.db")}
	f.correios = correiostest.NewTB(t, correiostest.Options{User: testUser, AccessCode: testPass})
	f.tg = telegramtest.New(t)
	return f
}

func (f *fixture) env(extra ...string) map[string]string {
	e := map[string]string{
		"RASTREIO_DB":           f.db,
		"TELEGRAM_BOT_TOKEN":    telegramtest.DefaultToken,
		"TELEGRAM_API_ENDPOINT": f.tg.Endpoint(),
		"CORREIOS_API_URL":      f.correios.URL,
		"CORREIOS_USER":         testUser,
		"CORREIOS_ACCESS_CODE":  testPass,
		"CORREIOS_RATE_LIMIT":   "50",
		"CORREIOS_RATE_BURST":   "10",
		"TELEGRAM_SEND_RATE":    "30",
		// The pass-counted behaviour (every active code every pass) these
		// tests were written for; the adaptive schedule has its own.
		"RASTREIO_RECHECK_INTERVAL": "0",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		e[extra[i]] = extra[i+1]
	}
	return e
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// track adds chats tracking codes, as the bot would.
func (f *fixture) track(t *testing.T, pairs map[int64]string) {
	t.Helper()
	var rows []storetest.Tracked
	for chat, code := range pairs {
		rows = append(rows, storetest.Tracked{Chat: chat, Code: code, Description: fmt.Sprintf("pedido %d", chat)})
	}
	storetest.Open(t, f.db).Track(rows...)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestExitNoProvider(t *testing.T) {
	f := newFixture(t)
	env := f.env("CORREIOS_USER", "", "CORREIOS_ACCESS_CODE", "")
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 78 {
		t.Fatalf("exit %d, want 78; output %q", code, out.String())
	}
	if l := lastLine(out.String()); !strings.Contains(l, "CORREIOS_USER") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("output %q, want one line naming CORREIOS_USER", out.String())
	}
}

// A provider URL on plain http (not loopback) would carry its key in
// clear: exit 78, one line naming the setting, before any request.
func TestExitPlainHTTPProviderURL(t *testing.T) {
	for _, name := range []string{"CORREIOS_API_URL", "SITERASTREIO_API_URL", "PACOTEVICIO_API_URL", "TRACK17_API_URL"} {
		f := newFixture(t)
		env := f.env(name, "http://api.example.com", "SITERASTREIO_API_KEY", "k1", "PACOTEVICIO_API_KEY", "k2", "TRACK17_API_KEY", "k3")
		var out bytes.Buffer
		if code := runMain(t.Context(), nil, getenv(env), &out); code != 78 {
			t.Fatalf("%s: exit %d, want 78; output %q", name, code, out.String())
		}
		if l := lastLine(out.String()); !strings.Contains(l, name) || !strings.Contains(l, "https://") || strings.Count(out.String(), "\n") != 1 {
			t.Fatalf("%s: output %q, want one line naming it", name, out.String())
		}
	}
}

func TestExitCredentialsRejected(t *testing.T) {
	f := newFixture(t)
	f.track(t, map[int64]string{1: "QQ850419295BR"})
	env := f.env("CORREIOS_ACCESS_CODE", "wrong-code")
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 78 {
		t.Fatalf("exit %d, want 78; output %s", code, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "CORREIOS_ACCESS_CODE") || strings.Contains(s, "wrong-code") {
		t.Fatalf("output %s: want a line naming CORREIOS_ACCESS_CODE, never the secret", s)
	}
	if l := lastLine(s); !strings.Contains(l, "pass done") {
		t.Fatalf("last line %q, want the summary", l)
	}
}

func TestExitDatabaseUnreachable(t *testing.T) {
	f := newFixture(t)
	env := f.env("RASTREIO_DB", filepath.Join(f.dir, "missing-dir", "rastreio.db"))
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(env), &out); code == 0 || code == 78 {
		t.Fatalf("exit %d, want a failure other than 78; output %s", code, out.String())
	}
}

func TestSecondInstanceExitsAtOnce(t *testing.T) {
	f := newFixture(t)
	held, err := acquireLock(f.db + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	var out bytes.Buffer
	start := time.Now()
	code := runMain(t.Context(), nil, getenv(f.env()), &out)
	if d := time.Since(start); code != 0 || d > 2*time.Second {
		t.Fatalf("exit %d after %v, want 0 at once", code, d)
	}
	if s := out.String(); !strings.Contains(s, "another tracker pass is running") || strings.Contains(s, "database is locked") {
		t.Fatalf("output %q", s)
	}
	if _, err := os.Stat(f.db); err == nil {
		t.Fatal("second instance opened the database")
	}
}

func TestPassEndToEnd(t *testing.T) {
	f := newFixture(t)
	f.correios.SetObject("QQ850419295BR", correiostest.Object("QQ850419295BR", 3, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)))
	f.track(t, map[int64]string{1: "QQ850419295BR", 2: "AA123456785BR"})
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(f.env()), &out); code != 0 {
		t.Fatalf("exit %d; output %s", code, out.String())
	}
	l := lastLine(out.String())
	for _, want := range []string{"pass done", "due=2", "checked=2", "found=1", "new_events=3", "sent=1", `usage="correios=2"`} {
		if !strings.Contains(l, want) {
			t.Errorf("summary %q lacks %q", l, want)
		}
	}
	if m := f.tg.Messages(1); len(m) != 1 || !strings.Contains(m[0].Text, "QQ850419295BR") || !strings.Contains(m[0].Text, "pedido 1") {
		t.Fatalf("chat 1 got %v", m)
	}
	if m := f.tg.Messages(2); len(m) != 0 {
		t.Fatalf("not-found code sent %v", m)
	}
	if strings.Contains(out.String(), testPass) || strings.Contains(out.String(), "TEST-fake-token") {
		t.Fatal("a secret reached the log")
	}
}

// startChild runs the real program (this test binary re-executed) with env.
func startChild(t testing.TB, env map[string]string, out *syncBuffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

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

// kill -9 a real tracker in the middle of delivery, several times; then a
// pass runs to the end. Every chat must have its message, and each kill
// may repeat at most the messages in flight (4).
func TestKill9MidDeliveryLosesNothing(t *testing.T) {
	f := newFixture(t)
	const chats = 60
	pairs := map[int64]string{}
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range chats {
		code := fmt.Sprintf("QQ%09dBR", 100000000+i)
		pairs[int64(1000+i)] = code
		f.correios.SetObject(code, correiostest.Object(code, 2+i%3, start))
	}
	f.track(t, pairs)
	f.tg.SetLatency(40 * time.Millisecond)
	env := f.env()

	// First kill: while it queries Correios, before any delivery.
	{
		var out syncBuffer
		cmd := startChild(t, env, &out)
		deadline := time.Now().Add(20 * time.Second)
		for f.correios.Stats().TrackRequests == 0 && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	kills := []int{5, 20, 38}
	for _, after := range kills {
		var out syncBuffer
		cmd := startChild(t, env, &out)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		err := f.tg.Wait(ctx, func(calls []telegramtest.Call) bool {
			n := 0
			for _, c := range calls {
				if c.Method == "sendMessage" && c.OK() {
					n++
				}
			}
			return n >= after
		})
		cancel()
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child never reached %d sends: %v\n%s", after, err, out.String())
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		// Messages Telegram accepted whose outbox row survived the kill are
		// the ones the next pass repeats: at most the 4 in flight.
		if n := acceptedButQueued(t, f); n > 4 {
			t.Fatalf("after kill at %d sends: %d accepted messages still queued, want ≤ 4", after, n)
		}
	}
	var out syncBuffer
	cmd := startChild(t, env, &out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final pass: %v\n%s", err, out.String())
	}
	dups := 0
	for chat, code := range pairs {
		ms := f.tg.Messages(chat)
		if len(ms) == 0 {
			t.Errorf("chat %d never got its message about %s", chat, code)
			continue
		}
		for _, m := range ms {
			if !strings.Contains(m.Text, code) {
				t.Errorf("chat %d got a message about another code: %q", chat, m.Text)
			}
		}
		dups += len(ms) - 1
	}
	if max := 4 * len(kills); dups > max {
		t.Fatalf("%d repeated messages after %d kills, want at most %d", dups, len(kills), max)
	}
	t.Logf("%d chats served through %d kill -9, %d repeats (bound %d)", chats, len(kills), dups, 4*len(kills))
}

// SIGTERM in the middle of delivery: the real program stops taking work,
// finishes what is in flight, logs its summary last and exits 0.
func TestSIGTERMMidDelivery(t *testing.T) {
	f := newFixture(t)
	pairs := map[int64]string{}
	for i := range 30 {
		code := fmt.Sprintf("QQ%09dBR", 200000000+i)
		pairs[int64(2000+i)] = code
		f.correios.SetObject(code, correiostest.Object(code, 2, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)))
	}
	f.track(t, pairs)
	// A slow Telegram, so that the time the signal takes to reach the
	// program is short next to a send.
	f.tg.SetLatency(300 * time.Millisecond)
	var out syncBuffer
	cmd := startChild(t, f.env(), &out)
	f.tg.WaitCalls(t, "sendMessage", 3)
	cmd.Process.Signal(syscall.SIGTERM)
	sent := len(f.tg.Calls("sendMessage"))
	start := time.Now()
	err := cmd.Wait()
	if err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("exit %v after %v, want 0 at once\n%s", err, time.Since(start), out.String())
	}
	if after := len(f.tg.Calls("sendMessage")); after > sent+4 {
		t.Fatalf("%d sends after SIGTERM (had %d), want at most the 4 in flight", after-sent, sent)
	}
	if l := lastLine(out.String()); !strings.Contains(l, "pass done") || !strings.Contains(l, "stopped=signal") {
		t.Fatalf("last line %q, want the summary saying it stopped on a signal", l)
	}
}

// Correios unreachable or failing: the pass ends quickly, exits 0 (systemd
// tries again next pass), and keeps every code.
func TestDeadCorreiosKeepsCodes(t *testing.T) {
	for name, fault := range map[string]correiostest.Fault{"5xx": correiostest.Fault5xx, "garbage": correiostest.FaultGarbage, "truncated": correiostest.FaultTruncated} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			pairs := map[int64]string{}
			for i := range 120 {
				pairs[int64(i+1)] = fmt.Sprintf("QQ%09dBR", 300000000+i)
			}
			f.track(t, pairs)
			f.correios.FailAll(fault)
			var out bytes.Buffer
			start := time.Now()
			if code := runMain(t.Context(), nil, getenv(f.env()), &out); code != 0 {
				t.Fatalf("exit %d\n%s", code, out.String())
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Fatalf("pass against a failing Correios took %v", d)
			}
			if l := lastLine(out.String()); !strings.Contains(l, "checked=0") || !strings.Contains(l, `stopped="provider failing"`) {
				t.Fatalf("summary %q", l)
			}
			if n := storetest.Open(t, f.db).ParcelsIn("new"); n != 120 {
				t.Fatalf("%d codes left new, want all 120 kept", n)
			}
			f.correios.ClearFaults()
			out.Reset()
			runMain(t.Context(), nil, getenv(f.env()), &out)
			if l := lastLine(out.String()); !strings.Contains(l, "checked=120") {
				t.Fatalf("after recovery: %q", l)
			}
		})
	}
}

// RASTREIO_PROVIDERS=correios,siterastreio: a code outside the operator's
// contract (SRO-009) falls through to Site Rastreio in the same pass, is
// pinned to it, and is asked only of it afterwards.
func TestChainFallThroughAndPin(t *testing.T) {
	f := newFixture(t)
	sr := siterastreiotest.NewTB(t, siterastreiotest.Options{APIKey: "sr-key"})
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	f.correios.SetObject("QQ850419295BR", correiostest.Object("QQ850419295BR", 2, start))
	f.correios.SetMessage("LE449872154SE", "SRO-009: Objeto não pertence ao contrato")
	sr.SetObject("LE449872154SE", correiostest.WebsiteObject("LE449872154SE", 3, start))
	f.track(t, map[int64]string{1: "QQ850419295BR", 2: "LE449872154SE"})
	env := f.env("RASTREIO_PROVIDERS", "correios,siterastreio", "SITERASTREIO_API_KEY", "sr-key", "SITERASTREIO_API_URL", sr.URL)
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	if m := f.tg.Messages(2); len(m) != 1 || !strings.Contains(m[0].Text, "LE449872154SE") {
		t.Fatalf("chat 2 got %v\n%s", m, out.String())
	}
	if p, _ := storetest.Open(t, f.db).Parcel("LE449872154SE"); p.Provider != "siterastreio" || p.CheckedBy != "siterastreio" {
		t.Fatalf("pinned to %q, checked by %q; want siterastreio", p.Provider, p.CheckedBy)
	}
	asked := func() int {
		n := 0
		for _, r := range f.correios.Requests() {
			for _, c := range r.Codes {
				if c == "LE449872154SE" {
					n++
				}
			}
		}
		return n
	}
	before := asked()
	runMain(t.Context(), nil, getenv(env), &out)
	if asked() != before {
		t.Fatal("a code pinned to siterastreio was asked of correios again")
	}
}

// A provider's monthly budget is kept across passes (provider_usage) and,
// once spent, the pass stops asking and says why.
func TestMonthlyBudget(t *testing.T) {
	f := newFixture(t)
	f.correios.SetObject("QQ850419295BR", correiostest.Object("QQ850419295BR", 3, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)))
	f.track(t, map[int64]string{1: "QQ850419295BR"})
	env := f.env("CORREIOS_MONTHLY_BUDGET", "2")
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	// Spent: the found code waits (its re-check interval stretches), and
	// a new code is refused by the budget.
	f.track(t, map[int64]string{2: "LE449872154SE"})
	out.Reset()
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	l := lastLine(out.String())
	if !strings.Contains(l, "due=1") || !strings.Contains(l, `stopped="quota exhausted"`) || !strings.Contains(l, `usage="correios=2/2"`) || !strings.Contains(l, "checked=0") {
		t.Fatalf("second pass summary %q", l)
	}
	if n := f.correios.Stats().TrackRequests; n != 1 {
		t.Fatalf("%d tracking requests, want 1 (the budget stops the second)", n)
	}
	// The bot's /pacotes is told checks are slowed.
	st, err := store.Open(t.Context(), f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if slowed, err := st.Slowed(t.Context(), time.Now().Add(-time.Hour)); err != nil || len(slowed) != 1 || slowed[0] != "correios" {
		t.Fatalf("slowed providers %v, %v; want correios", slowed, err)
	}
}

// acceptedButQueued counts outbox rows for chats Telegram already accepted
// a message from (one message per chat in the kill test).
func acceptedButQueued(t *testing.T, f *fixture) int {
	t.Helper()
	n := 0
	for _, q := range storetest.Open(t, f.db).Outbox() {
		if len(f.tg.Messages(q.Chat)) > 0 {
			n++
		}
	}
	return n
}

// A second tracker started while a real one runs exits at once, saying so.
func TestSecondInstanceWhileARealPassRuns(t *testing.T) {
	f := newFixture(t)
	pairs := map[int64]string{}
	for i := range 10 {
		code := fmt.Sprintf("QQ%09dBR", 400000000+i)
		pairs[int64(4000+i)] = code
		f.correios.SetObject(code, correiostest.Object(code, 2, time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)))
	}
	f.track(t, pairs)
	f.tg.SetLatency(300 * time.Millisecond)
	var childOut syncBuffer
	cmd := startChild(t, f.env(), &childOut)
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	f.tg.WaitCalls(t, "sendMessage", 1)
	var out bytes.Buffer
	start := time.Now()
	code := runMain(t.Context(), nil, getenv(f.env()), &out)
	if d := time.Since(start); code != 0 || d > 2*time.Second {
		t.Fatalf("second tracker: exit %d after %v, want 0 within 2 s\n%s", code, d, out.String())
	}
	if l := lastLine(out.String()); !strings.Contains(l, "another tracker pass is running") {
		t.Fatalf("second tracker said %q", l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("first tracker: %v\n%s", err, childOut.String())
	}
	for chat := range pairs {
		if n := len(f.tg.Messages(chat)); n != 1 {
			t.Errorf("chat %d got %d messages, want 1", chat, n)
		}
	}
}

// RASTREIO_RECHECK_INTERVAL unset: the adaptive schedule. A new code is
// asked at the first pass; a pass right after does not ask it again (it is
// not due for minutes), and the store holds when it is.
func TestAdaptiveScheduleByDefault(t *testing.T) {
	f := newFixture(t)
	f.track(t, map[int64]string{1: "QQ850419295BR"})
	env := f.env()
	delete(env, "RASTREIO_RECHECK_INTERVAL")
	runPass := func() string {
		var out bytes.Buffer
		if code := runMain(t.Context(), nil, getenv(env), &out); code != 0 {
			t.Fatalf("exit %d: %s", code, out.String())
		}
		return lastLine(out.String())
	}
	first := runPass()
	if !strings.Contains(first, " due=1 ") || !strings.Contains(first, " checked=1 ") {
		t.Fatalf("first pass: %s, want the new code asked", first)
	}
	second := runPass()
	if !strings.Contains(second, " due=0 ") {
		t.Fatalf("second pass: %s, want nothing due right after an answer", second)
	}
	st, err := store.Open(t.Context(), f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	next, err := st.NextDue(t.Context(), "QQ850419295BR")
	if err != nil || !next.After(time.Now()) {
		t.Fatalf("next due %v (%v), want a time ahead", next, err)
	}
}

// Run by hand with the usual umask 022, the tracker still creates the
// database (which holds the Correios token) for its own user only.
func TestFilesPrivateUnderUmask022(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	f := newFixture(t)
	db := filepath.Join(t.TempDir(), "new.db")
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(f.env("RASTREIO_DB", db)), &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	for _, p := range []string{db, db + "-wal", db + "-shm", db + ".lock"} {
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
}
