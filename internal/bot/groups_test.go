package bot_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/bot"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/trackcode"
)

// Telegram's placeholder senders: an anonymous administrator's messages
// come from GroupAnonymousBot with sender_chat = the group; a channel's
// from Channel_Bot with sender_chat = the channel.
const (
	groupAnonymousBot = 1087968824
	channelBot        = 136817688
)

// buttons returns the callback data of call's inline keyboard, in order.
func buttons(t *testing.T, c telegramtest.Call) []string {
	t.Helper()
	var kb tgbotapi.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(c.Params.Get("reply_markup")), &kb); err != nil {
		t.Fatalf("message %q has no keyboard: %v", c.Text, err)
	}
	var out []string
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != nil {
				out = append(out, *b.CallbackData)
			}
		}
	}
	return out
}

// sayAs sends text in chat as sender (a chat: the group itself or a
// channel), from Telegram's placeholder bot fromID, and returns the
// messages it caused.
func (h *harness) sayAs(chat int64, sender *tgbotapi.Chat, fromID int64, text string) []telegramtest.Call {
	h.t.Helper()
	before := len(h.fake.Messages(chat))
	m := h.fake.NewMessage(chat, fromID, text)
	m.From.IsBot = true
	m.SenderChat = sender
	h.waitHandled(h.fake.PushUpdate(tgbotapi.Update{Message: m}))
	return h.fake.Messages(chat)[before:]
}

// sayFrom sends text in chat from person fromID and returns the messages
// it caused.
func (h *harness) sayFrom(chat, fromID int64, text string) []telegramtest.Call {
	h.t.Helper()
	before := len(h.fake.Messages(chat))
	h.waitHandled(h.fake.PushMessage(chat, fromID, text))
	return h.fake.Messages(chat)[before:]
}

func (h *harness) press(chat, fromID int64, msgID int, data string) string {
	h.t.Helper()
	before := len(h.fake.Calls("answerCallbackQuery"))
	id := h.fake.PushCallback(chat, fromID, msgID, data)
	waitAnswered(h.t.(*testing.T), h, id)
	deadline := time.Now().Add(telegramtest.WaitTimeout)
	for h.b.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // its edits and replies go out first
	}
	for _, c := range h.fake.Calls("answerCallbackQuery")[before:] {
		if c.Params.Get("callback_query_id") == id {
			return c.Params.Get("text")
		}
	}
	return ""
}

func (h *harness) codes(chat int64) int {
	h.t.Helper()
	ps, err := h.st.Packages(h.t.(*testing.T).Context(), chat)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(ps)
}

