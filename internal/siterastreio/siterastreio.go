// Package siterastreio is the Site Rastreio / Wonca Labs tracking API as a
// tracking.Provider: POST {url}/wonca.labs.v1.LabsService/Track with
// {"code":"…"} and `Authorization: Apikey <key>`, one code per request.
// The reply wraps the Correios website's object as a JSON string in its
// field "json"; events keep Correios codigo/tipo, so they are classified
// and keyed exactly as the official API's; correios.ParseWebsite reads it.
package siterastreio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/tracking"
)

// ProviderName is the provider's name in RASTREIO_PROVIDERS and in
// provider_usage.
const ProviderName = provider.SiteRastreio

// TrackPath is the Connect-RPC method the client calls.
const TrackPath = "/wonca.labs.v1.LabsService/Track"

// Defaults.
const (
	DefaultMaxBatch    = 10 // codes per Track call (one request each)
	DefaultConcurrency = 4  // requests in flight per Track call
)

// Config configures a Client. Zero tuning fields take the defaults.
type Config struct {
	BaseURL    string // SITERASTREIO_API_URL
	APIKey     string
	Rate       float64 // requests/s, paced at providerhttp.RatePacing of it; 0: the provider table's
	Burst      int
	HTTPClient *http.Client
	Logger     *slog.Logger

	MaxBatch    int
	Concurrency int
	providerhttp.Tuning
}

// Client is the Site Rastreio API. It is safe for concurrent use; like
// the Correios client it gives up for its lifetime (one pass) after
// MaxFailures consecutive failed requests.
type Client struct {
	cfg  Config
	base string
	web  *providerhttp.Client
	log  *slog.Logger
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := providerhttp.BaseURL("siterastreio", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("siterastreio: API key is required: %w", tracking.ErrAuth)
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
	web := providerhttp.New(ProviderName, cfg.HTTPClient, cfg.Rate, cfg.Burst, cfg.Tuning)
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

// Requests returns the requests sent so far (each one is billed).
func (c *Client) Requests() int64 { return c.web.Requests() }

// Billed implements tracking.Billed: Site Rastreio bills every request.
func (c *Client) Billed() int64 { return c.web.Requests() }

// Track implements tracking.Provider. Codes are asked one per request,
// a few at a time. Auth and credit failures fail the whole call; a code
// whose own request failed is left out of the map (no answer) unless no
// code at all got an answer, in which case that failure is returned.
func (c *Client) Track(ctx context.Context, codes []string) (map[string]tracking.Result, error) {
	if len(codes) > c.cfg.MaxBatch {
		return nil, fmt.Errorf("siterastreio: %d codes in one call, at most %d", len(codes), c.cfg.MaxBatch)
	}
	out := make(map[string]tracking.Result, len(codes))
	return tracking.TrackEach(ctx, codes, c.cfg.Concurrency, out, c.trackOne)
}

// connectError is a Connect-RPC error body.
type connectError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// reply is the Track answer: the object as a JSON string.
type reply struct {
	Carrier string `json:"carrier"`
	JSON    string `json:"json"`
	Code    string `json:"code"` // set when the 200 is in fact an error
	Message string `json:"message"`
}

// trackOne asks one code. ok is false when the reply says nothing usable.
func (c *Client) trackOne(ctx context.Context, code string) (tracking.Result, bool, error) {
	body, _ := json.Marshal(map[string]string{"code": code})
	res, err := c.web.Send(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+TrackPath, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Apikey "+c.cfg.APIKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.cfg.UserAgent)
		return req, nil
	})
	if err != nil {
		return tracking.Result{}, false, err
	}
	if res.Status != http.StatusOK {
		return classifyError(res)
	}
	var rep reply
	if err := json.Unmarshal(res.Body, &rep); err != nil {
		return tracking.Result{}, false, fmt.Errorf("siterastreio: %s: unusable reply: %w", code, tracking.ErrUnavailable)
	}
	if rep.Code != "" && rep.JSON == "" {
		return classifyError(providerhttp.Reply{Status: http.StatusBadRequest, Body: res.Body})
	}
	r, ok := correios.ParseWebsite(rep.JSON)
	return r, ok, nil
}

// classifyError maps a non-200 answer (Connect-RPC error codes) to a
// result or an error.
func classifyError(res providerhttp.Reply) (tracking.Result, bool, error) {
	var ce connectError
	_ = json.Unmarshal(res.Body, &ce)
	code := strings.ToLower(ce.Code)
	msg := ce.Message
	if len(msg) > 200 {
		msg = msg[:200]
	}
	switch {
	case code == "failed_precondition" || code == "resource_exhausted" || res.Status == http.StatusPaymentRequired:
		return tracking.Result{}, false, fmt.Errorf("siterastreio: out of credit (%q): %w", msg, tracking.ErrQuota)
	case code == "unauthenticated" || code == "permission_denied" ||
		res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
		return tracking.Result{}, false, fmt.Errorf("siterastreio: key rejected (status %d %s): check SITERASTREIO_API_KEY: %w", res.Status, code, tracking.ErrAuth)
	case code == "not_found" || res.Status == http.StatusNotFound:
		return tracking.Result{Status: tracking.NotYet, Message: msg}, true, nil
	}
	return tracking.Result{}, false, fmt.Errorf("siterastreio: status %d %s %q: %w", res.Status, code, msg, tracking.ErrUnavailable)
}
