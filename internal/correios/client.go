// Package correios is the Correios domain: what an event means (codigo
// and tipo, classified into tracking kinds and keyed the same way whatever
// provider served it), the tracked object in the official API's shape and
// in the Correios website's (read here once for Site Rastreio and
// PacoteVício), and the official SRO Rastro API client.
package correios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/tracking"
)

// ProviderName is the official API's name in RASTREIO_PROVIDERS, in the
// tokens table and in provider_usage.
const ProviderName = provider.Correios

// MaxBatch is the most codes one tracking request carries.
const MaxBatch = 50

// TokenMargin: a stored token is renewed this long before expiraEm.
const TokenMargin = 10 * time.Minute

// TokenStore caches the API token between passes (internal/store
// implements it). Token returns an error (any) when nothing is stored.
type TokenStore interface {
	Token(ctx context.Context, provider string) (user, token string, expires time.Time, err error)
	SaveToken(ctx context.Context, provider, user, token string, expires time.Time) error
}

// Config configures a Client. Zero tuning fields take the defaults.
type Config struct {
	BaseURL    string // CORREIOS_API_URL
	User       string
	AccessCode string
	Postcard   string  // cartão de postagem; empty: token from /token/v1/autentica
	Rate       float64 // CORREIOS_RATE_LIMIT, requests/s, paced at providerhttp.RatePacing of it; 0: the provider table's
	Burst      int     // CORREIOS_RATE_BURST; the client bursts at most half of it
	HTTPClient *http.Client
	Tokens     TokenStore // nil: the token lives in memory only
	Logger     *slog.Logger
	Now        func() time.Time
	providerhttp.Tuning
}

// Client is the official Correios API as a tracking.Provider. One Client
// serves one tracker pass: it requests at most one token in its life and
// stops calling Correios after MaxFailures consecutive failed requests.
// It is safe for concurrent use.
type Client struct {
	cfg      Config
	base     string
	identity string // whose token: CORREIOS_USER (a token of another user is ignored)
	web      *providerhttp.Client
	log      *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	tok       string
	expires   time.Time
	loaded    bool  // the store was consulted
	fetched   bool  // a token was requested during this client's life
	renewed   bool  // a rejected token was replaced during this client's life
	fresh     bool  // the current token was issued during this client's life
	proven    bool  // the current token was accepted by a tracking request
	tokenErr  error // a failed token request, repeated to every caller
	tokenReqs atomic.Int64
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := providerhttp.BaseURL("correios", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.User == "" || cfg.AccessCode == "" {
		return nil, fmt.Errorf("correios: user and access code are required: %w", tracking.ErrAuth)
	}
	spec := provider.Get(ProviderName)
	if cfg.Rate <= 0 {
		cfg.Rate = spec.DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = spec.DefaultBurst
	}
	c := &Client{
		cfg:      cfg,
		base:     base,
		identity: cfg.User,
		web:      providerhttp.New(ProviderName, cfg.HTTPClient, cfg.Rate, cfg.Burst, cfg.Tuning),
		log:      cfg.Logger,
		now:      cfg.Now,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.cfg.Tuning = c.web.Tuning()
	return c, nil
}

// Name implements tracking.Provider.
func (c *Client) Name() string { return ProviderName }

// MaxBatch implements tracking.Provider.
func (c *Client) MaxBatch() int { return MaxBatch }

// Requests returns how many HTTP requests the client has sent (tracking
// and token), for usage accounting.
func (c *Client) Requests() int64 { return c.web.Requests() }

// Billed implements tracking.Billed: the official API is free; its
// requests are counted for information.
func (c *Client) Billed() int64 { return c.web.Requests() }

// TokenRequests returns how many token requests the client has sent.
func (c *Client) TokenRequests() int64 { return c.tokenReqs.Load() }

// Track implements tracking.Provider: one GET of up to 50 codes. After a
// 401/403 it gets one new token and retries the batch once.
func (c *Client) Track(ctx context.Context, codes []string) (map[string]tracking.Result, error) {
	if len(codes) == 0 {
		return map[string]tracking.Result{}, nil
	}
	if len(codes) > MaxBatch {
		return nil, fmt.Errorf("correios: %d codes in one call, at most %d", len(codes), MaxBatch)
	}
	if err := c.web.Broken(); err != nil {
		return nil, err
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		res, err := c.web.Send(ctx, func(ctx context.Context) (*http.Request, error) {
			return c.trackRequest(ctx, codes, tok)
		})
		if err != nil {
			return nil, err
		}
		if res.Status != http.StatusUnauthorized && res.Status != http.StatusForbidden {
			c.accepted(tok)
		}
		switch {
		case res.Status == http.StatusOK:
			out, err := ParseResponse(res.Body, codes)
			if err != nil {
				return nil, fmt.Errorf("correios: track %d codes: %w: %w", len(codes), tracking.ErrUnavailable, err)
			}
			return out, nil
		case (res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden) && try == 0:
			c.log.Warn("correios token rejected, renewing", slog.Int("status", res.Status), slog.String("message", gatewayMessage(res.Body)))
			if tok, err = c.renew(ctx, tok); err != nil {
				return nil, err
			}
			continue
		case res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
			return nil, fmt.Errorf("correios: track: %d %s after a new token: %w", res.Status, gatewayMessage(res.Body), tracking.ErrAuth)
		default:
			return nil, fmt.Errorf("correios: track %d codes: status %d %s: %w", len(codes), res.Status, gatewayMessage(res.Body), tracking.ErrUnavailable)
		}
	}
}

func (c *Client) trackRequest(ctx context.Context, codes []string, tok string) (*http.Request, error) {
	q := url.Values{}
	for _, code := range codes {
		q.Add("codigosObjetos", code)
	}
	q.Set("resultado", "T")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/srorastro/v1/objetos?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	c.headers(req)
	return req, nil
}

func (c *Client) headers(req *http.Request) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", "pt-BR")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
}

// token returns a usable token: the one in hand, else the stored one
// when it belongs to this user and is not about to expire, else a new one
// (at most one request in the client's life).
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != "" && c.valid(c.expires) {
		return c.tok, nil
	}
	if !c.loaded && c.cfg.Tokens != nil {
		c.loaded = true
		user, tok, exp, err := c.cfg.Tokens.Token(ctx, ProviderName)
		if err == nil && user == c.identity && tok != "" && c.valid(exp) {
			c.tok, c.expires, c.fresh, c.proven = tok, exp, false, false
			return tok, nil
		}
	}
	return c.fetchLocked(ctx)
}

