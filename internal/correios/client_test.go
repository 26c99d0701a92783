package correios_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/tracking"
)

const (
	testUser = "lojaexemplo"
	testPass = "s3cr3t-access-code"
)

// memTokens is an in-memory correios.TokenStore.
type memTokens struct {
	mu               sync.Mutex
	user, token      string
	expires          time.Time
	saves            int
	saveErr, loadErr error
}

func (m *memTokens) Token(ctx context.Context, provider string) (string, string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadErr != nil {
		return "", "", time.Time{}, m.loadErr
	}
	if m.token == "" {
		return "", "", time.Time{}, errors.New("not found")
	}
	return m.user, m.token, m.expires, nil
}

func (m *memTokens) SaveToken(ctx context.Context, provider, user, token string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	if m.saveErr != nil {
		return m.saveErr
	}
	m.user, m.token, m.expires = user, token, expires
	return nil
}

type seed struct {
	user, token string
	expires     time.Time
	loadErr     error
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// newFake starts a fake Correios loaded with every tracking fixture.
func newFake(tb testing.TB, opts correiostest.Options) *correiostest.Server {
	tb.Helper()
	if opts.User == "" {
		opts.User, opts.AccessCode = testUser, testPass
	}
	srv := correiostest.NewTB(tb, opts)
	for _, f := range []string{"object-delivered.json", "object-in-transit.json", "object-customs-awaiting-payment.json",
		"object-not-found.json", "batch-mixed.json"} {
		if err := srv.AddResponse(fixture(tb, f)); err != nil {
			tb.Fatal(err)
		}
	}
	return srv
}

func newClient(tb testing.TB, url string, tokens correios.TokenStore, mod func(*correios.Config)) *correios.Client {
	tb.Helper()
	cfg := correios.Config{
		BaseURL: url, User: testUser, AccessCode: testPass,
		Rate: 1000, Burst: 100, Tokens: tokens,
		Tuning: providerhttp.Tuning{RequestTimeout: 2 * time.Second, Backoff: 5 * time.Millisecond},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := correios.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

var allCodes = []string{"QQ850419295BR", "QH991577104BR", "LE449872154SE", "AA123456785BR", "DG049186226BR",
	"BR123456789BR", "AAAA", "PJ907948743BR"}

func TestTrackFixturesThroughFake(t *testing.T) {
	srv := newFake(t, correiostest.Options{})
	c := newClient(t, srv.URL, &memTokens{}, nil)
	got, err := c.Track(t.Context(), allCodes)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]tracking.Status{
		"QQ850419295BR": tracking.Found, "QH991577104BR": tracking.Found, "LE449872154SE": tracking.Found,
		"DG049186226BR": tracking.Found, "AA123456785BR": tracking.NotYet, "BR123456789BR": tracking.NotYet,
		"AAAA": tracking.Invalid, "PJ907948743BR": tracking.NotOurs,
	}
	for code, st := range want {
		if got[code].Status != st {
			t.Errorf("%s: %v, want %v", code, got[code].Status, st)
		}
	}
	if k := got["QQ850419295BR"].Events[5].Kind; k != tracking.KindDelivered {
		t.Errorf("last event kind %s", k)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/token/v1/autentica" || reqs[0].Auth != "basic" {
		t.Fatalf("requests %+v, want token then track", reqs)
	}
	tr := reqs[1]
	if tr.Auth != "bearer" || tr.AcceptLanguage != "pt-BR" || tr.Accept != "application/json" || tr.UserAgent == "" || len(tr.Codes) != len(allCodes) {
		t.Errorf("track request %+v", tr)
	}
}

func TestTokenCache(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name       string
		stored     seed
		wantFetch  int
		wantCached bool // the stored token was used
	}{
		{"empty store", seed{}, 1, false},
		{"valid token for this user", seed{token: "SEED", expires: now.Add(20 * time.Hour)}, 0, true},
		{"token of another user", seed{user: "outra", token: "SEED", expires: now.Add(20 * time.Hour)}, 1, false},
		{"about to expire", seed{token: "SEED", expires: now.Add(2 * time.Minute)}, 1, false},
		{"expired", seed{token: "SEED", expires: now.Add(-time.Hour)}, 1, false},
		{"store fails", seed{loadErr: errors.New("disk"), token: "SEED"}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t, correiostest.Options{})
			store := &memTokens{user: tc.stored.user, token: tc.stored.token, expires: tc.stored.expires, loadErr: tc.stored.loadErr}
			c := newClient(t, srv.URL, store, nil)
			if store.token == "SEED" {
				store.token = srv.IssueToken()
				if store.user == "" {
					// The identity the client files tokens under.
					store.user = testUser
				}
			}
			for i := 0; i < 3; i++ {
				if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
					t.Fatal(err)
				}
			}
			st := srv.Stats()
			if st.TokenRequests != tc.wantFetch {
				t.Errorf("token requests %d, want %d", st.TokenRequests, tc.wantFetch)
			}
			if tc.wantFetch > 0 && store.saves != 1 {
				t.Errorf("saves %d, want 1", store.saves)
			}
			if tc.wantCached && store.saves != 0 {
				t.Errorf("a valid stored token was replaced")
			}
			// A second client (the next pass) reuses what was stored.
			c2 := newClient(t, srv.URL, store, nil)
			if _, err := c2.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
				t.Fatal(err)
			}
			if tc.stored.loadErr == nil && srv.Stats().TokenRequests != st.TokenRequests {
				t.Errorf("next pass requested a token again")
			}
		})
	}
}

