// Package providerhttp is the HTTP side every provider client shares: a
// Client that paces requests under the provider's rate, runs each under
// its own timeout, retries network errors and 5xx with backoff and
// jitter, absorbs short 429s, caps bodies, keeps URLs (which carry codes
// and sometimes keys) out of errors, and gives up for its lifetime after
// a run of failures. It interprets responses (a 5xx is
// tracking.ErrUnavailable, a long 429 a *tracking.RateLimitedError), so it
// is a client, not an http.RoundTripper.
package providerhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/rastreio/rastreio/internal/tracking"
)

// Defaults for Tuning's fields.
const (
	DefaultRequestTimeout   = 10 * time.Second
	DefaultAttempts         = 2
	DefaultMaxFailures      = 3
	DefaultBackoff          = 500 * time.Millisecond
	DefaultMaxRateLimitWait = 5 * time.Second
	DefaultUserAgent        = "rastreio (+https://github.com/rastreio/rastreio)"
	// RatePacing is the share of the configured rate the client uses, so
	// that jitter in request arrival never trips the provider's bucket.
	RatePacing = 0.95
	// MaxBody is the largest successful body read. Real answers are small:
	// the official API's fixtures take 1.5 to 3.7 KB per code (6 events),
	// 17TRACK's 4.1 KB per number, and no real answer seen reaches 10 KB
	// per code. The largest call, 50 codes to the official API, is then
	// under 500 KB even at 10 KB each: 1 MiB leaves twice that, and keeps
	// a broken or hostile provider from making a pass read and decode
	// megabytes (tracking.MaxEvents bounds what is kept of what fits).
	MaxBody   = 1 << 20
	drainBody = 64 << 10
)

// Reply is an HTTP answer read in full (bounded).
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Tuning is the HTTP behaviour every provider client shares. Zero fields
// take the defaults.
type Tuning struct {
	RequestTimeout   time.Duration // per HTTP request (≤ 15 s)
	Attempts         int           // tries per request on 5xx and network errors
	MaxFailures      int           // consecutive failed requests before the client gives up for its lifetime
	Backoff          time.Duration // first retry delay (doubles, with jitter)
	MaxRateLimitWait time.Duration // longest 429 wait absorbed before returning *tracking.RateLimitedError
	UserAgent        string
}

func (t Tuning) withDefaults() Tuning {
	if t.RequestTimeout <= 0 || t.RequestTimeout > 15*time.Second {
		t.RequestTimeout = DefaultRequestTimeout
	}
	if t.Attempts <= 0 {
		t.Attempts = DefaultAttempts
	}
	if t.MaxFailures <= 0 {
		t.MaxFailures = DefaultMaxFailures
	}
	if t.Backoff <= 0 {
		t.Backoff = DefaultBackoff
	}
	if t.MaxRateLimitWait <= 0 {
		t.MaxRateLimitWait = DefaultMaxRateLimitWait
	}
	if t.UserAgent == "" {
		t.UserAgent = DefaultUserAgent
	}
	return t
}

// Client is one provider's HTTP side: requests paced by a limiter, each
// under its own timeout, retried with backoff and jitter on network errors
// and 5xx, short 429s absorbed; and a given-up state after MaxFailures
// consecutive failed requests, so a pass against a dead provider ends
// quickly. One Client serves one provider client for one pass. It is safe
// for concurrent use.
type Client struct {
	name     string // the provider, as error prefix
	t        Tuning
	hc       *http.Client
	limiter  *rate.Limiter
	failures atomic.Int32
	lastErr  atomic.Pointer[error]
	requests atomic.Int64
	tooMany  func(Reply) error
}

// New builds the HTTP client of provider name, paced at r requests/s
// with burst b (see NewLimiter). A nil hc gets an http.Client with the
// request timeout. Redirects are never followed, whatever hc says (see
// ErrRedirect).
func New(name string, hc *http.Client, r float64, b int, t Tuning) *Client {
	t = t.withDefaults()
	c := http.Client{Timeout: t.RequestTimeout}
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		return &redirectError{provider: name, host: req.URL.Host}
	}
	return &Client{name: name, t: t, hc: &c, limiter: NewLimiter(r, b)}
}

// ErrRedirect is a provider answering with a redirect. The APIs never
// need one, and following it would carry the key (custom headers such as
// X-RapidAPI-Key or 17token survive a cross-host redirect; Basic and
// Bearer survive an https→http one on the same host) to wherever it
// points: the request fails instead, once, without retries.
var ErrRedirect = errors.New("redirect refused")

type redirectError struct{ provider, host string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("%s answered with a redirect to %s; refused (its API never redirects: check its _API_URL setting)", e.provider, e.host)
}

func (e *redirectError) Unwrap() []error { return []error{ErrRedirect, tracking.ErrUnavailable} }

// ErrBodyTooLarge is a successful answer whose body passes MaxBody. It
// fails that call only, without retries (asking again gets the same body)
// and without counting towards giving up on the provider, which did answer;
// it wraps tracking.ErrUnavailable, as any unusable body.
var ErrBodyTooLarge = errors.New("body too large")

type bodyTooLargeError struct{ provider string }

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("%s answered with a body over %d bytes; refused", e.provider, MaxBody)
}

func (e *bodyTooLargeError) Unwrap() []error {
	return []error{ErrBodyTooLarge, tracking.ErrUnavailable}
}

// Tuning is the tuning in force (defaults applied).
func (c *Client) Tuning() Tuning { return c.t }

