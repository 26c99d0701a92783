package pass

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/clock"
	"github.com/rastreio/rastreio/internal/delivery"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/store/storetest"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/tracking"
)

// fakeProvider answers from a table the test edits between passes.
type fakeProvider struct {
	mu      sync.Mutex
	results map[string]tracking.Result
	err     error         // every call fails with it
	hang    bool          // every call waits for its context
	calls   [][]string    // codes of each call
	delay   time.Duration // each call takes this long
}

func newFakeProvider() *fakeProvider {
	return &fakeProvider{results: map[string]tracking.Result{}}
}

func (f *fakeProvider) Name() string  { return "fake" }
func (f *fakeProvider) MaxBatch() int { return 50 }

func (f *fakeProvider) Track(ctx context.Context, codes []string) (map[string]tracking.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, append([]string(nil), codes...))
	err, hang, delay := f.err, f.hang, f.delay
	out := map[string]tracking.Result{}
	for _, c := range codes {
		if r, ok := f.results[c]; ok {
			r.Events = append([]tracking.Event(nil), r.Events...)
			out[c] = r
		} else {
			out[c] = tracking.Result{Status: tracking.NotYet}
		}
	}
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, fmt.Errorf("fake: %w: %w", tracking.ErrUnavailable, ctx.Err())
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (f *fakeProvider) set(code string, evs ...tracking.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results[code] = tracking.Result{Status: tracking.Found, Events: evs}
}

func (f *fakeProvider) setStatus(code string, st tracking.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results[code] = tracking.Result{Status: st}
}

func (f *fakeProvider) ncalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func ev(codigo string, kind tracking.Kind, hours int, desc string) tracking.Event {
	return tracking.Event{Codigo: codigo, Tipo: "01", Kind: kind, Description: desc,
		Location: "CURITIBA/PR", At: t0.Add(time.Duration(hours) * time.Hour)}
}

type env struct {
	st   *store.Store
	db   *storetest.DB // the same file, to arrange and inspect rows
	tg   *telegramtest.Server
	prov *fakeProvider
	snd  delivery.Sender
	path string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rastreio.db")
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tg := telegramtest.New(t)
	c, err := telegram.New(context.Background(), tg.Token, tg.Endpoint(), telegram.Options{SkipGetMe: true})
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, db: storetest.Open(t, path), tg: tg, prov: newFakeProvider(), snd: delivery.TelegramSender(c), path: path}
}

func (e *env) newPass(opt Options) *Pass {
	return New(e.st, tracking.NewChain(e.prov), e.snd, opt)
}

// track makes chat track code, as the bot does.
func (e *env) track(t *testing.T, chat int64, code, desc string) {
	t.Helper()
	kind := "private"
	if chat < 0 {
		kind = "group"
	}
	e.db.Track(storetest.Tracked{Chat: chat, Kind: kind, Code: code, Description: desc})
}

// fastOpts keep tests short: Telegram's per-chat spacing scaled down.
func fastOpts() Options {
	return Options{PassMax: 20 * time.Second, SendRate: 30, ChatInterval: 20 * time.Millisecond, GroupInterval: 40 * time.Millisecond}
}

func (e *env) pass(t *testing.T, opt Options) Summary {
	t.Helper()
	sum, err := e.newPass(opt).Run(t.Context())
	if err != nil {
		t.Fatalf("pass: %v (summary %+v)", err, sum)
	}
	return sum
}

func texts(calls []telegramtest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Text)
	}
	return out
}

