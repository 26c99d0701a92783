package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/bot"
	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/store/storetest"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/trackcode"
	"github.com/rastreio/rastreio/internal/tracking"
)

const (
	code1 = "QQ850419295BR"
	code2 = "QH991577104BR"
	code3 = "LE449872154SE"
)

func TestSetupAndStartCommands(t *testing.T) {
	h := newHarness(t)
	var cmds []tgbotapi.BotCommand
	if err := json.Unmarshal(h.fake.Commands(), &cmds); err != nil || len(cmds) < 5 {
		t.Fatalf("setMyCommands = %s, %v", h.fake.Commands(), err)
	}
	if h.fake.Count("deleteWebhook") != 1 {
		t.Fatal("no deleteWebhook at start")
	}

	m := h.say(1, "/start")
	mustContain(t, m.Text, "Olá", code1, "/apagar_meus_dados", "Site Rastreio", "/pacotes")
	for _, cmd := range []string{"/help", "/ajuda", "/ajuda@" + telegramtest.BotUserName, "/AJUDA"} {
		mustContain(t, h.say(1, cmd).Text, "/pacotes", "/remover", "/add")
	}
	m = h.say(1, "/privacidade")
	mustContain(t, m.Text, "Site Rastreio", "/apagar_meus_dados", "códigos")
	m = h.say(1, "/nada")
	mustContain(t, m.Text, "/nada", "/ajuda")

	// A command for another bot in a group is not ours.
	if got := h.sayAll(-5, "/start@OutroBot"); len(got) != 0 {
		t.Fatalf("answered a command for another bot: %+v", got)
	}
	if got := allowed(h.fake.AllowedUpdates()); !got["message"] || !got["callback_query"] || !got["my_chat_member"] {
		t.Fatalf("allowed_updates = %v", h.fake.AllowedUpdates())
	}
}

func allowed(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

func TestProvidersInTexts(t *testing.T) {
	h := newHarness(t, func(c *bot.Config) { c.Providers = []string{"track17", "correios"} })
	m := h.say(1, "/privacidade")
	mustContain(t, m.Text, "17TRACK e API oficial dos Correios")
	mustNotContain(t, m.Text, "Site Rastreio")

	none := newHarness(t, func(c *bot.Config) { c.Providers = nil })
	mustContain(t, none.say(1, "/privacidade").Text, "são consultados via um serviço de rastreio escolhido por quem opera este bot.")
	mustContain(t, none.say(1, "/start").Text, "consultados via um serviço de rastreio")
}

func TestAddCodesListAndRename(t *testing.T) {
	h := newHarness(t)
	msgs := h.sayAll(1, strings.ToLower(code1)+" - tênis\n  "+code2+"   <b>& presente\n"+code3)
	if len(msgs) != 1 {
		t.Fatalf("%d replies, want 1", len(msgs))
	}
	mustContain(t, msgs[0].Text, "tênis · "+code1, "<b>& presente · "+code2, code3, "Vou consultar o rastreio em até 3 minutos")

	ps, err := h.st.Packages(t.Context(), 1)
	if err != nil || len(ps) != 3 {
		t.Fatalf("stored %d packages, %v", len(ps), err)
	}

	list := h.sayAll(1, "/pacotes")
	if len(list) != 1 {
		t.Fatalf("%d list messages", len(list))
	}
	mustContain(t, list[0].Text, "Seus pacotes\n\n1. tênis · "+code1, "tênis", code2, "<b>& presente", "Aguardando a primeira verificação")
	var kb tgbotapi.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(list[0].Params.Get("reply_markup")), &kb); err != nil || len(kb.InlineKeyboard) != 3 {
		t.Fatalf("list buttons: %s (%v)", list[0].Params.Get("reply_markup"), err)
	}
	// /list is the same.
	mustContain(t, h.say(1, "/list").Text, code3)

	// Resending a code with new text renames it; without text keeps it.
	m := h.say(1, code1+" tênis azul")
	mustContain(t, m.Text, "Descrição atualizada", "tênis azul · "+code1)
	m = h.say(1, code2)
	mustContain(t, m.Text, "Já estava", "<b>& presente · "+code2)
	mustContain(t, h.say(1, "/pacotes").Text, "tênis azul")
}

func TestAddCommandAndDeepLink(t *testing.T) {
	h := newHarness(t)
	m := h.say(-100, "/add@"+telegramtest.BotUserName+" "+code1+" câmera do grupo")
	mustContain(t, m.Text, "câmera do grupo · "+code1)
	m = h.say(-100, "/rastrear "+code2)
	mustContain(t, m.Text, code2)
	m = h.say(-100, "/add")
	mustContain(t, m.Text, "/add "+code1)
	// Plain chatter in a group gets no answer.
	if got := h.sayAll(-100, "bom dia, pessoal"); len(got) != 0 {
		t.Fatalf("answered group chatter: %q", got[0].Text)
	}
	// Codes in plain group text (privacy mode off) are still saved.
	mustContain(t, h.say(-100, code3+" livro").Text, "livro · "+code3)

	m = h.say(7, "/start "+code1)
	mustContain(t, m.Text, code1, "Vou consultar o rastreio em até 3 minutos")
	if _, err := h.st.TrackedPackage(t.Context(), 7, code1); err != nil {
		t.Fatalf("deep link did not add: %v", err)
	}
	mustContain(t, h.say(-100, "/pacotes").Text, "Pacotes do grupo")
}

// Found by TestRandomConversationsMatchModel: a deep link carrying a
// mistyped code got the welcome, the code dropped without a word.
func TestDeepLinkWithMistypedCode(t *testing.T) {
	h := newHarness(t)
	bad := code1[:10] + "4" + code1[11:]
	for _, chat := range []int64{1, -100} {
		m := h.say(chat, "/start "+bad)
		mustContain(t, m.Text, bad, "erro de digitação")
		mustNotContain(t, m.Text, "Olá")
		if ps, _ := h.st.Packages(t.Context(), chat); len(ps) != 0 {
			t.Fatalf("chat %d saved %+v", chat, ps)
		}
	}
	// Without a code it is still the welcome.
	mustContain(t, h.say(1, "/start").Text, "Olá")
}

func TestMistypedNoCodeAndNoText(t *testing.T) {
	h := newHarness(t)
	mustContain(t, h.say(1, "QQ850419294BR tênis").Text, "parece ter um erro de digitação", "QQ850419294BR")
	mustContain(t, h.say(1, "/add qq850419294br").Text, "erro de digitação")
	mustContain(t, h.say(1, "oi, tudo bem?").Text, "Não encontrei nenhum código", "/ajuda")
	// Valid and mistyped together: the valid one is saved, the other explained.
	m := h.say(1, code1+"\nQQ850419294BR")
	mustContain(t, m.Text, "Vou acompanhar", code1, "erro de digitação", "QQ850419294BR")

	// A sticker (no text) in private gets the hint.
	before := len(h.fake.Messages(1))
	h.fake.PushRaw(`{"message":{"message_id":90,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1,"is_bot":false,"first_name":"A"},"sticker":{"file_id":"x","file_unique_id":"y","width":1,"height":1,"is_animated":false}}}`)
	mustContain(t, h.fake.WaitMessage(t, 1, before).Text, "só entendo texto")
}

