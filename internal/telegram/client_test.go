package telegram_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

func TestNewGetMe(t *testing.T) {
	srv := telegramtest.New(t)
	c, err := telegram.New(t.Context(), srv.Token, srv.Endpoint(), telegram.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Self().UserName != telegramtest.BotUserName {
		t.Fatalf("Self = %+v", c.Self())
	}
	_, err = telegram.New(t.Context(), "123:WRONG-token-xxxxxxxx", srv.Endpoint(), telegram.Options{})
	if telegram.ClassOf(err) != telegram.Unauthorized {
		t.Fatalf("wrong token: err=%v class=%v, want unauthorized", err, telegram.ClassOf(err))
	}
}

// A transport error carries the URL, and with it the token: it must be
// scrubbed from every error the package returns.
func TestNetworkErrorRedactsToken(t *testing.T) {
	const token = "987654:SECRET-abcdefghijklmnopqrstuv"
	_, err := telegram.New(t.Context(), token, "http://127.0.0.1:1/bot%s/%s", telegram.Options{HTTPClient: &http.Client{Timeout: time.Second}})
	if err == nil {
		t.Fatal("want an error from a closed port")
	}
	if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), token) {
		t.Fatalf("token leaked: %v", err)
	}
	if telegram.ClassOf(err) != telegram.Network {
		t.Fatalf("class = %v, want network", telegram.ClassOf(err))
	}
}

