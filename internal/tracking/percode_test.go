package tracking

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestTrackEach(t *testing.T) {
	codes := []string{"A", "B", "C", "D", "E", "F"}
	found := Result{Status: Found}
	down := fmt.Errorf("fake: %w", ErrUnavailable)

	t.Run("a failed code is left out, the others answer, within the concurrency", func(t *testing.T) {
		var inFlight, most atomic.Int32
		out, err := TrackEach(t.Context(), codes, 2, map[string]Result{"Z": {Status: Unsupported}},
			func(ctx context.Context, code string) (Result, bool, error) {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(5 * time.Millisecond)
				switch code {
				case "B":
					return Result{}, false, down
				case "C":
					return Result{}, false, nil // nothing usable
				}
				return found, true, nil
			})
		if err != nil || len(out) != 5 || out["Z"].Status != Unsupported {
			t.Fatalf("out=%v err=%v, want A, D, E, F and the given Z", out, err)
		}
		if _, ok := out["B"]; ok {
			t.Fatal("the failed code has an answer")
		}
		if m := most.Load(); m > 2 {
			t.Fatalf("%d requests at once, want at most 2", m)
		}
	})
	t.Run("every code failed: the failure", func(t *testing.T) {
		_, err := TrackEach(t.Context(), codes, 3, map[string]Result{}, func(ctx context.Context, code string) (Result, bool, error) {
			return Result{}, false, down
		})
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err=%v, want unavailable", err)
		}
	})
	for _, stop := range []error{ErrAuth, ErrQuota, &RateLimitedError{}} {
		t.Run(fmt.Sprintf("%v stops the call", stop), func(t *testing.T) {
			var asked atomic.Int32
			out, err := TrackEach(t.Context(), codes, 1, map[string]Result{}, func(ctx context.Context, code string) (Result, bool, error) {
				asked.Add(1)
				if code == "B" {
					return Result{}, false, fmt.Errorf("fake: %w", stop)
				}
				return found, true, nil
			})
			if out != nil || err == nil || !errors.Is(err, stop) && !errors.As(err, new(*RateLimitedError)) {
				t.Fatalf("out=%v err=%v, want the whole call failed with %v", out, err, stop)
			}
			if n := asked.Load(); n > 3 {
				t.Fatalf("%d codes asked after the failure at the 2nd, want the call stopped", n)
			}
		})
	}
}