func TestPassNotifiesFirstStatusThenOnlyNewEvents(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "tênis <novo>")
	e.track(t, 2, "AA100000000BR", "presente")
	e.track(t, 2, "BB200000000BR", "")
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"), ev("RO", tracking.KindTransit, 5, "Objeto em transferência"))

	sum := e.pass(t, fastOpts())
	if sum.Due != 2 || sum.Checked != 2 || sum.Found != 1 || sum.NotFound != 1 || sum.Sent != 2 || sum.Queued != 2 || sum.Left != 0 {
		t.Fatalf("pass 1 summary %+v", sum)
	}
	if n := e.prov.ncalls(); n != 1 {
		t.Fatalf("%d provider calls, want 1 (a code tracked by two chats is asked once)", n)
	}
	m1 := texts(e.tg.Messages(1))
	if len(m1) != 1 || !strings.Contains(m1[0], "AA100000000BR") || !strings.Contains(m1[0], "tênis <novo>") ||
		!strings.Contains(m1[0], "Em trânsito") || strings.Contains(m1[0], "Postado") {
		t.Fatalf("chat 1 got %q, want one message with the current status only", m1)
	}
	// Buttons as /pacotes has them, and dates written when sent.
	if kb := e.tg.Messages(1)[0].Params.Get("reply_markup"); !strings.Contains(kb, `"h:AA100000000BR"`) || !strings.Contains(kb, `"d:AA100000000BR"`) {
		t.Fatalf("notification buttons %s", kb)
	}
	if strings.Contains(m1[0], "\x1f") {
		t.Fatalf("unresolved date mark in %q", m1[0])
	}
	if m2 := texts(e.tg.Messages(2)); len(m2) != 1 || !strings.Contains(m2[0], "presente") {
		t.Fatalf("chat 2 got %q, want its own first message", m2)
	}

	// Same answer: nothing new, nothing sent.
	if sum := e.pass(t, fastOpts()); sum.NewEvents != 0 || sum.Sent != 0 {
		t.Fatalf("pass 2 summary %+v", sum)
	}
	// Two new events for AA, and BB appears.
	e.prov.set("AA100000000BR", ev("OEC", tracking.KindOutForDelivery, 30, "Saiu para entrega"), ev("DO", tracking.KindTransit, 20, "Chegou na unidade"),
		ev("RO", tracking.KindTransit, 5, "Objeto em transferência"), ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.prov.set("BB200000000BR", ev("PO", tracking.KindPosted, 1, "Objeto postado"))
	sum = e.pass(t, fastOpts())
	if sum.NewEvents != 2 || sum.Sent != 2 {
		t.Fatalf("pass 3 summary %+v", sum)
	}
	// BB was not found in passes 1 and 2: its backoff skips pass 3.
	if sum := e.pass(t, fastOpts()); sum.NewEvents != 1 || sum.Sent != 1 {
		t.Fatalf("pass 4 summary %+v", sum)
	}
	m1 = texts(e.tg.Messages(1))
	if len(m1) != 2 {
		t.Fatalf("chat 1 has %d messages, want 2", len(m1))
	}
	last := m1[1]
	if i, j := strings.Index(last, "Chegou na unidade"), strings.Index(last, "Saiu para entrega"); i < 0 || j < 0 || i > j ||
		strings.Contains(last, "Objeto em transferência") {
		t.Fatalf("chat 1 update %q: want exactly the two new events, oldest first", last)
	}
	m2 := texts(e.tg.Messages(2))
	if len(m2) != 3 {
		t.Fatalf("chat 2 has %d messages, want 3", len(m2))
	}
	var appeared bool
	for _, m := range m2 {
		appeared = appeared || (strings.Contains(m, "BB200000000BR") && strings.Contains(m, "Apareceu"))
	}
	if !appeared {
		t.Fatalf("chat 2 messages %q: want BB200000000BR announced as appeared", m2)
	}
	// A third chat adds AA: it gets the current status, not the history.
	e.track(t, 3, "AA100000000BR", "")
	e.pass(t, fastOpts())
	m3 := texts(e.tg.Messages(3))
	if len(m3) != 1 || !strings.Contains(m3[0], "Saiu para entrega") || strings.Contains(m3[0], "Chegou na unidade") {
		t.Fatalf("late chat got %q", m3)
	}
	if n := len(e.tg.Messages(1)); n != 2 {
		t.Fatalf("chat 1 has %d messages after pass 4, want still 2", n)
	}
}

