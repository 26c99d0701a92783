package bot_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/bot"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/trackcode"
)

// TestRandomConversationsMatchModel drives the real bot through long
// random conversations in several chats (private ones and groups): codes
// with and without descriptions, several per message, renames, lower-case
// and spaced codes, mistyped codes, /add, /start CODE, /del, the list's
// 🗑 and 📜 buttons, /apagar_meus_dados, chatter, edits, captions, long
// messages, the per-chat cap, the flood limit, groups becoming
// supergroups, replies Telegram fails (502: left to the outbox), and
// restarts of the bot on the same database (some with updates arriving
// while it is down, some in the middle of a burst). A simple model (per
// chat, the ordered codes with their descriptions, and the flood window)
// predicts every reply; after every step the test compares the model with
// the store, with what the person saw, and checks that every update was
// answered exactly once.
//
// It found two bugs (pinned by TestFloodNoteNotSpentOnEdits and
// TestDeepLinkWithMistypedCode). To hunt for more, run more seeds and
// steps for a while, e.g. seeds 1..100 with 500 steps (about 5 minutes).
func TestRandomConversationsMatchModel(t *testing.T) {
	if testing.Short() {
		t.Skip("randomized model test (~6 s); make test runs it")
	}
	var retried, queued int
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r, q := converse(t, seed, 250)
			retried, queued = retried+r, queued+q
		})
	}
	// The seeds between them go down both paths of a 502.
	if retried == 0 || queued == 0 {
		t.Errorf("502s: %d sends retried at once, %d replies left to the outbox; want some of each", retried, queued)
	}
}

// Codes: real ones (the Correios fixtures) and generated ones.
var modelRealCodes = []string{
	"QQ850419295BR", "QH991577104BR", "LE449872154SE", "DG049186226BR", "DG049186230BR",
	"YJ460348417BR", "QP302718234BR", "TF884516597BR", "PJ907948743BR", "OC063908579BR",
	"LY245491512DK", "AM101610575BR",
}

// Descriptions people type: HTML specials, entities typed literally,
// emoji, accents, runs of spaces, one too long.
var modelDescs = []string{
	"tênis", "presente 🎁 da vó", "<b>& presente", "livro > revista", "a<b", "câmera & lente",
	"ação çãõ ÁÉÍ", "fone 🎧 bluetooth", "Tom & Jerry <3", "&amp; literal", "&lt;b&gt;", "capinha",
	"dois   espaços", "x", "tênis 👟 novo", "pedido #123 (loja)", "carregador 65W",
	strings.Repeat("é", 60) + " " + strings.Repeat("ü", 60),
}

var (
	modelListLine = regexp.MustCompile(`^(\d+)\. (?:(.*) · )?([A-Z]{2}[0-9]{9}[A-Z]{2})$`)
	modelBullet   = regexp.MustCompile(`^• (?:(.*) · )?([A-Z]{2}[0-9]{9}[A-Z]{2})$`)
	modelOneCode  = regexp.MustCompile(`O código ([A-Z]{2}[0-9]{9}[A-Z]{2}) parece`)
	modelHeader   = regexp.MustCompile(`^📦 (Seus pacotes|Pacotes do grupo)$`)
	modelCapNote  = regexp.MustCompile(`^(\d+) de no máximo (\d+);`)
)

const listFooter = "📜 histórico · 🗑 parar de acompanhar"

type mPkg struct{ code, desc string }

type mPage struct {
	msgID int
	codes []string
}

type mChat struct {
	id     int64
	person int64 // who writes (a group has a second member, person+1)
	pkgs   []mPkg
	used   int // messages the flood gate let through since the last tick
	warned bool
	pages  []mPage // the last /pacotes
	ask    *mAsk   // an /apagar_meus_dados not answered yet
	erased bool    // its data was erased in this step (its outbox too)
}

type mAsk struct {
	msgID   int
	yes, no string // callback data of the buttons
	askedBy int64
}

func (c *mChat) group() bool { return c.id < 0 }

func (c *mChat) find(code string) int {
	return slices.IndexFunc(c.pkgs, func(p mPkg) bool { return p.code == code })
}

// expectation is what one update makes the bot send to its chat.
type expectation struct {
	what string
	// n messages (list: the pages up to the footer, or the one
	// empty-list message).
	list  bool
	n     int
	check func(msgs []telegramtest.Call) error
}

// after checks what is not a message (toasts, edits) once a step is
// handled.
type afterCheck func(calls []telegramtest.Call) error

type world struct {
	t        *testing.T
	rng      *rand.Rand
	fake     *telegramtest.Server
	db       string
	h        *harness
	capN     int
	flood    int
	clockMu  sync.Mutex
	clock    time.Time
	chats    []*mChat
	codes    []string
	bulk     []string // codes for long messages
	want     map[int64][]expectation
	afters   []afterCheck
	calls    int // calls of the log already checked
	restarts int
	lastID   int
	log      []string // the last updates pushed
	retired  []int64  // groups that became supergroups: nothing more for them
	nextG    int64    // next new group id
}

func (w *world) now() time.Time {
	w.clockMu.Lock()
	defer w.clockMu.Unlock()
	return w.clock
}

// tick lets a flood window pass, in the bot and in the model.
func (w *world) tick() {
	w.clockMu.Lock()
	w.clock = w.clock.Add(61 * time.Second)
	w.clockMu.Unlock()
	for _, c := range w.chats {
		c.used, c.warned = 0, false
	}
}

func (w *world) start() {
	w.h = startBot(w.t, w.fake, w.db, func(c *bot.Config) {
		c.MaxCodesPerChat = w.capN
		c.FloodPerMinute = w.flood
		c.Now = w.now
	})
	for _, c := range w.chats {
		c.used, c.warned = 0, false // a new process, a new flood gate
	}
}

