package telegramtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

func newClient(t *testing.T, fake *telegramtest.Server) *telegram.Client {
	t.Helper()
	c, err := telegram.New(t.Context(), fake.Token, fake.Endpoint(), telegram.Options{})
	if err != nil {
		t.Fatalf("telegram.New: %v", err)
	}
	return c
}

func class(t *testing.T, err error, want telegram.Class) *telegram.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want class %v", want)
	}
	e, ok := telegram.AsError(err)
	if !ok || e.Class != want {
		t.Fatalf("err = %v (class %v), want class %v", err, telegram.ClassOf(err), want)
	}
	return e
}

func TestGetMeAndToken(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)
	if c.Self().UserName != telegramtest.BotUserName || !c.Self().IsBot {
		t.Fatalf("Self = %+v", c.Self())
	}
	_, err := telegram.New(t.Context(), "999:wrong-token-xxxxxxxx", fake.Endpoint(), telegram.Options{})
	e := class(t, err, telegram.Unauthorized)
	if e.Code != 401 || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("err = %v, want a token-free 401", err)
	}
	if n := fake.Count("getMe"); n != 1 {
		t.Fatalf("getMe logged %d times, want 1 (the wrong token is refused before the log)", n)
	}
}

func TestSendMessageHTML(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)
	if _, err := c.SendHTML(42, "<b>Oi</b> &lt;b&gt;&amp; &#33;"); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages(42)
	if len(msgs) != 1 || msgs[0].Text != "Oi <b>& !" || msgs[0].MessageID != 1 {
		t.Fatalf("messages = %+v, want one with the parsed text", msgs)
	}
	for _, bad := range []string{"<b>&", "a < b", "x & y", "<script>", "<b>open", "</i>", "a > b", strings.Repeat("é", telegramtest.MaxTextLen+1), "  "} {
		_, err := c.SendHTML(42, bad)
		class(t, err, telegram.BadRequest)
	}
	if got := len(fake.Messages(42)); got != 1 {
		t.Fatalf("%d messages recorded ok, want 1", got)
	}
	if got := len(fake.Calls("sendMessage")); got != 10 {
		t.Fatalf("%d sendMessage calls logged, want 10", got)
	}
	// Exactly the limit passes (counted after parsing).
	if _, err := c.SendHTML(42, strings.Repeat("&amp;", telegramtest.MaxTextLen)); err != nil {
		t.Fatalf("4096 characters after parsing: %v", err)
	}
}

func TestGetUpdatesLongPollAndOffset(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)

	// A poll held until an update arrives.
	got := make(chan []tgbotapi.Update, 1)
	go func() {
		u, err := c.GetUpdates(0, 30, []string{"message", "callback_query"})
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("getUpdates returned with nothing queued")
	default:
	}
	id := fake.PushMessage(7, 0, "/start")
	var ups []tgbotapi.Update
	select {
	case ups = <-got:
	case <-time.After(3 * time.Second):
		t.Fatal("held getUpdates did not return after a push")
	}
	if len(ups) != 1 || ups[0].UpdateID != id || ups[0].Message.Text != "/start" || !ups[0].Message.IsCommand() || ups[0].Message.Command() != "start" {
		t.Fatalf("updates = %+v", ups)
	}
	if got := fake.AllowedUpdates(); len(got) != 2 {
		t.Fatalf("allowed = %v", got)
	}

	// Not confirmed yet: offset 0 gets it again; offset id+1 confirms.
	id2 := fake.PushMessage(8, 0, "QQ850419295BR")
	ups, err := c.GetUpdates(0, 0, nil)
	if err != nil || len(ups) != 2 {
		t.Fatalf("re-get: %d updates, err %v; want 2", len(ups), err)
	}
	ups, err = c.GetUpdates(id+1, 0, nil)
	if err != nil || len(ups) != 1 || ups[0].UpdateID != id2 {
		t.Fatalf("offset %d: %+v, %v", id+1, ups, err)
	}
	if fake.ConfirmedOffset() != id+1 || fake.Pending() != 1 {
		t.Fatalf("confirmed %d pending %d", fake.ConfirmedOffset(), fake.Pending())
	}
	ups, err = c.GetUpdates(id2+1, 0, nil)
	if err != nil || len(ups) != 0 || fake.Pending() != 0 || fake.ConfirmedOffset() != id2+1 {
		t.Fatalf("after confirming all: %d updates, pending %d, err %v", len(ups), fake.Pending(), err)
	}

	// allowed_updates is remembered and filters.
	fake.PushRaw(`{"poll_answer":{"poll_id":"1","option_ids":[0]}}`)
	ups, _ = c.GetUpdates(id2+1, 0, nil)
	if len(ups) != 0 {
		t.Fatalf("a poll_answer passed allowed_updates [message callback_query]: %+v", ups)
	}

	// The timeout expires with nothing.
	start := time.Now()
	ups, err = c.GetUpdates(id2+1, 1, nil)
	if err != nil || len(ups) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("timeout 1: %d updates after %v, err %v", len(ups), time.Since(start), err)
	}
}