// renew replaces a token the API rejected, once in the client's life. If
// another caller already replaced it, the new one is returned. A token
// issued during this client's life and rejected before any request
// accepted it means the credentials do not work here (for instance a
// token of the other environment): ErrAuth, no second token request.
func (c *Client) renew(ctx context.Context, rejected string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != rejected && c.tok != "" {
		return c.tok, nil
	}
	if c.tokenErr != nil {
		return "", c.tokenErr
	}
	if c.fresh && !c.proven {
		c.tokenErr = fmt.Errorf("correios: a token just issued was rejected: %w", tracking.ErrAuth)
		return "", c.tokenErr
	}
	if c.renewed {
		c.tokenErr = fmt.Errorf("correios: token rejected again after a renewal this pass: %w", tracking.ErrAuth)
		return "", c.tokenErr
	}
	c.renewed = true
	c.fetched = false // the renewal is this pass's one extra token request
	c.tok = ""
	return c.fetchLocked(ctx)
}

// accepted notes that tok worked for a tracking request.
func (c *Client) accepted(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == tok {
		c.proven = true
	}
}

func (c *Client) valid(exp time.Time) bool { return c.now().Add(TokenMargin).Before(exp) }

type tokenReply struct {
	Token    string `json:"token"`
	Emissao  string `json:"emissao"`
	ExpiraEm string `json:"expiraEm"`
}

func (c *Client) fetchLocked(ctx context.Context) (string, error) {
	if c.tokenErr != nil {
		return "", c.tokenErr
	}
	if c.fetched {
		c.tokenErr = fmt.Errorf("correios: token already requested once this pass: %w", tracking.ErrAuth)
		return "", c.tokenErr
	}
	c.fetched = true
	path := "/token/v1/autentica"
	var body []byte
	if c.cfg.Postcard != "" {
		path = "/token/v1/autentica/cartaopostagem"
		body, _ = json.Marshal(map[string]string{"numero": c.cfg.Postcard})
	}
	res, err := c.web.Send(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(c.cfg.User, c.cfg.AccessCode)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		c.headers(req)
		c.tokenReqs.Add(1)
		return req, nil
	})
	if err != nil {
		c.tokenErr = fmt.Errorf("correios: token: %w", err)
		return "", c.tokenErr
	}
	switch res.Status {
	case http.StatusOK, http.StatusCreated:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest:
		c.tokenErr = fmt.Errorf("correios: token: status %d %s (check CORREIOS_USER, CORREIOS_ACCESS_CODE, CORREIOS_POSTCARD): %w",
			res.Status, gatewayMessage(res.Body), tracking.ErrAuth)
		return "", c.tokenErr
	default:
		c.tokenErr = fmt.Errorf("correios: token: status %d %s: %w", res.Status, gatewayMessage(res.Body), tracking.ErrUnavailable)
		return "", c.tokenErr
	}
	var tr tokenReply
	if err := json.Unmarshal(res.Body, &tr); err != nil || tr.Token == "" {
		c.tokenErr = fmt.Errorf("correios: token: unusable reply: %w", tracking.ErrUnavailable)
		return "", c.tokenErr
	}
	exp, err := ParseTime(tr.ExpiraEm)
	if err != nil {
		if iss, err2 := ParseTime(tr.Emissao); err2 == nil {
			exp = iss.Add(24 * time.Hour)
		} else {
			exp = c.now().Add(time.Hour)
		}
	}
	c.tok, c.expires, c.fresh, c.proven = tr.Token, exp, true, false
	if c.cfg.Tokens != nil {
		if err := c.cfg.Tokens.SaveToken(ctx, ProviderName, c.identity, tr.Token, exp); err != nil {
			c.log.Warn("correios token not cached", slog.Any("error", err))
		}
	}
	return c.tok, nil
}

// gatewayMessage extracts the gateway's messages ({"msgs":[…]}) for
// errors and logs; it never echoes an arbitrary body.
func gatewayMessage(body []byte) string {
	var g struct {
		Msgs []string `json:"msgs"`
	}
	if json.Unmarshal(body, &g) != nil || len(g.Msgs) == 0 {
		return ""
	}
	m := strings.Join(g.Msgs, "; ")
	if len(m) > 200 {
		m = m[:200]
	}
	return strconv.Quote(m)
}