func TestPassProviderOutageKeepsCodes(t *testing.T) {
	e := newEnv(t)
	for i := range 200 {
		e.track(t, 1, fmt.Sprintf("CC%09dBR", i), "")
	}
	e.prov.err = fmt.Errorf("fake: %w: 503", tracking.ErrUnavailable)
	start := time.Now()
	opt := fastOpts()
	opt.Workers = 1
	sum := e.pass(t, opt)
	if sum.Stopped != "provider failing" || sum.ProviderErrors != DefaultMaxFailures || sum.Checked != 0 {
		t.Fatalf("summary %+v, want stopped after %d failures", sum, DefaultMaxFailures)
	}
	if n := e.prov.ncalls(); n > DefaultMaxFailures+opt.Workers {
		t.Fatalf("%d provider calls, want at most %d", n, DefaultMaxFailures+opt.Workers)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("dead provider pass took %v", d)
	}
	// Healthy again: every code is still there and is asked.
	e.prov.mu.Lock()
	e.prov.err = nil
	e.prov.mu.Unlock()
	if sum := e.pass(t, opt); sum.Due != 200 || sum.Checked != 200 {
		t.Fatalf("after outage: %+v, want all 200 due and checked", sum)
	}
}

func TestPassHungProviderEndsWithinBound(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "")
	e.prov.hang = true
	opt := fastOpts()
	opt.PassMax = 800 * time.Millisecond
	start := time.Now()
	sum := e.pass(t, opt)
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("pass took %v with PassMax 800ms", d)
	}
	if sum.Stopped != "time bound" {
		t.Fatalf("stopped=%q, want time bound", sum.Stopped)
	}
	if p, _ := e.db.Parcel("AA100000000BR"); p.State != "new" {
		t.Fatalf("state %q, want new (unanswered codes are kept)", p.State)
	}
}

func TestPassAuthErrorStops(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "")
	e.prov.err = fmt.Errorf("correios: token: %w (401)", tracking.ErrAuth)
	_, err := e.newPass(fastOpts()).Run(t.Context())
	if !errors.Is(err, tracking.ErrAuth) {
		t.Fatalf("err=%v, want ErrAuth", err)
	}
}

func TestPassInvalidCode(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "errado")
	e.prov.setStatus("AA100000000BR", tracking.Invalid)
	e.pass(t, fastOpts())
	if m := texts(e.tg.Messages(1)); len(m) != 1 || !strings.Contains(m[0], "não existe") {
		t.Fatalf("got %q, want one invalid-code message", m)
	}
	if sum := e.pass(t, fastOpts()); sum.Due != 0 || len(e.tg.Messages(1)) != 1 {
		t.Fatalf("invalid code polled again: %+v", sum)
	}
}

func TestPass429WaitsAndResendsOnce(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "")
	e.track(t, 2, "BB200000000BR", "")
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.prov.set("BB200000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.tg.FailNext(1, telegramtest.TooManyRequests(1))
	sum := e.pass(t, fastOpts())
	if sum.Sent != 2 || sum.Retried429 != 1 || sum.Left != 0 {
		t.Fatalf("summary %+v, want 2 sent after one 429", sum)
	}
	var refused, accepted time.Time
	for _, c := range e.tg.Calls("sendMessage") {
		if c.ChatID != 1 {
			continue
		}
		if c.Status == 429 {
			refused = c.Time
		} else if c.OK() {
			if !accepted.IsZero() {
				t.Fatal("chat 1 got the message twice")
			}
			accepted = c.Time
		}
	}
	if refused.IsZero() || accepted.IsZero() || accepted.Sub(refused) < time.Second {
		t.Fatalf("429 at %v, resent at %v: want the resend after retry_after (1 s)", refused, accepted)
	}
}

