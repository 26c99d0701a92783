package siterastreio_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/siterastreio/siterastreiotest"
	"github.com/rastreio/rastreio/internal/tracking"
)

const key = "k-123-secret"

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// websiteFixture reads a Correios website object from correios's
// testdata, where its parser lives.
func websiteFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("../correios/testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func newClient(tb testing.TB, url string, mod func(*siterastreio.Config)) *siterastreio.Client {
	tb.Helper()
	cfg := siterastreio.Config{BaseURL: url, APIKey: key, Rate: 1000, Burst: 50,
		Tuning: providerhttp.Tuning{RequestTimeout: time.Second, Backoff: 5 * time.Millisecond}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := siterastreio.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// fixtureServer answers every request with one fixture file.
func fixtureServer(t *testing.T, status int, name string, seen func(*http.Request, []byte)) *httptest.Server {
	body := fixture(t, name)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1024)
		n, _ := r.Body.Read(b)
		if seen != nil {
			seen(r, b[:n])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file    string
		status  int
		code    string
		want    tracking.Status
		kinds   []tracking.Kind
		wantErr error
	}{
		{"track-delivered.json", 200, "AM101610575BR", tracking.Found,
			[]tracking.Kind{tracking.KindPosted, tracking.KindDelivered}, nil},
		{"track-customs-string-dates.json", 200, "LE449872154SE", tracking.Found,
			[]tracking.Kind{tracking.KindTransit, tracking.KindPosted, tracking.KindTransit, tracking.KindArrivedBrazil, tracking.KindCustoms, tracking.KindTaxDue}, nil},
		{"track-not-found.json", 200, "AA123456785BR", tracking.NotYet, nil, nil},
		{"out-of-credit.json", 400, "AM101610575BR", 0, nil, tracking.ErrQuota},
		{"unauthenticated.json", 401, "AM101610575BR", 0, nil, tracking.ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var mu sync.Mutex
			var gotReq *http.Request
			var gotBody []byte
			srv := fixtureServer(t, tc.status, tc.file, func(r *http.Request, b []byte) {
				mu.Lock()
				gotReq, gotBody = r, b
				mu.Unlock()
			})
			c := newClient(t, srv.URL, nil)
			got, err := c.Track(t.Context(), []string{tc.code})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), key) {
					t.Fatal("error leaks the key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := got[tc.code]
			if r.Status != tc.want {
				t.Fatalf("status %v, want %v", r.Status, tc.want)
			}
			if len(r.Events) != len(tc.kinds) {
				t.Fatalf("%d events, want %d", len(r.Events), len(tc.kinds))
			}
			for i, k := range tc.kinds {
				if r.Events[i].Kind != k {
					t.Errorf("event %d kind %s, want %s", i, r.Events[i].Kind, k)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if gotReq.Method != "POST" || gotReq.URL.Path != siterastreio.TrackPath ||
				gotReq.Header.Get("Authorization") != "Apikey "+key || gotReq.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s %s %v", gotReq.Method, gotReq.URL.Path, gotReq.Header)
			}
			var body map[string]string
			if json.Unmarshal(gotBody, &body) != nil || body["code"] != tc.code {
				t.Errorf("body %s", gotBody)
			}
		})
	}
}

func TestAgainstFake(t *testing.T) {
	srv := siterastreiotest.NewTB(t, siterastreiotest.Options{APIKey: key})
	srv.SetObject("AM101610575BR", websiteFixture(t, "website-AM101610575BR.json"))
	srv.SetObject("QQ850419295BR", websiteFixture(t, "website-QQ850419295BR.json"))
	c := newClient(t, srv.URL, nil)
	codes := []string{"AM101610575BR", "QQ850419295BR", "AA123456785BR"}
	got, err := c.Track(t.Context(), codes)
	if err != nil {
		t.Fatal(err)
	}
	if got["AM101610575BR"].Status != tracking.Found || got["QQ850419295BR"].Status != tracking.Found ||
		got["AA123456785BR"].Status != tracking.NotYet {
		t.Fatalf("results %v", got)
	}
	if n := srv.Stats().Requests; n != 3 || c.Requests() != 3 {
		t.Errorf("requests fake=%d client=%d, want 3 (one per code)", n, c.Requests())
	}
}

// TestBadInnerJSON: a 200 whose "json" string is not JSON is no answer
// for that code, not an error (the provider contract in internal/tracking
// runs the common faults: 5xx, hang, garbage, 429).
func TestBadInnerJSON(t *testing.T) {
	srv := siterastreiotest.NewTB(t, siterastreiotest.Options{})
	srv.SetObject("AM101610575BR", websiteFixture(t, "website-AM101610575BR.json"))
	c := newClient(t, srv.URL, func(cfg *siterastreio.Config) { cfg.RequestTimeout = 200 * time.Millisecond })
	srv.Fail(siterastreiotest.FaultBadInner)
	got, err := c.Track(t.Context(), []string{"AM101610575BR"})
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v %v, want no answer and no error", got, err)
	}
}

func TestMaxBatch(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1", nil)
	if c.MaxBatch() != siterastreio.DefaultMaxBatch {
		t.Errorf("max %d", c.MaxBatch())
	}
	if _, err := c.Track(t.Context(), make([]string, c.MaxBatch()+1)); err == nil {
		t.Error("over MaxBatch accepted")
	}
}