func converse(t *testing.T, seed uint64, steps int) (retried502, queued502 int) {
	rng := rand.New(rand.NewPCG(seed, 0xb07))
	w := &world{
		t: t, rng: rng, fake: telegramtest.New(t), db: t.TempDir() + "/model.db",
		capN: 5 + rng.IntN(9), flood: 8 + rng.IntN(5),
		clock: time.Now(),
		want:  map[int64][]expectation{},
	}
	if seed%4 == 0 {
		w.capN = 40 + rng.IntN(30) // room for long lists
	}
	w.codes = append([]string(nil), modelRealCodes...)
	for range 300 {
		serial := fmt.Sprintf("%08d", rng.IntN(100000000))
		w.bulk = append(w.bulk, fmt.Sprintf("NX%s%dBR", serial, trackcode.CheckDigit(serial)))
	}
	for len(w.codes) < 20 {
		serial := fmt.Sprintf("%08d", rng.IntN(100000000))
		w.codes = append(w.codes, fmt.Sprintf("%c%c%s%d%s", 'A'+rune(rng.IntN(26)), 'A'+rune(rng.IntN(26)), serial, trackcode.CheckDigit(serial), []string{"BR", "CN", "US"}[rng.IntN(3)]))
	}
	for _, id := range []int64{11, 12, 13, -40, -1000000000077} {
		c := &mChat{id: id, person: id}
		if id < 0 {
			c.person = 900 + int64(len(w.chats))*10
			w.fake.SetMember(0, c.person, "administrator") // person+1 is a member
		}
		w.chats = append(w.chats, c)
	}
	w.nextG = -41
	// Telegram fails some replies to private chats with a 502 (groups
	// are left alone: the migration steps need their sends to go out):
	// most only once (the bot's retry goes through), some every time
	// (the reply ends in the outbox).
	frng := rand.New(rand.NewPCG(seed, 0xfa17))
	var fmu sync.Mutex
	stuck := map[string]bool{} // texts Telegram keeps failing
	w.fake.AddRule(func(c *telegramtest.Call) *telegramtest.Fault {
		if c.Method != "sendMessage" || c.ChatID <= 0 {
			return nil
		}
		fmu.Lock()
		defer fmu.Unlock()
		text := c.Params.Get("text")
		switch r := frng.IntN(50); {
		case stuck[text]:
		case r == 0:
			stuck[text] = true
		case r <= 2:
		default:
			return nil
		}
		f := telegramtest.ServerError(502)
		return &f
	})
	w.start()
	t.Logf("cap %d, flood %d a minute", w.capN, w.flood)
	for step := 0; step < steps; step++ {
		switch r := rng.IntN(100); {
		case r < 4:
			w.trace("(a minute passes)")
			w.tick()
		case r < 6:
			w.restart(false)
		case r < 8:
			w.restart(true)
		case r < 11:
			w.migrate(step)
		case r < 13:
			// A burst: past the flood limit.
			c := w.pick()
			for range w.flood + 2 + rng.IntN(3) {
				w.push(c, w.action(c, true))
			}
			w.settle(step)
		default:
			c := w.pick()
			w.push(c, w.action(c, false))
			w.settle(step)
		}
		if t.Failed() {
			t.Logf("the last updates:\n%s", strings.Join(w.log, "\n"))
			t.Fatalf("seed %d: failed at step %d", seed, step)
		}
	}
	w.h.stop()
	if w.fake.Pending() != 0 || w.fake.ConfirmedOffset() != w.lastID+1 {
		t.Fatalf("at the end %d updates unconfirmed, offset %d, want %d", w.fake.Pending(), w.fake.ConfirmedOffset(), w.lastID+1)
	}
	nretried, nqueued := 0, 0
	sends := w.fake.Calls("sendMessage", "sendAnimation")
	for i, c := range sends {
		switch {
		case failed(c) && retried(sends[i+1:], c):
			nretried++
		case failed(c):
			nqueued++
		}
	}
	t.Logf("%d restarts, %d groups became supergroups, %d sends failed with a 502 and retried at once, %d replies left to the outbox, %d calls",
		w.restarts, len(w.retired), nretried, nqueued, len(w.fake.Calls()))
	return nretried, nqueued
}

// trace keeps the last updates, shown when a check fails.
func (w *world) trace(what string) {
	w.log = append(w.log, what)
	if len(w.log) > 40 {
		w.log = w.log[1:]
	}
}

// migrate turns a group into a supergroup: Telegram sends the service
// messages (in either order), and sometimes the bot learns it first from
// a reply Telegram refuses with migrate_to_chat_id. The codes follow the
// chat; a new group joins the conversation.
func (w *world) migrate(step int) {
	i := slices.IndexFunc(w.chats, func(c *mChat) bool { return c.id < 0 && c.id > -1000000000000 })
	if i < 0 {
		return
	}
	c := w.chats[i]
	from, to := c.id, -1000000000000+c.id
	w.trace(fmt.Sprintf("(group %d becomes supergroup %d)", from, to))
	move := func() {
		w.retired = append(w.retired, from)
		c.id = to
		c.used, c.warned, c.pages, c.ask = 0, false, nil, nil
	}
	person := c.person
	service := []func() int{
		func() int {
			return w.fake.PushUpdate(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 9000, From: telegramtest.User(person), Chat: telegramtest.Chat(from), MigrateToChatID: to}})
		},
		func() int {
			return w.fake.PushUpdate(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 1, Chat: telegramtest.Chat(to), MigrateFromChatID: from}})
		},
	}
	if w.rng.IntN(2) == 0 {
		service[0], service[1] = service[1], service[0]
	}
	if w.rng.IntN(2) == 0 {
		// Something said in the group before the upgrade reached the
		// bot: its reply is refused, the bot moves the chat and resends.
		w.fake.Migrate(from, to)
		u := w.addText(c)
		w.trace(u.what)
		ok, warn := c.gate(w.flood)
		move()
		if warn {
			w.expect(c, contains("flood note", "muitas mensagens seguidas"))
		}
		if ok {
			u.handle(w)
		}
		w.lastID = u.push()
	} else {
		move()
	}
	for _, p := range service {
		w.lastID = p()
	}
	w.chats = append(w.chats, &mChat{id: w.nextG, person: 800 - w.nextG})
	w.fake.SetMember(0, 800-w.nextG, "administrator")
	w.nextG--
	w.settle(step)
}

