package tracking_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/pacotevicio/pacoteviciotest"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/siterastreio/siterastreiotest"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/track17/track17test"
	"github.com/rastreio/rastreio/internal/tracking"
)

const parcel = "QQ850419295BR" // the official fixture object-delivered.json

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// viaProviders asks each provider's fake, fed with that provider's fixture
// of the same parcel, through the provider's real client.
func viaProviders(t *testing.T) map[string]tracking.Result {
	t.Helper()
	ctx := t.Context()
	out := map[string]tracking.Result{}

	cf := correiostest.NewTB(t, correiostest.Options{})
	if err := cf.AddResponse(readFile(t, "../correios/testdata/object-delivered.json")); err != nil {
		t.Fatal(err)
	}
	cc, err := correios.New(correios.Config{BaseURL: cf.URL, User: "u", AccessCode: "p", Rate: 100, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}

	sf := siterastreiotest.NewTB(t, siterastreiotest.Options{})
	sf.SetObject(parcel, readFile(t, "../correios/testdata/website-QQ850419295BR.json"))
	sc, err := siterastreio.New(siterastreio.Config{BaseURL: sf.URL, APIKey: "k", Rate: 100, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}

	// PacoteVício serves the website object itself: the same file, unwrapped.
	pf := pacoteviciotest.NewTB(t, pacoteviciotest.Options{})
	pf.SetObject(parcel, readFile(t, "../correios/testdata/website-QQ850419295BR.json"))
	pc, err := pacotevicio.New(pacotevicio.Config{BaseURL: pf.URL, APIKey: "k", Rate: 100, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}

	tf := track17test.NewTB(t, track17test.Options{})
	tf.Register(parcel)
	tf.SetTrackInfo(parcel, readFile(t, "../track17/testdata/trackinfo-QQ850419295BR.json"))
	tc, err := track17.New(track17.Config{BaseURL: tf.URL, APIKey: "k", Rate: 100, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}

	for _, p := range []tracking.Provider{cc, sc, pc, tc} {
		// Through a one-provider chain, as the tracker asks.
		res, err := tracking.NewChain(p).Track(ctx, []tracking.Request{{Code: parcel}})
		if err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
		r := res[parcel]
		if r.Status != tracking.Found || r.Provider != p.Name() {
			t.Fatalf("%s: %+v", p.Name(), r)
		}
		out[p.Name()] = r
	}
	return out
}

// TestSameParcelEveryProvider: the same parcel seen through each
// provider's shape normalises to the same events. The official API, Site
// Rastreio and PacoteVício (all Correios codigo/tipo) must agree on
// everything, event keys included, so switching between them never re-announces history; 17TRACK
// has no codigo/tipo, so its kinds, instants and texts must agree.
func TestSameParcelEveryProvider(t *testing.T) {
	got := viaProviders(t)
	off, site, t17 := got["correios"].Events, got["siterastreio"].Events, got["track17"].Events
	wantKinds := []tracking.Kind{tracking.KindPosted, tracking.KindTransit, tracking.KindTransit, tracking.KindTransit,
		tracking.KindOutForDelivery, tracking.KindDelivered}
	for name, evs := range got {
		if len(evs.Events) != len(wantKinds) {
			t.Fatalf("%s: %d events, want %d", name, len(evs.Events), len(wantKinds))
		}
		for i, k := range wantKinds {
			if evs.Events[i].Kind != k {
				t.Errorf("%s event %d: kind %s, want %s", name, i, evs.Events[i].Kind, k)
			}
		}
		if !evs.Events[len(evs.Events)-1].Kind.Final() {
			t.Errorf("%s: last event not final", name)
		}
	}
	if len(got) != 4 {
		t.Fatalf("%d providers answered, want 4", len(got))
	}
	for _, name := range []string{"siterastreio", "pacotevicio"} {
		other := got[name].Events
		if !reflect.DeepEqual(off, other) {
			for i := range off {
				if off[i] != other[i] {
					t.Errorf("event %d differs:\nofficial %+v\n%s %+v", i, off[i], name, other[i])
				}
			}
		}
	}
	for i := range off {
		if !off[i].At.Equal(t17[i].At) || off[i].Description != t17[i].Description {
			t.Errorf("track17 event %d: %v %q, official %v %q", i, t17[i].At, t17[i].Description, off[i].At, off[i].Description)
		}
	}

	// The notifications a chat would get are identical for the two
	// Correios-shaped providers; 17TRACK's differ only in the place format.
	first := func(evs []tracking.Event) string {
		return message.FirstStatus(parcel, "tênis <novo>", evs[len(evs)-1], false)
	}
	for _, other := range [][]tracking.Event{site, got["pacotevicio"].Events} {
		if a, b := first(off), first(other); a != b {
			t.Errorf("first-status message differs:\n%s\n---\n%s", a, b)
		}
		if a, b := message.NewEvents(parcel, "tênis", off[3:]), message.NewEvents(parcel, "tênis", other[3:]); a != b {
			t.Errorf("new-events message differs:\n%s\n---\n%s", a, b)
		}
	}
}

// TestSwitchingProviderNeverReannounces stores the official history, then
// the Site Rastreio and PacoteVício answers for the same parcel (a retry
// through another provider): no new event and no notification.
func TestSwitchingProviderNeverReannounces(t *testing.T) {
	got := viaProviders(t)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "rastreio.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetClock(func() time.Time { return time.Date(2024, 3, 16, 12, 0, 0, 0, time.UTC) })
	if _, err := st.AddPackages(ctx, store.ChatRef{ID: 42, Kind: "private"}, []store.PackageItem{{Code: parcel, Description: "tênis"}}, 100); err != nil {
		t.Fatal(err)
	}
	render := func(n store.Notice) string { return message.NewEvents(n.Code, n.Description, n.Events) }

	pass, err := st.BeginPass(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, err := st.SaveResults(ctx, pass, []store.Checked{{Code: parcel, Result: got["correios"]}}, render)
	if err != nil {
		t.Fatal(err)
	}
	if first.NewEvents != 6 || first.Queued != 1 {
		t.Fatalf("official answer: %+v, want 6 new events and 1 message", first)
	}
	for _, name := range []string{"siterastreio", "pacotevicio"} {
		pass, _ = st.BeginPass(ctx)
		again, err := st.SaveResults(ctx, pass, []store.Checked{{Code: parcel, Result: got[name]}}, render)
		if err != nil {
			t.Fatal(err)
		}
		if again.NewEvents != 0 || again.Queued != 0 {
			t.Fatalf("same parcel through %s: %+v, want nothing new", name, again)
		}
	}
	n, err := st.OutboxLen(ctx)
	if err != nil || n != 1 {
		t.Fatalf("outbox %d %v, want the one first message", n, err)
	}
}