// TimedOut tells a request nobody answered from one answered with an
// error: the bot's watchdog restarts on the first kind only.
func TestTimedOut(t *testing.T) {
	srv := telegramtest.New(t)
	c, err := telegram.New(t.Context(), srv.Token, srv.Endpoint(), telegram.Options{
		SkipGetMe: true, HTTPClient: &http.Client{Timeout: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(42, telegramtest.Fault{Code: 502, Description: "late", Delay: 10 * time.Second})
	if _, err := c.SendHTML(42, "oi"); !telegram.TimedOut(err) {
		t.Fatalf("no answer within the client timeout: err=%v, TimedOut false", err)
	}
	srv.FailNext(42, telegramtest.ServerError(502))
	if _, err := c.SendHTML(42, "oi"); err == nil || telegram.TimedOut(err) {
		t.Fatalf("a 502 answer: err=%v, want an error that is not a timeout", err)
	}
	if _, err := telegram.New(t.Context(), srv.Token, "http://127.0.0.1:1/bot%s/%s", telegram.Options{}); err == nil || telegram.TimedOut(err) {
		t.Fatalf("a refused connection: err=%v, want an error that is not a timeout", err)
	}
}

func TestClassifySendErrors(t *testing.T) {
	srv := telegramtest.New(t)
	c, err := telegram.New(t.Context(), srv.Token, srv.Endpoint(), telegram.Options{SkipGetMe: true})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		fault telegramtest.Fault
		class telegram.Class
	}{
		{telegramtest.Blocked(), telegram.Blocked},
		{telegramtest.Kicked(), telegram.Blocked},
		{telegramtest.ChatNotFound(), telegram.Blocked},
		{telegramtest.TooManyRequests(7), telegram.RetryAfter},
		{telegramtest.MigratedTo(-1001234), telegram.Migrated},
		{telegramtest.ServerError(502), telegram.Server},
		{telegramtest.Fault{Code: 400, Description: "Bad Request: message is too long"}, telegram.BadRequest},
		{telegramtest.Fault{Code: 400, Description: "Bad Request: message is not modified"}, telegram.NotModified},
	}
	for _, tc := range cases {
		t.Run(tc.fault.Description, func(t *testing.T) {
			srv.FailNext(42, tc.fault)
			_, err := c.SendHTML(42, "oi")
			e, ok := telegram.AsError(err)
			if !ok || e.Class != tc.class {
				t.Fatalf("err=%v, class=%v, want %v", err, telegram.ClassOf(err), tc.class)
			}
			if tc.class == telegram.RetryAfter && e.RetryAfter != 7*time.Second {
				t.Fatalf("RetryAfter=%v, want 7s", e.RetryAfter)
			}
			if tc.class == telegram.Migrated && e.MigrateTo != -1001234 {
				t.Fatalf("MigrateTo=%v", e.MigrateTo)
			}
		})
	}
	// Multipart uploads lose the error code (library bug): the description decides.
	srv.FailNext(43, telegramtest.TooManyRequests(3))
	_, err = c.Send(tgbotapi.NewAnimation(43, tgbotapi.FileBytes{Name: "a.gif", Bytes: []byte("GIF89a")}))
	if telegram.ClassOf(err) != telegram.RetryAfter {
		t.Fatalf("upload 429: err=%v class=%v", err, telegram.ClassOf(err))
	}
}

// Cancelling the root context ends a long poll at once, while a send
// made after cancellation still goes out (the reply in hand).
func TestRootContextEndsPollOnly(t *testing.T) {
	srv := telegramtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	c, err := telegram.New(ctx, srv.Token, srv.Endpoint(), telegram.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.GetUpdates(0, 30, []string{"message"})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // the poll is held by the fake (logged only when it ends)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil || telegram.ClassOf(err) != telegram.Canceled {
			t.Fatalf("poll after cancel: err=%v class=%v, want canceled", err, telegram.ClassOf(err))
		}
	case <-time.After(3 * time.Second):
		t.Fatal("long poll did not end after the root context was cancelled")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("poll took %v to end", d)
	}
	if _, err := c.SendHTML(7, "<b>tchau</b>"); err != nil {
		t.Fatalf("send after cancel: %v", err)
	}
	if n := len(srv.Messages(7)); n != 1 {
		t.Fatalf("messages to chat 7 = %d, want 1", n)
	}
}

// Once the root context ended, a send still gets StopGrace (counted from
// the end), but no more: a hanging Telegram cannot hold a stop.
func TestRootContextCutsSendsAfterGrace(t *testing.T) {
	srv := telegramtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	c, err := telegram.New(ctx, srv.Token, srv.Endpoint(), telegram.Options{SkipGetMe: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetLatency(time.Minute)
	done := make(chan error, 1)
	go func() {
		_, err := c.SendHTML(7, "oi")
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if d := time.Since(start); err == nil || d < telegram.StopGrace-100*time.Millisecond {
			t.Fatalf("send in flight ended %v after the stop with %v, want cut after StopGrace (%v)", d, err, telegram.StopGrace)
		}
	case <-time.After(telegram.StopGrace + 2*time.Second):
		t.Fatalf("send in flight still hanging %v after the stop", time.Since(start))
	}
	// Past the grace a send fails at once, and the deadline does not move.
	start = time.Now()
	if _, err := c.SendHTML(7, "oi"); err == nil || time.Since(start) > time.Second {
		t.Fatalf("send after the grace: %v after %v, want an error at once", err, time.Since(start))
	}
}

func TestRedact(t *testing.T) {
	got := telegram.Redact(`Post "https://x/bot1:abcdefghij/sendMessage": EOF; abcdefghij`, "1:abcdefghij")
	if strings.Contains(got, "abcdefghij") {
		t.Fatalf("Redact left the secret: %s", got)
	}
}

// An update this library cannot decode (a field whose type a newer Bot
// API changed) does not fail the batch: it comes back as its bare id,
// logged with the error and never its content, between the updates
// around it.
func TestGetUpdatesSkipsAnUndecodableUpdate(t *testing.T) {
	srv := telegramtest.New(t)
	var logs bytes.Buffer
	c, err := telegram.New(t.Context(), srv.Token, srv.Endpoint(), telegram.Options{
		SkipGetMe: true, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	a := srv.PushMessage(5, 0, "antes")
	bad := srv.PushRaw(`{"message":{"message_id":7,"date":"amanhã","chat":{"id":5,"type":"private"},"text":"segredo QQ850419295BR"}}`)
	b := srv.PushMessage(5, 0, "depois")
	ups, err := c.GetUpdates(0, 0, nil)
	if err != nil {
		t.Fatalf("one bad update failed the batch: %v", err)
	}
	if len(ups) != 3 || ups[0].UpdateID != a || ups[1].UpdateID != bad || ups[2].UpdateID != b {
		t.Fatalf("updates = %+v", ups)
	}
	if ups[0].Message == nil || ups[0].Message.Text != "antes" || ups[2].Message == nil || ups[2].Message.Text != "depois" {
		t.Fatal("the neighbours were not decoded")
	}
	if ups[1].Message != nil {
		t.Fatal("the bad update came back with content")
	}
	out := logs.String()
	if !strings.Contains(out, "update_id="+strconv.Itoa(bad)) || !strings.Contains(out, "cannot unmarshal") {
		t.Fatalf("log %q lacks the id and the error", out)
	}
	if strings.Contains(out, "segredo") || strings.Contains(out, "QQ850419295BR") || strings.Contains(out, "amanhã") {
		t.Fatalf("log carries the update's content: %q", out)
	}
}
