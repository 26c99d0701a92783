package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

// fixtureObject returns the first object of a Correios fixture, keeping
// only its oldest keep events (0: all), as the API showed it earlier.
func fixtureObject(t *testing.T, name string, keep int) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "correios", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Objetos []map[string]json.RawMessage `json:"objetos"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	o := body.Objetos[0]
	var code string
	json.Unmarshal(o["codObjeto"], &code)
	if keep > 0 {
		var evs []json.RawMessage
		json.Unmarshal(o["eventos"], &evs)
		o["eventos"], _ = json.Marshal(evs[len(evs)-keep:]) // newest first: keep the tail
	}
	out, _ := json.Marshal(o)
	return code, out
}

func countIn(calls []telegramtest.Call, s string) int {
	n := 0
	for _, c := range calls {
		n += strings.Count(c.Text, s)
	}
	return n
}

// An operator's run: the bot's store calls add codes, passes run against a
// fake Correios fed from the fixtures, through an outage, a 429 and a
// blocked user; every chat hears of every event exactly once.
func TestOperatorScenario(t *testing.T) {
	f := newFixture(t)
	delivered, early := fixtureObject(t, "object-delivered.json", 2)
	customs, customsObj := fixtureObject(t, "object-customs-awaiting-payment.json", 0)
	transit, transitObj := fixtureObject(t, "object-in-transit.json", 0)
	f.correios.SetObject(delivered, early)
	f.correios.SetObject(customs, customsObj)
	f.correios.SetObject(transit, transitObj)

	st, err := store.Open(t.Context(), f.db)
	if err != nil {
		t.Fatal(err)
	}
	add := func(chat store.ChatRef, items ...store.PackageItem) {
		t.Helper()
		if _, err := st.AddPackages(t.Context(), chat, items, 100); err != nil {
			t.Fatal(err)
		}
	}
	alice, bob, group := store.ChatRef{ID: 1}, store.ChatRef{ID: 2}, store.ChatRef{ID: -100, Kind: "group", Title: "família"}
	add(alice, store.PackageItem{Code: delivered, Description: "fone <novo> & cia"})
	add(bob, store.PackageItem{Code: delivered, Description: "o mesmo fone"}, store.PackageItem{Code: customs, Description: "casaco"})
	add(group, store.PackageItem{Code: transit, Description: "presente"})

	pass := func(wantExit int) string {
		t.Helper()
		var out bytes.Buffer
		if code := runMain(t.Context(), nil, getenv(f.env()), &out); code != wantExit {
			t.Fatalf("exit %d, want %d\n%s", code, wantExit, out.String())
		}
		return lastLine(out.String())
	}

	// Pass 1: each chat gets the current status of each of its codes.
	pass(0)
	if m := f.tg.Messages(1); len(m) != 1 || !strings.Contains(m[0].Text, "fone <novo> & cia") || !strings.Contains(m[0].Text, "Situação atual") {
		t.Fatalf("alice: %q", texts(m))
	}
	if m := f.tg.Messages(2); len(m) != 2 || countIn(m, "Minhas Importações") < 1 {
		t.Fatalf("bob: %q, want two first messages, the customs one with the payment hint", texts(m))
	}
	if m := f.tg.Messages(-100); len(m) != 1 || !strings.Contains(m[0].Text, transit) {
		t.Fatalf("group: %q", texts(m))
	}

	// Pass 2: Correios is down. Nothing is sent, nothing is lost.
	f.correios.FailAll(correiostest.Fault5xx)
	if l := pass(0); !strings.Contains(l, "checked=0") {
		t.Fatalf("outage summary %q", l)
	}

	// Pass 3: Correios is back with four new events for the first code;
	// Telegram answers alice with a 429 once, and bob has blocked the bot.
	f.correios.ClearFaults()
	_, full := fixtureObject(t, "object-delivered.json", 0)
	f.correios.SetObject(delivered, full)
	f.tg.FailNext(1, telegramtest.TooManyRequests(1))
	f.tg.Block(2)
	if l := pass(0); !strings.Contains(l, "new_events=4") || !strings.Contains(l, "paused_chats=1") || !strings.Contains(l, "retried_429=1") {
		t.Fatalf("pass 3 summary %q", l)
	}
	m := f.tg.Messages(1)
	if len(m) != 2 {
		t.Fatalf("alice has %d messages, want 2", len(m))
	}
	upd := m[1].Text
	out, entregue := strings.Index(upd, "Saiu para entrega"), strings.Index(upd, "Entregue")
	if out < 0 || entregue < 0 || out > entregue || !strings.Contains(upd, "4 atualizações") {
		t.Fatalf("alice's update %q: want the 4 new events, oldest first", upd)
	}

	// Bob writes to the bot again (the bot clears the pause); pass 4 brings
	// him what he missed, once.
	f.tg.Unblock(2)
	if err := st.TouchChat(t.Context(), bob); err != nil {
		t.Fatal(err)
	}
	pass(0)
	pass(0)
	for _, chat := range []int64{1, 2} {
		if n := countIn(f.tg.Messages(chat), "✅ Entregue"); n != 1 {
			t.Errorf("chat %d heard of the delivery %d times, want once", chat, n)
		}
	}
	if n := len(f.tg.Messages(2)); n != 3 {
		t.Errorf("bob has %d messages, want 3 (two first statuses, one update)", n)
	}
	if n := len(f.tg.Messages(-100)); n != 1 {
		t.Errorf("group has %d messages, want 1", n)
	}
	st.Close()
}

func texts(calls []telegramtest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Text)
	}
	return out
}