func TestGroupEraseOnlyByAdministrators(t *testing.T) {
	h := newHarness(t, func(c *bot.Config) { c.FloodPerMinute = 1000 })
	const group = -700
	const member, member2, admin, admin2, creator = 11, 22, 33, 44, 55
	h.fake.SetMember(group, admin, "administrator")
	h.fake.SetMember(group, admin2, "administrator")
	h.fake.SetMember(group, creator, "creator")
	h.sayFrom(group, member, "/add "+code1)

	// A member may not even ask.
	got := h.sayFrom(group, member, "/apagar_meus_dados")
	if len(got) != 1 || got[0].Params.Get("reply_markup") != "" {
		t.Fatalf("a member's erase request got %d replies, buttons %q", len(got), got[0].Params.Get("reply_markup"))
	}
	mustContain(t, got[0].Text, "administra")

	// Crafted button data on any of the bot's messages erases nothing,
	// whoever presses it.
	for _, data := range []string{"erase:yes", "erase:yes:", "erase:yes:11:x", "erase:yes:011", "erase:yes:+11", "erase:yes:-11", "erase:yes:0", "erase:sim:33", "erase:yes:G"} {
		for _, who := range []int64{member, admin} {
			h.press(group, who, got[0].MessageID, data)
		}
	}
	if h.codes(group) != 1 {
		t.Fatal("crafted callback data erased the group")
	}

	// An administrator asks; a member, and another administrator, cannot
	// confirm for them; the one who asked can.
	got = h.sayFrom(group, admin, "/apagar_meus_dados")
	yes := buttons(t, got[0])[0]
	if toast := h.press(group, member, got[0].MessageID, yes); h.codes(group) != 1 || toast == "" {
		t.Fatalf("a member confirmed an administrator's erase (toast %q)", toast)
	}
	h.press(group, admin2, got[0].MessageID, yes)
	if h.codes(group) != 1 {
		t.Fatal("another administrator confirmed someone else's erase")
	}
	// Demoted meanwhile: no longer allowed.
	h.fake.SetMember(group, admin, "member")
	h.press(group, admin, got[0].MessageID, yes)
	if h.codes(group) != 1 {
		t.Fatal("a demoted administrator confirmed")
	}
	h.fake.SetMember(group, admin, "administrator")
	h.press(group, admin, got[0].MessageID, yes)
	if h.codes(group) != 0 {
		t.Fatal("the administrator who asked could not erase")
	}

	// An anonymous administrator (sent as the group): any administrator
	// may confirm, a member may not.
	h.sayFrom(group, member, "/add "+code2)
	got = h.sayAs(group, telegramtest.Chat(group), groupAnonymousBot, "/apagar_meus_dados")
	if len(got) != 1 {
		t.Fatalf("anonymous administrator's request: %v", got)
	}
	yes = buttons(t, got[0])[0]
	h.press(group, member, got[0].MessageID, yes)
	if h.codes(group) != 1 {
		t.Fatal("a member confirmed an anonymous administrator's erase")
	}
	h.press(group, creator, got[0].MessageID, yes)
	if h.codes(group) != 0 {
		t.Fatal("the group's creator could not confirm an anonymous request")
	}

	// Someone posting as a channel is not the group's administrator.
	h.sayFrom(group, member, "/add "+code2)
	channel := &tgbotapi.Chat{ID: -1000000000999, Type: "channel", Title: "Canal"}
	got = h.sayAs(group, channel, channelBot, "/apagar_meus_dados")
	if len(got) != 1 || got[0].Params.Get("reply_markup") != "" {
		t.Fatalf("a channel's erase request got %v", got)
	}

	// When Telegram cannot say, the answer is no.
	h.fake.FailNext(group, telegramtest.ServerError(500))
	got = h.sayFrom(group, admin, "/apagar_meus_dados")
	if len(got) != 1 || got[0].Params.Get("reply_markup") != "" || h.codes(group) != 1 {
		t.Fatalf("failed getChatMember: %v", got)
	}
	mustContain(t, got[0].Text, "Não consegui confirmar")
}

func TestPrivateEraseButtonsStrict(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1)
	ask := h.say(1, "/apagar_meus_dados")
	bs := buttons(t, ask)
	if len(bs) != 2 || bs[0] != "erase:yes:1" || bs[1] != "erase:no:1" {
		t.Fatalf("buttons = %v", bs)
	}
	for _, data := range []string{"erase:yes", "erase:yes:2", "erase:yes:g", "erase:yes:1:1"} {
		h.press(1, 0, ask.MessageID, data)
	}
	if h.codes(1) != 1 {
		t.Fatal("malformed erase data erased a private chat")
	}
	h.press(1, 0, ask.MessageID, bs[0])
	if h.codes(1) != 0 {
		t.Fatal("the person could not erase their own chat")
	}
}

func TestGroupRemoveByWhoAddedOrAdministrator(t *testing.T) {
	h := newHarness(t)
	const group = -710
	const ana, bia, admin = 11, 22, 33
	h.fake.SetMember(group, admin, "administrator")
	h.sayFrom(group, ana, "/add "+code1+" da Ana")
	h.sayFrom(group, ana, "/add "+code2+" da Ana")
	h.sayFrom(group, bia, "/add "+code3+" da Bia")

	got := h.sayFrom(group, bia, "/remover "+code1+" "+code3)
	if len(got) != 1 {
		t.Fatalf("replies = %v", got)
	}
	mustContain(t, got[0].Text, "adicionado por outra pessoa", "parei de acompanhar "+code3)
	if h.codes(group) != 2 {
		t.Fatal("someone else removed Ana's code")
	}

	// The 🗑 button: Bia is refused, Ana may.
	list := h.sayFrom(group, bia, "/pacotes")[0]
	if toast := h.press(group, bia, list.MessageID, "d:"+code1); !strings.Contains(toast, "adicionou") || h.codes(group) != 2 {
		t.Fatalf("Bia pressed 🗑 on Ana's code: toast %q, %d codes", toast, h.codes(group))
	}
	h.press(group, ana, list.MessageID, "d:"+code1)
	if h.codes(group) != 1 {
		t.Fatal("Ana could not remove her own code")
	}
	// An administrator may remove anyone's; a failed check refuses.
	h.fake.FailNext(group, telegramtest.ServerError(500))
	got = h.sayFrom(group, admin, "/remover "+code2)
	mustContain(t, got[0].Text, "Não consegui confirmar")
	got = h.sayFrom(group, admin, "/remover "+code2)
	mustContain(t, got[0].Text, "parei de acompanhar")
	if h.codes(group) != 0 {
		t.Fatal("the administrator could not remove a code")
	}
	// A code added by an anonymous administrator (no person named): only
	// administrators remove it; sent as the group counts as one.
	h.sayAs(group, telegramtest.Chat(group), groupAnonymousBot, "/add "+code1)
	h.sayFrom(group, ana, "/remover "+code1)
	if h.codes(group) != 1 {
		t.Fatal("a member removed a code nobody can be named for")
	}
	h.sayAs(group, telegramtest.Chat(group), groupAnonymousBot, "/remover "+code1)
	if h.codes(group) != 0 {
		t.Fatal("an anonymous administrator could not remove")
	}
}

