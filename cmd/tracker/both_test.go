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
	f := newFixture(t)
	seed := uint64(2026)
	if s := os.Getenv("RASTREIO_BOTH_SEED"); s != "" { // to hunt with other seeds
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, 12))
	f.tg.SetLatency(5 * time.Millisecond)
	env := f.env()
	const (
		nCodes   = 18
		maxCodes = 3 // per chat, so a pass delivers to a chat within ~2 s (1 s apart)
		driveFor = 7 * time.Second
	)
	chats := []int64{101, 102, 103, 104, 105, 106}

	// The parcels: event texts unique per code, as in the soak tests.
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	brt := time.FixedZone("BRT", -3*60*60)
	var pmu sync.Mutex // history, appeared
	history := map[string]int{}
	appeared := map[string][]time.Time{} // when event i became visible
	setObject := func(code string) {
		type event struct {
			Codigo     string `json:"codigo"`
			Tipo       string `json:"tipo"`
			DtHrCriado string `json:"dtHrCriado"`
			Descricao  string `json:"descricao"`
		}
		var evs []event
		for i := history[code] - 1; i >= 0; i-- {
			evs = append(evs, event{Codigo: "RO", Tipo: "01", Descricao: fmt.Sprintf("ev-%s-%d", code, i),
				DtHrCriado: start.Add(time.Duration(i) * time.Hour).In(brt).Format("2006-01-02T15:04:05")})
		}
		b, _ := json.Marshal(map[string]any{"codObjeto": code, "eventos": evs})
		f.correios.SetObject(code, b)
		for len(appeared[code]) < history[code] {
			appeared[code] = append(appeared[code], time.Now())
		}
	}
	codes := make([]string, nCodes)
	for i := range codes {
		serial := fmt.Sprintf("%08d", 51000000+7919*i)
		codes[i] = fmt.Sprintf("QQ%s%dBR", serial, trackcode.CheckDigit(serial))
		if !trackcode.Valid(codes[i]) {
			t.Fatalf("generated code %s is not valid", codes[i])
		}
		history[codes[i]] = 1
		setObject(codes[i])
	}

	// The bot, wired as cmd/bot does.
	st, err := store.Open(t.Context(), f.db, store.ManualCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	sdb := storetest.Open(t, f.db)
	botCtx, stopBot := context.WithCancel(context.Background())
	defer stopBot()
	api, err := telegram.New(botCtx, f.tg.Token, f.tg.Endpoint(), telegram.Options{SkipGetMe: true, HTTPClient: bot.NewHTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	confirm, err := telegram.New(context.Background(), f.tg.Token, f.tg.Endpoint(), telegram.Options{SkipGetMe: true})
	if err != nil {
		t.Fatal(err)
	}
	var botLog syncBuffer
	b := bot.New(bot.Config{
		Store: st, API: api, Confirm: confirm,
		BotID: telegramtest.BotID, UserName: telegramtest.BotUserName,
		MaxCodesPerChat: 100, Providers: []string{"correios"},
		PollTimeout: 1, MinBackoff: 10 * time.Millisecond,
		FloodPerMinute: 1 << 20, // the flood limit is the model test's business
		Log:            slog.New(slog.NewTextHandler(&botLog, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	b.Setup(botCtx)
	botDone := make(chan error, 1)
	go func() { botDone <- b.Run(botCtx) }()

	// The tracker: pass after pass, like Restart=always with a short
	// RestartSec; about one pass in four killed with SIGKILL.
	type passRec struct {
		start, end time.Time
		killed     bool
		err        error
		out        *syncBuffer
	}
	var (
		passMu  sync.Mutex
		passes  []*passRec
		running *passRec
	)
	stopTracker := make(chan struct{})
	trackerDone := make(chan struct{})
	runPass := func(kill func() time.Duration) *passRec {
		rec := &passRec{start: time.Now(), out: &syncBuffer{}}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout, cmd.Stderr = rec.out, rec.out
		passMu.Lock()
		passes = append(passes, rec)
		running = rec
		passMu.Unlock()
		if rec.err = cmd.Start(); rec.err == nil {
			if d := kill(); d >= 0 {
				time.Sleep(d)
				rec.killed = cmd.Process.Signal(syscall.SIGKILL) == nil
			}
			rec.err = cmd.Wait()
		}
		passMu.Lock()
		rec.end = time.Now()
		running = nil
		passMu.Unlock()
		return rec
	}
	go func() {
		defer close(trackerDone)
		trng := rand.New(rand.NewPCG(seed, 13))
		for {
			select {
			case <-stopTracker:
				return
			default:
			}
			pmu.Lock()
			for _, code := range codes {
				if trng.Float64() < 0.35 {
					history[code] += 1 + trng.IntN(2)
					setObject(code)
				}
			}
			pmu.Unlock()
			killAt := time.Duration(-1)
			if trng.IntN(3) == 0 {
				killAt = time.Duration(trng.IntN(1500)) * time.Millisecond
			}
			runPass(func() time.Duration { return killAt })
			time.Sleep(time.Duration(20+trng.IntN(100)) * time.Millisecond)
		}
	}()

	// The people. A model per chat: the codes it tracks, the codes it
	// ever tracked (a chat never adds one twice, so each (chat, code) is
	// tracked over one span), and its expected replies.
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
	model := map[int64]*chatModel{}
	for _, c := range chats {
		model[c] = &chatModel{desc: map[string]string{}, used: map[string]bool{}}
	}
	var removals []removal
	addedMidPass := map[[2]string]bool{} // chat, code added while a pass ran
	notice := regexp.MustCompile(`^📦 (?:[^\n]* · )?([A-Z]{2}[0-9]{9}[A-Z]{2})(?:\n|$)`)
	botReplies := func(chat int64) []telegramtest.Call {
		var out []telegramtest.Call
		for _, m := range f.tg.Messages(chat) {
			if !notice.MatchString(m.Text) {
				out = append(out, m)
			}
		}
		return out
	}
	lastUpdate := 0
	waitHandled := func() {
		t.Helper()
		f.tg.WaitOffset(t, lastUpdate+1)
		deadline := time.Now().Add(telegramtest.WaitTimeout)
		for b.Pending() > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d replies still queued after %v", b.Pending(), telegramtest.WaitTimeout)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// expectOne checks chat got exactly one new reply since the last step
	// and returns it.
	expectOne := func(chat int64, what string, wants ...string) (telegramtest.Call, bool) {
		t.Helper()
		m := model[chat]
		rs := botReplies(chat)
		if len(rs) != m.replies+1 {
			var texts []string
			for _, r := range rs[min(m.replies, len(rs)):] {
				texts = append(texts, r.Text)
			}
			t.Errorf("chat %d, %s: %d replies, want 1: %q", chat, what, len(rs)-m.replies, texts)
			m.replies = len(rs)
			return telegramtest.Call{}, false
		}
		m.replies = len(rs)
		r := rs[len(rs)-1]
		for _, w := range wants {
			if !strings.Contains(r.Text, w) {
				t.Errorf("chat %d, %s: reply %q lacks %q", chat, what, r.Text, w)
			}
		}
		return r, true
	}
	passRunning := func() bool {
		passMu.Lock()
		defer passMu.Unlock()
		return running != nil
	}

	// step pushes one update per chosen chat at once (the bot handles
	// chats concurrently), waits until all are handled and checks each
	// chat's reply.
	type pending struct {
		chat  int64
		what  string
		check func(telegramtest.Call)
		wants []string
	}
	steps, erased, unblocked, removedQueued := 0, 0, 0, 0
	driveEnd := time.Now().Add(driveFor)
	for time.Now().Before(driveEnd) {
		steps++
		var batch []pending
		for _, chat := range chats {
			if rng.IntN(3) != 0 {
				continue
			}
			m := model[chat]
			if m.blocked {
				if rng.IntN(3) == 0 {
					// Back after blocking the bot: writing unpauses the chat.
					f.tg.Unblock(chat)
					m.blocked = false
					unblocked++
					// Their first words: stop tracking a code with
					// notifications kept for them while paused, if any.
					var code string // of the chat's oldest queued message
					for _, q := range sdb.Outbox() {
						if q.Chat == chat {
							code = q.Code
							break
						}
					}
					if code == "" || !slices.Contains(m.tracked, code) {
						lastUpdate = f.tg.PushMessage(chat, 0, "/pacotes")
						batch = append(batch, pending{chat: chat, what: "/pacotes after unblocking", wants: []string{"Seus pacotes"}})
						continue
					}
					lastUpdate = f.tg.PushMessage(chat, 0, "/del "+code)
					m.tracked = slices.DeleteFunc(m.tracked, func(c string) bool { return c == code })
					batch = append(batch, pending{chat: chat, what: "/del " + code + " after unblocking", wants: []string{"parei de acompanhar", code}, check: func(r telegramtest.Call) {
						removals = append(removals, removal{chat, code, r.Time})
						removedQueued++
					}})
				}
				continue
			}
			var fresh []string
			for _, c := range codes {
				if !m.used[c] {
					fresh = append(fresh, c)
				}
			}
			switch r := rng.IntN(20); {
			case r < 8 && len(m.tracked) < maxCodes && len(fresh) > 0:
				code := fresh[rng.IntN(len(fresh))]
				desc := fmt.Sprintf("item %d", rng.IntN(1000))
				text := code + " " + desc
				if rng.IntN(3) == 0 {
					text = "/add " + strings.ToLower(code) + " " + desc
				}
				lastUpdate = f.tg.PushMessage(chat, 0, text)
				m.used[code] = true
				m.tracked = append(m.tracked, code)
				m.desc[code] = desc
				mid := passRunning()
				batch = append(batch, pending{chat: chat, what: "add " + code, wants: []string{code}, check: func(telegramtest.Call) {
					if mid && passRunning() {
						addedMidPass[[2]string{strconv.FormatInt(chat, 10), code}] = true
					}
				}})
			case r < 9 && len(m.tracked) > 0:
				code := m.tracked[rng.IntN(len(m.tracked))]
				desc := fmt.Sprintf("novo nome %d", rng.IntN(1000))
				lastUpdate = f.tg.PushMessage(chat, 0, code+" "+desc)
				m.desc[code] = desc
				batch = append(batch, pending{chat: chat, what: "rename " + code, wants: []string{code}})
			case r < 11 && len(m.tracked) > 0:
				code := m.tracked[rng.IntN(len(m.tracked))]
				cmd := []string{"/del ", "/remover "}[rng.IntN(2)]
				lastUpdate = f.tg.PushMessage(chat, 0, cmd+code)
				m.tracked = slices.DeleteFunc(m.tracked, func(c string) bool { return c == code })
				batch = append(batch, pending{chat: chat, what: "/del " + code, wants: []string{"parei de acompanhar", code}, check: func(r telegramtest.Call) {
					removals = append(removals, removal{chat, code, r.Time})
				}})
			case r < 14:
				lastUpdate = f.tg.PushMessage(chat, 0, "/pacotes")
				wants := []string{"ainda não acompanha"}
				if len(m.tracked) > 0 {
					wants = append([]string{"Seus pacotes", fmt.Sprintf("%d. ", len(m.tracked))}, m.tracked...)
				}
				batch = append(batch, pending{chat: chat, what: "/pacotes", wants: wants})
			case r < 15 && len(m.tracked) > 0:
				gone := slices.Clone(m.tracked)
				m.tracked = nil
				lastUpdate = f.tg.PushMessage(chat, 0, "/apagar_meus_dados")
				batch = append(batch, pending{chat: chat, what: "/apagar_meus_dados", wants: []string{"Isso apaga"}, check: func(ask telegramtest.Call) {
					var kb tgbotapi.InlineKeyboardMarkup
					if err := json.Unmarshal([]byte(ask.Params.Get("reply_markup")), &kb); err != nil || len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 2 {
						t.Fatalf("chat %d: erase question without its two buttons: %s", chat, ask.Params.Get("reply_markup"))
					}
					cb := f.tg.PushCallback(chat, 0, ask.MessageID, *kb.InlineKeyboard[0][0].CallbackData)
					lastUpdate++
					waitHandled()
					var edit *telegramtest.Call
					for _, c := range f.tg.Calls("editMessageText") {
						if c.ChatID == chat && c.MessageID == ask.MessageID && c.OK() {
							edit = &c
						}
					}
					want := fmt.Sprintf("apaguei tudo desta conversa (%d %s)", len(gone), map[bool]string{true: "código", false: "códigos"}[len(gone) == 1])
					if edit == nil || !strings.Contains(edit.Text, want) {
						t.Fatalf("chat %d: erase not confirmed with %q (edit %v)", chat, want, edit)
					}
					answered := false
					for _, c := range f.tg.Calls("answerCallbackQuery") {
						answered = answered || (c.Params.Get("callback_query_id") == cb && strings.Contains(c.Params.Get("text"), "Dados apagados"))
					}
					if !answered {
						t.Errorf("chat %d: erase button press %s not answered", chat, cb)
					}
					for _, code := range gone {
						removals = append(removals, removal{chat, code, edit.Time})
					}
					erased++
				}})
			case r < 16 && len(m.tracked) > 0:
				// The person blocks the bot: the tracker's sends get 403
				// and the chat is paused until they write again.
				f.tg.Block(chat)
				m.blocked = true
			default:
				lastUpdate = f.tg.PushMessage(chat, 0, "/ajuda")
				batch = append(batch, pending{chat: chat, what: "/ajuda", wants: []string{"Como usar", "/pacotes"}})
			}
		}
		if len(batch) == 0 {
			continue
		}
		waitHandled()
		for _, p := range batch {
			if r, ok := expectOne(p.chat, p.what, p.wants...); ok && p.check != nil {
				p.check(r)
			}
		}
		time.Sleep(time.Duration(20+rng.IntN(80)) * time.Millisecond)
	}
	// Anyone still blocking the bot comes back, so the end state is clean.
	for _, chat := range chats {
		if m := model[chat]; m.blocked {
			f.tg.Unblock(chat)
			m.blocked = false
			unblocked++
			lastUpdate = f.tg.PushMessage(chat, 0, "/ajuda")
			waitHandled()
			expectOne(chat, "/ajuda after unblocking", "Como usar")
		}
	}

	// Settle: the bot stops as on SIGTERM, the random passes end, and two
	// passes left alone deliver what is left.
	stopBot()
	select {
	case err := <-botDone:
		if err != nil {
			t.Errorf("bot Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the bot did not stop within 5 s")
	}
	close(stopTracker)
	<-trackerDone
	for range 2 {
		if rec := runPass(func() time.Duration { return -1 }); rec.err != nil {
			t.Fatalf("settling pass: %v\n%s", rec.err, rec.out.String())
		}
	}

	// No lock errors, no panics; every pass not killed exited 0 with its
	// summary last.
	kills := 0
	bad := regexp.MustCompile(`database is locked|SQLITE_BUSY|panic|goroutine \d+ \[`)
	for i, p := range passes {
		out := p.out.String()
		if p.killed {
			kills++
		} else if p.err != nil || !strings.Contains(lastLine(out), "pass done") {
			t.Errorf("pass %d: exit %v, last line %q", i, p.err, lastLine(out))
		}
		if bad.MatchString(out) {
			t.Errorf("pass %d output:\n%s", i, out)
		}
	}
	if bad.MatchString(botLog.String()) {
		t.Errorf("bot log:\n%s", botLog.String())
	}

	// Every reply once, in order (checked at each step; nothing came later).
	for _, chat := range chats {
		m := model[chat]
		rs := botReplies(chat)
		if len(rs) != m.replies {
			t.Errorf("chat %d: %d bot replies, %d expected", chat, len(rs), m.replies)
		}
		for _, r := range rs {
			if bad.MatchString(r.Text) || strings.Contains(r.Text, "Não consegui") {
				t.Errorf("chat %d: reply %q", chat, r.Text)
			}
		}
	}

	// Notifications per chat and code.
	mark := regexp.MustCompile(`ev-(QQ[0-9]{9}BR)-([0-9]+)`)
	repeats, notified := 0, 0
	for _, chat := range chats {
		m := model[chat]
		seen := map[string]bool{}
		got := map[string][]int{}
		for _, msg := range f.tg.Messages(chat) {
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
			for _, mm := range mark.FindAllStringSubmatch(msg.Text, -1) {
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
			if newest := history[code] - 1; len(evs) == 0 || evs[len(evs)-1] != newest {
				t.Errorf("chat %d, %s (tracked to the end, mid-pass add: %v): events %v, want a run ending at %d",
					chat, code, addedMidPass[[2]string{strconv.FormatInt(chat, 10), code}], evs, newest)
			}
		}
	}
	if repeats > 4*kills {
		t.Errorf("%d repeated notifications after %d kills, want at most %d", repeats, kills, 4*kills)
	}

	// After a removal was confirmed: at most the one message in flight,
	// and nothing about an event that appeared after the confirmation.
	// One chat's sends go one at a time, so the one in flight at the
	// confirmation is the first notification to arrive after it: any
	// later one about the code was still queued when it was removed.
	// And only a pass running at the confirmation can have had it in
	// flight: a later pass sending it means its row was kept.
	for _, r := range removals {
		var inFlightUntil time.Time
		for _, p := range passes {
			if p.start.Before(r.at) && p.end.After(r.at) {
				inFlightUntil = p.end
			}
		}
		after, first := 0, true
		for _, msg := range f.tg.Messages(r.chat) {
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
			for _, mm := range mark.FindAllStringSubmatch(msg.Text, -1) {
				n, _ := strconv.Atoi(mm[2])
				if appeared[r.code][n].After(r.at) {
					t.Errorf("chat %d, %s: removed at %v, then told of event %d that appeared at %v",
						r.chat, r.code, r.at.Format(time.StampMilli), n, appeared[r.code][n].Format(time.StampMilli))
				}
			}
		}
		if after > 1 {
			t.Errorf("chat %d, %s: %d notifications after the removal was confirmed, want at most the 1 in flight", r.chat, r.code, after)
		}
	}

	// The database agrees with the people, and nothing is left queued.
	st2, err := store.Open(t.Context(), f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	for _, chat := range chats {
		pkgs, err := st2.Packages(t.Context(), chat)
		if err != nil {
			t.Fatal(err)
		}
		var have []string
		for _, p := range pkgs {
			have = append(have, p.Code)
			if p.Description != model[chat].desc[p.Code] {
				t.Errorf("chat %d, %s: description %q, want %q", chat, p.Code, p.Description, model[chat].desc[p.Code])
			}
		}
		if want := model[chat].tracked; !slices.Equal(have, want) && !(len(have) == 0 && len(want) == 0) {
			t.Errorf("chat %d tracks %v in the database, the person %v", chat, have, want)
		}
	}
	if n, err := st2.OutboxLen(t.Context()); err != nil || n != 0 {
		t.Errorf("outbox has %d messages left (%v)", n, err)
	}
	if len(addedMidPass) == 0 || len(removals) == 0 || kills == 0 || erased == 0 || unblocked == 0 || removedQueued == 0 {
		t.Errorf("the run did not cover its cases: %d adds mid-pass, %d removals, %d kills, %d erasures, %d unblocks, %d removals with notifications queued",
			len(addedMidPass), len(removals), kills, erased, unblocked, removedQueued)
	}
	t.Logf("%d steps; %d passes, %d killed; %d adds mid-pass, %d removals (%d erasures, %d with notifications queued), %d unblocks; %d notifications, %d repeats (bound %d)",
		steps, len(passes), kills, len(addedMidPass), len(removals), erased, removedQueued, unblocked, notified, repeats, 4*kills)
}
