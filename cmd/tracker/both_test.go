package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/bot"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/store/storetest"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/trackcode"
)

// TestBotAndTrackerTogether runs, on one SQLite file, the real bot (its
// update loop, store and Telegram client, in this process, as cmd/bot
// wires them) and the real tracker (this test binary re-executed, so a
// separate process with its own connection and lock, pass after pass,
// some killed with SIGKILL), both against the same fake Telegram, while
// people in several chats add, rename and remove codes, list them, erase
// their data and come back after blocking the bot (first words: /del of
// a code whose notifications were kept while the chat was paused), and
// the parcels keep getting new events. It lives in cmd/tracker because
// the re-exec helper (TestMain's child mode) is here; the bot is reachable
// through its exported package, so no test-only API is exported.
//
// Then: no "database is locked" anywhere, no panic, every pass not killed
// exits 0; every update got exactly one reply, in order, saying the
// right thing; per chat and code, the notifications (identical repeats
// set aside, at most 4 per kill) form one contiguous run of events that
// ends at the newest for the codes still tracked (codes added while a
// pass ran included); after a removal (/del or /apagar_meus_dados) is
// confirmed, the chat gets at most the one notification about that code
// that was in flight (the chat's first to arrive afterwards, from a pass
// already running), and none about an event that appeared after the
// confirmation; the database matches what the people did and the outbox
// ends empty.
//
// It found that the sender sent messages it held in memory after their
// rows were dropped by a removal (TestSenderDropsMessagesRemovedWhileHeld).
// To hunt with other seeds: RASTREIO_BOTH_SEED=n go test -run BotAndTracker.
func TestBotAndTrackerTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("randomized soak (~12 s); make test runs it")
	}
	seed := uint64(2026)
	if s := os.Getenv("RASTREIO_BOTH_SEED"); s != "" { // to hunt with other seeds
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	w := newTogether(t, seed)
	w.startBot()
	w.startTracker()
	for end := time.Now().Add(togetherDriveFor); time.Now().Before(end); {
		w.step()
	}
	w.everyoneComesBack()
	w.settle()

	kills := w.checkPasses()
	w.checkReplies()
	notified, repeats := w.checkNotifications(kills)
	w.checkRemovals()
	w.checkDatabase()
	if len(w.addedMidPass) == 0 || len(w.removals) == 0 || kills == 0 || w.erased == 0 || w.unblocked == 0 || w.removedQueued == 0 {
		t.Errorf("the run did not cover its cases: %d adds mid-pass, %d removals, %d kills, %d erasures, %d unblocks, %d removals with notifications queued",
			len(w.addedMidPass), len(w.removals), kills, w.erased, w.unblocked, w.removedQueued)
	}
	t.Logf("%d steps; %d passes, %d killed; %d adds mid-pass, %d removals (%d erasures, %d with notifications queued), %d unblocks; %d notifications, %d repeats (bound %d)",
		w.steps, len(w.passes), kills, len(w.addedMidPass), len(w.removals), w.erased, w.removedQueued, w.unblocked, notified, repeats, 4*kills)
}

const (
	togetherCodes    = 18
	togetherMaxCodes = 3 // per chat, so a pass delivers to a chat within ~2 s (1 s apart)
	togetherDriveFor = 7 * time.Second
)

var (
	// notice is how a tracker notification starts: the code it is about.
	notice = regexp.MustCompile(`^📦 (?:[^\n]* · )?([A-Z]{2}[0-9]{9}[A-Z]{2})(?:\n|$)`)
	// eventMark is an event text of the fake parcels: its code and number.
	eventMark = regexp.MustCompile(`ev-(QQ[0-9]{9}BR)-([0-9]+)`)
	// badOutput is what no program may ever print.
	badOutput = regexp.MustCompile(`database is locked|SQLITE_BUSY|panic|goroutine \d+ \[`)
)

