package pass

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/tracking"
)

// TestRandomPassesNeverRepeatOrMiss runs many passes over parcels that
// keep moving, with the provider failing some passes, Telegram refusing
// some sends (5xx, 429) and SIGTERM arriving at random moments, then
// checks what every chat received: no event twice, none missed after the
// first message (the first shows the status of the moment, each later
// one the new events, oldest first), and the newest event everywhere.
func TestRandomPassesNeverRepeatOrMiss(t *testing.T) {
	if testing.Short() {
		t.Skip("randomized soak (~15 s); make test runs it")
	}
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { soak(t, seed) })
	}
}

var marker = regexp.MustCompile(`ev-([A-Z]{2}[0-9]{9}[A-Z]{2})-([0-9]+)`)

func soak(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	e := newEnv(t)
	const nCodes, passes = 10, 14
	chats := []int64{1, 2, 3, 4, 5, 6, -7, -8}
	codes := make([]string, nCodes)
	history := map[string][]tracking.Event{}
	addEvent := func(code string) {
		n := len(history[code])
		history[code] = append(history[code], ev("RO", tracking.KindTransit, n, fmt.Sprintf("ev-%s-%d", code, n)))
		e.prov.set(code, history[code]...)
	}
	for i := range codes {
		codes[i] = fmt.Sprintf("AA%09dBR", 100+i)
		addEvent(codes[i])
	}
	tracks := map[int64][]string{}
	for _, chat := range chats {
		for _, i := range rng.Perm(nCodes)[:1+rng.IntN(4)] {
			e.track(t, chat, codes[i], "")
			tracks[chat] = append(tracks[chat], codes[i])
		}
	}

	// While chaos is on, Telegram refuses some sends: 502 (the message
	// waits a minute, holding back its chat's later ones) or 429.
	var mu sync.Mutex
	chaos := true
	e.tg.AddRule(func(c *telegramtest.Call) *telegramtest.Fault {
		if c.Method != "sendMessage" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if !chaos {
			return nil
		}
		switch r := rng.Float64(); {
		case r < 0.12:
			f := telegramtest.ServerError(502)
			return &f
		case r < 0.14:
			f := telegramtest.TooManyRequests(1)
			return &f
		}
		return nil
	})
	random := func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64()
	}

	run := func(opt Options, stopAfter time.Duration) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if stopAfter > 0 {
			time.AfterFunc(stopAfter, cancel)
		}
		sum, err := e.newPass(opt).Run(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("pass: %v", err)
		}
		t.Logf("pass %d: %d sent, %d failed, %d retried after 429, %d left, stopped %q",
			sum.Pass, sum.Sent, sum.Failed, sum.Retried429, sum.Left, sum.Stopped)
	}
	// One person blocks the bot for a while, then writes to it again (the
	// bot clears paused_at); one group becomes a supergroup midway.
	const blocker, group, supergroup = int64(3), int64(-8), int64(-1008)
	blockAt, unblockAt := 2+int(random()*4), 7+int(random()*4)
	migrateAt := 1 + int(random()*float64(passes-2))
	for i := range passes {
		if i == blockAt {
			e.tg.Block(blocker)
		}
		if i == unblockAt {
			e.tg.Unblock(blocker)
			e.db.Unpause(blocker)
		}
		if i == migrateAt {
			e.tg.Migrate(group, supergroup)
		}
		for _, code := range codes {
			if random() < 0.5 {
				addEvent(code)
				if random() < 0.3 {
					addEvent(code)
				}
			}
		}
		e.prov.mu.Lock()
		e.prov.err = nil
		if random() < 0.15 {
			e.prov.err = fmt.Errorf("fake: %w", tracking.ErrUnavailable)
		}
		e.prov.mu.Unlock()
		var stopAfter time.Duration
		if random() < 0.3 {
			stopAfter = time.Duration(random() * float64(60*time.Millisecond))
		}
		run(fastOpts(), stopAfter)
	}
	// Calm: the provider answers, Telegram takes everything, and before
	// each pass the minute a failed send waits has passed.
	e.prov.mu.Lock()
	e.prov.err = nil
	e.prov.mu.Unlock()
	mu.Lock()
	chaos = false
	mu.Unlock()
	for range 2 {
		e.db.OutboxDueNow()
		run(fastOpts(), 0)
	}
	if n, err := e.st.OutboxLen(t.Context()); err != nil || n != 0 {
		t.Fatalf("outbox holds %d messages after the calm passes (%v)", n, err)
	}

	refusals := map[int64]int{}
	for _, c := range e.tg.Calls("sendMessage") {
		if !c.OK() {
			refusals[c.ChatID]++
		}
	}
	t.Logf("blocked chat %d from pass %d to %d: %d refusals; group %d migrated at pass %d: %d refusals, %d messages after",
		blocker, blockAt, unblockAt, refusals[blocker], group, migrateAt, refusals[group], len(e.tg.Messages(supergroup)))
	for _, chat := range chats {
		seen := map[string][]int{} // code → event numbers, in delivery order
		msgs := e.tg.Messages(chat)
		if chat == group { // then the supergroup, after the migration
			msgs = append(msgs, e.tg.Messages(supergroup)...)
		}
		for _, m := range msgs {
			for _, mm := range marker.FindAllStringSubmatch(m.Text, -1) {
				n, _ := strconv.Atoi(mm[2])
				seen[mm[1]] = append(seen[mm[1]], n)
			}
		}
		for _, code := range tracks[chat] {
			got := seen[code]
			last := len(history[code]) - 1
			if len(got) == 0 {
				t.Errorf("chat %d: nothing about %s", chat, code)
				continue
			}
			// A contiguous run from the first event shown to the newest.
			for i, n := range got {
				if n != got[0]+i {
					t.Errorf("chat %d, %s: events %v: repeated, missed or out of order", chat, code, got)
					break
				}
			}
			if got[len(got)-1] != last {
				t.Errorf("chat %d, %s: events %v, the newest (%d) not among them", chat, code, got, last)
			}
		}
	}
}