// JudgeTooMany sets a check every 429 goes through before it is waited
// out: a non-nil error (say, a plan's monthly allowance spent, which no
// wait cures) is returned at once, unretried. Set it before the first Send.
func (c *Client) JudgeTooMany(f func(Reply) error) { c.tooMany = f }

// Requests counts the HTTP requests sent.
func (c *Client) Requests() int64 { return c.requests.Load() }

// NewLimiter paces requests slightly under the provider's rate (r
// requests/s) with a burst well inside the provider's burst b, so the
// first request goes at once and arrival jitter never empties the
// provider's bucket.
func NewLimiter(r float64, b int) *rate.Limiter {
	burst := b / 2
	if burst < 1 {
		burst = 1
	}
	return rate.NewLimiter(rate.Limit(r*RatePacing), burst)
}

// Broken reports the given-up state: after MaxFailures consecutive
// failed requests every call fails at once.
func (c *Client) Broken() error {
	if int(c.failures.Load()) < c.t.MaxFailures {
		return nil
	}
	cause := "repeated failures"
	if p := c.lastErr.Load(); p != nil {
		cause = (*p).Error()
	}
	return fmt.Errorf("%s: gave up after %d failed requests (last: %s): %w", c.name, c.t.MaxFailures, cause, tracking.ErrUnavailable)
}

func (c *Client) fail(err error) {
	c.failures.Add(1)
	c.lastErr.Store(&err)
}

// Send performs one logical request built by build. Any status below 500
// other than 429 is returned as a Reply for the caller to judge. The reply
// of a 5xx that exhausted the attempts is an error wrapping
// tracking.ErrUnavailable; a 429 that cannot be absorbed is a
// *tracking.RateLimitedError.
func (c *Client) Send(ctx context.Context, build func(context.Context) (*http.Request, error)) (Reply, error) {
	tries, limited := 0, 0
	for {
		if err := c.Broken(); err != nil {
			return Reply{}, err
		}
		if err := c.limiter.Wait(ctx); err != nil {
			return Reply{}, fmt.Errorf("%s: %w", c.name, err)
		}
		res, err := c.attempt(ctx, build)
		if ctx.Err() != nil {
			return Reply{}, fmt.Errorf("%s: %w", c.name, ctx.Err())
		}
		if err == nil && res.Status == http.StatusTooManyRequests {
			if c.tooMany != nil {
				if qerr := c.tooMany(res); qerr != nil {
					return Reply{}, qerr
				}
			}
			wait := retryAfter(res.Header, time.Now())
			if wait <= 0 {
				wait = jitter(c.t.Backoff << limited)
			}
			limited++
			if limited > 3 || wait > c.t.MaxRateLimitWait {
				return Reply{}, fmt.Errorf("%s: %w", c.name, &tracking.RateLimitedError{RetryAfter: wait})
			}
			if err := sleep(ctx, wait); err != nil {
				return Reply{}, fmt.Errorf("%s: %w", c.name, err)
			}
			continue
		}
		if err == nil && res.Status < 500 {
			c.failures.Store(0)
			return res, nil
		}
		if errors.Is(err, ErrBodyTooLarge) {
			c.failures.Store(0) // it answered: not a dead provider
			return Reply{}, err
		}
		if err == nil {
			err = fmt.Errorf("status %d", res.Status)
		}
		c.fail(err)
		if errors.Is(err, ErrRedirect) {
			return Reply{}, err // asking again gets the same answer
		}
		tries++
		if tries >= c.t.Attempts {
			return Reply{}, fmt.Errorf("%s: %d tries: %w: %w", c.name, tries, tracking.ErrUnavailable, err)
		}
		if berr := c.Broken(); berr != nil {
			return Reply{}, berr
		}
		if err := sleep(ctx, jitter(c.t.Backoff<<(tries-1))); err != nil {
			return Reply{}, fmt.Errorf("%s: %w", c.name, err)
		}
	}
}

// attempt sends one request under its own timeout and reads the body.
func (c *Client) attempt(ctx context.Context, build func(context.Context) (*http.Request, error)) (Reply, error) {
	actx, cancel := context.WithTimeout(ctx, c.t.RequestTimeout)
	defer cancel()
	req, err := build(actx)
	if err != nil {
		return Reply{}, err
	}
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return Reply{}, scrub(err)
	}
	defer resp.Body.Close()
	res := Reply{Status: resp.StatusCode, Header: resp.Header}
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if ok && resp.ContentLength > MaxBody {
		return Reply{}, &bodyTooLargeError{provider: c.name} // said so up front: not read
	}
	limit := int64(MaxBody)
	if !ok {
		limit = drainBody
	}
	res.Body, err = io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return Reply{}, fmt.Errorf("read body: %w", scrub(err))
	}
	if ok {
		// A body over the limit would be cut: refuse it rather than parse half.
		if n, _ := io.CopyN(io.Discard, resp.Body, 1); n > 0 {
			return Reply{}, &bodyTooLargeError{provider: c.name}
		}
	} else {
		io.Copy(io.Discard, io.LimitReader(resp.Body, drainBody))
	}
	return res, nil
}

// scrub drops the URL from a transport error (it carries the codes, and
// for other providers possibly a key in the query); the cause is kept.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// retryAfter reads Retry-After (seconds or an HTTP date); 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// jitter returns a duration in [d/2, d).
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// BaseURL checks a provider's base URL (an http or https URL with a host)
// and returns it without a trailing slash, ready for paths to be appended.
func BaseURL(provider, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: base URL %q is not an http(s) URL", provider, raw)
	}
	return strings.TrimRight(raw, "/"), nil
}