// together is TestBotAndTrackerTogether's world: the parcels on fake
// Correios, the bot running in this process, the tracker's passes as
// child processes, and a model of what each person did.
type together struct {
	t     *testing.T
	f     *fixture
	seed  uint64
	rng   *rand.Rand // the people's choices
	chats []int64
	codes []string
	db    *storetest.DB

	// The parcels: event texts unique per code, as in the soak tests.
	pmu      sync.Mutex             // history, appeared
	history  map[string]int         // events per code so far
	appeared map[string][]time.Time // when event i became visible
	start    time.Time              // of the first event

	// The bot, wired as cmd/bot does.
	b       *bot.Bot
	botLog  syncBuffer
	stopBot context.CancelFunc
	botDone chan error

	// The tracker: pass after pass, like Restart=always with a short
	// RestartSec; about one pass in four killed with SIGKILL.
	passMu      sync.Mutex // passes, running
	passes      []*passRec
	running     *passRec
	stopTracker chan struct{}
	trackerDone chan struct{}

	// The people. A model per chat: the codes it tracks, the codes it
	// ever tracked (a chat never adds one twice, so each (chat, code) is
	// tracked over one span), and its expected replies.
	model        map[int64]*chatModel
	removals     []removal
	addedMidPass map[[2]string]bool // chat, code added while a pass ran
	lastUpdate   int

	steps, erased, unblocked, removedQueued int
}

type passRec struct {
	start, end time.Time
	killed     bool
	err        error
	out        *syncBuffer
}

type removal struct {
	chat int64
	code string
	at   time.Time // when the confirmation reached Telegram
}

type chatModel struct {
	tracked []string
	desc    map[string]string
	used    map[string]bool
	replies int // bot replies seen so far
	blocked bool
}

// pending is an update pushed in a step and what its reply must say.
type pending struct {
	chat  int64
	what  string
	check func(telegramtest.Call)
	wants []string
}

func newTogether(t *testing.T, seed uint64) *together {
	f := newFixture(t)
	f.tg.SetLatency(5 * time.Millisecond)
	w := &together{
		t: t, f: f, seed: seed,
		rng:          rand.New(rand.NewPCG(seed, 12)),
		chats:        []int64{101, 102, 103, 104, 105, 106},
		codes:        make([]string, togetherCodes),
		db:           storetest.Open(t, f.db),
		history:      map[string]int{},
		appeared:     map[string][]time.Time{},
		start:        time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC),
		model:        map[int64]*chatModel{},
		addedMidPass: map[[2]string]bool{},
	}
	for i := range w.codes {
		serial := fmt.Sprintf("%08d", 51000000+7919*i)
		code := fmt.Sprintf("QQ%s%dBR", serial, trackcode.CheckDigit(serial))
		if !trackcode.Valid(code) {
			t.Fatalf("generated code %s is not valid", code)
		}
		w.codes[i] = code
		w.history[code] = 1
		w.setObject(code)
	}
	for _, c := range w.chats {
		w.model[c] = &chatModel{desc: map[string]string{}, used: map[string]bool{}}
	}
	return w
}

// setObject puts code's history on fake Correios (call with pmu held, or
// before the tracker starts).
func (w *together) setObject(code string) {
	type event struct {
		Codigo     string `json:"codigo"`
		Tipo       string `json:"tipo"`
		DtHrCriado string `json:"dtHrCriado"`
		Descricao  string `json:"descricao"`
	}
	brt := time.FixedZone("BRT", -3*60*60)
	var evs []event
	for i := w.history[code] - 1; i >= 0; i-- {
		evs = append(evs, event{Codigo: "RO", Tipo: "01", Descricao: fmt.Sprintf("ev-%s-%d", code, i),
			DtHrCriado: w.start.Add(time.Duration(i) * time.Hour).In(brt).Format("2006-01-02T15:04:05")})
	}
	b, _ := json.Marshal(map[string]any{"codObjeto": code, "eventos": evs})
	w.f.correios.SetObject(code, b)
	for len(w.appeared[code]) < w.history[code] {
		w.appeared[code] = append(w.appeared[code], time.Now())
	}
}

