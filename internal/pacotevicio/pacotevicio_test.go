package pacotevicio_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/pacotevicio/pacoteviciotest"
	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/tracking"
)

const key = "pv-key-123-secret"

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func newClient(tb testing.TB, url string, mod func(*pacotevicio.Config)) *pacotevicio.Client {
	tb.Helper()
	cfg := pacotevicio.Config{BaseURL: url, APIKey: key, Rate: 1000, Burst: 50,
		Tuning: providerhttp.Tuning{RequestTimeout: time.Second, Backoff: 5 * time.Millisecond}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := pacotevicio.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestFixtures answers every request with one fixture and checks both
// what the client made of it and the request it sent.
func TestFixtures(t *testing.T) {
	var rl *tracking.RateLimitedError
	tests := []struct {
		file   string
		status int
		want   tracking.Status
		kinds  []tracking.Kind
		is     error
		as     any
	}{
		{"correios-AM101610575BR.json", 200, tracking.Found, []tracking.Kind{tracking.KindPosted, tracking.KindDelivered}, nil, nil},
		{"not-found.json", 200, tracking.NotYet, nil, nil, nil},
		{"not-found.json", 404, tracking.NotYet, nil, nil, nil},
		{"invalid-code.json", 200, tracking.Invalid, nil, nil, nil},
		{"invalid-code.json", 400, tracking.Invalid, nil, nil, nil},
		{"invalid-key-401.json", 401, 0, nil, tracking.ErrAuth, nil},
		{"invalid-key-401.json", 403, 0, nil, tracking.ErrAuth, nil},
		{"not-subscribed-403.json", 403, 0, nil, tracking.ErrAuth, nil},
		{"quota-429.json", 429, 0, nil, tracking.ErrQuota, nil},
		{"rate-limit-429.json", 429, 0, nil, nil, &rl},
		{"rate-limit-429.json", 404, 0, nil, tracking.ErrUnavailable, nil}, // a wrong URL is not "not found"
		{"not-found.json", 400, 0, nil, tracking.ErrUnavailable, nil},
		{"correios-AM101610575BR.json", 503, 0, nil, tracking.ErrUnavailable, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d", tc.file, tc.status), func(t *testing.T) {
			body := fixture(t, tc.file)
			var mu sync.Mutex
			var got []*http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write(body)
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, srv.URL, func(cfg *pacotevicio.Config) { cfg.MaxRateLimitWait = time.Millisecond })
			const code = "AM101610575BR"
			res, err := c.Track(t.Context(), []string{code})
			switch {
			case tc.is != nil:
				if !errors.Is(err, tc.is) {
					t.Fatalf("err = %v, want %v", err, tc.is)
				}
			case tc.as != nil:
				if !errors.As(err, tc.as) {
					t.Fatalf("err = %v, want %T", err, tc.as)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				r := res[code]
				if r.Status != tc.want || len(r.Events) != len(tc.kinds) {
					t.Fatalf("got %v with %d events, want %v with %d", r.Status, len(r.Events), tc.want, len(tc.kinds))
				}
				for i, k := range tc.kinds {
					if r.Events[i].Kind != k {
						t.Errorf("event %d: %s, want %s", i, r.Events[i].Kind, k)
					}
				}
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Fatal("error leaks the key")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 {
				t.Fatal("no request")
			}
			r := got[0]
			if r.Method != http.MethodGet || r.URL.Path != "/correios" || r.Header.Get("X-RapidAPI-Key") != key ||
				r.URL.Query().Get("tracking_code") != code || r.URL.Query().Get("confidence_level") != "low" {
				t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
			}
			if (tc.is == tracking.ErrQuota || tc.is == tracking.ErrAuth) && len(got) != 1 {
				t.Errorf("%d requests; a spent plan or a rejected key must not be retried", len(got))
			}
		})
	}
}

// TestSameEventsAsSiteRastreio: the client passes PacoteVício's reply to
// correios.ParseWebsite untouched, the parser Site Rastreio's inner JSON
// goes through too, so both give identical events (keys included) and a
// code moved between the two re-announces nothing.
func TestSameEventsAsSiteRastreio(t *testing.T) {
	body := fixture(t, "correios-AM101610575BR.json")
	srv := pacoteviciotest.NewTB(t, pacoteviciotest.Options{APIKey: key})
	srv.SetObject("AM101610575BR", body)
	got, err := newClient(t, srv.URL, nil).Track(t.Context(), []string{"AM101610575BR"})
	if err != nil {
		t.Fatal(err)
	}
	want, ok := correios.ParseWebsite(string(body))
	if !ok || !reflect.DeepEqual(got["AM101610575BR"].Events, want.Events) {
		t.Fatalf("pacotevicio %+v\nsiterastreio %+v", got["AM101610575BR"].Events, want.Events)
	}
	if k := want.Events[1].Key; k != "BDE|01|2025-03-04T02:30:03Z|RECIFE/PE" {
		t.Errorf("BDE key %q", k)
	}
}

func TestAgainstFake(t *testing.T) {
	srv := pacoteviciotest.NewTB(t, pacoteviciotest.Options{APIKey: key})
	srv.SetObject("AM101610575BR", fixture(t, "correios-AM101610575BR.json"))
	srv.SetObject("AA123456785BR", fixture(t, "invalid-code.json"))
	c := newClient(t, srv.URL, nil)
	codes := []string{"AM101610575BR", "LB000000001HK", "AA123456785BR", "1234"}
	got, err := c.Track(t.Context(), codes)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]tracking.Status{"AM101610575BR": tracking.Found, "LB000000001HK": tracking.NotYet,
		"AA123456785BR": tracking.Invalid, "1234": tracking.Unsupported}
	for code, st := range want {
		if got[code].Status != st {
			t.Errorf("%s: %v, want %v", code, got[code].Status, st)
		}
	}
	if n := srv.Stats().Requests; n != 3 || c.Requests() != 3 || c.Billed() != 3 {
		t.Errorf("requests fake=%d client=%d billed=%d, want 3 (one per well-formed code)", n, c.Requests(), c.Billed())
	}
	bad := newClient(t, srv.URL, func(cfg *pacotevicio.Config) { cfg.APIKey = "wrong-key" })
	if _, err := bad.Track(t.Context(), codes); !errors.Is(err, tracking.ErrAuth) || strings.Contains(err.Error(), "wrong-key") {
		t.Fatalf("bad key: %v", err)
	}
}

// TestQuotaSpent: RapidAPI's monthly-quota 429 is ErrQuota at once (the
// chain falls through), never waited out or retried like a short limit.
func TestQuotaSpent(t *testing.T) {
	srv := pacoteviciotest.NewTB(t, pacoteviciotest.Options{Quota: 2})
	c := newClient(t, srv.URL, func(cfg *pacotevicio.Config) {
		cfg.Concurrency = 1
		cfg.MaxRateLimitWait = time.Minute
		cfg.Backoff = time.Second
	})
	if _, err := c.Track(t.Context(), []string{"AA123456785BR", "AM101610575BR"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := c.Track(t.Context(), []string{"AA123456785BR", "AM101610575BR"})
	if !errors.Is(err, tracking.ErrQuota) {
		t.Fatalf("err = %v, want ErrQuota", err)
	}
	if n := srv.Stats().Requests; n != 3 {
		t.Errorf("%d requests, want 3: the quota 429 must not be retried", n)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("took %v: the quota 429 was waited out", d)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := pacotevicio.New(pacotevicio.Config{BaseURL: "http://x", APIKey: "k", Confidence: "max"}); err == nil {
		t.Error("bad confidence level accepted")
	}
	c := newClient(t, "http://127.0.0.1:1", nil)
	if c.MaxBatch() != pacotevicio.DefaultMaxBatch {
		t.Errorf("max %d", c.MaxBatch())
	}
	if _, err := c.Track(t.Context(), make([]string, c.MaxBatch()+1)); err == nil {
		t.Error("over MaxBatch accepted")
	}
}
