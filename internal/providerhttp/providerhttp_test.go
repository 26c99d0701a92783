package providerhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/tracking"
)

// JudgeTooMany: a 429 the judge calls final is returned at once, after one
// request; one it lets pass is waited out and retried as before.
func TestJudgeTooMany(t *testing.T) {
	errPlan := errors.New("plan spent")
	for _, tc := range []struct {
		name     string
		body     string
		wantReqs int64
		wantErr  error
	}{
		{"plan spent", `{"message":"monthly"}`, 1, errPlan},
		{"short limit", `{"message":"slow down"}`, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.WriteHeader(http.StatusTooManyRequests)
					w.Write([]byte(tc.body))
					return
				}
				w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			hc := providerhttp.New("x", nil, 1000, 10, providerhttp.Tuning{Backoff: time.Millisecond})
			hc.JudgeTooMany(func(r providerhttp.Reply) error {
				if r.Status != http.StatusTooManyRequests {
					t.Errorf("judged status %d", r.Status)
				}
				if strings.Contains(string(r.Body), "monthly") {
					return errPlan
				}
				return nil
			})
			res, err := hc.Send(context.Background(), func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && res.Status != http.StatusOK) {
				t.Fatalf("res %d err %v, want %v", res.Status, err, tc.wantErr)
			}
			var rl *tracking.RateLimitedError
			if errors.As(err, &rl) {
				t.Fatal("a judged 429 came back as rate limited")
			}
			if n.Load() != tc.wantReqs || hc.Requests() != tc.wantReqs {
				t.Fatalf("%d requests (client %d), want %d", n.Load(), hc.Requests(), tc.wantReqs)
			}
			if hc.Broken() != nil {
				t.Fatal("a 429 counted as a failure")
			}
		})
	}
}

// A 200 whose body passes MaxBody fails its own request, at once (no
// retry), whether its length was announced or not; the client does not
// count it towards giving up, and the next request goes through. A body of
// exactly MaxBody is read whole.
func TestBodyCap(t *testing.T) {
	big := strings.Repeat("x", providerhttp.MaxBody+1)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch r.URL.Path {
		case "/announced":
			w.Write([]byte(big))
		case "/chunked":
			w.Write([]byte(big[:1024]))
			w.(http.Flusher).Flush() // no Content-Length: the length shows only while reading
			w.Write([]byte(big[1024:]))
		case "/exact":
			w.Write([]byte(big[:providerhttp.MaxBody]))
		}
	}))
	defer srv.Close()
	hc := providerhttp.New("fake", nil, 1000, 10, providerhttp.Tuning{Backoff: time.Millisecond, MaxFailures: 2})
	get := func(path string) (providerhttp.Reply, error) {
		return hc.Send(context.Background(), func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		})
	}
	for _, path := range []string{"/announced", "/chunked", "/announced", "/chunked"} {
		before := n.Load()
		res, err := get(path)
		if !errors.Is(err, providerhttp.ErrBodyTooLarge) || !errors.Is(err, tracking.ErrUnavailable) || res.Body != nil {
			t.Fatalf("%s: %d bytes, err %v; want ErrBodyTooLarge wrapping ErrUnavailable", path, len(res.Body), err)
		}
		if !strings.Contains(err.Error(), "fake") {
			t.Errorf("%s: the error does not name the provider: %v", path, err)
		}
		if got := n.Load() - before; got != 1 {
			t.Fatalf("%s: %d requests, want 1 (no retry)", path, got)
		}
		if err := hc.Broken(); err != nil {
			t.Fatalf("%s: the client gave up: %v", path, err)
		}
	}
	res, err := get("/exact")
	if err != nil || len(res.Body) != providerhttp.MaxBody {
		t.Fatalf("a body of exactly MaxBody: %d bytes, %v", len(res.Body), err)
	}
}