func TestPersonCapAcrossChats(t *testing.T) {
	h := newHarness(t, func(c *bot.Config) { c.MaxCodesPerPerson = 2 })
	const ana, bia, group = 11, 22, -720
	h.say(ana, code1+"\n"+code2)
	got := h.sayFrom(group, ana, "/add "+code3+" presente")
	if len(got) != 1 {
		t.Fatalf("replies = %v", got)
	}
	mustContain(t, got[0].Text, "máximo de 2 códigos", "todas as conversas", code3)
	mustNotContain(t, got[0].Text, "Vou acompanhar")
	if h.codes(group) != 0 {
		t.Fatal("a code past the person's cap was saved")
	}
	// The group's own cap is not the person's: Bia adds it.
	got = h.sayFrom(group, bia, "/add "+code3+" presente")
	mustContain(t, got[0].Text, "Vou acompanhar", code3)
	ps, err := h.st.Packages(t.Context(), group)
	if err != nil || len(ps) != 1 || ps[0].AddedBy != bia {
		t.Fatalf("packages %+v (%v), want %s added by %d", ps, err, code3, bia)
	}
	priv := h.say(ana, "/privacidade")
	mustContain(t, priv.Text, "número de usuário do Telegram de quem o adicionou")
}

// One update the library cannot decode between two good ones: both good
// ones are handled, and the bad one's offset is confirmed (the loop does
// not ask for it again).
func TestUndecodableUpdateSkipped(t *testing.T) {
	h := newHarness(t)
	h.fake.PushMessage(5, 0, code1)
	bad := h.fake.PushRaw(`{"message":{"message_id":7,"date":"amanhã","chat":{"id":5,"type":"private"},"text":"` + code3 + `"}}`)
	h.waitHandled(h.fake.PushMessage(5, 0, code2))
	if h.codes(5) != 2 {
		t.Fatalf("chat tracks %d codes, want the 2 around the bad update", h.codes(5))
	}
	h.fake.WaitOffset(t, bad+2)
	h.stop()
	if off := h.fake.ConfirmedOffset(); off <= bad {
		t.Fatalf("confirmed offset %d, want past the bad update %d", off, bad)
	}
}

// A message of hundreds of code-shaped strings with wrong check digits,
// with or without a valid code among them: every reply fits Telegram's
// 4,096 characters (as it counts them, after parsing the HTML), lists at
// most 20 refused codes and says how many more, and the valid code's
// confirmation goes out.
func TestRepliesToHugeMessagesFit(t *testing.T) {
	h := newHarness(t)
	var bad []string
	for i := range 290 {
		serial := fmt.Sprintf("%08d", 10000000+i*7919)
		digit := (trackcode.CheckDigit(serial) + 1) % 10
		bad = append(bad, fmt.Sprintf("QQ%s%dBR", serial, digit))
	}
	for _, tc := range []struct {
		chat int64
		text string
	}{
		{1, strings.Join(bad, " ")},
		{2, strings.Join(bad, "\n") + "\n" + code1 + " <b>&presente"},
		{3, "/remover " + strings.Join(bad, " ")},
		{-4, "/add " + strings.Join(bad, "\n") + "\n" + code1},
	} {
		got := h.sayAll(tc.chat, tc.text)
		if len(got) == 0 {
			t.Fatalf("chat %d: no reply", tc.chat)
		}
		all := ""
		for _, c := range got {
			if !c.OK() {
				t.Fatalf("chat %d: Telegram refused a reply (%d): %s", tc.chat, c.Status, c.Params.Get("text"))
			}
			if n := len(utf16.Encode([]rune(c.Text))); n > 4096 {
				t.Fatalf("chat %d: a reply of %d characters", tc.chat, n)
			}
			all += c.Text + "\n"
		}
		if strings.Contains(tc.text, code1) {
			mustContain(t, all, "Vou acompanhar", code1)
		}
		if listed := strings.Count(all, "QQ1"); listed > 50 {
			t.Fatalf("chat %d: %d refused codes listed", tc.chat, listed)
		}
		if tc.chat != 3 {
			mustContain(t, all, "e mais 270")
		}
	}
}

