package providerhttptest

import "time"

// Bucket is a provider gateway's token bucket as the fakes enforce it:
// Rate tokens a second up to Burst; a request that finds no token is a
// violation (the fake answers 429). A nil *Bucket enforces nothing.
type Bucket struct {
	rate, burst float64
	tokens      float64
	at          time.Time
}

// NewBucket returns a full bucket, or nil when rate ≤ 0 (no limit).
func NewBucket(rate float64, burst int, now time.Time) *Bucket {
	if rate <= 0 {
		return nil
	}
	return &Bucket{rate: rate, burst: float64(burst), tokens: float64(burst), at: now}
}

// Take removes one token at now; false means the request is over the
// limit. Not safe for concurrent use: callers hold their own lock.
func (b *Bucket) Take(now time.Time) bool {
	if b == nil {
		return true
	}
	b.tokens = min(b.burst, b.tokens+now.Sub(b.at).Seconds()*b.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
