package bot_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/bot"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/store/storetest"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

// harness runs the real bot (telegram client, store, update loop)
// against the fake Bot API.
type harness struct {
	t      testing.TB
	fake   *telegramtest.Server
	st     *store.Store
	db     *storetest.DB // the same file, to arrange and inspect rows
	dbPath string
	b      *bot.Bot
	cancel context.CancelFunc
	done   chan error
}

type option func(*bot.Config)

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	fake := telegramtest.New(t)
	return startBot(t, fake, filepath.Join(t.TempDir(), "rastreio.db"), opts...)
}

// startBot starts a bot on dbPath against fake; stopped at test end.
func startBot(t testing.TB, fake *telegramtest.Server, dbPath string, opts ...option) *harness {
	t.Helper()
	st, err := store.Open(context.Background(), dbPath, store.ManualCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	api, err := telegram.New(ctx, fake.Token, fake.Endpoint(), telegram.Options{SkipGetMe: true, HTTPClient: bot.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	confirm, err := telegram.New(context.Background(), fake.Token, fake.Endpoint(), telegram.Options{SkipGetMe: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := bot.Config{
		Store:           st,
		API:             api,
		Confirm:         confirm,
		BotID:           telegramtest.BotID,
		UserName:        telegramtest.BotUserName,
		MaxCodesPerChat: 100,
		Providers:       []string{"siterastreio"},
		PollTimeout:     10,
		MinBackoff:      10 * time.Millisecond,
		ReplyRetryDelay: 10 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h := &harness{t: t, fake: fake, st: st, db: storetest.Open(t, dbPath), dbPath: dbPath, cancel: cancel, done: make(chan error, 1)}
	h.b = bot.New(cfg)
	h.b.Setup(ctx)
	go func() { h.done <- h.b.Run(ctx) }()
	t.Cleanup(func() { h.stop() })
	return h
}

// stop cancels the bot and waits for Run; it returns how long that took.
func (h *harness) stop() time.Duration {
	if h.cancel == nil {
		return 0
	}
	start := time.Now()
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		h.t.Fatal("Run did not return within 5 s of the stop")
	}
	h.st.Close()
	return time.Since(start)
}

// say sends text from a person in chat and returns the bot's next message.
func (h *harness) say(chat int64, text string) telegramtest.Call {
	h.t.Helper()
	before := len(h.fake.Messages(chat))
	id := h.fake.PushMessage(chat, 0, text)
	h.waitHandled(id)
	return h.fake.WaitMessage(h.t, chat, before)
}

// sayAll sends text and waits until the update is handled, returning
// every message it caused.
func (h *harness) sayAll(chat int64, text string) []telegramtest.Call {
	h.t.Helper()
	before := len(h.fake.Messages(chat))
	id := h.fake.PushMessage(chat, 0, text)
	h.waitHandled(id)
	return h.fake.Messages(chat)[before:]
}

// waitHandled waits until update id was handled (the bot asked for the
// updates after it).
func (h *harness) waitHandled(id int) {
	h.t.Helper()
	h.fake.WaitOffset(h.t, id+1)
	deadline := time.Now().Add(telegramtest.WaitTimeout)
	for h.b.Pending() > 0 {
		if time.Now().After(deadline) {
			h.t.Fatalf("%d replies still queued after %v", h.b.Pending(), telegramtest.WaitTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

func mustContain(t testing.TB, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("message %q\nlacks %q", got, w)
		}
	}
}

func mustNotContain(t testing.TB, got string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(got, w) {
			t.Fatalf("message %q\nhas %q", got, w)
		}
	}
}