func TestUserTextReachesPersonUnchanged(t *testing.T) {
	h := newHarness(t)
	desc := `<b>& "aspas" </i> &amp; <script>`
	m := h.say(1, code1+" "+desc)
	mustContain(t, m.Text, desc)
	list := h.say(1, "/pacotes")
	mustContain(t, list.Text, "1. "+desc+" · "+code1)
	// The raw HTML sent was escaped (the fake parses it like Telegram).
	mustContain(t, list.Params.Get("text"), "&lt;b&gt;&amp; &#34;aspas&#34;")
}

func TestTwoChatsKeptApart(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1+" do um")
	h.say(2, code2+" do dois")
	h.say(2, code1+" também do dois")
	l1 := h.say(1, "/pacotes").Text
	l2 := h.say(2, "/pacotes").Text
	mustContain(t, l1, "1. do um · "+code1)
	mustNotContain(t, l1, code2, "dois")
	mustContain(t, l2, code1, "também do dois", code2)
	mustNotContain(t, l2, "de 100")
	mustNotContain(t, l2, "do um")
	mustContain(t, h.say(1, "/remover "+code2).Text, "Você não acompanha")
	if _, err := h.st.TrackedPackage(t.Context(), 2, code2); err != nil {
		t.Fatal("chat 1 removed chat 2's code")
	}
}

func TestListShowsTrackerStatusAndHistory(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1+" tênis")
	h.say(1, code2+" livro")
	at := time.Date(2024, 3, 5, 17, 32, 0, 0, time.UTC)
	checked := time.Date(2024, 3, 5, 18, 0, 0, 0, time.UTC)
	h.db.SetChecked(storetest.Parcel{Code: code1, State: "final", LastKind: "delivered", LastStatus: "Objeto entregue ao destinatário",
		LastEventAt: at, CheckedAt: checked, CheckedBy: "siterastreio"})
	h.db.SetChecked(storetest.Parcel{Code: code2, State: "notfound", CheckedAt: checked, CheckedBy: "correios"})
	h.db.AddEvents(
		storetest.Event{Code: code1, Key: "3", Kind: "delivered", Description: "Objeto entregue ao destinatário", Location: "SÃO PAULO/SP", At: at},
		storetest.Event{Code: code1, Key: "1", Kind: "posted", Description: "Objeto postado", Location: "CURITIBA/PR", At: at.Add(-72 * time.Hour)},
		storetest.Event{Code: code1, Key: "2", Kind: "out_for_delivery", Description: "Objeto saiu para entrega <ao> vizinho", Location: "SÃO PAULO/SP", At: at.Add(-3 * time.Hour)},
	)
	list := h.say(1, "/pacotes")
	now := time.Now()
	mustContain(t, list.Text, "1. tênis · "+code1, message.Info("delivered").Emoji+" Entregue · "+message.When(at, now),
		"Conferido "+message.When(checked, now), "Ainda não aparece no rastreio")
	// Who checked is for /privacidade, not for every line; the cap is far.
	mustNotContain(t, list.Text, "via ", "Objeto entregue", "de 100")
	if kb := list.Params.Get("reply_markup"); !strings.Contains(kb, `"text":"📜 1"`) || !strings.Contains(kb, `"text":"🗑 2"`) || strings.Contains(kb, `"text":"📜 `+code1) {
		t.Fatalf("buttons %s, want them numbered", kb)
	}

	// The 📜 button shows the events, oldest first, from SQLite.
	before := len(h.fake.Messages(1))
	cb := h.fake.PushCallback(1, 0, list.MessageID, "h:"+code1)
	hist := h.fake.WaitMessage(t, 1, before).Text
	mustContain(t, hist, "tênis · "+code1+"\nHistórico", "Curitiba/PR · 🕒 "+message.When(at.Add(-72*time.Hour), now), "<ao>")
	i1, i2, i3 := strings.Index(hist, "Postado"), strings.Index(hist, "Saiu para entrega"), strings.Index(hist, "Entregue")
	if !(i1 < i2 && i2 < i3) {
		t.Fatalf("history not oldest first:\n%s", hist)
	}
	waitAnswered(t, h, cb)
	// A parcel without events says so.
	before = len(h.fake.Messages(1))
	h.fake.PushCallback(1, 0, list.MessageID, "h:"+code2)
	mustContain(t, h.fake.WaitMessage(t, 1, before).Text, "Ainda não há movimentações")
}