// Only a group becomes a supergroup: migrate fields in a private chat (or
// pointing at a positive id) move nothing.
func TestMigrationOnlyForGroups(t *testing.T) {
	h := newHarness(t)
	h.say(5, code1)
	h.waitHandled(h.fake.PushRaw(`{"message":{"message_id":50,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"first_name":"A"},"migrate_to_chat_id":-1000000000005}}`))
	h.waitHandled(h.fake.PushRaw(`{"message":{"message_id":51,"date":1,"chat":{"id":-1000000000006,"type":"supergroup"},"from":{"id":5,"first_name":"A"},"migrate_from_chat_id":5}}`))
	h.waitHandled(h.fake.PushRaw(`{"message":{"message_id":52,"date":1,"chat":{"id":-1000000000006,"type":"supergroup"},"migrate_to_chat_id":-1000000000007}}`))
	if h.codes(5) != 1 || h.codes(-1000000000005) != 0 || h.codes(-1000000000006) != 0 {
		t.Fatalf("a private chat's codes moved: %d here, %d and %d elsewhere", h.codes(5), h.codes(-1000000000005), h.codes(-1000000000006))
	}
	// A real group still moves.
	h.sayFrom(-60, 5, "/add "+code2)
	h.waitHandled(h.fake.PushRaw(`{"message":{"message_id":53,"date":1,"chat":{"id":-60,"type":"group"},"from":{"id":5,"first_name":"A"},"migrate_to_chat_id":-1000000000060}}`))
	if h.codes(-1000000000060) != 1 {
		t.Fatal("a group's codes did not follow it to its supergroup")
	}
}

// An album without a caption arrives as one message per photo: it is
// answered once.
func TestAlbumAnsweredOnce(t *testing.T) {
	h := newHarness(t)
	photo := func(album string, caption string) int {
		c := ""
		if caption != "" {
			c = `,"caption":"` + caption + `"`
		}
		return h.fake.PushRaw(`{"message":{"message_id":1,"date":1,"chat":{"id":7,"type":"private"},"from":{"id":7,"first_name":"A"},"media_group_id":"` + album + `","photo":[{"file_id":"p","file_unique_id":"u","width":1,"height":1}]` + c + `}}`)
	}
	before := len(h.fake.Messages(7))
	for range 4 {
		photo("A1", "")
	}
	h.waitHandled(photo("A2", ""))
	got := h.fake.Messages(7)[before:]
	if len(got) != 2 {
		t.Fatalf("two albums got %d answers, want one each", len(got))
	}
	mustContain(t, got[0].Text, "só entendo texto")
	// An album whose first photo carries the codes: they are saved, and
	// the other photos get no "só entendo texto".
	before = len(h.fake.Messages(7))
	photo("A3", code1)
	h.waitHandled(photo("A3", ""))
	got = h.fake.Messages(7)[before:]
	if len(got) != 1 || !strings.Contains(got[0].Text, code1) {
		t.Fatalf("captioned album answered %d times", len(got))
	}
}

// On a full disk a new code cannot be saved: the person is told so, and
// what was saved before stays.
func TestDiskFullAnswered(t *testing.T) {
	h := newHarness(t)
	h.say(5, code1)
	if err := h.st.FillDisk(t.Context()); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("descrição longa ", 6)
	var lines []string
	for i := range 40 {
		serial := fmt.Sprintf("%08d", 20000000+i*7919)
		lines = append(lines, fmt.Sprintf("QQ%s%dBR %s", serial, trackcode.CheckDigit(serial), long))
	}
	got := h.say(5, strings.Join(lines, "\n"))
	mustContain(t, got.Text, "sem espaço")
	if h.codes(5) != 1 {
		t.Fatalf("chat tracks %d codes, want the one saved before", h.codes(5))
	}
}

// A confirmation goes out only after the code it confirms was made
// durable (an fsync of the WAL, store.SyncWAL).
func TestConfirmationAfterDurableSave(t *testing.T) {
	h := newHarness(t)
	before := h.st.WALSyncs()
	got := h.say(5, code1)
	mustContain(t, got.Text, code1)
	if h.st.WALSyncs() == before {
		t.Fatal("the confirmation went out with no fsync of what it confirms")
	}
}