// Telegram's 429 does not say which limit was hit: after one, no send to
// any chat starts inside retry_after.
func TestPass429PausesEverySend(t *testing.T) {
	e := newEnv(t)
	const chats = 10
	for i := int64(1); i <= chats; i++ {
		code := fmt.Sprintf("AA1%08dBR", i)
		e.track(t, i, code, "")
		e.prov.set(code, ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	}
	e.tg.FailNext(1, telegramtest.TooManyRequests(1))
	if sum := e.pass(t, fastOpts()); sum.Sent != chats || sum.Retried429 != 1 {
		t.Fatalf("summary %+v, want %d sent after one 429", sum, chats)
	}
	var refused time.Time
	calls := e.tg.Calls("sendMessage")
	for _, c := range calls {
		if c.Status == 429 {
			refused = c.Time
		}
	}
	if refused.IsZero() {
		t.Fatal("no 429 seen")
	}
	// A send already on its way when the 429 came back may arrive just
	// after it; nothing may start later inside the second.
	for _, c := range calls {
		if d := c.Time.Sub(refused); d > 100*time.Millisecond && d < time.Second {
			t.Errorf("chat %d asked %v after the 429 with retry_after 1 s", c.ChatID, d.Round(time.Millisecond))
		}
	}
}

// A 429 whose retry_after ends after the pass's bound leaves the message
// for the next pass, with not_before set, and ends delivery at once: no
// send may start before the bound anyway.
func TestPass429BeyondBoundLeftForNextPass(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "")
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.tg.FailNext(1, telegramtest.TooManyRequests(30))
	opt := fastOpts()
	opt.PassMax = 2 * time.Second
	start := time.Now()
	sum := e.pass(t, opt)
	if sum.Sent != 0 || sum.Left != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("summary %+v after %v, want the message left", sum, time.Since(start))
	}
	if q := e.db.Outbox(); len(q) != 1 || q[0].NotBefore.Before(time.Now().Add(20*time.Second)) {
		t.Fatalf("outbox %+v, want the message with not_before about now+30s", q)
	}
	if sum := e.pass(t, opt); sum.Sent != 0 || len(e.tg.Calls("sendMessage")) != 1 {
		t.Fatalf("message sent inside retry_after: %+v", sum)
	}
}

func TestPass429BeyondBoundEndsDelivery(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "")
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.track(t, 2, "BB200000000BR", "")
	e.prov.set("BB200000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.tg.FailNext(1, telegramtest.TooManyRequests(60))
	opt := fastOpts()
	opt.PassMax = 20 * time.Second
	opt.SendRate = 1 // chat 2's turn comes a second after chat 1's 429
	start := time.Now()
	sum := e.pass(t, opt)
	if took := time.Since(start); sum.Sent != 0 || sum.Left != 2 || took > 10*time.Second {
		t.Fatalf("summary %+v after %v, want both messages left and the pass over well before its 20 s bound", sum, took)
	}
}

func TestPassBlockedChatPaused(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "")
	e.track(t, 1, "BB200000000BR", "")
	e.track(t, 2, "BB200000000BR", "")
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.prov.set("BB200000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.tg.Block(1)
	sum := e.pass(t, fastOpts())
	if sum.PausedChats != 1 || sum.Sent != 1 || sum.Left != 2 {
		t.Fatalf("summary %+v, want chat 1 paused after its first refusal, chat 2 served, chat 1's two messages kept", sum)
	}
	if n := len(e.tg.Calls("sendMessage")); n != 2 {
		t.Fatalf("%d sends, want 2 (one refused, none more to the paused chat)", n)
	}
	if c, err := e.st.GetChat(t.Context(), 1); err != nil || c.PausedAt.IsZero() {
		t.Fatalf("chat 1 not paused: %+v, %v", c, err)
	}
	// Only the paused chat tracks AA: it is no longer polled.
	calls := e.prov.ncalls()
	sum = e.pass(t, fastOpts())
	if sum.Due != 1 {
		t.Fatalf("due %d, want 1 (BB, tracked by an active chat)", sum.Due)
	}
	e.prov.mu.Lock()
	for _, c := range e.prov.calls[calls:] {
		for _, code := range c {
			if code == "AA100000000BR" {
				t.Errorf("code of a paused chat polled")
			}
		}
	}
	e.prov.mu.Unlock()
	// The person writes again (the bot clears paused_at): the kept
	// messages go out, each once.
	e.tg.Unblock(1)
	e.db.Unpause(1)
	e.pass(t, fastOpts())
	if m := e.tg.Messages(1); len(m) != 2 {
		t.Fatalf("chat 1 got %d messages after resuming, want 2", len(m))
	}
}

func TestPassMigratedGroup(t *testing.T) {
	e := newEnv(t)
	e.track(t, -100, "AA100000000BR", "grupo")
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.tg.Migrate(-100, -1001)
	sum := e.pass(t, fastOpts())
	if sum.MigratedChats != 1 || sum.Sent != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if m := e.tg.Messages(-1001); len(m) != 1 || !strings.Contains(m[0].Text, "grupo") {
		t.Fatalf("supergroup got %q", texts(m))
	}
	n := 0
	for _, r := range e.db.Tracked() {
		if r.Chat == -1001 {
			n++
		}
	}
	if n != 1 {
		t.Fatal("tracked rows did not follow the chat")
	}
}

