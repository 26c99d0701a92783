package tracking_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/pacotevicio/pacoteviciotest"
	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/siterastreio/siterastreiotest"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/track17/track17test"
	"github.com/rastreio/rastreio/internal/tracking"
)

// The provider contract: what the tracker relies on from every provider
// client, checked against each one and its fake. Provider-specific
// behaviour (token handling, Connect-RPC codes, registration…) stays in
// the provider's own tests.

// fault is a failure every fake can inject, mapped to each fake's own.
type fault int

const (
	fault5xx     fault = iota + 1 // a 5xx
	faultHang                     // no answer until the client gives up
	faultGarbage                  // a 200 whose body is not JSON
	fault429                      // a 429 with no Retry-After
)

// contractFake is one started fake as the contract drives it.
type contractFake struct {
	url      string
	fail     func(...fault) // the next requests, one fault each
	failAll  func(fault)
	requests func() int // tracking requests served
	overRate func() int // requests over the enforced bucket
}

// fakeOptions are the knobs the contract sets on every fake.
type fakeOptions struct {
	key   string  // accepted key (for correios: the access code)
	rate  float64 // enforced bucket; 0: none
	burst int
	quota int // billed units before the plan is spent; 0: unlimited
}

type contractSubject struct {
	name  string
	start func(t *testing.T, code string, o fakeOptions) contractFake
	// client builds the client with key (for correios: the access code).
	client func(url, key string, rate float64, burst int, tu providerhttp.Tuning) (tracking.Provider, error)
	quota  bool // the fake can spend a plan (ErrQuota)
}

const contractKey = "contract-secret-key"

var contractStart = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func faultMap[F any](m map[fault]F) func(...fault) []F {
	return func(fs ...fault) []F {
		out := make([]F, len(fs))
		for i, f := range fs {
			out[i] = m[f]
		}
		return out
	}
}

var contractSubjects = []contractSubject{
	{
		name: provider.Correios,
		start: func(t *testing.T, code string, o fakeOptions) contractFake {
			srv := correiostest.NewTB(t, correiostest.Options{User: "loja", AccessCode: o.key, Rate: o.rate, Burst: o.burst,
				Lookup: func(c string) []byte {
					if c == code {
						return correiostest.Object(c, 3, contractStart)
					}
					return nil
				}})
			m := faultMap(map[fault]correiostest.Fault{fault5xx: correiostest.Fault5xx, faultHang: correiostest.FaultHang,
				faultGarbage: correiostest.FaultGarbage, fault429: correiostest.Fault429})
			return contractFake{url: srv.URL,
				fail:     func(fs ...fault) { srv.Fail(m(fs...)...) },
				failAll:  func(f fault) { srv.FailAll(m(f)[0]) },
				requests: func() int { return srv.Stats().TrackRequests },
				overRate: func() int { return srv.Stats().Violations }}
		},
		client: func(url, key string, rate float64, burst int, tu providerhttp.Tuning) (tracking.Provider, error) {
			return correios.New(correios.Config{BaseURL: url, User: "loja", AccessCode: key, Rate: rate, Burst: burst, Tuning: tu})
		},
	},
	{
		name: provider.SiteRastreio,
		start: func(t *testing.T, code string, o fakeOptions) contractFake {
			srv := siterastreiotest.NewTB(t, siterastreiotest.Options{APIKey: o.key, Credits: o.quota, Rate: o.rate, Burst: o.burst})
			srv.SetObject(code, correiostest.WebsiteObject(code, 3, contractStart))
			m := faultMap(map[fault]siterastreiotest.Fault{fault5xx: siterastreiotest.Fault5xx, faultHang: siterastreiotest.FaultHang,
				faultGarbage: siterastreiotest.FaultGarbage, fault429: siterastreiotest.Fault429})
			return contractFake{url: srv.URL,
				fail:     func(fs ...fault) { srv.Fail(m(fs...)...) },
				failAll:  func(f fault) { srv.FailAll(m(f)[0]) },
				requests: func() int { return srv.Stats().Requests },
				overRate: func() int { return srv.Stats().Violations }}
		},
		client: func(url, key string, rate float64, burst int, tu providerhttp.Tuning) (tracking.Provider, error) {
			return siterastreio.New(siterastreio.Config{BaseURL: url, APIKey: key, Rate: rate, Burst: burst, Tuning: tu})
		},
		quota: true,
	},
	{
		name: provider.PacoteVicio,
		start: func(t *testing.T, code string, o fakeOptions) contractFake {
			srv := pacoteviciotest.NewTB(t, pacoteviciotest.Options{APIKey: o.key, Quota: o.quota, Rate: o.rate, Burst: o.burst})
			srv.SetObject(code, correiostest.WebsiteObject(code, 3, contractStart))
			m := faultMap(map[fault]pacoteviciotest.Fault{fault5xx: pacoteviciotest.Fault5xx, faultHang: pacoteviciotest.FaultHang,
				faultGarbage: pacoteviciotest.FaultGarbage, fault429: pacoteviciotest.Fault429})
			return contractFake{url: srv.URL,
				fail:     func(fs ...fault) { srv.Fail(m(fs...)...) },
				failAll:  func(f fault) { srv.FailAll(m(f)[0]) },
				requests: func() int { return srv.Stats().Requests },
				overRate: func() int { return srv.Stats().Violations }}
		},
		client: func(url, key string, rate float64, burst int, tu providerhttp.Tuning) (tracking.Provider, error) {
			return pacotevicio.New(pacotevicio.Config{BaseURL: url, APIKey: key, Rate: rate, Burst: burst, Tuning: tu})
		},
		quota: true,
	},
	{
		name: provider.Track17,
		start: func(t *testing.T, code string, o fakeOptions) contractFake {
			srv := track17test.NewTB(t, track17test.Options{APIKey: o.key, Quota: o.quota, Rate: o.rate, Burst: o.burst})
			srv.Register(code)
			srv.SetTrackInfo(code, track17test.TrackInfo(3, contractStart))
			m := faultMap(map[fault]track17test.Fault{fault5xx: track17test.Fault5xx, faultHang: track17test.FaultHang,
				faultGarbage: track17test.FaultGarbage, fault429: track17test.Fault429})
			return contractFake{url: srv.URL,
				fail:     func(fs ...fault) { srv.Fail(m(fs...)...) },
				failAll:  func(f fault) { srv.FailAll(m(f)[0]) },
				requests: func() int { return srv.Stats().Requests },
				overRate: func() int { return srv.Stats().Violations }}
		},
		client: func(url, key string, rate float64, burst int, tu providerhttp.Tuning) (tracking.Provider, error) {
			return track17.New(track17.Config{BaseURL: url, APIKey: key, Rate: rate, Burst: burst, Tuning: tu})
		},
	},
}