// retried reports whether the bot's next send to f's chat, in later, is
// f again: a reply Telegram failed with a 5xx is retried at once (twice)
// before it is left to the outbox.
func retried(later []telegramtest.Call, f telegramtest.Call) bool {
	for _, c := range later {
		if c.ChatID == f.ChatID && (c.Method == "sendMessage" || c.Method == "sendAnimation") {
			return c.Method == f.Method && c.Params.Get("text") == f.Params.Get("text")
		}
	}
	return false
}

// failed reports whether c is a reply the fault rule failed.
func failed(c telegramtest.Call) bool {
	return c.Method == "sendMessage" && c.Status == 502 && c.ChatID > 0
}

func (w *world) pick() *mChat { return w.chats[w.rng.IntN(len(w.chats))] }

// update is one thing a person does: push sends it, and model (run in
// push order) predicts its effect.
type update struct {
	what   string
	handle func(w *world) // a message's effect once past the flood gate
	push   func() int
	model  func(w *world)
}

// restart stops the bot and starts it again on the same database. With
// burst, updates are pushed just before the stop (the bot may be in the
// middle of them) and while it is down.
func (w *world) restart(burst bool) {
	w.restarts++
	w.trace(fmt.Sprintf("(restart, burst %v)", burst))
	if !burst {
		w.h.stop()
		w.start()
		return
	}
	// Flood windows restart with the process: keep the burst under the
	// limit so the model need not know which process saw which update.
	w.tick()
	per := map[int64]int{}
	var pushes []func() int
	for range 2 + w.rng.IntN(6) {
		c := w.pick()
		if per[c.id] >= w.flood-1 {
			continue
		}
		per[c.id]++
		u := w.action(c, true)
		w.trace(u.what)
		u.model(w) // in push order, so later actions see its effect
		pushes = append(pushes, u.push)
	}
	cut := w.rng.IntN(len(pushes) + 1)
	for _, p := range pushes[:cut] {
		w.lastID = p()
	}
	time.Sleep(time.Duration(w.rng.IntN(3000)) * time.Microsecond)
	w.h.stop()
	for _, p := range pushes[cut:] {
		w.lastID = p()
	}
	w.start()
	w.settle(-1)
	w.tick()
}

func (w *world) push(c *mChat, u update) {
	w.trace(u.what)
	u.model(w)
	w.lastID = u.push()
}

// settle waits until every update pushed is handled and its replies are
// out, then checks everything against the model.
func (w *world) settle(step int) {
	t := w.t
	t.Helper()
	deadline := time.Now().Add(telegramtest.WaitTimeout)
	for w.fake.ConfirmedOffset() <= w.lastID || w.h.b.Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("step %d: update %d not handled within %v (confirmed %d, %d replies queued)", step, w.lastID, telegramtest.WaitTimeout, w.fake.ConfirmedOffset(), w.h.b.Pending())
		}
		time.Sleep(200 * time.Microsecond)
	}
	calls := w.fake.Calls()
	// Every call the bot made was accepted (HTML parsed, buttons fine).
	for _, c := range calls[w.calls:] {
		// (A 400 on a markup edit is "message is not modified": two
		// presses on one list before the bot answered the first.)
		if c.Method != "getUpdates" && !c.OK() && (c.Method != "editMessageReplyMarkup" || c.Status != 400) &&
			(c.Status != 400 || !slices.Contains(w.retired, c.ChatID)) && !failed(c) {
			t.Errorf("step %d: %s to chat %d answered %d: %s (text %q)", step, c.Method, c.ChatID, c.Status, c.Result, c.Params.Get("text"))
		}
	}
	newCalls := calls[w.calls:]
	w.calls = len(calls)
	// A reply Telegram failed with a 5xx waits in the outbox for the
	// tracker: it counts as sent here, and must be in the outbox, once.
	queued := map[int64][]string{}
	for _, q := range w.h.db.Outbox() {
		queued[q.Chat] = append(queued[q.Chat], q.Body)
	}
	w.h.db.ClearOutbox()
	for _, c := range w.chats {
		var msgs []telegramtest.Call
		for i, m := range newCalls {
			if m.ChatID != c.id || (m.Method != "sendMessage" && m.Method != "sendAnimation") {
				continue
			}
			if failed(m) && retried(newCalls[i+1:], m) {
				continue // the bot sent it again at once (the next call has it)
			}
			if failed(m) {
				body := m.Params.Get("text")
				if i := slices.Index(queued[c.id], body); i >= 0 {
					queued[c.id] = slices.Delete(queued[c.id], i, i+1)
				} else if !c.erased {
					t.Errorf("step %d, chat %d: the reply %q Telegram failed is not in the outbox", step, c.id, body)
				}
				m.Text, _ = telegramtest.ParseHTML(body)
			} else if !m.OK() {
				continue
			}
			msgs = append(msgs, m)
		}
		c.erased = false
		for _, body := range queued[c.id] {
			t.Errorf("step %d, chat %d: %q in the outbox", step, c.id, body)
		}
		delete(queued, c.id)
		for _, e := range w.want[c.id] {
			n := e.n
			if n < 0 {
				n = max(len(msgs), 1)
			}
			if e.list {
				n = 1
				for n <= len(msgs) && n > 0 && !strings.HasSuffix(msgs[n-1].Text, listFooter) && !strings.HasPrefix(msgs[0].Text, "Você ainda não") && !strings.HasPrefix(msgs[0].Text, "Este grupo ainda não") {
					n++
				}
			}
			if n > len(msgs) {
				t.Errorf("step %d, chat %d: no reply for %s (want %d more messages, got %d)", step, c.id, e.what, n, len(msgs))
				msgs = nil
				break
			}
			if err := e.check(msgs[:n]); err != nil {
				t.Errorf("step %d, chat %d, %s: %v", step, c.id, e.what, err)
			}
			msgs = msgs[n:]
		}
		for _, m := range msgs {
			t.Errorf("step %d, chat %d: unexpected message %q", step, c.id, m.Text)
		}
		w.want[c.id] = nil
	}
	for id, bodies := range queued {
		t.Errorf("step %d: %q in the outbox for chat %d", step, bodies, id)
	}
	for _, id := range w.retired {
		for _, m := range newCalls {
			if m.ChatID == id && m.OK() && (m.Method == "sendMessage" || m.Method == "sendAnimation") {
				t.Errorf("step %d: %q sent to the group %d after it became a supergroup", step, m.Text, id)
			}
		}
		if ps, err := w.h.st.Packages(t.Context(), id); err != nil || len(ps) > 0 {
			t.Errorf("step %d: the old group %d still holds %d codes (%v)", step, id, len(ps), err)
		}
	}
	for _, a := range w.afters {
		if err := a(newCalls); err != nil {
			t.Errorf("step %d: %v", step, err)
		}
	}
	w.afters = nil
	if ids := w.fake.UnansweredCallbacks(); len(ids) > 0 {
		t.Errorf("step %d: callbacks never answered: %v", step, ids)
	}
	// The store holds exactly the model, chat by chat.
	for _, c := range w.chats {
		ps, err := w.h.st.Packages(t.Context(), c.id)
		if err != nil {
			t.Fatal(err)
		}
		var got []mPkg
		for _, p := range ps {
			got = append(got, mPkg{p.Code, p.Description})
		}
		if !slices.Equal(got, c.pkgs) {
			t.Errorf("step %d, chat %d: store holds\n%q\nmodel\n%q", step, c.id, got, c.pkgs)
		}
	}
}