func TestTokenExpiryIsBrasiliaTime(t *testing.T) {
	// token-201.json: expiraEm 2024-03-12T09:05:12 Brasília = 12:05:12 UTC.
	body := fixture(t, "token-201.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/token/") {
			w.WriteHeader(201)
			w.Write(body)
			return
		}
		w.Write(fixture(t, "object-delivered.json"))
	}))
	defer srv.Close()
	store := &memTokens{}
	now := time.Date(2024, 3, 11, 12, 5, 12, 0, time.UTC)
	c := newClient(t, srv.URL, store, func(cfg *correios.Config) {
		cfg.Postcard = "0071234567"
		cfg.Now = func() time.Time { return now }
	})
	if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 3, 12, 12, 5, 12, 0, time.UTC); !store.expires.Equal(want) {
		t.Errorf("stored expiry %v, want %v", store.expires.UTC(), want)
	}
	if !strings.HasPrefix(store.token, "eyJ") || store.user != testUser {
		t.Errorf("stored %q for %q", store.token[:10], store.user)
	}
}

func TestPostcardToken(t *testing.T) {
	srv := newFake(t, correiostest.Options{})
	c := newClient(t, srv.URL, nil, func(cfg *correios.Config) { cfg.Postcard = "0071234567" })
	if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
		t.Fatal(err)
	}
	if p := srv.Requests()[0].Path; p != "/token/v1/autentica/cartaopostagem" {
		t.Errorf("token path %s", p)
	}
}

func TestTokenRejected(t *testing.T) {
	srv := newFake(t, correiostest.Options{User: testUser, AccessCode: "the-right-one"})
	c := newClient(t, srv.URL, &memTokens{}, nil)
	_, err := c.Track(t.Context(), []string{"QQ850419295BR"})
	if !errors.Is(err, tracking.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), testPass) {
		t.Fatalf("error leaks the access code: %v", err)
	}
	// No second token request in the same pass.
	_, err = c.Track(t.Context(), []string{"QQ850419295BR"})
	if !errors.Is(err, tracking.ErrAuth) || srv.Stats().TokenRequests != 1 {
		t.Fatalf("second call: err %v, token requests %d", err, srv.Stats().TokenRequests)
	}
}

func TestTokenFixture401(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		w.Write(fixture(t, "token-401.json"))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, nil, nil)
	_, err := c.Track(t.Context(), []string{"QQ850419295BR"})
	if !errors.Is(err, tracking.ErrAuth) || !strings.Contains(err.Error(), "Senha não foi informada") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnauthorizedMidPass(t *testing.T) {
	for _, status := range []int{401, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			gtw := fixture(t, "gateway-token-invalid-gtw008.json")
			srv := newFake(t, correiostest.Options{})
			store := &memTokens{user: testUser, expires: time.Now().Add(20 * time.Hour)}
			store.token = srv.IssueToken()
			old := store.token
			var expired bool
			var mu sync.Mutex
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				exp := expired
				mu.Unlock()
				if exp && r.Header.Get("Authorization") == "Bearer "+old && strings.HasPrefix(r.URL.Path, "/srorastro") {
					w.WriteHeader(status)
					w.Write(gtw)
					return
				}
				srv.Config.Handler.ServeHTTP(w, r)
			}))
			defer front.Close()
			store.user = testUser
			c := newClient(t, front.URL, store, nil)
			if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			expired = true
			mu.Unlock()
			got, err := c.Track(t.Context(), []string{"QQ850419295BR", "AA123456785BR"})
			if err != nil {
				t.Fatal(err)
			}
			if got["QQ850419295BR"].Status != tracking.Found || got["AA123456785BR"].Status != tracking.NotYet {
				t.Errorf("retried batch: %v", got)
			}
			if n := srv.Stats().TokenRequests; n != 1 {
				t.Errorf("token requests %d, want 1", n)
			}
			if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
				t.Fatalf("after renewal: %v", err)
			}
		})
	}
}

