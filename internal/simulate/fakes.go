package simulate

import (
	"context"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"hash/fnv"
	"sync"
	"time"

	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/pass"
	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/tracking"
)

// How the fakes see the Correios data (docs/providers.md, "Replaying
// journeys"):
const (
	// WebsiteDelay: Site Rastreio and PacoteVício read the Correios
	// website on each request, which lists an event a few minutes after
	// Correios created it.
	WebsiteDelay = 5 * time.Minute
	// RefreshMin and RefreshMax bound 17TRACK's refresh of a registered
	// number (6–12 h); each number gets its own period in that range and
	// its first look at registration.
	RefreshMin = 6 * time.Hour
	RefreshMax = 12 * time.Hour
)

// model is how one provider bills, batches and sees events.
type model struct {
	name     string
	billing  provider.Billing
	maxBatch int
	delay    time.Duration // website scrape delay
	refresh  bool          // 17TRACK: periodic refresh after registration
}

func modelFor(name string) model {
	spec := provider.Get(name)
	m := model{name: name, billing: spec.Billing, maxBatch: 1}
	switch name {
	case provider.SiteRastreio, provider.PacoteVicio:
		m.delay = WebsiteDelay
	case provider.Track17:
		m.maxBatch, m.refresh = 40, true
	case provider.Correios:
		m.maxBatch = 50
	}
	return m
}

// fakeProvider answers from the journeys what the provider would see at
// the clock's time, and counts what it is asked and bills.
type fakeProvider struct {
	m        model
	now      func() time.Time
	journeys map[string]*Journey

	mu         sync.Mutex
	checks     int64                // codes asked
	billed     int64                // billed units
	byMonth    map[string]int64     // billed units per month ("2006-01", UTC)
	registered map[string]time.Time // 17TRACK: when each number was registered
}

func newFakeProvider(m model, now func() time.Time, js []Journey) *fakeProvider {
	f := &fakeProvider{m: m, now: now, journeys: map[string]*Journey{},
		byMonth: map[string]int64{}, registered: map[string]time.Time{}}
	for i := range js {
		f.journeys[js[i].Code] = &js[i]
	}
	return f
}

func (f *fakeProvider) Name() string  { return f.m.name }
func (f *fakeProvider) MaxBatch() int { return f.m.maxBatch }

// Billed implements tracking.Billed (the Meter records it).
func (f *fakeProvider) Billed() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.billed
}

func (f *fakeProvider) bill(now time.Time) {
	f.billed++
	f.byMonth[tracking.Month(now)]++
}

// Track implements tracking.Provider.
func (f *fakeProvider) Track(_ context.Context, codes []string) (map[string]tracking.Result, error) {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]tracking.Result, len(codes))
	for _, code := range codes {
		f.checks++
		switch f.m.billing {
		case provider.PerRequest:
			f.bill(now)
		case provider.PerParcel:
			if _, ok := f.registered[code]; !ok {
				f.registered[code] = now
				f.bill(now)
			}
		}
		j := f.journeys[code]
		if j == nil {
			out[code] = tracking.Result{Status: tracking.NotYet}
			continue
		}
		var evs []tracking.Event
		for _, e := range j.Events {
			if at, ok := f.visibleLocked(code, e); ok && !at.After(now) {
				evs = append(evs, e)
			}
		}
		synced := f.syncedLocked(code, now)
		if len(evs) == 0 {
			out[code] = tracking.Result{Status: tracking.NotYet, Synced: synced}
			continue
		}
		out[code] = tracking.Result{Status: tracking.Found, Events: evs, Synced: synced}
	}
	return out, nil
}

// visible returns when e of code became visible to the provider (false:
// not yet knowable, a 17TRACK number never registered).
func (f *fakeProvider) visible(code string, e tracking.Event) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.visibleLocked(code, e)
}

func (f *fakeProvider) visibleLocked(code string, e tracking.Event) (time.Time, bool) {
	if !f.m.refresh {
		return e.At.Add(f.m.delay), true
	}
	reg, ok := f.registered[code]
	if !ok {
		return time.Time{}, false
	}
	if !e.At.After(reg) {
		return reg, true
	}
	period := refreshPeriod(code)
	n := (e.At.Sub(reg) + period - 1) / period
	return reg.Add(n * period), true
}

// syncedLocked is, for 17TRACK, its last refresh of code at or before
// now, as gettrackinfo's latest_sync_time tells it (zero for the
// providers that read the website on each request).
func (f *fakeProvider) syncedLocked(code string, now time.Time) time.Time {
	reg, ok := f.registered[code]
	if !f.m.refresh || !ok {
		return time.Time{}
	}
	period := refreshPeriod(code)
	return reg.Add(now.Sub(reg) / period * period)
}

// refreshPeriod is a number's 17TRACK refresh period, spread over
// RefreshMin–RefreshMax by its code (deterministic).
func refreshPeriod(code string) time.Duration {
	h := fnv.New32a()
	h.Write([]byte(code))
	span := int64(RefreshMax - RefreshMin)
	return RefreshMin + time.Duration(int64(h.Sum32())%(span/int64(time.Minute)))*time.Minute
}

// telegram is the fake Telegram: it accepts every message and records
// when, and which events each carried (known from the notice it was
// rendered from: a message is matched to the first notice rendered for
// its chat whose text, resolved at the send time as delivery does, is
// the message).
type telegram struct {
	now func() time.Time

	mu       sync.Mutex
	rendered map[int64][]rendered // per chat, in rendering order
	accepted []acceptance
	unknown  int // messages whose notice was not rendered here
}

type rendered struct {
	text   string
	notice store.Notice
}

type acceptance struct {
	at     time.Time
	notice store.Notice
}

func newTelegram(now func() time.Time) *telegram {
	return &telegram{now: now, rendered: map[int64][]rendered{}}
}

// render is the pass's RenderFunc: the real text, remembered.
func (t *telegram) render(n store.Notice) string {
	text := pass.Render(n)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rendered[n.ChatID] = append(t.rendered[n.ChatID], rendered{text, n})
	return text
}

// SendHTML implements delivery.Sender.
func (t *telegram) SendHTML(chatID int64, html string, _ *tgbotapi.InlineKeyboardMarkup) error {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	rs := t.rendered[chatID]
	for i, r := range rs {
		if r.text == html || message.Resolve(r.text, now) == html {
			t.accepted = append(t.accepted, acceptance{at: now, notice: r.notice})
			t.rendered[chatID] = append(rs[:i:i], rs[i+1:]...)
			return nil
		}
	}
	t.unknown++
	return nil
}
