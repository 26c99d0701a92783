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