func waitAnswered(t *testing.T, h *harness, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := h.fake.Wait(ctx, func(calls []telegramtest.Call) bool {
		for _, c := range calls {
			if c.Method == "answerCallbackQuery" && c.Params.Get("callback_query_id") == id && c.OK() {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("callback %s never answered", id)
	}
}

func TestRemoveByCommandAndButton(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1+" tênis\n"+code2+" livro\n"+code3)
	mustContain(t, h.say(1, "/remover "+strings.ToLower(code1)).Text, "parei de acompanhar", code1, "tênis")
	mustContain(t, h.say(1, "/del "+code1).Text, "Você não acompanha")
	mustContain(t, h.say(1, "/del").Text, "/remover "+code1)

	list := h.say(1, "/pacotes")
	before := len(h.fake.Messages(1))
	cb := h.fake.PushCallback(1, 0, list.MessageID, "d:"+code2)
	mustContain(t, h.fake.WaitMessage(t, 1, before).Text, "parei de acompanhar", code2)
	waitAnswered(t, h, cb)
	edits := h.fake.WaitCalls(t, "editMessageReplyMarkup", 1)
	var kb tgbotapi.InlineKeyboardMarkup
	json.Unmarshal([]byte(edits[0].Params.Get("reply_markup")), &kb)
	if len(kb.InlineKeyboard) != 1 || !strings.Contains(*kb.InlineKeyboard[0][0].CallbackData, code3) {
		t.Fatalf("buttons after removal: %s", edits[0].Params.Get("reply_markup"))
	}
	ps, _ := h.st.Packages(t.Context(), 1)
	if len(ps) != 1 || ps[0].Code != code3 {
		t.Fatalf("left: %+v", ps)
	}
	// Pressing it again is harmless.
	cb = h.fake.PushCallback(1, 0, list.MessageID, "d:"+code2)
	waitAnswered(t, h, cb)
}

func TestEraseMyData(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1+" tênis\n"+code2)
	h.say(2, code2+" do outro")
	ask := h.say(1, "/apagar_meus_dados")
	mustContain(t, ask.Text, "apaga tudo", "2 códigos")
	// Cancel first.
	cb := h.fake.PushCallback(1, 0, ask.MessageID, buttons(t, ask)[1])
	waitAnswered(t, h, cb)
	if ps, _ := h.st.Packages(t.Context(), 1); len(ps) != 2 {
		t.Fatal("cancel deleted data")
	}
	ask = h.say(1, "/apagar_meus_dados")
	cb = h.fake.PushCallback(1, 0, ask.MessageID, buttons(t, ask)[0])
	waitAnswered(t, h, cb)
	edits := h.fake.WaitCalls(t, "editMessageText", 2)
	mustContain(t, edits[1].Text, "apaguei tudo", "2 códigos")
	if _, err := h.st.GetChat(t.Context(), 1); err != store.ErrNotFound {
		t.Fatalf("chat still stored: %v", err)
	}
	if _, ok := h.db.Parcel(code1); ok {
		t.Fatal("a parcel only chat 1 tracked is still stored")
	}
	if ps, _ := h.st.Packages(t.Context(), 2); len(ps) != 1 {
		t.Fatal("chat 2 lost its code")
	}
}

func TestGIFUploadedOnceEvenAcrossRestarts(t *testing.T) {
	fake := telegramtest.New(t)
	db := t.TempDir() + "/r.db"
	h := startBot(t, fake, db)
	h.sayAll(1, "/gif")
	calls := fake.Calls("sendAnimation")
	if len(calls) != 2 {
		t.Fatalf("%d animations, want 2", len(calls))
	}
	for _, c := range calls {
		if !c.OK() || len(c.Uploads) != 1 || c.Uploads[0].Field != "animation" || c.Uploads[0].Size == 0 {
			t.Fatalf("first /gif did not upload: %+v", c)
		}
	}
	h.sayAll(2, "/gif")
	h.stop()
	h = startBot(t, fake, db)
	h.sayAll(3, "/gif")
	calls = fake.Calls("sendAnimation")
	if len(calls) != 6 {
		t.Fatalf("%d animations, want 6", len(calls))
	}
	for _, c := range calls[2:] {
		if !c.OK() || len(c.Uploads) != 0 || c.Params.Get("animation") == "" {
			t.Fatalf("later /gif uploaded again: %+v", c)
		}
	}
	if calls[2].Params.Get("animation") != calls[4].Params.Get("animation") {
		t.Fatal("file_id changed after the restart")
	}
}

func TestGIFStaleFileIDUploadsAgain(t *testing.T) {
	fake := telegramtest.New(t)
	db := t.TempDir() + "/r.db"
	h := startBot(t, fake, db)
	h.sayAll(1, "/gif")
	h.stop()
	// Telegram no longer knows the stored file_ids (here: a fresh fake
	// for the same bot).
	fake2 := telegramtest.New(t)
	h = startBot(t, fake2, db)
	id := fake2.PushUpdate(tgbotapi.Update{UpdateID: 5000, Message: fake2.NewMessage(1, 1, "/gif")})
	h.waitHandled(id)
	var ok, uploads int
	for _, c := range fake2.Calls("sendAnimation") {
		if c.OK() {
			ok++
			uploads += len(c.Uploads)
		}
	}
	if ok != 2 || uploads != 2 {
		t.Fatalf("after a stale file_id: %d sent, %d uploads; want 2, 2", ok, uploads)
	}
}

func TestRestartKeepsDataAndNeverRepeats(t *testing.T) {
	fake := telegramtest.New(t)
	db := t.TempDir() + "/r.db"
	h := startBot(t, fake, db)
	h.say(1, code1+" tênis")
	// The bot handles the next update, but no later getUpdates reaches
	// Telegram (nor the final confirmation): the update stays on
	// Telegram's side, and only the stored offset can skip it.
	var cut atomic.Int64
	fake.AddRule(func(c *telegramtest.Call) *telegramtest.Fault {
		if off, _ := strconv.Atoi(c.Params.Get("offset")); c.Method == "getUpdates" && cut.Load() != 0 && int64(off) > cut.Load() {
			f := telegramtest.ServerError(502)
			return &f
		}
		return nil
	})
	id := fake.NewMessage(1, 1, code2+" livro")
	cut.Store(int64(fake.PushUpdate(tgbotapi.Update{Message: id})))
	fake.WaitMessages(t, 1, 2)
	h.stop()
	if fake.ConfirmedOffset() > int(cut.Load()) {
		t.Fatalf("test setup: offset %d already confirmed", fake.ConfirmedOffset())
	}
	cut.Store(0)

	h = startBot(t, fake, db)
	list := h.say(1, "/pacotes")
	mustContain(t, list.Text, code1, "tênis", code2, "livro")
	msgs := fake.Messages(1)
	if len(msgs) != 3 {
		var texts []string
		for _, m := range msgs {
			texts = append(texts, m.Text)
		}
		t.Fatalf("%d messages, want 3 (an update handled twice?): %q", len(msgs), texts)
	}
}

func TestStopMidPollIsQuickAndConfirms(t *testing.T) {
	h := newHarness(t)
	id := h.fake.PushMessage(1, 0, code1)
	h.fake.WaitMessages(t, 1, 1)
	h.fake.WaitOffset(t, id+1)
	time.Sleep(50 * time.Millisecond) // the loop is in a 10 s long poll
	if d := h.stop(); d > time.Second {
		t.Fatalf("stop took %v mid-poll", d)
	}
	if got := h.fake.ConfirmedOffset(); got != id+1 {
		t.Fatalf("confirmed offset %d, want %d", got, id+1)
	}
}

// TestStopFinishesUpdateInHand stops the bot while a reply is on its
// way: every update the bot took has its reply delivered, the offset
// confirmed is right after the last one taken, and whatever was left
// over is handled after a restart, once.
func TestStopFinishesUpdateInHand(t *testing.T) {
	h := newHarness(t)
	h.fake.SetLatency(300 * time.Millisecond) // slow replies
	started := make(chan struct{}, 10)
	h.fake.AddRule(func(c *telegramtest.Call) *telegramtest.Fault {
		if c.Method == "sendMessage" {
			started <- struct{}{}
		}
		return nil
	})
	var ids []int
	for i, c := range []string{code1, code2, code3} {
		ids = append(ids, h.fake.PushMessage(1, 0, fmt.Sprintf("%s item %d", c, i)))
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the bot never replied")
	}
	h.stop()
	ps, _ := store.Open(t.Context(), h.dbPath)
	saved, _ := ps.Packages(t.Context(), 1)
	ps.Close()
	msgs := h.fake.Messages(1)
	if len(saved) == 0 || len(msgs) != len(saved) {
		t.Fatalf("after stop: %d codes saved, %d replies; want every handled update answered", len(saved), len(msgs))
	}
	if got, want := h.fake.ConfirmedOffset(), ids[len(saved)-1]+1; got != want {
		t.Fatalf("confirmed offset %d, want %d (right after the %d handled)", got, want, len(saved))
	}
	h2 := startBot(t, h.fake, h.dbPath)
	msgs = h2.fake.WaitMessages(t, 1, 3)
	time.Sleep(100 * time.Millisecond)
	if n := len(h.fake.Messages(1)); n != 3 {
		t.Fatalf("%d replies in all, want 3", n)
	}
	for i, c := range []string{code1, code2, code3} {
		mustContain(t, msgs[i].Text, c)
	}
}

// A stop with Telegram hanging on replies still ends within 5 s: the
// reply in flight is cut after telegram.StopGrace, and the replies whose
// turn never came go to the outbox for the tracker, not away.
func TestStopBoundedWhenTelegramHangs(t *testing.T) {
	h := newHarness(t)
	h.fake.SetLatency(time.Minute) // every send hangs; getUpdates does not
	var last int
	for i, c := range []string{code1, code2, code3} {
		last = h.fake.PushMessage(1, 0, fmt.Sprintf("%s item %d", c, i))
	}
	h.fake.WaitOffset(t, last+1) // all three handled, their replies queued
	if d := h.stop(); d > 4*time.Second {
		t.Fatalf("stop took %v with Telegram hanging, want ≤ 4 s (telegram.StopGrace and the offset's confirmation)", d)
	}
	st, err := store.Open(t.Context(), h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.PendingOutbox(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The first reply was in flight when cut: Telegram may have it, so it
	// is not queued again. The two behind it are.
	if len(rows) != 2 {
		t.Fatalf("%d replies in the outbox after the stop, want the 2 never sent", len(rows))
	}
	for i, r := range rows {
		if r.ChatID != 1 || !strings.Contains(r.Body, []string{code2, code3}[i]) {
			t.Errorf("outbox row %d: chat %d %q, want chat 1's reply about %s", i, r.ChatID, r.Body, []string{code2, code3}[i])
		}
	}
}

func TestMalformedUpdates(t *testing.T) {
	h := newHarness(t)
	raws := []string{
		`{"message":{"message_id":1,"date":1}}`,                                                        // no chat
		`{"message":{"message_id":2,"date":1,"chat":{"id":1,"type":"private"}}}`,                       // no from, no text
		`{"message":{"message_id":3,"date":1,"chat":{"id":-9,"type":"group"},"text":"` + code1 + `"}}`, // no from, group
		`{"message":{"message_id":4,"date":1,"chat":{"id":-1001,"type":"channel"},"text":"/start"}}`,
		`{"message":{"message_id":5,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1,"first_name":"A"},"photo":[{"file_id":"p","file_unique_id":"u","width":1,"height":1}]}}`,
		`{"message":{"message_id":6,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1,"first_name":"A"},"text":"/"}}`,
		`{"message":{"message_id":7,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1,"first_name":"A"},"text":"/@"}}`,
		`{"message":{"message_id":8,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":99,"is_bot":true,"first_name":"B"},"text":"/start"}}`,
		`{"edited_message":{"message_id":9,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1,"first_name":"A"},"text":"` + code2 + ` editado"}}`,
		`{"edited_message":{"message_id":10,"date":1,"chat":{"id":1,"type":"private"},"text":"sem código"}}`,
		`{"callback_query":{"id":"cbx","from":{"id":1,"first_name":"A"},"chat_instance":"c","data":"h:` + code1 + `"}}`,
		`{"callback_query":{"id":"cby","from":{"id":1,"first_name":"A"},"chat_instance":"c","message":{"message_id":77,"date":1,"chat":{"id":1,"type":"private"}},"data":""}}`,
		`{"callback_query":{"id":"cbz","from":{"id":1,"first_name":"A"},"chat_instance":"c","message":{"message_id":77,"date":1,"chat":{"id":1,"type":"private"}},"data":"d:NOTACODE"}}`,
		`{"my_chat_member":{"chat":{"id":5,"type":"private"},"from":{"id":5,"first_name":"A"},"date":1,"old_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"R"},"status":"member"},"new_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"R"},"status":"kicked"}}}`,
		`{"message":{"message_id":11,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1,"first_name":"A"},"text":"` + code3 + `","future_field":{"x":[1,2]}}}`,
	}
	// Register the callback ids so the fake accepts their answers.
	for _, id := range []string{"cbx", "cby", "cbz"} {
		h.fake.PushUpdate(tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{ID: id}})
	}
	h.st.TouchChat(t.Context(), store.ChatRef{ID: 5, Kind: "private"})
	last := 0
	for _, r := range raws {
		last = h.fake.PushRaw(r)
	}
	h.waitHandled(last)
	if got := h.fake.UnansweredCallbacks(); len(got) != 0 {
		t.Fatalf("unanswered callbacks: %v", got)
	}
	// Still alive and well.
	mustContain(t, h.say(1, "/start").Text, "Olá")
	if _, err := h.st.TrackedPackage(t.Context(), -9, code1); err != nil {
		t.Fatalf("a group message without from was not handled: %v", err)
	}
	if _, err := h.st.TrackedPackage(t.Context(), 1, code2); err != nil {
		t.Fatalf("an edited message with a code was not handled: %v", err)
	}
	if c, _ := h.st.GetChat(t.Context(), 5); c.PausedAt.IsZero() {
		t.Fatal("my_chat_member kicked did not pause the chat")
	}
	for _, c := range h.fake.Messages(-1001) {
		t.Fatalf("answered a channel: %q", c.Text)
	}
	// Kinds the bot does not ask for still never crash it.
	for _, u := range []tgbotapi.Update{
		{UpdateID: 1, PollAnswer: &tgbotapi.PollAnswer{PollID: "p"}},
		{UpdateID: 2, ChannelPost: &tgbotapi.Message{MessageID: 1, Chat: &tgbotapi.Chat{ID: -1002, Type: "channel"}, Text: "/start"}},
		{UpdateID: 3, EditedChannelPost: &tgbotapi.Message{MessageID: 1}},
		{UpdateID: 4, InlineQuery: &tgbotapi.InlineQuery{ID: "q"}},
		{UpdateID: 5, Message: &tgbotapi.Message{Chat: &tgbotapi.Chat{ID: 1, Type: "private"}, Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Length: 50}}, Text: "/x"}},
		{UpdateID: 6},
	} {
		h.b.HandleUpdate(t.Context(), u)
	}
	if got := h.fake.Messages(-1002); len(got) != 0 {
		t.Fatal("answered a channel post")
	}
}