func TestGetUpdatesClientDisconnect(t *testing.T) {
	fake := telegramtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	c, err := telegram.New(ctx, fake.Token, fake.Endpoint(), telegram.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.GetUpdates(0, 50, nil)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		class(t, err, telegram.Canceled)
	case <-time.After(2 * time.Second):
		t.Fatal("a cancelled long poll did not end")
	}
	// The server lets go of the held poll too.
	fake.WaitCalls(t, "getUpdates", 1)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("server held the poll %v after the client left", d)
	}
}

func TestTwoPollersConflict(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)
	done := make(chan error, 1)
	go func() {
		_, err := c.GetUpdates(0, 30, nil)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if _, err := c.GetUpdates(0, 0, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		class(t, err, telegram.Conflict)
	case <-time.After(2 * time.Second):
		t.Fatal("the first poller was not terminated")
	}
	fake.SetWebhook()
	_, err := c.GetUpdates(0, 0, nil)
	class(t, err, telegram.Conflict)
	if _, err := c.Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUpdates(0, 0, nil); err != nil {
		t.Fatalf("after deleteWebhook: %v", err)
	}
}

func TestFaults(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)

	fake.FailNext(1, telegramtest.Blocked())
	fake.FailNext(1, telegramtest.TooManyRequests(7))
	fake.FailNext(1, telegramtest.MigratedTo(-1001234567890))
	fake.FailNext(1, telegramtest.ChatNotFound())
	_, err := c.SendHTML(1, "a")
	class(t, err, telegram.Blocked)
	_, err = c.SendHTML(1, "a")
	if e := class(t, err, telegram.RetryAfter); e.RetryAfter != 7*time.Second || e.Code != 429 {
		t.Fatalf("429: %+v", e)
	}
	_, err = c.SendHTML(1, "a")
	if e := class(t, err, telegram.Migrated); e.MigrateTo != -1001234567890 {
		t.Fatalf("migrate: %+v", e)
	}
	_, err = c.SendHTML(1, "a")
	class(t, err, telegram.Blocked)
	if _, err := c.SendHTML(1, "a"); err != nil {
		t.Fatalf("queue drained, still failing: %v", err)
	}
	// Other chats are untouched by a chat's faults.
	fake.FailNext(2, telegramtest.Blocked())
	if _, err := c.SendHTML(3, "a"); err != nil {
		t.Fatal(err)
	}

	fake.Block(4)
	for i := 0; i < 2; i++ {
		_, err = c.SendHTML(4, "a")
		class(t, err, telegram.Blocked)
	}
	fake.Unblock(4)
	if _, err := c.SendHTML(4, "a"); err != nil {
		t.Fatal(err)
	}
	fake.Migrate(-5, -1005)
	_, err = c.SendHTML(-5, "a")
	class(t, err, telegram.Migrated)

	fake.FailAll(&telegramtest.Fault{HTTPStatus: 502, Body: "<html>502</html>"})
	_, err = c.SendHTML(6, "a")
	if err == nil || telegram.ClassOf(err) != telegram.Network {
		t.Fatalf("502 HTML: %v", err)
	}
	f := telegramtest.ServerError(500)
	fake.FailAll(&f)
	_, err = c.GetUpdates(0, 0, nil)
	class(t, err, telegram.Server)
	fake.FailAll(nil)
	if _, err := c.SendHTML(6, "a"); err != nil {
		t.Fatal(err)
	}

	var statuses []int
	for _, call := range fake.Calls("sendMessage") {
		statuses = append(statuses, call.Status)
	}
	want := []int{403, 429, 400, 400, 200, 200, 403, 403, 200, 400, 502, 200}
	if len(statuses) != len(want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
}

func TestRuleHook(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)
	sent := 0
	fake.AddRule(func(call *telegramtest.Call) *telegramtest.Fault {
		if call.Method != "sendMessage" {
			return nil
		}
		sent++
		if sent > 2 {
			f := telegramtest.TooManyRequests(1)
			return &f
		}
		return nil
	})
	for i := 0; i < 3; i++ {
		_, err := c.SendHTML(9, "x")
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			class(t, err, telegram.RetryAfter)
		}
	}
}

func TestAnimationUploadAndReuse(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)
	gif := []byte("GIF89a fake bytes")
	a := tgbotapi.NewAnimation(10, tgbotapi.FileBytes{Name: "tutorial.gif", Bytes: gif})
	a.Caption = "Como <b>adicionar</b>"
	a.ParseMode = tgbotapi.ModeHTML
	m, err := c.Send(a)
	if err != nil {
		t.Fatal(err)
	}
	if m.Animation == nil || m.Animation.FileID == "" {
		t.Fatalf("no animation in %+v", m)
	}
	call := fake.Calls("sendAnimation")[0]
	if len(call.Uploads) != 1 || call.Uploads[0].Field != "animation" || call.Uploads[0].Name != "tutorial.gif" || call.Uploads[0].Size != len(gif) {
		t.Fatalf("uploads = %+v", call.Uploads)
	}
	if call.Text != "Como adicionar" || call.ChatID != 10 {
		t.Fatalf("call = %+v", call)
	}
	// Reuse the file_id: no upload.
	if _, err := c.Send(tgbotapi.NewAnimation(11, tgbotapi.FileID(m.Animation.FileID))); err != nil {
		t.Fatal(err)
	}
	if call := fake.Calls("sendAnimation")[1]; len(call.Uploads) != 0 || call.Params.Get("animation") != m.Animation.FileID {
		t.Fatalf("reuse call = %+v", call)
	}
	_, err = c.Send(tgbotapi.NewAnimation(11, tgbotapi.FileID("nope")))
	class(t, err, telegram.BadRequest)
	// Multipart errors carry no error_code in tgbotapi: the description decides.
	fake.FailNext(12, telegramtest.TooManyRequests(3))
	_, err = c.Send(tgbotapi.NewAnimation(12, tgbotapi.FileBytes{Name: "t.gif", Bytes: gif}))
	class(t, err, telegram.RetryAfter)
}

