package tracking

import (
	"context"
	"errors"
	"sync"
)

// TrackEach is Track for an API that takes one code per request: it asks
// each code with one(ctx, code), at most concurrency at a time, into out
// (which may already hold answers, e.g. codes the API cannot take).
//
// An auth, quota or rate-limit failure, or the end of ctx, stops the call
// and fails it whole: the chain then moves on. A code whose own request
// failed is left out of the map (no answer this time), unless no code got
// an answer at all; then that failure is returned. one's ok=false means
// the reply said nothing usable (the code is left out too).
func TrackEach(ctx context.Context, codes []string, concurrency int, out map[string]Result,
	one func(ctx context.Context, code string) (r Result, ok bool, err error)) (map[string]Result, error) {
	var (
		mu       sync.Mutex
		fatal    error
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan string)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(max(concurrency, 1), len(codes)) {
		wg.Go(func() {
			for code := range work {
				r, ok, err := one(ctx, code)
				mu.Lock()
				switch {
				case err != nil && stopsCall(err):
					if fatal == nil {
						fatal = err
					}
					cancel()
				case err != nil:
					if firstErr == nil {
						firstErr = err
					}
				case ok:
					out[code] = r
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, code := range codes {
		select {
		case work <- code:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	switch {
	case fatal != nil:
		return nil, fatal
	case len(out) == 0 && firstErr != nil:
		return nil, firstErr
	}
	return out, nil
}

// stopsCall: failures no other code of the call would escape.
func stopsCall(err error) bool {
	var rl *RateLimitedError
	return errors.Is(err, ErrAuth) || errors.Is(err, ErrQuota) || errors.As(err, &rl) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