func TestGroupMigration(t *testing.T) {
	h := newHarness(t)
	const group, super = -200, -1000000000200
	h.say(group, "/add "+code1+" do grupo")
	// Telegram sends both service messages.
	h.fake.PushRaw(fmt.Sprintf(`{"message":{"message_id":50,"date":1,"chat":{"id":%d,"type":"group"},"from":{"id":1,"first_name":"A"},"migrate_to_chat_id":%d}}`, group, super))
	id := h.fake.PushRaw(fmt.Sprintf(`{"message":{"message_id":1,"date":1,"chat":{"id":%d,"type":"supergroup"},"from":{"id":1,"first_name":"A"},"migrate_from_chat_id":%d}}`, super, group))
	h.waitHandled(id)
	mustContain(t, h.say(super, "/pacotes").Text, code1, "do grupo")
	if _, err := h.st.GetChat(t.Context(), group); err != store.ErrNotFound {
		t.Fatal("old group still stored")
	}

	// A reply to a group that migrated meanwhile follows it.
	const g2, s2 = -300, -1000000000300
	h.say(g2, "/add "+code2)
	h.fake.Migrate(g2, s2)
	h.fake.PushMessage(g2, 1, "/pacotes")
	m := h.fake.WaitMessages(t, s2, 1)
	mustContain(t, m[0].Text, code2)
	if _, err := h.st.TrackedPackage(t.Context(), s2, code2); err != nil {
		t.Fatalf("codes did not follow the migration: %v", err)
	}
}

func TestBlockedChatPausedUntilPersonWrites(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1)
	h.fake.Block(1)
	h.sayAll(1, "/pacotes")
	if c, _ := h.st.GetChat(t.Context(), 1); c.PausedAt.IsZero() {
		t.Fatal("a 403 on a reply did not pause the chat")
	}
	h.fake.Unblock(1)
	h.say(1, "/ajuda")
	if c, _ := h.st.GetChat(t.Context(), 1); !c.PausedAt.IsZero() {
		t.Fatal("writing again did not un-pause the chat")
	}
}

func TestRetryAfterOnReply(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(1, telegramtest.TooManyRequests(1))
	start := time.Now()
	mustContain(t, h.say(1, "/ajuda").Text, "/pacotes")
	if time.Since(start) < 900*time.Millisecond {
		t.Fatal("retry_after not waited")
	}
}