// startBot runs the bot in this process, as cmd/bot wires it.
func (w *together) startBot() {
	t, f := w.t, w.f
	st, err := store.Open(t.Context(), f.db, store.ManualCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	botCtx, stopBot := context.WithCancel(context.Background())
	t.Cleanup(stopBot)
	api, err := telegram.New(botCtx, f.tg.Token, f.tg.Endpoint(), telegram.Options{SkipGetMe: true, HTTPClient: bot.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	confirm, err := telegram.New(context.Background(), f.tg.Token, f.tg.Endpoint(), telegram.Options{SkipGetMe: true})
	if err != nil {
		t.Fatal(err)
	}
	w.b = bot.New(bot.Config{
		Store: st, API: api, Confirm: confirm,
		BotID: telegramtest.BotID, UserName: telegramtest.BotUserName,
		MaxCodesPerChat: 100, Providers: []string{"correios"},
		PollTimeout: 1, MinBackoff: 10 * time.Millisecond,
		FloodPerMinute: 1 << 20, // the flood limit is the model test's business
		Log:            slog.New(slog.NewTextHandler(&w.botLog, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	w.b.Setup(botCtx)
	w.stopBot = stopBot
	w.botDone = make(chan error, 1)
	go func() { w.botDone <- w.b.Run(botCtx) }()
}

// runPass runs one tracker pass as a child process; kill says after how
// long to SIGKILL it (negative: never).
func (w *together) runPass(kill time.Duration) *passRec {
	rec := &passRec{start: time.Now(), out: &syncBuffer{}}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for k, v := range w.f.env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = rec.out, rec.out
	w.passMu.Lock()
	w.passes = append(w.passes, rec)
	w.running = rec
	w.passMu.Unlock()
	if rec.err = cmd.Start(); rec.err == nil {
		if kill >= 0 {
			time.Sleep(kill)
			rec.killed = cmd.Process.Signal(syscall.SIGKILL) == nil
		}
		rec.err = cmd.Wait()
	}
	w.passMu.Lock()
	rec.end = time.Now()
	w.running = nil
	w.passMu.Unlock()
	return rec
}

func (w *together) passRunning() bool {
	w.passMu.Lock()
	defer w.passMu.Unlock()
	return w.running != nil
}

// startTracker runs passes one after another until settle, the parcels
// moving between passes and about one pass in three killed.
func (w *together) startTracker() {
	w.stopTracker = make(chan struct{})
	w.trackerDone = make(chan struct{})
	go func() {
		defer close(w.trackerDone)
		trng := rand.New(rand.NewPCG(w.seed, 13))
		for {
			select {
			case <-w.stopTracker:
				return
			default:
			}
			w.pmu.Lock()
			for _, code := range w.codes {
				if trng.Float64() < 0.35 {
					w.history[code] += 1 + trng.IntN(2)
					w.setObject(code)
				}
			}
			w.pmu.Unlock()
			killAt := time.Duration(-1)
			if trng.IntN(3) == 0 {
				killAt = time.Duration(trng.IntN(1500)) * time.Millisecond
			}
			w.runPass(killAt)
			time.Sleep(time.Duration(20+trng.IntN(100)) * time.Millisecond)
		}
	}()
}

// botReplies are the bot's messages to chat (the tracker's notifications
// left out).
func (w *together) botReplies(chat int64) []telegramtest.Call {
	var out []telegramtest.Call
	for _, m := range w.f.tg.Messages(chat) {
		if !notice.MatchString(m.Text) {
			out = append(out, m)
		}
	}
	return out
}

// waitHandled waits until the bot confirmed the last update pushed and
// sent every reply.
func (w *together) waitHandled() {
	w.t.Helper()
	w.f.tg.WaitOffset(w.t, w.lastUpdate+1)
	deadline := time.Now().Add(telegramtest.WaitTimeout)
	for w.b.Pending() > 0 {
		if time.Now().After(deadline) {
			w.t.Fatalf("%d replies still queued after %v", w.b.Pending(), telegramtest.WaitTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// expectOne checks chat got exactly one new reply since the last step
// and returns it.
func (w *together) expectOne(chat int64, what string, wants ...string) (telegramtest.Call, bool) {
	w.t.Helper()
	m := w.model[chat]
	rs := w.botReplies(chat)
	if len(rs) != m.replies+1 {
		var texts []string
		for _, r := range rs[min(m.replies, len(rs)):] {
			texts = append(texts, r.Text)
		}
		w.t.Errorf("chat %d, %s: %d replies, want 1: %q", chat, what, len(rs)-m.replies, texts)
		m.replies = len(rs)
		return telegramtest.Call{}, false
	}
	m.replies = len(rs)
	r := rs[len(rs)-1]
	for _, want := range wants {
		if !strings.Contains(r.Text, want) {
			w.t.Errorf("chat %d, %s: reply %q lacks %q", chat, what, r.Text, want)
		}
	}
	return r, true
}

// push sends text from chat to the bot.
func (w *together) push(chat int64, text string) { w.lastUpdate = w.f.tg.PushMessage(chat, 0, text) }

// step has some people do one thing each at once (the bot handles chats
// concurrently), waits until all is handled and checks each reply.
func (w *together) step() {
	w.steps++
	var batch []pending
	for _, chat := range w.chats {
		if w.rng.IntN(3) != 0 {
			continue
		}
		if w.model[chat].blocked {
			if w.rng.IntN(3) == 0 {
				batch = append(batch, w.comeBack(chat))
			}
			continue
		}
		if p, ok := w.act(chat); ok {
			batch = append(batch, p)
		}
	}
	if len(batch) == 0 {
		return
	}
	w.waitHandled()
	for _, p := range batch {
		if r, ok := w.expectOne(p.chat, p.what, p.wants...); ok && p.check != nil {
			p.check(r)
		}
	}
	time.Sleep(time.Duration(20+w.rng.IntN(80)) * time.Millisecond)
}

// comeBack: a person who blocked the bot writes again, which unpauses the
// chat. Their first words: stop tracking a code with notifications kept
// for them while paused, if any.
func (w *together) comeBack(chat int64) pending {
	m := w.model[chat]
	w.f.tg.Unblock(chat)
	m.blocked = false
	w.unblocked++
	var code string // of the chat's oldest queued message
	for _, q := range w.db.Outbox() {
		if q.Chat == chat {
			code = q.Code
			break
		}
	}
	if code == "" || !slices.Contains(m.tracked, code) {
		w.push(chat, "/pacotes")
		return pending{chat: chat, what: "/pacotes after unblocking", wants: []string{"Seus pacotes"}}
	}
	w.push(chat, "/del "+code)
	m.tracked = slices.DeleteFunc(m.tracked, func(c string) bool { return c == code })
	return pending{chat: chat, what: "/del " + code + " after unblocking", wants: []string{"parei de acompanhar", code}, check: func(r telegramtest.Call) {
		w.removals = append(w.removals, removal{chat, code, r.Time})
		w.removedQueued++
	}}
}

// act has the person in chat do one random thing; false when it sends
// nothing (blocking the bot).
func (w *together) act(chat int64) (pending, bool) {
	m := w.model[chat]
	var fresh []string
	for _, c := range w.codes {
		if !m.used[c] {
			fresh = append(fresh, c)
		}
	}
	switch r := w.rng.IntN(20); {
	case r < 8 && len(m.tracked) < togetherMaxCodes && len(fresh) > 0:
		return w.add(chat, fresh[w.rng.IntN(len(fresh))]), true
	case r < 9 && len(m.tracked) > 0:
		code := m.tracked[w.rng.IntN(len(m.tracked))]
		desc := fmt.Sprintf("novo nome %d", w.rng.IntN(1000))
		w.push(chat, code+" "+desc)
		m.desc[code] = desc
		return pending{chat: chat, what: "rename " + code, wants: []string{code}}, true
	case r < 11 && len(m.tracked) > 0:
		code := m.tracked[w.rng.IntN(len(m.tracked))]
		w.push(chat, []string{"/del ", "/remover "}[w.rng.IntN(2)]+code)
		m.tracked = slices.DeleteFunc(m.tracked, func(c string) bool { return c == code })
		return pending{chat: chat, what: "/del " + code, wants: []string{"parei de acompanhar", code}, check: func(r telegramtest.Call) {
			w.removals = append(w.removals, removal{chat, code, r.Time})
		}}, true
	case r < 14:
		w.push(chat, "/pacotes")
		wants := []string{"ainda não acompanha"}
		if len(m.tracked) > 0 {
			wants = append([]string{"Seus pacotes", fmt.Sprintf("%d. ", len(m.tracked))}, m.tracked...)
		}
		return pending{chat: chat, what: "/pacotes", wants: wants}, true
	case r < 15 && len(m.tracked) > 0:
		return w.erase(chat), true
	case r < 16 && len(m.tracked) > 0:
		// The person blocks the bot: the tracker's sends get 403 and
		// the chat is paused until they write again.
		w.f.tg.Block(chat)
		m.blocked = true
		return pending{}, false
	default:
		w.push(chat, "/ajuda")
		return pending{chat: chat, what: "/ajuda", wants: []string{"Como usar", "/pacotes"}}, true
	}
}

// add: the person sends a code they never tracked, with a description.
func (w *together) add(chat int64, code string) pending {
	m := w.model[chat]
	desc := fmt.Sprintf("item %d", w.rng.IntN(1000))
	text := code + " " + desc
	if w.rng.IntN(3) == 0 {
		text = "/add " + strings.ToLower(code) + " " + desc
	}
	w.push(chat, text)
	m.used[code] = true
	m.tracked = append(m.tracked, code)
	m.desc[code] = desc
	mid := w.passRunning()
	return pending{chat: chat, what: "add " + code, wants: []string{code}, check: func(telegramtest.Call) {
		if mid && w.passRunning() {
			w.addedMidPass[[2]string{strconv.FormatInt(chat, 10), code}] = true
		}
	}}
}

// erase: /apagar_meus_dados, then the confirmation button.
func (w *together) erase(chat int64) pending {
	m := w.model[chat]
	gone := slices.Clone(m.tracked)
	m.tracked = nil
	w.push(chat, "/apagar_meus_dados")
	return pending{chat: chat, what: "/apagar_meus_dados", wants: []string{"Isso apaga"}, check: func(ask telegramtest.Call) {
		t := w.t
		var kb tgbotapi.InlineKeyboardMarkup
		if err := json.Unmarshal([]byte(ask.Params.Get("reply_markup")), &kb); err != nil || len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 2 {
			t.Fatalf("chat %d: erase question without its two buttons: %s", chat, ask.Params.Get("reply_markup"))
		}
		cb := w.f.tg.PushCallback(chat, 0, ask.MessageID, *kb.InlineKeyboard[0][0].CallbackData)
		w.lastUpdate++
		w.waitHandled()
		var edit *telegramtest.Call
		for _, c := range w.f.tg.Calls("editMessageText") {
			if c.ChatID == chat && c.MessageID == ask.MessageID && c.OK() {
				edit = &c
			}
		}
		want := fmt.Sprintf("apaguei tudo desta conversa (%d %s)", len(gone), map[bool]string{true: "código", false: "códigos"}[len(gone) == 1])
		if edit == nil || !strings.Contains(edit.Text, want) {
			t.Fatalf("chat %d: erase not confirmed with %q (edit %v)", chat, want, edit)
		}
		answered := false
		for _, c := range w.f.tg.Calls("answerCallbackQuery") {
			answered = answered || (c.Params.Get("callback_query_id") == cb && strings.Contains(c.Params.Get("text"), "Dados apagados"))
		}
		if !answered {
			t.Errorf("chat %d: erase button press %s not answered", chat, cb)
		}
		for _, code := range gone {
			w.removals = append(w.removals, removal{chat, code, edit.Time})
		}
		w.erased++
	}}
}

// everyoneComesBack: anyone still blocking the bot writes again, so the
// end state is clean.
func (w *together) everyoneComesBack() {
	for _, chat := range w.chats {
		if m := w.model[chat]; m.blocked {
			w.f.tg.Unblock(chat)
			m.blocked = false
			w.unblocked++
			w.push(chat, "/ajuda")
			w.waitHandled()
			w.expectOne(chat, "/ajuda after unblocking", "Como usar")
		}
	}
}

// settle: the bot stops as on SIGTERM, the random passes end, and two
// passes left alone deliver what is left.
func (w *together) settle() {
	t := w.t
	w.stopBot()
	select {
	case err := <-w.botDone:
		if err != nil {
			t.Errorf("bot Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the bot did not stop within 5 s")
	}
	close(w.stopTracker)
	<-w.trackerDone
	for range 2 {
		if rec := w.runPass(-1); rec.err != nil {
			t.Fatalf("settling pass: %v\n%s", rec.err, rec.out.String())
		}
	}
}

// checkPasses: no lock errors, no panics; every pass not killed exited 0
// with its summary last. It returns how many passes were killed.
func (w *together) checkPasses() (kills int) {
	for i, p := range w.passes {
		out := p.out.String()
		if p.killed {
			kills++
		} else if p.err != nil || !strings.Contains(lastLine(out), "pass done") {
			w.t.Errorf("pass %d: exit %v, last line %q", i, p.err, lastLine(out))
		}
		if badOutput.MatchString(out) {
			w.t.Errorf("pass %d output:\n%s", i, out)
		}
	}
	if badOutput.MatchString(w.botLog.String()) {
		w.t.Errorf("bot log:\n%s", w.botLog.String())
	}
	return kills
}

// checkReplies: every reply once, in order (checked at each step; nothing
// came later).
func (w *together) checkReplies() {
	for _, chat := range w.chats {
		m := w.model[chat]
		rs := w.botReplies(chat)
		if len(rs) != m.replies {
			w.t.Errorf("chat %d: %d bot replies, %d expected", chat, len(rs), m.replies)
		}
		for _, r := range rs {
			if badOutput.MatchString(r.Text) || strings.Contains(r.Text, "Não consegui") {
				w.t.Errorf("chat %d: reply %q", chat, r.Text)
			}
		}
	}
}

// checkNotifications: per chat and code, the notifications (identical
// repeats set aside, at most 4 per kill) form one contiguous run of
// events, ending at the newest for the codes still tracked.
func (w *together) checkNotifications(kills int) (notified, repeats int) {
	t := w.t
	for _, chat := range w.chats {
		m := w.model[chat]
		seen := map[string]bool{}
		got := map[string][]int{}
		for _, msg := range w.f.tg.Messages(chat) {
			nm := notice.FindStringSubmatch(msg.Text)
			if nm == nil {
				continue
			}
			if seen[msg.Text] {
				repeats++
				continue
			}
			seen[msg.Text] = true
			notified++
			for _, mm := range eventMark.FindAllStringSubmatch(msg.Text, -1) {
				if mm[1] != nm[1] {
					t.Errorf("chat %d: a message about %s shows an event of %s", chat, nm[1], mm[1])
				}
				n, _ := strconv.Atoi(mm[2])
				got[nm[1]] = append(got[nm[1]], n)
			}
		}
		for code, evs := range got {
			if !m.used[code] {
				t.Errorf("chat %d: notified about %s it never tracked", chat, code)
			}
			for i, n := range evs {
				if n != evs[0]+i {
					t.Errorf("chat %d, %s: events %v: missed or out of order", chat, code, evs)
					break
				}
			}
		}
		for _, code := range m.tracked {
			evs := got[code]
			if newest := w.history[code] - 1; len(evs) == 0 || evs[len(evs)-1] != newest {
				t.Errorf("chat %d, %s (tracked to the end, mid-pass add: %v): events %v, want a run ending at %d",
					chat, code, w.addedMidPass[[2]string{strconv.FormatInt(chat, 10), code}], evs, newest)
			}
		}
	}
	if repeats > 4*kills {
		t.Errorf("%d repeated notifications after %d kills, want at most %d", repeats, kills, 4*kills)
	}
	return notified, repeats
}

// checkRemovals: after a removal was confirmed, at most the one message
// in flight, and nothing about an event that appeared after the
// confirmation. One chat's sends go one at a time, so the one in flight
// at the confirmation is the first notification to arrive after it: any
// later one about the code was still queued when it was removed. And only
// a pass running at the confirmation can have had it in flight: a later
// pass sending it means its row was kept.
func (w *together) checkRemovals() {
	t := w.t
	for _, r := range w.removals {
		var inFlightUntil time.Time
		for _, p := range w.passes {
			if p.start.Before(r.at) && p.end.After(r.at) {
				inFlightUntil = p.end
			}
		}
		after, first := 0, true
		for _, msg := range w.f.tg.Messages(r.chat) {
			nm := notice.FindStringSubmatch(msg.Text)
			if nm == nil || !msg.Time.After(r.at) {
				continue
			}
			wasFirst := first
			first = false
			if nm[1] != r.code {
				continue
			}
			after++
			if msg.Time.After(inFlightUntil) {
				t.Errorf("chat %d, %s: removal confirmed at %v, then notified at %v by a pass that started later",
					r.chat, r.code, r.at.Format(time.StampMilli), msg.Time.Format(time.StampMilli))
			}
			if !wasFirst {
				t.Errorf("chat %d, %s: removal confirmed at %v, then notified at %v behind another message: it was queued, not in flight",
					r.chat, r.code, r.at.Format(time.StampMilli), msg.Time.Format(time.StampMilli))
			}
			for _, mm := range eventMark.FindAllStringSubmatch(msg.Text, -1) {
				n, _ := strconv.Atoi(mm[2])
				if w.appeared[r.code][n].After(r.at) {
					t.Errorf("chat %d, %s: removed at %v, then told of event %d that appeared at %v",
						r.chat, r.code, r.at.Format(time.StampMilli), n, w.appeared[r.code][n].Format(time.StampMilli))
				}
			}
		}
		if after > 1 {
			t.Errorf("chat %d, %s: %d notifications after the removal was confirmed, want at most the 1 in flight", r.chat, r.code, after)
		}
	}
}

// checkDatabase: the database agrees with the people, and nothing is left
// queued.
func (w *together) checkDatabase() {
	t := w.t
	st, err := store.Open(t.Context(), w.f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, chat := range w.chats {
		pkgs, err := st.Packages(t.Context(), chat)
		if err != nil {
			t.Fatal(err)
		}
		var have []string
		for _, p := range pkgs {
			have = append(have, p.Code)
			if p.Description != w.model[chat].desc[p.Code] {
				t.Errorf("chat %d, %s: description %q, want %q", chat, p.Code, p.Description, w.model[chat].desc[p.Code])
			}
		}
		if want := w.model[chat].tracked; !slices.Equal(have, want) && !(len(have) == 0 && len(want) == 0) {
			t.Errorf("chat %d tracks %v in the database, the person %v", chat, have, want)
		}
	}
	if n, err := st.OutboxLen(t.Context()); err != nil || n != 0 {
		t.Errorf("outbox has %d messages left (%v)", n, err)
	}
}