func (w *world) expect(c *mChat, e expectation) { w.want[c.id] = append(w.want[c.id], e) }

// gate is the flood gate in the model: whether the update is handled and
// whether the flood note goes out.
func (c *mChat) gate(limit int) (ok, warn bool) {
	if c.used < limit {
		c.used++
		c.warned = false
		return true, false
	}
	if c.warned {
		return false, false
	}
	c.warned = true
	return false, true
}

// message is an update carrying text from the chat's person (or, in a
// group, sometimes its other member).
func (w *world) message(c *mChat, text string, handle func(w *world)) update {
	from := c.person
	id := c.id
	return update{
		what:   fmt.Sprintf("chat %d from %d: %q", c.id, from, text),
		push:   func() int { return w.fake.PushMessage(id, from, text) },
		handle: handle,
		model: func(w *world) {
			ok, warn := c.gate(w.flood)
			if warn {
				w.expect(c, contains("flood note", "muitas mensagens seguidas"))
			}
			if ok {
				handle(w)
			}
		},
	}
}

func contains(what string, wants ...string) expectation {
	return expectation{what: what, n: 1, check: func(msgs []telegramtest.Call) error {
		for _, s := range wants {
			if !strings.Contains(msgs[0].Text, s) {
				return fmt.Errorf("%q lacks %q", msgs[0].Text, s)
			}
		}
		return nil
	}}
}

// ---- what people send ----

func (w *world) code() string { return w.codes[w.rng.IntN(len(w.codes))] }

// typed is code as a person may type it: as is, lower case, spaced (a
// spaced code counts only when its check digit matches, see
// trackcode.Find).
func (w *world) typed(code string) string {
	switch w.rng.IntN(6) {
	case 0:
		return strings.ToLower(code)
	case 1:
		if !trackcode.Valid(code) {
			return code
		}
		return code[:2] + " " + code[2:11] + " " + code[11:]
	case 2:
		return strings.ToLower(code[:2]) + code[2:]
	}
	return code
}

func mistype(code string) string {
	d := int(code[10]-'0'+1+byte(len(code)%9)) % 10
	return code[:10] + strconv.Itoa(d) + code[11:]
}

func (w *world) desc() string {
	if w.rng.IntN(4) == 0 {
		return ""
	}
	if w.rng.IntN(3) == 0 {
		return fmt.Sprintf("item %d", w.rng.IntN(50))
	}
	return modelDescs[w.rng.IntN(len(modelDescs))]
}

// stored is the description the bot keeps for typed text.
func stored(d string) string {
	d = strings.Join(strings.Fields(d), " ")
	if r := []rune(d); len(r) > trackcode.MaxDescriptionLen {
		d = strings.TrimSpace(string(r[:trackcode.MaxDescriptionLen-1])) + "…"
	}
	return d
}

// found is a code read from a message with its description.
type found struct{ code, desc string }

// action picks what chat's person does next; quick leaves out what needs
// a reply first (button presses on the list or the erase question are
// still fine: their messages are known).
func (w *world) action(c *mChat, quick bool) update {
	for {
		switch r := w.rng.IntN(100); {
		case r < 3:
			if quick {
				continue
			}
			return w.bigText(c)
		case r < 35:
			return w.addText(c)
		case r < 45:
			return w.addCommand(c)
		case r < 55:
			return w.del(c)
		case r < 63:
			if quick {
				continue
			}
			return w.list(c)
		case r < 70:
			if len(c.pages) == 0 {
				continue
			}
			return w.press(c)
		case r < 74:
			if quick {
				continue
			}
			return w.askErase(c)
		case r < 79:
			if c.ask == nil {
				continue
			}
			return w.answerErase(c)
		case r < 86:
			return w.chatter(c)
		case r < 92:
			return w.mistyped(c)
		default:
			return w.edit(c)
		}
	}
}