func TestExpiredTokenAtFakeRenewsOnce(t *testing.T) {
	srv := newFake(t, correiostest.Options{})
	c := newClient(t, srv.URL, &memTokens{}, nil)
	if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
		t.Fatal(err)
	}
	// The token issued at the start of this pass worked, then expired:
	// one renewal, the batch retried.
	srv.ExpireTokens()
	if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := srv.Stats().TokenRequests; n != 2 {
		t.Errorf("token requests %d, want 2", n)
	}
	// Only once per pass: a second expiry is ErrAuth, no third request.
	srv.ExpireTokens()
	if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); !errors.Is(err, tracking.ErrAuth) {
		t.Fatalf("second expiry: %v, want ErrAuth", err)
	}
	if n := srv.Stats().TokenRequests; n != 2 {
		t.Errorf("token requests %d, want 2", n)
	}
}

func TestFreshTokenRejectedAtOnce(t *testing.T) {
	// A token just issued and refused by its first tracking request (e.g.
	// GTW-008, a token of the other environment): ErrAuth, one token request.
	srv := newFake(t, correiostest.Options{})
	srv.Fail(correiostest.FaultUnauthorized)
	c := newClient(t, srv.URL, &memTokens{}, nil)
	_, err := c.Track(t.Context(), []string{"QQ850419295BR"})
	if !errors.Is(err, tracking.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if n := srv.Stats().TokenRequests; n != 1 {
		t.Errorf("token requests %d, want 1", n)
	}
}

// TestFaults: the Correios-specific faults (the provider contract in
// internal/tracking runs the common ones: 5xx, hang, garbage, 429).
func TestFaults(t *testing.T) {
	tests := []struct {
		name     string
		faults   []correiostest.Fault
		wantErr  error // nil: the call succeeds
		rateErr  bool
		requests int // tracking requests the call made
	}{
		{"truncated", []correiostest.Fault{correiostest.FaultTruncated}, tracking.ErrUnavailable, false, 1},
		{"429 four times", []correiostest.Fault{correiostest.Fault429, correiostest.Fault429, correiostest.Fault429, correiostest.Fault429}, nil, true, 4},
		{"empty objetos", []correiostest.Fault{correiostest.FaultEmptyObjects}, nil, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t, correiostest.Options{})
			c := newClient(t, srv.URL, &memTokens{}, func(cfg *correios.Config) { cfg.RequestTimeout = 300 * time.Millisecond })
			srv.Fail(tc.faults...)
			got, err := c.Track(t.Context(), []string{"QQ850419295BR"})
			switch {
			case tc.rateErr:
				var rl *tracking.RateLimitedError
				if !errors.As(err, &rl) {
					t.Fatalf("err = %v, want *RateLimitedError", err)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if tc.name == "empty objetos" {
					if len(got) != 0 {
						t.Fatalf("got %v, want no answer", got)
					}
				} else if got["QQ850419295BR"].Status != tracking.Found {
					t.Fatalf("got %v", got)
				}
			}
			if n := srv.Stats().TrackRequests; n != tc.requests {
				t.Errorf("tracking requests %d, want %d", n, tc.requests)
			}
			// A failed batch does not break the next one.
			srv.ClearFaults()
			if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
				t.Errorf("next batch: %v", err)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var calls int
	var first time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/token") {
			w.WriteHeader(201)
			fmt.Fprint(w, `{"token":"t","expiraEm":"2099-01-01T00:00:00"}`)
			return
		}
		calls++
		if calls == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			return
		}
		if d := time.Since(first); d < 900*time.Millisecond {
			t.Errorf("retried after %v, before Retry-After", d)
		}
		w.Write(fixture(t, "object-delivered.json"))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, nil, nil)
	if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
		t.Fatal(err)
	}
	// A Retry-After beyond what the client absorbs is returned at once.
	calls = 0
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(429)
	})
	start := time.Now()
	_, err := c.Track(t.Context(), []string{"QQ850419295BR"})
	var rl *tracking.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 120*time.Second || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

