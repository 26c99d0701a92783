package demo

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

func next(t *testing.T, ch chan Event) Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event in 5s")
	}
	return Event{}
}

// The hub between the page and the Bot API: what the person does becomes
// updates (privacy mode in the group), what the bot calls becomes events.
func TestHub(t *testing.T) {
	fake := telegramtest.New(t)
	hub := NewHub(fake)
	reset, ch := hub.Subscribe()
	defer hub.Unsubscribe(ch)
	if reset.Type != "reset" || len(reset.Chats) != 2 || len(reset.Messages) != 0 {
		t.Fatalf("reset = %+v", reset)
	}
	bot, err := telegram.New(t.Context(), fake.Token, fake.Endpoint(), telegram.Options{})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := hub.Send(GroupID, "oi, pessoal"); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); e.Type != "message" || !e.Message.Unseen || !e.Message.Out {
		t.Fatalf("group chatter: %+v", e.Message)
	}
	if _, err := hub.Send(PrivateID, "QQ850419295BR tênis"); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); e.Message.Unseen {
		t.Fatalf("a private message is seen: %+v", e.Message)
	}
	if fake.Pending() != 1 {
		t.Fatalf("%d updates queued, want 1 (the group chatter is not the bot's)", fake.Pending())
	}

	cmds := tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "pacotes", Description: "seus pacotes"})
	if _, err := bot.Request(cmds); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); e.Type != "commands" || len(e.Commands["private"]) != 1 || len(e.Commands["group"]) != 1 || e.Commands["group"][0].Command != "pacotes" {
		t.Fatalf("commands event %+v", e)
	}
	select {
	case <-hub.BotUp():
	default:
		t.Fatal("BotUp not closed after setMyCommands")
	}
	groupMenu := tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeAllGroupChats(),
		tgbotapi.BotCommand{Command: "add", Description: "acompanhar um código"}, tgbotapi.BotCommand{Command: "pacotes", Description: "os pacotes"})
	if _, err := bot.Request(groupMenu); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); len(e.Commands["private"]) != 1 || len(e.Commands["group"]) != 2 || e.Commands["group"][0].Command != "add" {
		t.Fatalf("scoped commands event %+v", e)
	}

	m := tgbotapi.NewMessage(PrivateID, "📦 <b>QQ850419295BR</b> — tênis")
	m.ParseMode = tgbotapi.ModeHTML
	m.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("📜 Histórico", "h:QQ850419295BR"),
		tgbotapi.NewInlineKeyboardButtonData("🗑 Parar", "d:QQ850419295BR")))
	sent, err := bot.Send(m)
	if err != nil {
		t.Fatal(err)
	}
	e := next(t, ch)
	if e.Type != "message" || e.Message.HTML != "📦 <b>QQ850419295BR</b> — tênis" || len(e.Message.Keyboard) != 1 || e.Message.Keyboard[0][1].Text != "🗑 Parar" {
		t.Fatalf("bot message event %+v", e.Message)
	}

	if err := hub.Press(PrivateID, sent.MessageID, "nada"); err == nil {
		t.Fatal("a press on a button that is not there was taken")
	}
	if err := hub.Press(PrivateID, sent.MessageID, "d:QQ850419295BR"); err != nil {
		t.Fatal(err)
	}
	ups, err := bot.GetUpdates(0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cb := ups[len(ups)-1].CallbackQuery
	if cb == nil || cb.Data != "d:QQ850419295BR" || cb.Message.MessageID != sent.MessageID {
		t.Fatalf("updates %+v", ups)
	}
	if _, err := bot.Request(tgbotapi.NewCallback(cb.ID, "Parei de acompanhar")); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); e.Type != "toast" || e.Chat != PrivateID || e.Text != "Parei de acompanhar" {
		t.Fatalf("toast %+v", e)
	}
	edit := tgbotapi.NewEditMessageText(PrivateID, sent.MessageID, "<s>QQ850419295BR</s>")
	edit.ParseMode = tgbotapi.ModeHTML
	if _, err := bot.Send(edit); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); e.Type != "edit" || !e.Message.Edited || e.Message.HTML != "<s>QQ850419295BR</s>" || e.Message.Keyboard != nil {
		t.Fatalf("edit %+v", e.Message)
	}

	// A late subscriber starts from the whole history.
	reset, ch2 := hub.Subscribe()
	defer hub.Unsubscribe(ch2)
	if len(reset.Messages) != 3 || len(reset.Commands["group"]) != 2 || !strings.Contains(reset.Messages[2].Text, "QQ850419295BR") {
		t.Fatalf("reset %+v", reset)
	}
}

// The demo's bot is @RastreioBot, and the person is the group's creator,
// so /apagar_meus_dados works in the group (only administrators erase).
func TestHubIdentity(t *testing.T) {
	fake := telegramtest.New(t)
	hub := NewHub(fake)
	bot, err := telegram.New(t.Context(), fake.Token, fake.Endpoint(), telegram.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if self := bot.Self(); self.FirstName != "Rastreio" || self.UserName != "RastreioBot" {
		t.Fatalf("getMe: %s @%s, want Rastreio @RastreioBot", self.FirstName, self.UserName)
	}
	for _, c := range []struct {
		chat   int64
		status string
	}{{GroupID, "creator"}, {-999, "member"}} {
		resp, err := bot.Request(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: c.chat, UserID: UserID}})
		var m tgbotapi.ChatMember
		if err == nil {
			err = json.Unmarshal(resp.Result, &m)
		}
		if err != nil || m.Status != c.status {
			t.Fatalf("the person in chat %d: %q, %v; want %s", c.chat, m.Status, err, c.status)
		}
	}
	for text, seen := range map[string]bool{"/pacotes@RastreioBot": true, "/pacotes@" + telegramtest.BotUserName: false} {
		m, err := hub.Send(GroupID, text)
		if err != nil || m.Unseen == seen {
			t.Fatalf("%s in the group: %+v, %v; want seen %v", text, m, err, seen)
		}
	}
}
