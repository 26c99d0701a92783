package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/pacotevicio/pacoteviciotest"
	"github.com/rastreio/rastreio/internal/siterastreio/siterastreiotest"
	"github.com/rastreio/rastreio/internal/store/storetest"
)

// pinned reads which provider a code is pinned to and which checked it last.
func (f *fixture) pinned(t *testing.T, code string) (prov, by string) {
	t.Helper()
	p, _ := storetest.Open(t, f.db).Parcel(code)
	return p.Provider, p.CheckedBy
}

// RASTREIO_PROVIDERS=correios,pacotevicio: a code outside the operator's
// contract (SRO-009) falls through to PacoteVício in the same pass, is
// notified once, pinned to it, and asked only of it afterwards.
func TestChainFallThroughToPacoteVicio(t *testing.T) {
	f := newFixture(t)
	pv := pacoteviciotest.NewTB(t, pacoteviciotest.Options{APIKey: "pv-key"})
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	f.correios.SetObject("QQ850419295BR", correiostest.Object("QQ850419295BR", 2, start))
	f.correios.SetMessage("LE449872154SE", "SRO-009: Objeto não pertence ao contrato")
	pv.SetObject("LE449872154SE", correiostest.WebsiteObject("LE449872154SE", 3, start))
	f.track(t, map[int64]string{1: "QQ850419295BR", 2: "LE449872154SE"})
	env := f.env("RASTREIO_PROVIDERS", "correios,pacotevicio", "PACOTEVICIO_API_KEY", "pv-key", "PACOTEVICIO_API_URL", pv.URL,
		"PACOTEVICIO_RATE_LIMIT", "50", "PACOTEVICIO_RATE_BURST", "10")
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	if m := f.tg.Messages(2); len(m) != 1 || !strings.Contains(m[0].Text, "LE449872154SE") {
		t.Fatalf("chat 2 got %v\n%s", m, out.String())
	}
	if prov, by := f.pinned(t, "LE449872154SE"); prov != "pacotevicio" || by != "pacotevicio" {
		t.Fatalf("pinned to %q, checked by %q; want pacotevicio", prov, by)
	}
	if reqs := pv.Requests(); len(reqs) != 1 || reqs[0].Code != "LE449872154SE" {
		t.Fatalf("pacotevicio asked %v, want only the SRO-009 code", reqs)
	}
	if !strings.Contains(lastLine(out.String()), "pacotevicio=1") {
		t.Errorf("summary %q does not count pacotevicio's request", lastLine(out.String()))
	}
	asked := func() int {
		n := 0
		for _, r := range f.correios.Requests() {
			for _, c := range r.Codes {
				if c == "LE449872154SE" {
					n++
				}
			}
		}
		return n
	}
	before := asked()
	out.Reset()
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 0 {
		t.Fatalf("second pass: exit %d\n%s", code, out.String())
	}
	if asked() != before {
		t.Fatal("a code pinned to pacotevicio was asked of correios again")
	}
	if m := f.tg.Messages(2); len(m) != 1 {
		t.Fatalf("second pass re-notified: %d messages", len(m))
	}
}

// PacoteVício's spent monthly quota (RapidAPI's 429) falls through to the
// next provider in the same pass instead of stalling the codes: the call
// that hit it fails whole (tracking.Provider's contract), so both codes
// end with Site Rastreio, and the quota 429 is not retried.
func TestPacoteVicioQuotaFallsThrough(t *testing.T) {
	f := newFixture(t)
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	pv := pacoteviciotest.NewTB(t, pacoteviciotest.Options{Quota: 1}) // one request left
	sr := siterastreiotest.NewTB(t, siterastreiotest.Options{})
	for _, c := range []string{"LE449872154SE", "LB000000001HK"} {
		pv.SetObject(c, correiostest.WebsiteObject(c, 2, start))
		sr.SetObject(c, correiostest.WebsiteObject(c, 2, start))
	}
	f.track(t, map[int64]string{1: "LE449872154SE", 2: "LB000000001HK"})
	env := f.env("RASTREIO_PROVIDERS", "pacotevicio,siterastreio", "PACOTEVICIO_API_KEY", "k", "PACOTEVICIO_API_URL", pv.URL,
		"SITERASTREIO_API_KEY", "k", "SITERASTREIO_API_URL", sr.URL, "CORREIOS_USER", "")
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	for chat, code := range map[int64]string{1: "LE449872154SE", 2: "LB000000001HK"} {
		if m := f.tg.Messages(chat); len(m) != 1 || !strings.Contains(m[0].Text, code) {
			t.Fatalf("chat %d got %v\n%s", chat, m, out.String())
		}
	}
	for _, c := range []string{"LE449872154SE", "LB000000001HK"} {
		if prov, by := f.pinned(t, c); prov != "siterastreio" || by != "siterastreio" {
			t.Fatalf("%s pinned to %q, checked by %q; want siterastreio\n%s", c, prov, by, out.String())
		}
	}
	if st := pv.Stats(); st.Requests != 2 || st.Billed != 1 {
		t.Fatalf("pacotevicio fake: %+v, want 2 requests (one answered, one quota 429 never retried)", st)
	}
}

// A rejected PacoteVício key (RapidAPI's 401) ends the pass with exit 78
// and a line naming PACOTEVICIO_API_KEY, never the key.
func TestExitPacoteVicioKeyRejected(t *testing.T) {
	f := newFixture(t)
	pv := pacoteviciotest.NewTB(t, pacoteviciotest.Options{APIKey: "the-right-key"})
	f.track(t, map[int64]string{1: "LE449872154SE"})
	env := f.env("RASTREIO_PROVIDERS", "pacotevicio", "PACOTEVICIO_API_KEY", "wrong-pv-key", "PACOTEVICIO_API_URL", pv.URL)
	var out bytes.Buffer
	if code := runMain(t.Context(), nil, getenv(env), &out); code != 78 {
		t.Fatalf("exit %d, want 78; output %s", code, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "PACOTEVICIO_API_KEY") || strings.Contains(s, "wrong-pv-key") {
		t.Fatalf("output %s: want a line naming PACOTEVICIO_API_KEY, never the key", s)
	}
}