// TestDeadCorreiosDefaults: with the production timeouts and a server that
// never answers, a pass of many batches ends well within 60 s. Uses the
// real 10 s timeout, so it runs only with -run explicitly or in long mode.
func TestDeadCorreiosDefaultsBound(t *testing.T) {
	// Worst case by construction: MaxFailures requests, each at most
	// RequestTimeout, plus backoff between the attempts.
	worst := time.Duration(providerhttp.DefaultMaxFailures)*providerhttp.DefaultRequestTimeout +
		time.Duration(providerhttp.DefaultMaxFailures)*providerhttp.DefaultBackoff*2
	if worst >= 60*time.Second || providerhttp.DefaultRequestTimeout > 15*time.Second {
		t.Fatalf("worst case against a dead Correios %v, want < 60 s", worst)
	}
}

func TestAcceptLanguageRequiredByFake(t *testing.T) {
	srv := newFake(t, correiostest.Options{})
	tok := srv.IssueToken()
	req, _ := http.NewRequest("GET", srv.URL+"/srorastro/v1/objetos?codigosObjetos=QQ850419295BR&resultado=T", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf strings.Builder
	fmt.Fscan(resp.Body, &buf)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	// And the client maps such a 400 to a failed batch, naming SRO-018.
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/token") {
			w.WriteHeader(201)
			fmt.Fprint(w, `{"token":"t","expiraEm":"2099-01-01T00:00:00"}`)
			return
		}
		w.WriteHeader(400)
		w.Write(fixture(t, "accept-language-missing-400.json"))
	}))
	defer h.Close()
	c := newClient(t, h.URL, nil, nil)
	_, err = c.Track(t.Context(), []string{"QQ850419295BR"})
	if !errors.Is(err, tracking.ErrUnavailable) || !strings.Contains(err.Error(), "SRO-018") {
		t.Fatalf("err = %v", err)
	}
}

func TestGateway429FixtureShape(t *testing.T) {
	// gateway-429.txt describes the real 429: empty body, bucket headers.
	txt := string(fixture(t, "gateway-429.txt"))
	if !strings.Contains(txt, "HTTP/1.1 429") || !strings.Contains(txt, "Content-Length: 0") {
		t.Fatal("fixture changed")
	}
	srv := newFake(t, correiostest.Options{Rate: 1, Burst: 1})
	tok := srv.IssueToken()
	var last *http.Response
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("GET", srv.URL+"/srorastro/v1/objetos?codigosObjetos=QQ850419295BR&resultado=T", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept-Language", "pt-BR")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp
	}
	if last.StatusCode != 429 || last.ContentLength != 0 || last.Header.Get("X-RateLimit-Burst-Capacity") != "1" {
		t.Fatalf("fake 429: %d len %d %v", last.StatusCode, last.ContentLength, last.Header)
	}
	if v := srv.Stats().Violations; v != 2 {
		t.Errorf("violations %d, want 2", v)
	}
}

// TestPacingUnderBucket: the client's limiter keeps a fake enforcing the
// same figures free of violations, and the first request leaves at once.
func TestPacingUnderBucket(t *testing.T) {
	srv := newFake(t, correiostest.Options{Rate: 200, Burst: 20})
	store := &memTokens{expires: time.Now().Add(time.Hour)}
	store.token = srv.IssueToken()
	store.user = testUser
	c := newClient(t, srv.URL, store, func(cfg *correios.Config) { cfg.Rate, cfg.Burst = 200, 20 })
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 120)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				if _, err := c.Track(t.Context(), []string{"QQ850419295BR"}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if d := reqs[0].At.Sub(start); d > time.Second {
		t.Errorf("first request after %v", d)
	}
	if v := srv.Stats().Violations; v != 0 {
		t.Errorf("%d rate violations", v)
	}
	if elapsed := time.Since(start); elapsed < 400*time.Millisecond {
		t.Errorf("120 requests in %v: not paced under 200/s", elapsed)
	}
}

func TestTrackArguments(t *testing.T) {
	srv := newFake(t, correiostest.Options{})
	c := newClient(t, srv.URL, nil, nil)
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("AA%09dBR", i)
	}
	if _, err := c.Track(t.Context(), many); err == nil {
		t.Error("51 codes accepted")
	}
	got, err := c.Track(t.Context(), nil)
	if err != nil || len(got) != 0 || srv.Stats().TrackRequests != 0 {
		t.Errorf("empty call: %v %v", got, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Track(ctx, []string{"QQ850419295BR"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	if _, err := correios.New(correios.Config{BaseURL: "ftp://x", User: "u", AccessCode: "p"}); err == nil {
		t.Error("bad URL accepted")
	}
	if _, err := correios.New(correios.Config{BaseURL: srv.URL}); !errors.Is(err, tracking.ErrAuth) {
		t.Error("missing credentials accepted")
	}
}