// A message Telegram refuses for itself (400) does not hold back the
// chat's later ones, is not retried within the pass (even one long
// enough to sweep the outbox again), and is retried at the next pass
// without waiting.
func TestPassRefusedMessageHoldsNothingBack(t *testing.T) {
	e := newEnv(t)
	const bad = "AA100000000BR"
	for _, c := range []string{bad, "BB200000000BR"} {
		e.track(t, 1, c, "")
		e.prov.set(c, ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	}
	for i := range 5 { // keeps the pass busy for over a second
		c := fmt.Sprintf("CC%09dBR", i)
		e.track(t, 2, c, "")
		e.prov.set(c, ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	}
	var mu sync.Mutex
	refuse, refused := true, 0
	e.tg.AddRule(func(c *telegramtest.Call) *telegramtest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if refuse && c.ChatID == 1 && strings.Contains(c.Params.Get("text"), bad) {
			refused++
			return &telegramtest.Fault{Code: 400, Description: "Bad Request: can't parse entities"}
		}
		return nil
	})
	opt := fastOpts()
	opt.ChatInterval = 400 * time.Millisecond
	if sum := e.pass(t, opt); sum.Failed != 1 || sum.Sent != 6 || sum.Left != 1 || refused != 1 {
		t.Fatalf("summary %+v, %d refusals: want the refused message tried once and the other six sent", sum, refused)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	if sum := e.pass(t, opt); sum.Sent != 1 || sum.Left != 0 {
		t.Fatalf("summary %+v, want the refused message retried at once in the next pass", sum)
	}
}

func TestPassOtherErrorsRetriedThenGivenUp(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "")
	e.track(t, 2, "BB200000000BR", "")
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.prov.set("BB200000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.tg.Block(1, telegramtest.Fault{Code: 400, Description: "Bad Request: can't parse entities"})
	e.tg.Block(2, telegramtest.ServerError(500))
	opt := fastOpts()
	opt.MaxAttempts = 2
	if sum := e.pass(t, opt); sum.Failed != 2 || sum.Left != 2 {
		t.Fatalf("summary %+v, want two failures kept", sum)
	}
	e.db.OutboxDueNow()
	if sum := e.pass(t, opt); sum.Failed != 2 || sum.Left != 1 {
		t.Fatalf("summary %+v, want the refused message given up after 2 attempts, the 500 kept", sum)
	}
	if q := e.db.Outbox(); len(q) != 1 || q[0].Code != "BB200000000BR" {
		t.Fatalf("kept %+v, want the message that met a server error", q)
	}
	e.tg.Unblock(2)
	e.db.OutboxDueNow()
	if sum := e.pass(t, opt); sum.Sent != 1 || sum.Left != 0 {
		t.Fatalf("summary %+v, want it delivered once Telegram is back", sum)
	}
}

func TestPassTelegramTokenRejected(t *testing.T) {
	e := newEnv(t)
	e.track(t, 1, "AA100000000BR", "")
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	c, err := telegram.New(context.Background(), "999:wrong-token-xxxxxxxx", e.tg.Endpoint(), telegram.Options{SkipGetMe: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := New(e.st, tracking.NewChain(e.prov), delivery.TelegramSender(c), fastOpts()).Run(t.Context())
	if !errors.Is(err, ErrTelegramAuth) || sum.Left != 1 {
		t.Fatalf("err=%v left=%d, want ErrTelegramAuth with the message kept", err, sum.Left)
	}
}

// Telegram's limits hold against a fake that enforces them (scaled 1:10
// in time so the test stays short): no 429 at all.
func TestPassRespectsTelegramLimits(t *testing.T) {
	e := newEnv(t)
	lim := e.tg.EnforceLimits(telegramtest.Limits{
		PerWindow: 30, Window: time.Second,
		ChatGap:        100 * time.Millisecond,
		GroupPerWindow: 20, GroupWindow: 6 * time.Second,
	})
	chats := []int64{1, 2, 3, -100}
	for _, c := range chats {
		for i := range 6 {
			e.track(t, c, fmt.Sprintf("C%d%03d", c+200, i), "")
		}
	}
	for c := range chats {
		for i := range 6 {
			e.prov.set(fmt.Sprintf("C%d%03d", chats[c]+200, i), ev("PO", tracking.KindPosted, 0, "Objeto postado"))
		}
	}
	for i := range 30 {
		e.track(t, int64(1000+i), "BURST", "")
	}
	e.prov.set("BURST", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	opt := fastOpts()
	opt.ChatInterval, opt.GroupInterval = 130*time.Millisecond, 330*time.Millisecond
	sum := e.pass(t, opt)
	if want := 4*6 + 30; sum.Sent != want || sum.Retried429 != 0 {
		t.Fatalf("summary %+v, want %d sent, no 429", sum, want)
	}
	if s := lim.Stats(); s.Violations != 0 || s.Accepted != 54 {
		t.Fatalf("limits: %v", s)
	}
}

// SIGTERM during delivery: messages in flight finish, nothing new is
// sent, the rest stays queued.
func TestPassSIGTERMStopsDelivery(t *testing.T) {
	e := newEnv(t)
	for i := range 40 {
		e.track(t, int64(i+1), "AA100000000BR", "")
	}
	e.prov.set("AA100000000BR", ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	e.tg.SetLatency(50 * time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		e.tg.WaitCalls(t, "sendMessage", 5)
		cancel()
	}()
	sum, err := e.newPass(fastOpts()).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sent := len(e.tg.Calls("sendMessage"))
	if sum.Stopped != "signal" || sent > 5+delivery.MaxInFlight || sum.Sent != sent || sum.Left != 40-sent {
		t.Fatalf("summary %+v with %d sends, want a stop with the rest queued", sum, sent)
	}
	// The next pass delivers the rest, each chat exactly once.
	e.pass(t, fastOpts())
	for i := range 40 {
		if n := len(e.tg.Messages(int64(i + 1))); n != 1 {
			t.Fatalf("chat %d got %d messages, want 1", i+1, n)
		}
	}
}

// A chat with hundreds of queued messages (sent one a second) must not
// hold back the other chats' messages queued after them.
func TestSenderNoStarvationByOneBusyChat(t *testing.T) {
	e := newEnv(t)
	var q []storetest.Queued
	for i := range 700 { // more than a page of the sweep
		q = append(q, storetest.Queued{Chat: 1, Code: "X", Body: fmt.Sprintf("busy %d", i)})
	}
	for c := int64(2); c <= 11; c++ {
		q = append(q, storetest.Queued{Chat: c, Code: "Y", Body: "other"})
	}
	e.db.Queue(q...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		e.tg.Wait(ctx, func(calls []telegramtest.Call) bool {
			others := 0
			for _, c := range calls {
				if c.ChatID != 1 && c.OK() {
					others++
				}
			}
			return others == 10
		})
		cancel()
	}()
	opt := fastOpts()
	opt.ChatInterval = 100 * time.Millisecond
	if _, err := e.newPass(opt).Run(ctx); err != nil {
		t.Fatal(err)
	}
	busy := len(e.tg.Messages(1))
	if busy > 10 {
		t.Fatalf("the other chats waited for %d of the busy chat's messages", busy)
	}
	for i, m := range e.tg.Messages(1) {
		if want := fmt.Sprintf("busy %d", i); m.Text != want {
			t.Fatalf("busy chat message %d is %q, want %q (outbox order)", i, m.Text, want)
		}
	}
}

// A code removed (/del, /apagar_meus_dados) while the sender holds the
// chat's next messages in memory: RemovePackage drops their outbox rows,
// and the sender must not send them anyway. Only the message in flight at
// the removal may still arrive. (Found by cmd/tracker's
// TestBotAndTrackerTogether.)
func TestSenderDropsMessagesRemovedWhileHeld(t *testing.T) {
	e := newEnv(t)
	codes := []string{"AA100000000BR", "BB200000000BR", "CC300000000BR"}
	for _, c := range codes {
		e.track(t, 1, c, "")
		e.prov.set(c, ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	}
	var mu sync.Mutex
	removed := false
	e.tg.AddRule(func(c *telegramtest.Call) *telegramtest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if removed || c.Method != "sendMessage" || c.ChatID != 1 {
			return nil
		}
		// The first message is in flight: the person removes the other
		// codes, as the bot does.
		removed = true
		for _, code := range codes {
			if !strings.Contains(c.Params.Get("text"), code) {
				if ok, err := e.st.RemovePackage(context.Background(), 1, code); !ok || err != nil {
					t.Errorf("RemovePackage(%s) = %v, %v", code, ok, err)
				}
			}
		}
		return nil
	})
	opt := fastOpts()
	opt.ChatInterval = 100 * time.Millisecond
	sum := e.pass(t, opt)
	if m := texts(e.tg.Messages(1)); len(m) != 1 || sum.Sent != 1 {
		t.Fatalf("chat 1 got %d messages (summary %+v), want only the one in flight at the removal: %q", len(m), sum, m)
	}
	if n, err := e.st.OutboxLen(t.Context()); err != nil || n != 0 {
		t.Fatalf("outbox has %d rows (%v), want none", n, err)
	}
}

// The whole pass runs on its one clock: on a virtual clock, a chat's
// messages still go ChatInterval apart (Telegram's 1 s), in virtual time,
// and the pass takes no wall time for it.
func TestPassOnVirtualClock(t *testing.T) {
	e := newEnv(t)
	codes := []string{"AA100000000BR", "BB200000000BR", "CC300000000BR", "DD400000000BR"}
	for _, c := range codes {
		e.track(t, 1, c, "")
		e.prov.set(c, ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	}
	vc := clock.NewVirtual(t0)
	e.st.SetClock(vc.Now)
	wall := time.Now()
	sum, err := e.newPass(Options{Clock: vc}).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != len(codes) {
		t.Fatalf("sent %d, want %d", sum.Sent, len(codes))
	}
	// Three gaps of DefaultChatInterval between four sends to one chat.
	if min := 3 * delivery.DefaultChatInterval; sum.Duration < min || sum.Duration > min+5*time.Second {
		t.Fatalf("virtual duration %v, want about %v", sum.Duration, min)
	}
	if w := time.Since(wall); w > 2*time.Second {
		t.Fatalf("the pass took %v of wall time on a virtual clock", w)
	}
}

// The disk fills during delivery: a message Telegram accepted cannot be
// removed from the outbox. Delivery stops for the pass instead of sending
// that row again and again; the summary and STATUS= say the disk is full;
// nothing queued is lost, and once there is room the next pass delivers
// the rest, repeating at most the messages that were in flight.
func TestPassDiskFullDuringDeliveryRepeatsNothing(t *testing.T) {
	e := newEnv(t)
	e.pass(t, fastOpts()) // the pass counter and the like exist already
	const chats = 30
	for c := int64(1); c <= chats; c++ {
		if err := e.st.TouchChat(t.Context(), store.ChatRef{ID: c, Kind: "private"}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.QueueMessage(t.Context(), c, fmt.Sprintf("aviso para %d", c), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	free := e.db.OutboxDeletesNeedRoom()
	if err := e.st.FillDisk(t.Context()); err != nil {
		t.Fatal(err)
	}
	sum, _ := e.newPass(fastOpts()).Run(t.Context())
	first := len(e.tg.Calls("sendMessage"))
	if first == 0 || first > delivery.MaxInFlight+1 {
		t.Fatalf("%d sends on a full disk, want delivery to stop at the first failed removal (≤ %d)", first, delivery.MaxInFlight+1)
	}
	for c := int64(1); c <= chats; c++ {
		if n := len(e.tg.Messages(c)); n > 1 {
			t.Fatalf("chat %d got its message %d times in one pass", c, n)
		}
	}
	if !strings.Contains(sum.Stopped, "disk full") || !strings.Contains(sum.Status(), "disk full") {
		t.Fatalf("summary %+v / status %q do not say the disk is full", sum, sum.Status())
	}
	if left := len(e.db.Outbox()); left != chats {
		t.Fatalf("%d messages left in the outbox, want all %d (nothing could be removed)", left, chats)
	}

	free()
	e.pass(t, fastOpts())
	repeated := 0
	for c := int64(1); c <= chats; c++ {
		switch n := len(e.tg.Messages(c)); n {
		case 1:
		case 2:
			repeated++
		default:
			t.Fatalf("chat %d got its message %d times", c, n)
		}
	}
	if repeated > delivery.MaxInFlight {
		t.Fatalf("%d messages repeated, want at most the %d in flight", repeated, delivery.MaxInFlight)
	}
}