func TestCapAndLongMessages(t *testing.T) {
	h := newHarness(t, func(c *bot.Config) { c.MaxCodesPerChat = 60 })
	codes := makeCodes(65)
	var b strings.Builder
	for i, c := range codes[:50] {
		fmt.Fprintf(&b, "%s item número %d com uma descrição bem comprida para encher a mensagem <&>\n", c, i)
	}
	msgs := h.sayAll(1, b.String())
	all := ""
	for _, m := range msgs {
		if n := len([]rune(m.Text)); n > 4096 {
			t.Fatalf("message of %d characters", n)
		}
		all += m.Text
	}
	for _, c := range codes[:50] {
		mustContain(t, all, c)
	}
	if ps, _ := h.st.Packages(t.Context(), 1); len(ps) != 50 {
		t.Fatalf("%d saved, want 50", len(ps))
	}
	// 15 more: 10 fit the cap of 60, 5 are refused politely.
	msgs = h.sayAll(1, strings.Join(codes[50:], "\n"))
	all = ""
	for _, m := range msgs {
		all += m.Text
	}
	mustContain(t, all, "máximo de 60 códigos", codes[64], codes[50])
	if ps, _ := h.st.Packages(t.Context(), 1); len(ps) != 60 {
		t.Fatalf("%d saved, want 60", len(ps))
	}
	// The list is split into messages of at most 10 parcels, ≤ 4096 characters.
	list := h.sayAll(1, "/pacotes")
	if len(list) != 6 {
		t.Fatalf("%d list messages, want 6", len(list))
	}
	for _, m := range list {
		if len([]rune(m.Text)) > 4096 || m.Params.Get("reply_markup") == "" {
			t.Fatalf("bad list page (%d chars)", len([]rune(m.Text)))
		}
	}
	// More than 50 codes in one message: the first 50 are read.
	h2 := newHarness(t)
	msgs = h2.sayAll(2, strings.Join(makeCodes(55), " "))
	all = ""
	for _, m := range msgs {
		all += m.Text
	}
	mustContain(t, all, "50 primeiros")
	if ps, _ := h2.st.Packages(t.Context(), 2); len(ps) != 50 {
		t.Fatalf("%d saved, want 50", len(ps))
	}
}

func makeCodes(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		serial := fmt.Sprintf("%08d", 20000000+i*7919)
		out = append(out, fmt.Sprintf("NL%s%dBR", serial, trackcode.CheckDigit(serial)))
	}
	return out
}

func TestFloodLimit(t *testing.T) {
	h := newHarness(t)
	last := 0
	for i := 0; i < 40; i++ {
		last = h.fake.PushMessage(1, 0, "/ajuda")
	}
	h.waitHandled(last)
	msgs := h.fake.Messages(1)
	flood := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, "muitas mensagens") {
			flood++
		}
	}
	if len(msgs) != bot.DefaultFloodPerMinute+1 || flood != 1 {
		t.Fatalf("%d replies (%d flood notes), want %d answers and 1 note", len(msgs), flood, bot.DefaultFloodPerMinute)
	}
	// Another chat is not affected.
	mustContain(t, h.say(2, "/ajuda").Text, "/pacotes")
	if bot.DefaultFloodPerMinute < 20 {
		t.Fatal("the flood limit must let a person send 20 messages a minute")
	}
}

// Found by TestRandomConversationsMatchModel: an edit refused by the
// flood limit used up the burst's one note, so the next message was
// dropped without a word.
func TestFloodNoteNotSpentOnEdits(t *testing.T) {
	h := newHarness(t, func(c *bot.Config) { c.FloodPerMinute = 3 })
	for range 3 {
		h.say(1, "/ajuda")
	}
	id := h.fake.PushUpdate(tgbotapi.Update{EditedMessage: h.fake.NewMessage(1, 1, code1+" tênis")})
	h.waitHandled(id)
	if n := len(h.fake.Messages(1)); n != 3 {
		t.Fatalf("%d messages after the edit over the limit, want 3 (it is dropped silently)", n)
	}
	mustContain(t, h.say(1, "/ajuda").Text, "muitas mensagens")
	if msgs := h.sayAll(1, "/ajuda"); len(msgs) != 0 {
		t.Fatalf("a second flood note: %q", msgs[0].Text)
	}
	if _, err := h.st.TrackedPackage(t.Context(), 1, code1); err == nil {
		t.Fatal("the dropped edit's code was saved")
	}
}

func TestBackoffOnServerErrors(t *testing.T) {
	h := newHarness(t)
	f := telegramtest.ServerError(502)
	h.fake.FailAll(&f)
	time.Sleep(100 * time.Millisecond)
	n := h.fake.Count("getUpdates")
	time.Sleep(200 * time.Millisecond)
	if extra := h.fake.Count("getUpdates") - n; extra > 6 {
		t.Fatalf("%d getUpdates in 200 ms while failing: no backoff", extra)
	}
	h.fake.FailAll(nil)
	start := time.Now()
	mustContain(t, h.say(1, "/ajuda").Text, "/pacotes")
	if time.Since(start) > 3*time.Second {
		t.Fatal("slow to recover")
	}
}

func TestMyChatMemberAddedToGroup(t *testing.T) {
	h := newHarness(t)
	before := len(h.fake.Messages(-400))
	h.fake.PushRaw(`{"message":{"message_id":1,"date":1,"chat":{"id":-400,"type":"group","title":"Casa"},"from":{"id":1,"first_name":"A"},"new_chat_members":[{"id":` +
		fmt.Sprint(telegramtest.BotID) + `,"is_bot":true,"first_name":"R","username":"` + telegramtest.BotUserName + `"}]}}`)
	mustContain(t, h.fake.WaitMessage(t, -400, before).Text, "/add "+code1)
	c, err := h.st.GetChat(t.Context(), -400)
	if err != nil || c.Title != "Casa" || c.Kind != "group" {
		t.Fatalf("group chat = %+v, %v", c, err)
	}
}

// skewClock is time.Now moved forward by a settable amount.
type skewClock struct{ skew atomic.Int64 }

func (c *skewClock) now() time.Time      { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c *skewClock) add(d time.Duration) { c.skew.Add(int64(d)) }

func TestQuietSpellUpdateIDsRestartLower(t *testing.T) {
	var clock skewClock
	h := newHarness(t, func(c *bot.Config) { c.Now = clock.now; c.PollTimeout = 1 })
	h.fake.SetMaxPollWait(20 * time.Millisecond)
	h.say(1, "/ajuda")
	clock.add(bot.UpdateRetention + time.Hour)
	// After an empty poll the bot asks from Telegram's earliest
	// unconfirmed update; Telegram then restarts its ids lower.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := h.fake.Wait(ctx, func(calls []telegramtest.Call) bool {
		c := calls[len(calls)-1]
		return c.Method == "getUpdates" && c.Params.Get("offset") == ""
	})
	if err != nil {
		t.Fatal("the bot kept its old offset after a quiet day")
	}
	before := len(h.fake.Messages(1))
	h.fake.PushUpdate(tgbotapi.Update{UpdateID: 7, Message: h.fake.NewMessage(1, 1, "/ajuda")})
	mustContain(t, h.fake.WaitMessage(t, 1, before).Text, "/pacotes")
}

func TestStaleStoredOffsetIgnored(t *testing.T) {
	fake := telegramtest.New(t)
	db := t.TempDir() + "/r.db"
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("bot_update_offset:%d", telegramtest.BotID)
	old := time.Now().Add(-bot.UpdateRetention - time.Hour).Unix()
	st.SetMeta(t.Context(), key, fmt.Sprintf("5000 %d", old))
	st.Close()
	h := startBot(t, fake, db)
	mustContain(t, h.say(1, "/ajuda").Text, "/pacotes") // update id 1000 < 5000
}