func TestCallbacksEditsDeletes(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("🗑", "del:QQ850419295BR")))
	msg := tgbotapi.NewMessage(20, "lista")
	msg.ReplyMarkup = kb
	m, err := c.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	cb := fake.PushCallback(20, 0, m.MessageID, "del:QQ850419295BR")
	cb2 := fake.PushCallback(20, 0, 0, "x")
	ups, err := c.GetUpdates(0, 0, nil)
	if err != nil || len(ups) != 2 || ups[0].CallbackQuery.Message.MessageID != m.MessageID || ups[1].CallbackQuery.Message != nil {
		t.Fatalf("callbacks: %+v %v", ups, err)
	}
	if len(fake.UnansweredCallbacks()) != 2 {
		t.Fatal("want 2 unanswered")
	}
	if _, err := c.Request(tgbotapi.NewCallback(cb, "Removido")); err != nil {
		t.Fatal(err)
	}
	_, err = c.Request(tgbotapi.NewCallback(cb, "again"))
	class(t, err, telegram.BadRequest)
	if got := fake.UnansweredCallbacks(); len(got) != 1 || got[0] != cb2 {
		t.Fatalf("unanswered = %v", got)
	}

	if _, err := c.Send(tgbotapi.NewEditMessageText(20, m.MessageID, "nova")); err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(tgbotapi.NewEditMessageText(20, m.MessageID, "nova"))
	class(t, err, telegram.NotModified)
	if _, err := c.Send(tgbotapi.NewEditMessageReplyMarkup(20, m.MessageID, kb)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(tgbotapi.NewEditMessageText(20, 999, "x"))
	class(t, err, telegram.BadRequest)
	if _, err := c.Request(tgbotapi.NewDeleteMessage(20, m.MessageID)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Request(tgbotapi.NewDeleteMessage(20, m.MessageID))
	class(t, err, telegram.BadRequest)

	long := strings.Repeat("x", 65)
	bad := tgbotapi.NewMessage(20, "x")
	bad.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("b", long)))
	_, err = c.Send(bad)
	class(t, err, telegram.BadRequest)
}

func TestSetMyCommandsAndUnknownMethod(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)
	cmds := tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "pacotes", Description: "Seus pacotes"})
	if _, err := c.Request(cmds); err != nil {
		t.Fatal(err)
	}
	var got []tgbotapi.BotCommand
	if err := json.Unmarshal(fake.Commands(), &got); err != nil || len(got) != 1 || got[0].Command != "pacotes" {
		t.Fatalf("commands = %s (%v)", fake.Commands(), err)
	}
	_, err := c.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Bad-Cmd", Description: "x"}))
	class(t, err, telegram.BadRequest)
	_, err = c.Request(tgbotapi.LeaveChatConfig{ChatID: 1})
	if e, ok := telegram.AsError(err); !ok || e.Code != 404 {
		t.Fatalf("unknown method: %v", err)
	}
}

func TestWaitHelpers(t *testing.T) {
	fake := telegramtest.New(t)
	c := newClient(t, fake)
	go func() {
		time.Sleep(20 * time.Millisecond)
		c.SendHTML(30, "um")
		c.SendHTML(30, "dois")
	}()
	if m := fake.WaitMessage(t, 30, 1); m.Text != "dois" {
		t.Fatalf("second message = %q", m.Text)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := fake.Wait(ctx, func(calls []telegramtest.Call) bool { return len(calls) > 100 })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v", err)
	}
}

func TestParseHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"<b>a</b><i>b</i><code>c</code><pre>d</pre>", "abcd"},
		{`<a href="https://x.y/?a=1&amp;b=2">link</a>`, "link"},
		{"&lt;b&gt;&amp;&quot;&#39;&#x41;", `<b>&"'A`},
		{`<span class="tg-spoiler">s</span><blockquote>q</blockquote>`, "sq"},
	} {
		got, err := telegramtest.ParseHTML(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseHTML(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"<b>", "<b>x</i>", "&", "&nbsp;", "<", ">", "<div>x</div>", "&amp"} {
		if _, err := telegramtest.ParseHTML(bad); err == nil {
			t.Errorf("ParseHTML(%q) accepted", bad)
		}
	}
}
