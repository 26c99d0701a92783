// Package pacotevicio is the PacoteVício tracking API (sold through
// RapidAPI) as a tracking.Provider: GET {url}/correios?tracking_code=…&
// confidence_level=low with the header X-RapidAPI-Key, one code per
// request. The reply is the Correios website's object itself, the shape
// Site Rastreio wraps in a JSON string, so it is read by the same parser
// (correios.ParseWebsite): events keep Correios codigo/tipo and get the
// same keys, and moving a code between the two never re-announces history.
package pacotevicio

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/tracking"
)

// ProviderName is the provider's name in RASTREIO_PROVIDERS and in
// provider_usage.
const ProviderName = provider.PacoteVicio

// TrackPath is the Correios endpoint.
const TrackPath = "/correios"

// Defaults.
const (
	DefaultMaxBatch    = 10 // codes per Track call (one request each)
	DefaultConcurrency = 4  // requests in flight per Track call
	// DefaultConfidence: "low" makes no retries upstream and answers
	// within ~10 s, inside the 15 s every request is allowed; "medium"
	// (~20 s) and "high" (~30 s, the API's default) would be cut off.
	DefaultConfidence = "low"
	// DefaultRequestTimeout leaves "low"'s ~10 s worst case some room.
	DefaultRequestTimeout = 15 * time.Second
)

// Config configures a Client. Zero tuning fields take the defaults.
type Config struct {
	BaseURL    string  // PACOTEVICIO_API_URL
	APIKey     string  // sent as X-RapidAPI-Key
	Rate       float64 // requests/s; 0: the provider table's
	Burst      int
	Confidence string // confidence_level: low, medium or high
	HTTPClient *http.Client
	Logger     *slog.Logger

	MaxBatch    int
	Concurrency int
	providerhttp.Tuning
}

// Client is the PacoteVício API. It is safe for concurrent use; like the
// other clients it gives up for its lifetime (one pass) after MaxFailures
// consecutive failed requests.
type Client struct {
	cfg  Config
	base string
	web  *providerhttp.Client
	log  *slog.Logger
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := providerhttp.BaseURL("pacotevicio", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("pacotevicio: API key is required: %w", tracking.ErrAuth)
	}
	switch cfg.Confidence {
	case "":
		cfg.Confidence = DefaultConfidence
	case "low", "medium", "high":
	default:
		return nil, fmt.Errorf("pacotevicio: confidence level %q is not low, medium or high", cfg.Confidence)
	}
	spec := provider.Get(ProviderName)
	if cfg.Rate <= 0 {
		cfg.Rate = spec.DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = spec.DefaultBurst
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	web := providerhttp.New(ProviderName, cfg.HTTPClient, cfg.Rate, cfg.Burst, cfg.Tuning)
	web.JudgeTooMany(quotaSpent)
	cfg.Tuning = web.Tuning()
	c := &Client{cfg: cfg, base: base, web: web, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Name implements tracking.Provider.
func (c *Client) Name() string { return ProviderName }

// MaxBatch implements tracking.Provider: codes per Track call; each code
// is its own request.
func (c *Client) MaxBatch() int { return c.cfg.MaxBatch }

// Requests returns the requests sent so far.
func (c *Client) Requests() int64 { return c.web.Requests() }

// Billed implements tracking.Billed: RapidAPI counts every request.
func (c *Client) Billed() int64 { return c.web.Requests() }

// s10 is the code form the endpoint takes: two letters, nine digits, two
// letters.
var s10 = regexp.MustCompile(`^[A-Z]{2}[0-9]{9}[A-Z]{2}$`)

// Track implements tracking.Provider. Codes are asked one per request, a
// few at a time. Auth, quota and rate-limit failures fail the whole call;
// a code whose own request failed is left out of the map (no answer)
// unless no code got an answer, in which case that failure is returned.
// A code the endpoint cannot take is Unsupported, without a request.
func (c *Client) Track(ctx context.Context, codes []string) (map[string]tracking.Result, error) {
	if len(codes) > c.cfg.MaxBatch {
		return nil, fmt.Errorf("pacotevicio: %d codes in one call, at most %d", len(codes), c.cfg.MaxBatch)
	}
	out := make(map[string]tracking.Result, len(codes))
	ask := make([]string, 0, len(codes))
	for _, code := range codes {
		if !s10.MatchString(code) {
			out[code] = tracking.Result{Status: tracking.Unsupported, Message: "not a 13-character Correios code"}
			continue
		}
		ask = append(ask, code)
	}
	return tracking.TrackEach(ctx, ask, c.cfg.Concurrency, out, c.trackOne)
}

// trackOne asks one code. ok is false when the reply says nothing usable.
func (c *Client) trackOne(ctx context.Context, code string) (tracking.Result, bool, error) {
	q := url.Values{"tracking_code": {code}, "confidence_level": {c.cfg.Confidence}}
	res, err := c.web.Send(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+TrackPath+"?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-RapidAPI-Key", c.cfg.APIKey)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.cfg.UserAgent)
		return req, nil
	})
	if err != nil {
		return tracking.Result{}, false, err
	}
	return Classify(code, res.Status, res.Body)
}

