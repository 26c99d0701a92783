package track17_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/track17/track17test"
	"github.com/rastreio/rastreio/internal/tracking"
)

const key = "17-secret-key"

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func newClient(tb testing.TB, url string, mod func(*track17.Config)) *track17.Client {
	tb.Helper()
	cfg := track17.Config{BaseURL: url, APIKey: key, Rate: 1000, Burst: 50, Tuning: providerhttp.Tuning{RequestTimeout: time.Second, Backoff: 5 * time.Millisecond}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := track17.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// scripted answers each path with a fixture and records the bodies.
type scripted struct {
	mu     sync.Mutex
	status map[string]int
	bodies map[string][]byte
	seen   map[string][]string // path → request bodies
	hdr    http.Header
}

func serve(t *testing.T, s *scripted) *httptest.Server {
	s.seen = map[string][]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen[r.URL.Path] = append(s.seen[r.URL.Path], string(b))
		s.hdr = r.Header.Clone()
		body, ok := s.bodies[r.URL.Path]
		st := s.status[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if st == 0 {
			st = 200
		}
		w.WriteHeader(st)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDocsExample(t *testing.T) {
	s := &scripted{bodies: map[string][]byte{track17.GetTrackInfoPath: fixture(t, "gettrackinfo-docs-example.json")}}
	srv := serve(t, s)
	c := newClient(t, srv.URL, nil)
	got, err := c.Track(t.Context(), []string{"RR123456789CN"})
	if err != nil {
		t.Fatal(err)
	}
	r := got["RR123456789CN"]
	if r.Status != tracking.Found || len(r.Events) != 3 {
		t.Fatalf("%+v", r)
	}
	want := []struct {
		kind tracking.Kind
		key  string
	}{
		{tracking.KindLabel, "2022-04-25T02:00:00Z|Order information received"},
		{tracking.KindPosted, "2022-04-26T06:30:00Z|Package picked up"},
		{tracking.KindDelivered, "2022-05-02T18:34:00Z|Package delivered"},
	}
	for i, w := range want {
		if r.Events[i].Kind != w.kind || r.Events[i].Key != w.key {
			t.Errorf("event %d: %s %q, want %s %q", i, r.Events[i].Kind, r.Events[i].Key, w.kind, w.key)
		}
	}
	if r.Events[2].Location != "LOS ANGELES, CA" || r.Events[0].Codigo != "" {
		t.Errorf("event %+v", r.Events[2])
	}
	// latest_sync_time: when 17TRACK last refreshed the number (the
	// schedule times the next check from it).
	if want := time.Date(2022, 5, 2, 18, 34, 0, 0, time.UTC); !r.Synced.Equal(want) {
		t.Errorf("Synced %v, want %v", r.Synced, want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hdr.Get("17token") != key || s.hdr.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", s.hdr)
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(s.seen[track17.GetTrackInfoPath][0]), &items); err != nil || items[0]["carrier"] != float64(2151) {
		t.Errorf("body %s", s.seen[track17.GetTrackInfoPath][0])
	}
	if len(s.seen[track17.RegisterPath]) != 0 {
		t.Error("registered a number 17TRACK already tracks")
	}
}

func TestFixtureOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		get      string
		getSt    int
		register string
		codes    []string
		want     map[string]tracking.Status
		wantErr  error
		rate     bool
	}{
		{name: "rejected format", get: "gettrackinfo-rejected.json", codes: []string{"RR123456789CN", "1234"},
			want: map[string]tracking.Status{"RR123456789CN": tracking.NotYet, "1234": tracking.Invalid}},
		{name: "register answer naming another number is ignored", get: "gettrackinfo-not-registered.json", register: "register-accepted.json",
			codes: []string{"LB330827204HK"}, want: map[string]tracking.Status{}},
		{name: "already registered and quota", get: "gettrackinfo-not-registered.json", register: "register-already-and-quota.json",
			codes: []string{"QQ850419295BR", "LB330827204HK"},
			want:  map[string]tracking.Status{"QQ850419295BR": tracking.NotYet, "LB330827204HK": tracking.Unsupported}},
		{name: "invalid key", get: "error-invalid-key.json", codes: []string{"X1234"}, wantErr: tracking.ErrAuth},
		{name: "invalid key with 401", get: "error-invalid-key.json", getSt: 401, codes: []string{"X1234"}, wantErr: tracking.ErrAuth},
		{name: "429 envelope", get: "error-429.json", getSt: 429, codes: []string{"X1234"}, rate: true},
		{name: "429 code in a 200", get: "error-429.json", codes: []string{"X1234"}, rate: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{bodies: map[string][]byte{track17.GetTrackInfoPath: fixture(t, tc.get)},
				status: map[string]int{track17.GetTrackInfoPath: tc.getSt}}
			if tc.register != "" {
				s.bodies[track17.RegisterPath] = fixture(t, tc.register)
			}
			srv := serve(t, s)
			got, err := newClient(t, srv.URL, nil).Track(t.Context(), tc.codes)
			switch {
			case tc.rate:
				var rl *tracking.RateLimitedError
				if !errors.As(err, &rl) {
					t.Fatalf("err = %v, want rate limited", err)
				}
				return
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) || strings.Contains(err.Error(), key) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			for code, st := range tc.want {
				if got[code].Status != st {
					t.Errorf("%s: %v, want %v", code, got[code].Status, st)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d results %v, want %d", len(got), got, len(tc.want))
			}
		})
	}
}

func TestLifecycleAgainstFake(t *testing.T) {
	srv := track17test.NewTB(t, track17test.Options{APIKey: key, Quota: 2})
	c := newClient(t, srv.URL, nil)
	codes := []string{"QQ850419295BR", "LB330827204HK", "AM101610575BR"}
	// Pass 1: nobody registered; two fit in the quota, the third is
	// Unsupported (falls through the chain).
	got, err := c.Track(t.Context(), codes)
	if err != nil {
		t.Fatal(err)
	}
	if got["QQ850419295BR"].Status != tracking.NotYet || got["LB330827204HK"].Status != tracking.NotYet ||
		got["AM101610575BR"].Status != tracking.Unsupported {
		t.Fatalf("pass 1: %v", got)
	}
	if srv.Stats().Registrations != 2 || c.Billed() != 2 {
		t.Fatalf("registrations fake=%d client=%d", srv.Stats().Registrations, c.Billed())
	}
	// Pass 2: 17TRACK has data for one of them.
	srv.SetTrackInfo("QQ850419295BR", fixture(t, "trackinfo-QQ850419295BR.json"))
	got, err = c.Track(t.Context(), codes[:2])
	if err != nil {
		t.Fatal(err)
	}
	if r := got["QQ850419295BR"]; r.Status != tracking.Found || len(r.Events) != 6 || r.Events[5].Kind != tracking.KindDelivered {
		t.Fatalf("pass 2: %+v", r)
	}
	if got["LB330827204HK"].Status != tracking.NotYet {
		t.Fatalf("pass 2 LB: %v", got["LB330827204HK"])
	}
	// The delivered one is stopped at 17TRACK (a second request); the
	// one in transit is not.
	if st := srv.Stats(); st.Registrations != 2 || st.Requests != 4 {
		t.Errorf("stats %+v: want no new registration and two requests in pass 2", st)
	}
	if got := srv.Stopped(); len(got) != 1 || got[0] != "QQ850419295BR" {
		t.Errorf("stopped = %v, want [QQ850419295BR]", got)
	}
	// Only quota-less numbers: ErrQuota for the whole call.
	if _, err := c.Track(t.Context(), []string{"YJ460348417BR"}); !errors.Is(err, tracking.ErrQuota) {
		t.Fatalf("quota: %v", err)
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]tracking.Kind{
		"InfoReceived": tracking.KindLabel, "InTransit_PickedUp": tracking.KindPosted, "InTransit_Departure": tracking.KindTransit,
		"InTransit_Other": tracking.KindTransit, "InTransit_CustomsProcessing": tracking.KindCustoms,
		"InTransit_CustomsRequiringInformation": tracking.KindTaxDue, "AvailableForPickup_Other": tracking.KindAwaitingPickup,
		"OutForDelivery_Other": tracking.KindOutForDelivery, "DeliveryFailure_NoBody": tracking.KindDeliveryFailed,
		"Delivered_Other": tracking.KindDelivered, "Delivered": tracking.KindDelivered, "Exception_Returning": tracking.KindReturning,
		"Exception_Returned": tracking.KindReturned, "Exception_Lost": tracking.KindLost, "Exception_Delayed": tracking.KindOther,
		"": tracking.KindOther, "Something_New": tracking.KindOther,
	}
	for in, want := range tests {
		if got := track17.Classify(in); got != want {
			t.Errorf("Classify(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestClassifyEventTaxDueFromText(t *testing.T) {
	tests := []struct {
		stage, desc string
		want        tracking.Kind
	}{
		{"InTransit_Other", "Aguardando pagamento", tracking.KindTaxDue},
		{"InTransit_CustomsProcessing", "Aguardando pagamento do despacho postal", tracking.KindTaxDue},
		{"InTransit_Other", "Awaiting payment", tracking.KindTaxDue},
		{"", "Pagamento pendente - Minhas Importações", tracking.KindTaxDue},
		{"InTransit_CustomsReleased", "Pagamento confirmado", tracking.KindCustoms},
		{"InTransit_Other", "Payment confirmed", tracking.KindTransit},
		{"InTransit_CustomsProcessing", "Encaminhado para fiscalização aduaneira", tracking.KindCustoms},
		{"Delivered_Other", "Objeto entregue ao destinatário", tracking.KindDelivered},
	}
	for _, tc := range tests {
		if got := track17.ClassifyEvent(tc.stage, tc.desc); got != tc.want {
			t.Errorf("ClassifyEvent(%q, %q) = %s, want %s", tc.stage, tc.desc, got, tc.want)
		}
	}
}

func TestMaxBatch(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1", nil)
	if c.MaxBatch() != 40 {
		t.Error("batch")
	}
	if _, err := c.Track(t.Context(), make([]string, 41)); err == nil {
		t.Error("41 numbers accepted")
	}
}