const contractCode = "QQ850419295BR"

// fastTuning keeps the fault cases quick: a short timeout and backoff.
var fastTuning = providerhttp.Tuning{RequestTimeout: 200 * time.Millisecond, Backoff: 5 * time.Millisecond}

func contractClient(t *testing.T, s contractSubject, url string) tracking.Provider {
	t.Helper()
	p, err := s.client(url, contractKey, 1000, 50, fastTuning)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// noSecrets fails when err's text carries the key or the fake's URL (the
// URL carries the codes, and for some providers could carry a key).
func noSecrets(t *testing.T, err error, url string) {
	t.Helper()
	if err == nil {
		return
	}
	if msg := err.Error(); strings.Contains(msg, contractKey) || strings.Contains(msg, url) ||
		strings.Contains(msg, strings.TrimPrefix(url, "http://")) {
		t.Errorf("error leaks the key or the URL: %v", err)
	}
}

func TestProviderContract(t *testing.T) {
	for _, s := range contractSubjects {
		t.Run(s.name, func(t *testing.T) {
			t.Run("name and batch", func(t *testing.T) {
				p := contractClient(t, s, "http://127.0.0.1:9")
				if p.Name() != s.name {
					t.Errorf("Name() = %q, want %q", p.Name(), s.name)
				}
				if _, ok := provider.Lookup(p.Name()); !ok {
					t.Errorf("%s is not in the provider table", p.Name())
				}
				if p.MaxBatch() < 1 {
					t.Fatalf("MaxBatch() = %d", p.MaxBatch())
				}
			})
			t.Run("new validates", func(t *testing.T) {
				if _, err := s.client("http://127.0.0.1:9", "", 0, 0, providerhttp.Tuning{}); !errors.Is(err, tracking.ErrAuth) {
					t.Errorf("no credentials: err = %v, want ErrAuth", err)
				}
				if _, err := s.client("ftp://example.com", contractKey, 0, 0, providerhttp.Tuning{}); err == nil {
					t.Error("a non-http base URL was accepted")
				}
			})
			t.Run("found", func(t *testing.T) {
				f := s.start(t, contractCode, fakeOptions{key: contractKey})
				got, err := contractClient(t, s, f.url).Track(t.Context(), []string{contractCode})
				if err != nil {
					t.Fatal(err)
				}
				r := got[contractCode]
				if r.Status != tracking.Found || len(r.Events) != 3 {
					t.Fatalf("result %+v, want Found with 3 events", r)
				}
				for i, e := range r.Events {
					if e.Key == "" || (i > 0 && e.At.Before(r.Events[i-1].At)) {
						t.Fatalf("history not oldest first with keys: %+v", r.Events)
					}
				}
			})
			t.Run("rejected key", func(t *testing.T) {
				f := s.start(t, contractCode, fakeOptions{key: "the-right-one"})
				_, err := contractClient(t, s, f.url).Track(t.Context(), []string{contractCode})
				if !errors.Is(err, tracking.ErrAuth) {
					t.Fatalf("err = %v, want ErrAuth", err)
				}
				noSecrets(t, err, f.url)
			})
			faults := []struct {
				name    string
				faults  []fault
				wantErr error // nil: Found
			}{
				{"5xx then ok", []fault{fault5xx}, nil},
				{"hang then ok", []fault{faultHang}, nil},
				{"429 then ok", []fault{fault429}, nil},
				{"5xx twice", []fault{fault5xx, fault5xx}, tracking.ErrUnavailable},
				{"garbage", []fault{faultGarbage}, tracking.ErrUnavailable},
			}
			for _, tc := range faults {
				t.Run(tc.name, func(t *testing.T) {
					f := s.start(t, contractCode, fakeOptions{key: contractKey})
					p := contractClient(t, s, f.url)
					f.fail(tc.faults...)
					got, err := p.Track(t.Context(), []string{contractCode})
					if tc.wantErr != nil {
						if !errors.Is(err, tc.wantErr) {
							t.Fatalf("err = %v, want %v", err, tc.wantErr)
						}
						noSecrets(t, err, f.url)
					} else if err != nil || got[contractCode].Status != tracking.Found {
						t.Fatalf("got %v, %v; want Found", got, err)
					}
					// A failed call does not spoil the next.
					if got, err := p.Track(t.Context(), []string{contractCode}); err != nil || got[contractCode].Status != tracking.Found {
						t.Fatalf("next call: %v, %v", got, err)
					}
				})
			}
			t.Run("429 persistent", func(t *testing.T) {
				f := s.start(t, contractCode, fakeOptions{key: contractKey})
				f.failAll(fault429)
				_, err := contractClient(t, s, f.url).Track(t.Context(), []string{contractCode})
				var rl *tracking.RateLimitedError
				if !errors.As(err, &rl) || errors.Is(err, tracking.ErrQuota) {
					t.Fatalf("err = %v, want *RateLimitedError (not a spent plan)", err)
				}
			})
			for name, dead := range map[string]fault{"5xx": fault5xx, "hang": faultHang} {
				t.Run("dead gives up "+name, func(t *testing.T) {
					f := s.start(t, contractCode, fakeOptions{key: contractKey})
					p := contractClient(t, s, f.url)
					f.failAll(dead)
					start := time.Now()
					for i := 0; i < 10; i++ {
						_, err := p.Track(t.Context(), []string{contractCode})
						if !errors.Is(err, tracking.ErrUnavailable) {
							t.Fatalf("call %d: err = %v, want ErrUnavailable", i, err)
						}
						noSecrets(t, err, f.url)
					}
					if n := f.requests(); n != providerhttp.DefaultMaxFailures {
						t.Errorf("%d requests to a dead provider, want %d", n, providerhttp.DefaultMaxFailures)
					}
					if d := time.Since(start); d > 3*time.Second {
						t.Errorf("giving up took %v", d)
					}
				})
			}
			t.Run("paced under the bucket", func(t *testing.T) {
				const rate, burst = 100, 10
				f := s.start(t, contractCode, fakeOptions{key: contractKey, rate: rate, burst: burst})
				p, err := s.client(f.url, contractKey, rate, burst, fastTuning)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				for i := 0; i < 40; i++ {
					if _, err := p.Track(t.Context(), []string{contractCode}); err != nil {
						t.Fatal(err)
					}
				}
				n := f.requests()
				if v := f.overRate(); v != 0 {
					t.Errorf("%d of %d requests over the provider's bucket", v, n)
				}
				// Beyond the burst, no faster than the rate.
				if min := time.Duration(float64(n-burst) / rate * float64(time.Second)); time.Since(start) < min {
					t.Errorf("%d requests in %v, faster than %d/s", n, time.Since(start), rate)
				}
			})
			if s.quota {
				t.Run("plan spent", func(t *testing.T) {
					f := s.start(t, contractCode, fakeOptions{key: contractKey, quota: 1})
					p := contractClient(t, s, f.url)
					if _, err := p.Track(t.Context(), []string{contractCode}); err != nil {
						t.Fatal(err)
					}
					start := time.Now()
					_, err := p.Track(t.Context(), []string{contractCode})
					if !errors.Is(err, tracking.ErrQuota) {
						t.Fatalf("err = %v, want ErrQuota", err)
					}
					if d := time.Since(start); d > time.Second {
						t.Errorf("a spent plan took %v to report: it was waited out", d)
					}
				})
			}
		})
	}
}