// gatewayError is RapidAPI's error body: {"message":"…"}.
type gatewayError struct {
	Message string `json:"message"`
}

// websiteError is the Correios website's own error object.
type websiteError struct {
	Erro     *bool  `json:"erro"`
	Mensagem string `json:"mensagem"`
}

// Classify turns one reply (status and body) for code into a result or an
// error: 200 is the website object (correios.ParseWebsite); a 404 or
// 400 carrying the website's own error object is what it says (not found
// → NotYet, SRO-019 → Invalid); 401/403 are a rejected key or a missing
// subscription (ErrAuth); 402, and a 429 saying the plan's quota is spent,
// are ErrQuota. Anything else is ErrUnavailable. It is exported for the
// fuzz test; the client is its only caller.
func Classify(code string, status int, body []byte) (tracking.Result, bool, error) {
	switch status {
	case http.StatusOK:
		r, ok := correios.ParseWebsite(string(body))
		if !ok && !json.Valid(body) {
			return tracking.Result{}, false, fmt.Errorf("pacotevicio: %s: reply is not JSON: %w", code, tracking.ErrUnavailable)
		}
		return r, ok, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return tracking.Result{}, false, fmt.Errorf("pacotevicio: key rejected (status %d %q): check PACOTEVICIO_API_KEY and the RapidAPI subscription: %w",
			status, gatewayMessage(body), tracking.ErrAuth)
	case http.StatusPaymentRequired, http.StatusTooManyRequests:
		if err := quotaSpent(providerhttp.Reply{Status: status, Body: body}); err != nil || status == http.StatusPaymentRequired {
			return tracking.Result{}, false, fmt.Errorf("pacotevicio: plan quota spent (%q): %w", gatewayMessage(body), tracking.ErrQuota)
		}
		return tracking.Result{}, false, fmt.Errorf("pacotevicio: %w", &tracking.RateLimitedError{})
	case http.StatusNotFound, http.StatusBadRequest, http.StatusUnprocessableEntity:
		var we websiteError
		if json.Unmarshal(body, &we) == nil && (we.Erro != nil || we.Mensagem != "") {
			r, ok := correios.ParseWebsite(string(body))
			if ok && (status == http.StatusNotFound || r.Status == tracking.Invalid) {
				return r, true, nil
			}
		}
	}
	return tracking.Result{}, false, fmt.Errorf("pacotevicio: %s: status %d %q: %w", code, status, gatewayMessage(body), tracking.ErrUnavailable)
}

// exhausted is RapidAPI's wording for a spent plan ("You have exceeded
// the MONTHLY quota for Requests on your current plan, BASIC…"), matched
// on the words that carry it.
var exhausted = regexp.MustCompile(`(?i)exceeded the \w+ quota`)

// quotaSpent tells RapidAPI's two 429s apart: a spent plan (its message,
// or x-ratelimit-requests-remaining: 0) is ErrQuota, which no wait cures;
// anything else is a short limit providerhttp waits out.
func quotaSpent(res providerhttp.Reply) error {
	if exhausted.MatchString(gatewayMessage(res.Body)) ||
		(res.Header != nil && strings.TrimSpace(res.Header.Get("X-Ratelimit-Requests-Remaining")) == "0") {
		return fmt.Errorf("pacotevicio: plan quota spent (%q): %w", gatewayMessage(res.Body), tracking.ErrQuota)
	}
	return nil
}

// gatewayMessage is the body's "message" (RapidAPI) or "mensagem"
// (website), cut short for logs.
func gatewayMessage(body []byte) string {
	var g gatewayError
	var w websiteError
	_ = json.Unmarshal(body, &g)
	msg := g.Message
	if msg == "" && json.Unmarshal(body, &w) == nil {
		msg = w.Mensagem
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return strings.TrimSpace(msg)
}