// pollCounter counts the getUpdates calls that returned, and their errors.
type pollCounter struct {
	bot.API
	mu       sync.Mutex
	returned int
	lastErr  error
}

func (p *pollCounter) GetUpdates(offset, timeout int, allowed []string) ([]tgbotapi.Update, error) {
	u, err := p.API.GetUpdates(offset, timeout, allowed)
	p.mu.Lock()
	p.returned++
	p.lastErr = err
	p.mu.Unlock()
	return u, err
}

func (p *pollCounter) state() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.returned, p.lastErr
}

// waitPolls waits until n more getUpdates calls than after returned.
func (p *pollCounter) waitPolls(t *testing.T, after, n int) error {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got, err := p.state(); got >= after+n {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d getUpdates calls returned in 10 s", n)
	return nil
}

// The watchdog follows Healthy: alive while getUpdates gets answers,
// even error answers (a restart cures no Telegram outage); not alive once
// calls only time out.
func TestHealthyFollowsPolls(t *testing.T) {
	var clock skewClock
	var polls *pollCounter
	fake := telegramtest.New(t)
	fake.SetMaxPollWait(20 * time.Millisecond)
	h := startBot(t, fake, filepath.Join(t.TempDir(), "r.db"), func(c *bot.Config) {
		c.Now = clock.now
		c.PollTimeout = 1
		api, err := telegram.New(t.Context(), fake.Token, fake.Endpoint(), telegram.Options{
			SkipGetMe: true, HTTPClient: &http.Client{Timeout: 300 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		polls = &pollCounter{API: api}
		c.API = polls
	})
	if err := polls.waitPolls(t, 0, 1); err != nil || !h.b.Healthy() {
		t.Fatalf("right after a poll (error %v): Healthy=%v, want true", err, h.b.Healthy())
	}

	// Telegram down, answering 502: two minutes on, still alive.
	fake.FailAll(&telegramtest.Fault{HTTPStatus: 502, Body: "<html>502 Bad Gateway</html>"})
	n, _ := polls.state()
	polls.waitPolls(t, n, 2) // the second began after the fault was set
	clock.add(2 * time.Minute)
	n, _ = polls.state()
	if err := polls.waitPolls(t, n, 1); telegram.ClassOf(err) != telegram.Server && telegram.ClassOf(err) != telegram.Network {
		t.Fatalf("getUpdates under a 502 returned %v", err)
	}
	if !h.b.Healthy() {
		t.Fatal("not healthy while Telegram answers getUpdates with 502")
	}

	// getUpdates hangs until the client gives up: two minutes on, dead.
	fake.FailAll(&telegramtest.Fault{Code: 502, Description: "never sent", Delay: time.Minute})
	n, _ = polls.state()
	polls.waitPolls(t, n, 2) // only calls made under the hang from here on
	clock.add(2 * time.Minute)
	n, _ = polls.state()
	if err := polls.waitPolls(t, n, 1); !telegram.TimedOut(err) {
		t.Fatalf("a hung getUpdates returned %v, want a timeout", err)
	}
	if h.b.Healthy() {
		t.Fatal("healthy two minutes after the last getUpdates that got an answer")
	}

	fake.FailAll(nil)
	n, _ = polls.state()
	if err := polls.waitPolls(t, n, 2); err != nil || !h.b.Healthy() {
		t.Fatalf("polls resumed (error %v): Healthy=%v, want true", err, h.b.Healthy())
	}
}

// panicAPI panics on every send, as a bug in a dependency would.
type panicAPI struct{ bot.API }

func (p panicAPI) Send(c tgbotapi.Chattable) (tgbotapi.Message, error) { panic("boom") }

func TestPanicsAreContained(t *testing.T) {
	fake := telegramtest.New(t)
	h := startBot(t, fake, t.TempDir()+"/r.db", func(c *bot.Config) {
		c.API = panicAPI{c.API}
	})
	// In the loop: the reply panics on its sender; the bot goes on.
	id := fake.PushMessage(1, 0, "/ajuda")
	h.waitHandled(id)
	id = fake.PushMessage(1, 0, code1+" tênis")
	h.waitHandled(id)
	if _, err := h.st.TrackedPackage(t.Context(), 1, code1); err != nil {
		t.Fatalf("the bot stopped handling updates after a panic: %v", err)
	}
	// Alone (no loop): the panic is recovered in HandleUpdate.
	b := bot.New(bot.Config{Store: h.st, API: panicAPI{}})
	b.HandleUpdate(t.Context(), tgbotapi.Update{Message: fake.NewMessage(2, 2, "/ajuda")})
}

// TestCheckpointsWhenQuiet: once the bot is quiet its WAL is copied back,
// so later writes reuse the WAL file instead of growing it.
func TestCheckpointsWhenQuiet(t *testing.T) {
	oldTick, oldQuiet := bot.CheckpointTick, bot.CheckpointQuiet
	bot.CheckpointTick, bot.CheckpointQuiet = 10*time.Millisecond, 30*time.Millisecond
	t.Cleanup(func() { bot.CheckpointTick, bot.CheckpointQuiet = oldTick, oldQuiet })
	h := newHarness(t)
	burst := func(from, n int) {
		last := 0
		for i := from; i < from+n; i++ {
			last = h.fake.PushMessage(int64(10_000+i), 0, benchCode(i)+" item")
		}
		h.waitHandled(last)
	}
	walSize := func() int64 {
		fi, err := os.Stat(h.dbPath + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	burst(0, 300)
	time.Sleep(200 * time.Millisecond) // quiet: a checkpoint runs
	before := walSize()
	burst(300, 100)
	if after := walSize(); after > before {
		t.Fatalf("WAL grew from %d to %d bytes: no checkpoint while quiet", before, after)
	}
}

func TestFloodLimitOnButtons(t *testing.T) {
	h := newHarness(t)
	list := h.say(1, "/pacotes") // 1 message counted
	var ids []string
	for i := 0; i < 35; i++ {
		ids = append(ids, h.fake.PushCallback(1, 0, list.MessageID, "erase:no"))
	}
	for _, id := range ids {
		waitAnswered(t, h, id)
	}
	toasts := 0
	for _, c := range h.fake.Calls("answerCallbackQuery") {
		if strings.Contains(c.Params.Get("text"), "Muitos toques") {
			toasts++
		}
	}
	if toasts != 35-(bot.DefaultFloodPerMinute-1) {
		t.Fatalf("%d presses refused, want %d", toasts, 35-(bot.DefaultFloodPerMinute-1))
	}
}

func TestPrivateChatKeepsNoName(t *testing.T) {
	h := newHarness(t)
	before := len(h.fake.Messages(1))
	m := h.fake.NewMessage(1, 1, code1)
	m.Chat.FirstName, m.Chat.LastName, m.Chat.UserName = "Maria", "Silva", "mariasilva"
	m.From.FirstName, m.From.LastName = "Maria", "Silva"
	h.waitHandled(h.fake.PushUpdate(tgbotapi.Update{Message: m}))
	h.fake.WaitMessage(t, 1, before)
	var dump string
	for _, c := range h.db.Chats() {
		dump += fmt.Sprint(c.ID) + c.Kind + c.Title + ","
	}
	if strings.Contains(dump, "Maria") || strings.Contains(dump, "Silva") || strings.Contains(dump, "mariasilva") {
		t.Fatalf("a person's name was stored: %q", dump)
	}
}

// A reply Telegram fails with a 5xx is sent again at once (twice), so a
// hiccup costs well under a second; only a third failure leaves it to the
// outbox. A timeout is not resent now: the reply may have gone through.
func TestReplyRetriedAfterServerError(t *testing.T) {
	h := newHarness(t)
	h.say(5, "/start")
	h.fake.FailNext(5, telegramtest.ServerError(502))
	before := len(h.fake.Calls("sendMessage"))
	mustContain(t, h.say(5, code1+" tênis").Text, code1, "tênis")
	calls := h.fake.Calls("sendMessage")[before:]
	if len(calls) != 2 || calls[0].Status != 502 || !calls[1].OK() || calls[0].Params.Get("text") != calls[1].Params.Get("text") {
		t.Fatalf("calls after a 502: %d, want the failed send and the same reply again", len(calls))
	}
	if n, _ := h.st.OutboxLen(t.Context()); n != 0 {
		t.Fatalf("outbox has %d messages, want none (the retry went through)", n)
	}

	for range 3 {
		h.fake.FailNext(5, telegramtest.ServerError(502))
	}
	id := h.fake.PushMessage(5, 0, code2+" livro")
	h.waitHandled(id)
	rows, err := h.st.PendingOutbox(t.Context(), 0, 10)
	if err != nil || len(rows) != 1 || !strings.Contains(rows[0].Body, code2) {
		t.Fatalf("outbox after three 502s: %+v (%v), want the reply about %s", rows, err, code2)
	}
}

// A reply Telegram will not take for a long while (429 with a long
// retry_after, or an outage) is not lost: it waits in the outbox for the
// tracker's next delivery, not before the retry_after window ends.
func TestReplyLeftForTheTrackerWhenTelegramWillNotTakeIt(t *testing.T) {
	h := newHarness(t)
	h.say(5, "/start") // the chat exists
	h.fake.FailNext(5, telegramtest.TooManyRequests(600))
	id := h.fake.PushMessage(5, 0, "QQ850419295BR tênis")
	h.waitHandled(id)
	if n, err := h.st.OutboxLen(t.Context()); err != nil || n != 1 {
		t.Fatalf("outbox has %d messages (%v), want the reply", n, err)
	}
	if due, _ := h.st.PendingOutbox(t.Context(), 0, 10); len(due) != 0 {
		t.Fatalf("reply due at once %+v, want it held for retry_after", due)
	}
	q := h.db.Outbox()
	if len(q) != 1 || q[0].Chat != 5 {
		t.Fatalf("outbox %+v, want the reply to chat 5", q)
	}
	mustContain(t, q[0].Body, "QQ850419295BR", "tênis")
	if wait := time.Until(q[0].NotBefore); wait < 590*time.Second || wait > 601*time.Second {
		t.Fatalf("not_before in %v, want about 600 s", wait)
	}
	// A reply Telegram refuses for itself (400) is not queued.
	h.fake.FailNext(5, telegramtest.Fault{Code: 400, Description: "Bad Request: can't parse entities"})
	id = h.fake.PushMessage(5, 0, "/ajuda")
	h.waitHandled(id)
	if n, _ := h.st.OutboxLen(t.Context()); n != 1 {
		t.Fatalf("outbox has %d messages, want still 1", n)
	}
}

func TestMenusPerScopeInPortugueseAndDescriptions(t *testing.T) {
	h := newHarness(t)
	for _, scope := range []string{"all_private_chats", "all_group_chats"} {
		var cmds []tgbotapi.BotCommand
		if err := json.Unmarshal(h.fake.CommandsFor(scope), &cmds); err != nil || len(cmds) < 4 {
			t.Fatalf("%s menu = %s, %v", scope, h.fake.CommandsFor(scope), err)
		}
		names := ""
		for _, c := range cmds {
			names += " " + c.Command
		}
		mustContain(t, names, " rastrear", " pacotes", " remover")
		mustNotContain(t, names+" ", " start ", " add ")
	}
	if h.fake.CommandsFor("default") != nil {
		t.Fatalf("a default menu is left: %s", h.fake.CommandsFor("default"))
	}
	mustContain(t, h.fake.Description("description"), "Correios", "código")
	mustContain(t, h.fake.Description("short_description"), "Correios")
}

func TestGroupTextsAndThreadedReplies(t *testing.T) {
	h := newHarness(t)
	help := h.say(-100, "/ajuda")
	if !strings.HasPrefix(help.Text, "📖 Como usar no grupo") || strings.Index(help.Text, "/add") > strings.Index(help.Text, "/pacotes") {
		t.Fatalf("group help does not lead with /add:\n%s", help.Text)
	}
	if help.Params.Get("reply_to_message_id") == "" {
		t.Fatal("a group reply is not threaded to the message it answers")
	}
	mustContain(t, h.say(-100, "/pacotes").Text, "Este grupo ainda não acompanha")
	h.fake.SetMember(-100, 7, "administrator") // only administrators erase a group
	mustContain(t, h.sayFrom(-100, 7, "/apagar_meus_dados")[0].Text, "deste grupo")
	if p := h.say(1, "/ajuda"); p.Params.Get("reply_to_message_id") != "" {
		t.Fatal("a private reply is threaded")
	}
	mustContain(t, h.say(1, "/rastreio "+code1+" tênis").Text, "tênis · "+code1)
	mustContain(t, h.say(1, "BR2456789012345X").Text, "outra transportadora", "Correios", "13 caracteres")
}

func TestStopButtonOffersUndoForAMinute(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1+" tênis")
	list := h.say(1, "/pacotes")
	before := len(h.fake.Messages(1))
	cb := h.fake.PushCallback(1, 0, list.MessageID, "d:"+code1)
	gone := h.fake.WaitMessage(t, 1, before)
	waitAnswered(t, h, cb)
	mustContain(t, gone.Text, "parei de acompanhar", "desfazer")
	if !strings.Contains(gone.Params.Get("reply_markup"), "u:"+code1) {
		t.Fatalf("no Desfazer button: %s", gone.Params.Get("reply_markup"))
	}
	before = len(h.fake.Messages(1))
	cb = h.fake.PushCallback(1, 0, gone.MessageID, "u:"+code1)
	back := h.fake.WaitMessage(t, 1, before)
	waitAnswered(t, h, cb)
	mustContain(t, back.Text, "Voltei a acompanhar", code1, "tênis")
	if p, err := h.st.TrackedPackage(t.Context(), 1, code1); err != nil || p.Description != "tênis" {
		t.Fatalf("not restored with its description: %+v, %v", p, err)
	}
	// A second press finds nothing to undo.
	cb = h.fake.PushCallback(1, 0, gone.MessageID, "u:"+code1)
	waitAnswered(t, h, cb)
}

// TestCodesAsPeopleWriteThem sends codes the way people copy them: in
// groups of three, quoted, inside a link, after a lead-in ending in ":".
// What is saved is the code and a clean name, never a link's parts.
func TestCodesAsPeopleWriteThem(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ text, code, desc string }{
		{"DZ 087 632 119 BR - fone de ouvido", "DZ087632119BR", "fone de ouvido"},
		{`O meu código é "QQ850419295BR", chegou?`, code1, "O meu código é chegou?"},
		{"https://rastreamento.correios.com.br/app/index.php?objetos=QH991577104BR&token=s3cr3t", "QH991577104BR", ""},
		{"Segue o código: LE449872154SE", "LE449872154SE", ""},
	} {
		mustContain(t, h.say(1, tc.text).Text, tc.code)
		p, err := h.st.TrackedPackage(t.Context(), 1, tc.code)
		if err != nil || p.Description != tc.desc {
			t.Errorf("%q saved %s as %q (%v), want %q", tc.text, tc.code, p.Description, err, tc.desc)
		}
	}
	// A phone number next to short words is chatter, not a code.
	mustContain(t, h.say(1, "me liga no 987654321 se precisar").Text, "Não encontrei nenhum código")
}

// TestForwardedMessageKeepsNames forwards a shop's message: it adds its
// codes and names the ones without a name, but never renames a code the
// person already named.
func TestForwardedMessageKeepsNames(t *testing.T) {
	h := newHarness(t)
	mustContain(t, h.say(1, code1+" tênis").Text, "tênis · "+code1)
	forward := func(text string) telegramtest.Call {
		t.Helper()
		before := len(h.fake.Messages(1))
		raw, _ := json.Marshal(map[string]any{"message": map[string]any{
			"message_id": 70, "date": 2, "chat": map[string]any{"id": 1, "type": "private"},
			"from":           map[string]any{"id": 1, "is_bot": false, "first_name": "A"},
			"forward_origin": map[string]any{"type": "hidden_user", "sender_user_name": "Loja", "date": 1},
			"forward_date":   1, "forward_sender_name": "Loja", "text": text,
		}})
		h.waitHandled(h.fake.PushRaw(string(raw)))
		return h.fake.WaitMessage(t, 1, before)
	}
	m := forward("Seu pedido foi enviado " + code1 + " " + code2)
	mustContain(t, m.Text, code1, code2)
	for code, want := range map[string]string{code1: "tênis", code2: "Seu pedido foi enviado"} {
		if p, err := h.st.TrackedPackage(t.Context(), 1, code); err != nil || p.Description != want {
			t.Errorf("%s is %q (%v), want %q", code, p.Description, err, want)
		}
	}
	// The person's own message still renames.
	mustContain(t, h.say(1, code1+" tênis azul").Text, "Descrição atualizada", "tênis azul · "+code1)
}

// A code with 30,000 stored events: the 📜 button sends one message, the
// newest events that fit (at most HistoryMax) and how many came before.
func TestHistoryOfThousandsIsOneMessage(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1+" tênis")
	const total = 30000
	at := time.Date(2024, 3, 5, 17, 32, 0, 0, time.UTC)
	evs := make([]storetest.Event, total)
	for i := range evs {
		evs[i] = storetest.Event{Code: code1, Key: strconv.Itoa(i), Kind: "transit", Description: "Objeto em transferência - por favor aguarde",
			Location: "CAJAMAR/SP", At: at.Add(time.Duration(i-total) * time.Minute)}
	}
	evs[total-1].Kind, evs[total-1].Description, evs[total-1].At = "out_for_delivery", "Objeto saiu para entrega ao destinatário", at
	h.db.AddEvents(evs...)
	list := h.say(1, "/pacotes")
	before := len(h.fake.Messages(1))
	h.press(1, 0, list.MessageID, "h:"+code1)
	got := h.fake.Messages(1)[before:]
	if len(got) != 1 {
		t.Fatalf("the history took %d messages, want one", len(got))
	}
	hist := got[0].Text
	shown := strings.Count(hist, "🕒")
	if shown < 10 || shown > bot.HistoryMax || telegram.TextLen(got[0].Params.Get("text")) > telegram.MaxTextLen {
		t.Fatalf("%d events shown in %d characters, want 10 to %d in one message:\n%s", shown, telegram.TextLen(hist), bot.HistoryMax, hist)
	}
	mustContain(t, hist, fmt.Sprintf("… e mais %d movimentações anteriores", total-shown), "Saiu para entrega")
	if i, j := strings.Index(hist, "anteriores"), strings.Index(hist, "Saiu para entrega"); i > j {
		t.Fatalf("the count of earlier events is not above the oldest shown:\n%s", hist)
	}
}

// A code another chat already tracks: its current status right after the
// confirmation, from SQLite; the tracker then has nothing to announce to
// the new chat until the parcel moves again.
func TestAddedCodeKnownElsewhereGetsItsStatusAtOnce(t *testing.T) {
	h := newHarness(t, func(c *bot.Config) { c.PassInterval = 10 * time.Minute })
	ctx := t.Context()
	first := h.sayAll(1, code1+" tênis")
	mustContain(t, first[0].Text, "Vou consultar o rastreio em até 10 minutos")
	out := tracking.Event{Codigo: "OEC", Tipo: "01", Kind: tracking.KindOutForDelivery,
		Description: "Objeto saiu para entrega ao destinatário", Location: "NITEROI/RJ", At: time.Now().Add(-time.Hour).Truncate(time.Second)}
	if _, err := h.st.SaveResults(ctx, 1, []store.Checked{{Code: code1, Result: tracking.Result{Status: tracking.Found, Provider: "correios",
		Events: []tracking.Event{out}}}}, func(store.Notice) string { return "x" }); err != nil {
		t.Fatal(err)
	}
	h.db.ClearOutbox()

	msgs := h.sayAll(2, code1+" presente\n"+code2)
	if len(msgs) != 2 {
		t.Fatalf("%d replies, want the confirmation and the status", len(msgs))
	}
	mustContain(t, msgs[0].Text, "presente · "+code1, code2, "Os que já têm movimentação vêm com a situação atual logo abaixo",
		"os outros, vou consultar em até 10 minutos")
	if want := message.FirstStatus(code1, "presente", out, false); msgs[1].Text != mustParse(t, want) {
		t.Errorf("status %q, want %q", msgs[1].Text, want)
	}
	// The tracker's catch-up owes chat 2 nothing: it was told.
	if n, err := h.st.CatchUp(ctx, func(store.Notice) string { return "x" }); err != nil || n != 0 {
		t.Fatalf("CatchUp queued %d, %v", n, err)
	}
}

// /pacotes and the promise say when a monthly budget slowed the
// tracker's recent passes, and stop saying it a while after.
func TestSlowedChecksAreSaid(t *testing.T) {
	now := time.Now()
	clock := now
	var mu sync.Mutex
	h := newHarness(t, func(c *bot.Config) {
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	h.st.SetClock(func() time.Time { return now })
	h.sayAll(1, code1)
	mustNotContain(t, h.sayAll(1, "/pacotes")[0].Text, "mais espaçadas")
	if err := h.st.RecordSlowed(t.Context(), []string{"siterastreio"}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, h.sayAll(1, "/pacotes")[0].Text, "Seus pacotes\n⏳ As verificações estão mais espaçadas este mês para caber no limite do provedor.")
	added := h.sayAll(1, code2)[0].Text
	mustContain(t, added, "mais espaçadas", "logo que o limite permitir")
	mustNotContain(t, added, "em até")

	mu.Lock()
	clock = now.Add(bot.SlowedFor + time.Minute)
	mu.Unlock()
	mustNotContain(t, h.sayAll(1, "/pacotes")[0].Text, "mais espaçadas")
	mustContain(t, h.sayAll(1, code3)[0].Text, "em até 3 minutos")
}

// mustParse is html as Telegram shows it.
func mustParse(t testing.TB, html string) string {
	t.Helper()
	s, err := telegramtest.ParseHTML(html)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