// codesText builds a message with 1–5 codes (some repeated, some
// mistyped) and what the bot should read in it.
func (w *world) codesText() (text string, codes []found, bad []string) {
	n := 1 + w.rng.IntN(5)
	var lines []string
	add := func(f found) {
		for i := range codes {
			if codes[i].code == f.code {
				if codes[i].desc == "" {
					codes[i].desc = f.desc
				}
				return
			}
		}
		codes = append(codes, f)
	}
	addBad := func(code string) {
		if !slices.Contains(bad, code) {
			bad = append(bad, code)
		}
	}
	if n > 1 && w.rng.IntN(3) == 0 {
		// One line: the codes share its text.
		d := w.desc()
		var parts []string
		var line []found
		for range n {
			code := w.code()
			if w.rng.IntN(8) == 0 {
				code = mistype(code)
				addBad(code)
			} else {
				line = append(line, found{code, stored(d)})
			}
			parts = append(parts, w.typed(code))
		}
		for _, f := range line {
			add(f)
		}
		sep := []string{" ", ", ", " - ", " | "}[w.rng.IntN(4)]
		text = strings.Join(parts, sep)
		if d != "" {
			text += " " + d
		}
		return text, codes, bad
	}
	for range n {
		code := w.code()
		if w.rng.IntN(10) == 0 && len(codes) > 0 {
			code = codes[0].code // the same code twice
		}
		d := w.desc()
		if w.rng.IntN(10) == 0 {
			code = mistype(code)
			addBad(code)
		} else {
			add(found{code, stored(d)})
		}
		var line string
		switch {
		case d == "":
			line = w.typed(code)
		case w.rng.IntN(4) == 0 && !strings.ContainsAny(d[len(d)-1:], "-:;,|=*"):
			line = d + ": " + w.typed(code)
		case w.rng.IntN(3) == 0:
			line = w.typed(code) + " - " + d
		default:
			line = w.typed(code) + " " + d
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), codes, bad
}

// bigText is a long message: 15–65 lines of codes, mostly ones no chat
// has seen, past the 50 a message may carry.
func (w *world) bigText(c *mChat) update {
	var lines []string
	var codes []found
	var bad []string
	truncated := false
	for range 15 + w.rng.IntN(51) {
		code := w.bulk[w.rng.IntN(len(w.bulk))]
		if w.rng.IntN(5) == 0 {
			code = w.code()
		}
		d := w.desc()
		if w.rng.IntN(25) == 0 {
			code = mistype(code)
			if !slices.Contains(bad, code) {
				bad = append(bad, code)
			}
			lines = append(lines, code+" "+d)
			continue
		}
		lines = append(lines, strings.TrimSpace(w.typed(code)+" "+d))
		switch i := slices.IndexFunc(codes, func(f found) bool { return f.code == code }); {
		case i >= 0:
			if codes[i].desc == "" {
				codes[i].desc = stored(d)
			}
		case len(codes) == trackcode.MaxPerMessage:
			truncated = true
		default:
			codes = append(codes, found{code, stored(d)})
		}
	}
	text := strings.Join(lines, "\n")
	return w.message(c, text, func(w *world) {
		w.modelAddN(c, codes, bad, truncated, -1, fmt.Sprintf("%d lines of codes", len(lines)))
	})
}

func (w *world) addText(c *mChat) update {
	text, codes, bad := w.codesText()
	u := w.message(c, text, func(w *world) { w.modelAdd(c, codes, bad, "text "+strconv.Quote(text)) })
	if w.rng.IntN(8) == 0 {
		// The codes in a photo's caption.
		id, from := c.id, c.person
		u.what = fmt.Sprintf("chat %d from %d: photo captioned %q", c.id, from, text)
		u.push = func() int {
			m := w.fake.NewMessage(id, from, "")
			m.Caption = text
			m.Photo = []tgbotapi.PhotoSize{{FileID: "photo", FileUniqueID: "p", Width: 90, Height: 90}}
			return w.fake.PushUpdate(tgbotapi.Update{Message: m})
		}
	}
	return u
}

func (w *world) addCommand(c *mChat) update {
	code := w.code()
	switch w.rng.IntN(6) {
	case 0:
		text := "/start " + code
		if w.rng.IntN(4) == 0 {
			// A deep link with a mistyped code.
			bad := mistype(code)
			text = "/start " + bad
			return w.message(c, text, func(w *world) { w.expectMistyped(c, []string{bad}, text) })
		}
		return w.message(c, text, func(w *world) { w.modelAdd(c, []found{{code, ""}}, nil, text) })
	case 1:
		return w.message(c, "/add", func(w *world) { w.expect(c, contains("/add usage", "/add "+"QQ850419295BR")) })
	}
	d := w.desc()
	cmd := []string{"/add", "/rastrear", "/add@" + telegramtest.BotUserName}[w.rng.IntN(3)]
	text := strings.TrimSpace(cmd + " " + w.typed(code) + " " + d)
	return w.message(c, text, func(w *world) { w.modelAdd(c, []found{{code, stored(d)}}, nil, text) })
}

// modelAdd applies codes to the model as AddPackages does and expects the
// confirmation to name every code in its place.
func (w *world) modelAdd(c *mChat, codes []found, bad []string, what string) {
	w.modelAddN(c, codes, bad, false, 1, what)
}

// modelAddN is modelAdd for a reply of n messages (-1: however many the
// step brings), truncated when the message had more than 50 codes.
func (w *world) modelAddN(c *mChat, codes []found, bad []string, truncated bool, nmsgs int, what string) {
	if len(codes) == 0 {
		w.expectMistyped(c, bad, what)
		return
	}
	var added, renamed, kept []mPkg
	var over []string
	n := len(c.pkgs)
	for _, f := range codes {
		if i := c.find(f.code); i >= 0 {
			if f.desc == "" || f.desc == c.pkgs[i].desc {
				kept = append(kept, c.pkgs[i])
				continue
			}
			c.pkgs[i].desc = f.desc
			renamed = append(renamed, c.pkgs[i])
			continue
		}
		if n >= w.capN {
			over = append(over, f.code)
			continue
		}
		n++
		c.pkgs = append(c.pkgs, mPkg(f))
		added = append(added, mPkg(f))
	}
	capN := w.capN
	w.expect(c, expectation{what: what, n: nmsgs, check: func(msgs []telegramtest.Call) error {
		var texts []string
		for _, m := range msgs {
			texts = append(texts, m.Text)
		}
		text := strings.Join(texts, "\n")
		sec := map[string][]mPkg{}
		cur := ""
		var gotBad []string
		more := map[string]int{} // section → N of its "… e mais N"
		for _, l := range strings.Split(text, "\n") {
			switch {
			case strings.HasPrefix(l, "… e mais "):
				n, err := strconv.Atoi(strings.TrimPrefix(l, "… e mais "))
				if err != nil {
					return fmt.Errorf("unreadable line %q", l)
				}
				more[cur] = n
			case strings.HasPrefix(l, "✅ "):
				cur = "added"
			case strings.HasPrefix(l, "✏️ "):
				cur = "renamed"
			case strings.HasPrefix(l, "📌 "):
				cur = "kept"
			case strings.HasPrefix(l, "🚫 "):
				cur = "over"
				if !strings.Contains(l, fmt.Sprintf("máximo de %d códigos", capN)) {
					return fmt.Errorf("cap line %q", l)
				}
			case strings.HasPrefix(l, "🤔 "):
				cur = "bad"
				if m := modelOneCode.FindStringSubmatch(l); m != nil {
					gotBad = append(gotBad, m[1])
				}
			case modelBullet.MatchString(l):
				m := modelBullet.FindStringSubmatch(l)
				if cur == "bad" {
					gotBad = append(gotBad, m[2])
				} else {
					sec[cur] = append(sec[cur], mPkg{m[2], m[1]})
				}
			case strings.HasPrefix(l, "•"):
				return fmt.Errorf("unreadable line %q", l)
			}
		}
		var gotOver []string
		for _, p := range sec["over"] {
			gotOver = append(gotOver, p.code)
		}
		switch {
		case !slices.Equal(sec["added"], added):
			return fmt.Errorf("added %q, want %q in\n%s", sec["added"], added, text)
		case !slices.Equal(sec["renamed"], renamed):
			return fmt.Errorf("renamed %q, want %q in\n%s", sec["renamed"], renamed, text)
		case !slices.Equal(sec["kept"], kept):
			return fmt.Errorf("kept %q, want %q in\n%s", sec["kept"], kept, text)
		case !slices.Equal(gotOver, listed(over)) || more["over"] != len(over)-len(listed(over)):
			return fmt.Errorf("over the cap %q and %d more, want %q in\n%s", gotOver, more["over"], over, text)
		case !slices.Equal(gotBad, listed(bad)) || more["bad"] != len(bad)-len(listed(bad)):
			return fmt.Errorf("mistyped %q and %d more, want %q in\n%s", gotBad, more["bad"], bad, text)
		case len(sec[""]) > 0:
			return fmt.Errorf("codes outside a section: %q", sec[""])
		case (len(added) > 0) != strings.Contains(text, "Vou consultar o rastreio em até 3 minutos"):
			return fmt.Errorf("first-status line wrong in\n%s", text)
		case truncated != strings.Contains(text, "Li só os 50 primeiros códigos"):
			return fmt.Errorf("truncated %v, but the reply says\n%s", truncated, text)
		}
		return nil
	}})
}

func (w *world) expectMistyped(c *mChat, bad []string, what string) {
	w.expect(c, expectation{what: what, n: 1, check: func(msgs []telegramtest.Call) error {
		text := msgs[0].Text
		if !strings.Contains(text, "erro de digitação") {
			return fmt.Errorf("not the mistyped answer: %q", text)
		}
		var got []string
		for _, l := range strings.Split(text, "\n") {
			if m := modelOneCode.FindStringSubmatch(l); m != nil {
				got = append(got, m[1])
			} else if m := modelBullet.FindStringSubmatch(l); m != nil {
				got = append(got, m[1])
			}
		}
		if !slices.Equal(got, bad) {
			return fmt.Errorf("mistyped %q, want %q in\n%s", got, bad, text)
		}
		return nil
	}})
}

func (w *world) mistyped(c *mChat) update {
	code := mistype(w.code())
	text := w.typed(code) + " " + w.desc()
	if w.rng.IntN(3) == 0 {
		text = "/add " + text
	}
	return w.message(c, text, func(w *world) { w.expectMistyped(c, []string{code}, "mistyped "+text) })
}

func (w *world) del(c *mChat) update {
	code := w.code()
	if len(c.pkgs) > 0 && w.rng.IntN(3) > 0 {
		code = c.pkgs[w.rng.IntN(len(c.pkgs))].code
	}
	if w.rng.IntN(8) == 0 {
		code = mistype(code)
	}
	text := []string{"/del ", "/remover ", "/remove "}[w.rng.IntN(3)] + w.typed(code)
	return w.message(c, text, func(w *world) { w.modelRemove(c, code, text) })
}

func (w *world) modelRemove(c *mChat, code, what string) {
	i := c.find(code)
	want := "Você não acompanha " + code + ". Veja /pacotes."
	if c.group() {
		want = "Este grupo não acompanha " + code + ". Veja /pacotes."
	}
	if i >= 0 {
		want = removedLine(c.pkgs[i])
		c.pkgs = slices.Delete(c.pkgs, i, i+1)
	}
	w.expect(c, expectation{what: what, n: 1, check: func(msgs []telegramtest.Call) error {
		if msgs[0].Text != want {
			return fmt.Errorf("got %q, want %q", msgs[0].Text, want)
		}
		return nil
	}})
}

func removedLine(p mPkg) string {
	s := "🗑 Pronto, parei de acompanhar " + p.code
	if p.desc != "" {
		s += " (" + p.desc + ")"
	}
	return s + "."
}

func (w *world) list(c *mChat) update {
	text := []string{"/pacotes", "/list", "/lista"}[w.rng.IntN(3)]
	return w.message(c, text, func(w *world) {
		want := slices.Clone(c.pkgs)
		capN := w.capN
		c.pages = nil
		w.expect(c, expectation{what: text, list: true, check: func(msgs []telegramtest.Call) error {
			if len(want) == 0 {
				if !strings.HasPrefix(msgs[0].Text, "Você ainda não acompanha nenhum pacote") && !strings.HasPrefix(msgs[0].Text, "Este grupo ainda não acompanha nenhum pacote") {
					return fmt.Errorf("empty list: %q", msgs[0].Text)
				}
				return nil
			}
			var got []mPkg
			for pi, m := range msgs {
				var kb tgbotapi.InlineKeyboardMarkup
				if err := json.Unmarshal([]byte(m.Params.Get("reply_markup")), &kb); err != nil {
					return fmt.Errorf("page %d buttons: %v", pi, err)
				}
				page := mPage{msgID: m.MessageID}
				for _, l := range strings.Split(m.Text, "\n") {
					if h := modelHeader.FindStringSubmatch(l); h != nil {
						title := "Seus pacotes"
						if c.group() {
							title = "Pacotes do grupo"
						}
						if pi != 0 || h[1] != title {
							return fmt.Errorf("header %q on page %d, want %s", l, pi, title)
						}
					}
					if h := modelCapNote.FindStringSubmatch(l); h != nil && (h[1] != strconv.Itoa(len(want)) || h[2] != strconv.Itoa(capN)) {
						return fmt.Errorf("cap note %q, want %d of %d", l, len(want), capN)
					}
					lm := modelListLine.FindStringSubmatch(l)
					if lm == nil {
						continue
					}
					if lm[1] != strconv.Itoa(len(got)+1) {
						return fmt.Errorf("item numbered %s, want %d", lm[1], len(got)+1)
					}
					got = append(got, mPkg{lm[3], lm[2]})
					page.codes = append(page.codes, lm[3])
				}
				var buttons []string
				for _, row := range kb.InlineKeyboard {
					for _, b := range row {
						if b.CallbackData != nil && strings.HasPrefix(*b.CallbackData, "d:") {
							buttons = append(buttons, strings.TrimPrefix(*b.CallbackData, "d:"))
						}
					}
				}
				if !slices.Equal(buttons, page.codes) {
					return fmt.Errorf("page %d: 🗑 buttons %q for codes %q", pi, buttons, page.codes)
				}
				if m.MessageID != 0 { // (not a page left to the outbox, without buttons)
					c.pages = append(c.pages, page)
				}
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("list shows\n%q\nmodel\n%q", got, want)
			}
			return nil
		}})
	})
}

// press presses 🗑 (or sometimes 📜) under a code of the last list, which
// may be gone by now.
func (w *world) press(c *mChat) update {
	page := c.pages[w.rng.IntN(len(c.pages))]
	code := page.codes[w.rng.IntN(len(page.codes))]
	history := w.rng.IntN(4) == 0
	data := "d:" + code
	if history {
		data = "h:" + code
	}
	var cbID string
	return update{
		what: fmt.Sprintf("chat %d presses %s on message %d", c.id, data, page.msgID),
		push: func() int {
			cbID = w.fake.PushCallback(c.id, c.person, page.msgID, data)
			return w.lastID + 1
		},
		model: func(w *world) {
			ok, _ := c.gate(w.flood)
			wantToast := "⏳ Muitos toques seguidos; espere um minutinho."
			i := c.find(code)
			switch {
			case !ok:
			case history && i >= 0:
				wantToast = ""
				first := "📜 " + code
				if d := c.pkgs[i].desc; d != "" {
					first = "📜 " + d + " · " + code
				}
				w.expect(c, expectation{what: "📜 " + code, n: 1, check: func(msgs []telegramtest.Call) error {
					if l, _, _ := strings.Cut(msgs[0].Text, "\n"); l != first {
						return fmt.Errorf("history starts %q, want %q", l, first)
					}
					return nil
				}})
			case history:
				wantToast = "Esse código não está mais na lista."
			case i >= 0:
				wantToast = "Removido"
				want := strings.TrimSuffix(removedLine(c.pkgs[i]), ".") + ". Tocou sem querer? Dá para desfazer por 1 minuto."
				c.pkgs = slices.Delete(c.pkgs, i, i+1)
				w.expect(c, expectation{what: "🗑 " + code, n: 1, check: func(msgs []telegramtest.Call) error {
					if msgs[0].Text != want {
						return fmt.Errorf("got %q, want %q", msgs[0].Text, want)
					}
					return nil
				}})
			default:
				wantToast = "Esse código já tinha saído da lista."
			}
			w.afters = append(w.afters, func(calls []telegramtest.Call) error {
				return toast(calls, cbID, wantToast)
			})
		},
	}
}

func toast(calls []telegramtest.Call, id, want string) error {
	for _, c := range calls {
		if c.Method == "answerCallbackQuery" && c.Params.Get("callback_query_id") == id {
			if got := c.Params.Get("text"); got != want {
				return fmt.Errorf("callback %s answered %q, want %q", id, got, want)
			}
			return nil
		}
	}
	return fmt.Errorf("callback %s not answered", id)
}

func (w *world) askErase(c *mChat) update {
	return w.message(c, "/apagar_meus_dados", func(w *world) {
		n := len(c.pkgs)
		w.expect(c, expectation{what: "/apagar_meus_dados", n: 1, check: func(msgs []telegramtest.Call) error {
			m := msgs[0]
			what := "o número desta conversa"
			if c.group() {
				what = "o número deste grupo"
			}
			switch {
			case n == 1:
				what = "1 código com a sua descrição"
			case n > 1:
				what = fmt.Sprintf("%d códigos com as suas descrições", n)
			}
			if !strings.Contains(m.Text, "apaga tudo que guardo daqui: "+what) {
				return fmt.Errorf("ask %q lacks %q", m.Text, what)
			}
			var kb tgbotapi.InlineKeyboardMarkup
			if err := json.Unmarshal([]byte(m.Params.Get("reply_markup")), &kb); err != nil || len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 2 {
				return fmt.Errorf("ask buttons %s", m.Params.Get("reply_markup"))
			}
			if m.MessageID == 0 {
				return nil // left to the outbox, without its buttons
			}
			c.ask = &mAsk{msgID: m.MessageID, yes: *kb.InlineKeyboard[0][0].CallbackData, no: *kb.InlineKeyboard[0][1].CallbackData, askedBy: c.person}
			return nil
		}})
	})
}

func (w *world) answerErase(c *mChat) update {
	ask := c.ask
	yes := w.rng.IntN(3) > 0
	data := ask.no
	if yes {
		data = ask.yes
	}
	from := ask.askedBy
	if c.group() && w.rng.IntN(4) == 0 {
		from++ // another member of the group
	}
	var cbID string
	return update{
		what: fmt.Sprintf("chat %d: %d presses %s on message %d", c.id, from, data, ask.msgID),
		push: func() int {
			cbID = w.fake.PushCallback(c.id, from, ask.msgID, data)
			return w.lastID + 1
		},
		model: func(w *world) {
			ok, _ := c.gate(w.flood)
			wantToast, wantEdit := "⏳ Muitos toques seguidos; espere um minutinho.", ""
			switch {
			case !ok:
			case from != ask.askedBy:
				wantToast = "Só quem pediu pode confirmar."
			case yes:
				n := len(c.pkgs)
				c.pkgs = nil
				c.erased = true
				c.pages = nil
				c.ask = nil
				wantToast = "Dados apagados"
				wantEdit = fmt.Sprintf("(%d %s)", n, map[bool]string{true: "código", false: "códigos"}[n == 1])
			default:
				c.ask = nil
				wantToast = ""
				wantEdit = "não apaguei nada"
			}
			w.afters = append(w.afters, func(calls []telegramtest.Call) error {
				if err := toast(calls, cbID, wantToast); err != nil {
					return err
				}
				if wantEdit == "" {
					return nil // (the toast tells; another press may edit it in the same step)
				}
				var edits []string
				for _, e := range calls {
					if e.Method == "editMessageText" && e.ChatID == c.id && e.MessageID == ask.msgID {
						if strings.Contains(e.Text, wantEdit) {
							return nil
						}
						edits = append(edits, e.Text)
					}
				}
				return fmt.Errorf("chat %d: erase question edited to %q, want it to say %q", c.id, edits, wantEdit)
			})
		},
	}
}

func (w *world) chatter(c *mChat) update {
	switch w.rng.IntN(4) {
	case 3:
		// A command for another bot in the group: not ours.
		text := "/add@OutroBot " + w.code() + " " + w.desc()
		return w.message(c, text, func(w *world) {})
	case 0:
		return w.message(c, "/ajuda", func(w *world) { w.expect(c, contains("/ajuda", "Como usar", "/pacotes")) })
	case 1:
		return w.message(c, "/comando_que_nao_existe", func(w *world) {
			if !c.group() {
				w.expect(c, contains("unknown command", "Não conheço o comando /comando_que_nao_existe"))
			}
		})
	}
	text := []string{"bom dia!", "chegou? 🤔", "quanto tempo demora <isso> & aquilo", "ABC123"}[w.rng.IntN(4)]
	return w.message(c, text, func(w *world) {
		if !c.group() {
			w.expect(c, contains("no code", "Não encontrei nenhum código"))
		}
	})
}

// edit is an edited message: its codes count (the answer as for a new
// message), anything else is ignored silently.
func (w *world) edit(c *mChat) update {
	text, codes, bad := w.codesText()
	switch w.rng.IntN(6) {
	case 0:
		text, codes = "corrigindo: "+mistype(w.code()), nil
	case 1:
		text, codes = "/add "+text, nil // an edited command does nothing
	}
	from := c.person
	return update{
		what: fmt.Sprintf("chat %d edits to %q", c.id, text),
		push: func() int {
			return w.fake.PushUpdate(tgbotapi.Update{EditedMessage: w.fake.NewMessage(c.id, from, text)})
		},
		model: func(w *world) {
			// A dropped edit is silent: it does not use up the chat's
			// one flood note.
			// A dropped edit is silent: it leaves the burst's one flood
			// note for the next message.
			if c.used >= w.flood {
				return
			}
			c.gate(w.flood)
			if len(codes) > 0 {
				w.modelAdd(c, codes, bad, "edit "+strconv.Quote(text))
			}
		},
	}
}

// listed is what a reply names of a list of refused codes: the first 20
// (then "… e mais N").
func listed(codes []string) []string {
	if len(codes) > 20 {
		return codes[:20]
	}
	return codes
}
