// Package track17 is the 17TRACK v2.2 API as a tracking.Provider:
// POST /track/v2.2/gettrackinfo for up to 40 numbers (carrier 2151,
// Correios), registering with POST /track/v2.2/register the numbers
// 17TRACK does not know yet. Registration is what 17TRACK bills (one
// quota unit per number); polling is free. 17TRACK events carry no
// Correios codigo/tipo: kinds come from 17TRACK's stage / sub_status
// codes (never from the description) and the event key is
// time_utc|description.
package track17

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/tracking"
)

// ProviderName is the provider's name in RASTREIO_PROVIDERS and in
// provider_usage.
const ProviderName = provider.Track17

// CarrierCorreios is 17TRACK's carrier key for Correios (Brazil).
const CarrierCorreios = 2151

// API paths.
const (
	RegisterPath     = "/track/v2.2/register"
	GetTrackInfoPath = "/track/v2.2/gettrackinfo"
	StopTrackPath    = "/track/v2.2/stoptrack"
)

// 17TRACK error codes the client acts on.
const (
	ErrCodeInvalidKey    = -18010002
	ErrCodeIPNotAllowed  = -18010001
	ErrCodeAccountOff    = -18010004
	ErrCodeInvalidFormat = -18010012
	ErrCodeRegistered    = -18019901
	ErrCodeNotRegistered = -18019902
	ErrCodeDailyLimit    = -18019907
	ErrCodeQuota         = -18019908
	ErrCodeNoInfo        = -18019909
	codeTooManyRequests  = 429
	MaxBatch             = 40
)

// Config configures a Client. Zero tuning fields take the defaults.
type Config struct {
	BaseURL    string // TRACK17_API_URL
	APIKey     string
	Rate       float64 // requests/s; 0: the provider table's
	Burst      int
	Carrier    int // default CarrierCorreios
	HTTPClient *http.Client
	Logger     *slog.Logger
	providerhttp.Tuning
}

// Client is the 17TRACK API. Safe for concurrent use; gives up for its
// lifetime after MaxFailures consecutive failed requests.
type Client struct {
	cfg        Config
	base       string
	web        *providerhttp.Client
	log        *slog.Logger
	registered atomic.Int64
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := providerhttp.BaseURL("track17", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("track17: API key is required: %w", tracking.ErrAuth)
	}
	spec := provider.Get(ProviderName)
	if cfg.Rate <= 0 {
		cfg.Rate = spec.DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = spec.DefaultBurst
	}
	if cfg.Carrier == 0 {
		cfg.Carrier = CarrierCorreios
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

// MaxBatch implements tracking.Provider.
func (c *Client) MaxBatch() int { return MaxBatch }

// Requests returns the HTTP requests sent so far.
func (c *Client) Requests() int64 { return c.web.Requests() }

// Billed implements tracking.Billed: registrations are what 17TRACK
// charges for.
func (c *Client) Billed() int64 { return c.registered.Load() }

type item struct {
	Number  string `json:"number"`
	Carrier int    `json:"carrier,omitempty"`
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type envelope struct {
	Code int `json:"code"`
	Data struct {
		Accepted []json.RawMessage `json:"accepted"`
		Rejected []struct {
			Number string   `json:"number"`
			Error  apiError `json:"error"`
		} `json:"rejected"`
		Errors []apiError `json:"errors"`
	} `json:"data"`
}

// call posts numbers to path and returns the decoded envelope (code 0).
func (c *Client) call(ctx context.Context, path string, numbers []string) (*envelope, error) {
	items := make([]item, len(numbers))
	for i, n := range numbers {
		items[i] = item{Number: n, Carrier: c.cfg.Carrier}
	}
	body, _ := json.Marshal(items)
	res, err := c.web.Send(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("17token", c.cfg.APIKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.cfg.UserAgent)
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	var env envelope
	jerr := json.Unmarshal(res.Body, &env)
	if res.Status != http.StatusOK || (jerr == nil && env.Code != 0) {
		return nil, wholeCallError(res.Status, env, jerr == nil)
	}
	if jerr != nil {
		return nil, fmt.Errorf("track17: %s: unusable reply: %w", path, tracking.ErrUnavailable)
	}
	return &env, nil
}

func wholeCallError(status int, env envelope, decoded bool) error {
	code := env.Code
	msg := ""
	if len(env.Data.Errors) > 0 {
		if code == 0 {
			code = env.Data.Errors[0].Code
		}
		msg = env.Data.Errors[0].Message
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	switch {
	case code == ErrCodeInvalidKey || code == ErrCodeIPNotAllowed || code == ErrCodeAccountOff || status == http.StatusUnauthorized:
		return fmt.Errorf("track17: key rejected (%d %q): check TRACK17_API_KEY: %w", code, msg, tracking.ErrAuth)
	case code == ErrCodeQuota || code == ErrCodeDailyLimit:
		return fmt.Errorf("track17: %d %q: %w", code, msg, tracking.ErrQuota)
	case code == codeTooManyRequests:
		return fmt.Errorf("track17: %w", &tracking.RateLimitedError{RetryAfter: time.Second})
	}
	return fmt.Errorf("track17: status %d code %d %q: %w", status, code, msg, tracking.ErrUnavailable)
}

// Track implements tracking.Provider: one gettrackinfo for the numbers,
// then one register for those 17TRACK does not know yet (they are NotYet
// this time: registration returns no events). Numbers 17TRACK could not
// register for lack of quota are Unsupported (the chain moves them on),
// unless that is every number asked, which is ErrQuota.
func (c *Client) Track(ctx context.Context, codes []string) (map[string]tracking.Result, error) {
	if len(codes) == 0 {
		return map[string]tracking.Result{}, nil
	}
	if len(codes) > MaxBatch {
		return nil, fmt.Errorf("track17: %d codes in one call, at most %d", len(codes), MaxBatch)
	}
	env, err := c.call(ctx, GetTrackInfoPath, codes)
	if err != nil {
		return nil, err
	}
	want := make(map[string]string, len(codes))
	for _, code := range codes {
		want[strings.ToUpper(strings.TrimSpace(code))] = code
	}
	out := make(map[string]tracking.Result, len(codes))
	for _, raw := range env.Data.Accepted {
		var a accepted
		if json.Unmarshal(raw, &a) != nil {
			continue
		}
		code, ok := want[strings.ToUpper(strings.TrimSpace(a.Number))]
		if !ok {
			continue
		}
		if r, ok := a.result(); ok {
			out[code] = r
		}
	}
	c.stopFinal(ctx, out)
	var unregistered []string
	for _, rj := range env.Data.Rejected {
		code, ok := want[strings.ToUpper(strings.TrimSpace(rj.Number))]
		if !ok {
			continue
		}
		switch rj.Error.Code {
		case ErrCodeNotRegistered:
			unregistered = append(unregistered, code)
		case ErrCodeInvalidFormat:
			out[code] = tracking.Result{Status: tracking.Invalid, Message: rj.Error.Message}
		case ErrCodeNoInfo:
			out[code] = tracking.Result{Status: tracking.NotYet, Message: rj.Error.Message}
		}
	}
	if len(unregistered) == 0 {
		return out, nil
	}
	renv, err := c.call(ctx, RegisterPath, unregistered)
	if err != nil {
		if errors.Is(err, tracking.ErrQuota) && len(out) > 0 {
			for _, code := range unregistered {
				out[code] = tracking.Result{Status: tracking.Unsupported, Message: "17TRACK: " + err.Error()}
			}
			return out, nil
		}
		if len(out) > 0 && !errors.Is(err, tracking.ErrAuth) {
			return out, nil // the unregistered ones get no answer this time
		}
		return nil, err
	}
	quotaOut := 0
	for _, raw := range renv.Data.Accepted {
		var a accepted
		if json.Unmarshal(raw, &a) != nil {
			continue
		}
		if code, ok := want[strings.ToUpper(strings.TrimSpace(a.Number))]; ok {
			c.registered.Add(1)
			out[code] = tracking.Result{Status: tracking.NotYet, Message: "registered with 17TRACK"}
		}
	}
	for _, rj := range renv.Data.Rejected {
		code, ok := want[strings.ToUpper(strings.TrimSpace(rj.Number))]
		if !ok {
			continue
		}
		switch rj.Error.Code {
		case ErrCodeRegistered:
			out[code] = tracking.Result{Status: tracking.NotYet, Message: rj.Error.Message}
		case ErrCodeInvalidFormat:
			out[code] = tracking.Result{Status: tracking.Invalid, Message: rj.Error.Message}
		case ErrCodeQuota, ErrCodeDailyLimit:
			quotaOut++
			out[code] = tracking.Result{Status: tracking.Unsupported, Message: fmt.Sprintf("17TRACK quota: %d %s", rj.Error.Code, rj.Error.Message)}
		}
	}
	if quotaOut == len(codes) {
		return nil, fmt.Errorf("track17: register: no quota left for %d numbers: %w", quotaOut, tracking.ErrQuota)
	}
	return out, nil
}

// stopFinal asks 17TRACK to stop following the numbers whose newest event
// is final (delivered, returned, lost): it would otherwise keep polling
// them for a month. Best effort: a failure only costs 17TRACK's own
// polling, never this pass's results, so it is logged and dropped.
func (c *Client) stopFinal(ctx context.Context, out map[string]tracking.Result) {
	var final []string
	for code, r := range out {
		if r.Status == tracking.Found && len(r.Events) > 0 && r.Events[len(r.Events)-1].Kind.Final() {
			final = append(final, code)
		}
	}
	if len(final) == 0 {
		return
	}
	sort.Strings(final)
	if _, err := c.call(ctx, StopTrackPath, final); err != nil {
		c.log.Debug("17TRACK stoptrack failed", slog.Int("numbers", len(final)), slog.Any("error", err))
	}
}

// accepted is one gettrackinfo answer.
type accepted struct {
	Number    string `json:"number"`
	TrackInfo *struct {
		LatestStatus struct {
			Status    string `json:"status"`
			SubStatus string `json:"sub_status"`
		} `json:"latest_status"`
		Tracking struct {
			Providers []struct {
				LatestSyncTime string      `json:"latest_sync_time"`
				Events         []wireEvent `json:"events"`
			} `json:"providers"`
		} `json:"tracking"`
	} `json:"track_info"`
}

type wireEvent struct {
	TimeISO string `json:"time_iso"`
	TimeUTC string `json:"time_utc"`
	TimeRaw struct {
		Date     string `json:"date"`
		Time     string `json:"time"`
		Timezone string `json:"timezone"`
	} `json:"time_raw"`
	Description string `json:"description"`
	Location    string `json:"location"`
	Stage       string `json:"stage"`
	SubStatus   string `json:"sub_status"`
	Address     *struct {
		Country string `json:"country"`
		State   string `json:"state"`
		City    string `json:"city"`
	} `json:"address"`
}

func (a accepted) result() (tracking.Result, bool) {
	if a.TrackInfo == nil {
		return tracking.Result{Status: tracking.NotYet, Message: "17TRACK has no data yet"}, true
	}
	var evs []tracking.Event
	seen := map[string]bool{}
	synced := a.synced()
	for _, p := range a.TrackInfo.Tracking.Providers {
		// Each provider's events are newest first: walk them backwards.
		for i := len(p.Events) - 1; i >= 0; i-- {
			e, ok := p.Events[i].event()
			if !ok || seen[e.Key] {
				continue
			}
			seen[e.Key] = true
			evs = append(evs, e)
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	evs = tracking.KeepNewest(evs)
	// latest_status wins when the events disagree: a delivery 17TRACK
	// reports in its status must end tracking even if the newest event
	// reads otherwise.
	if n := len(evs); n > 0 {
		latest := Classify(a.TrackInfo.LatestStatus.SubStatus)
		if latest == tracking.KindOther {
			latest = Classify(a.TrackInfo.LatestStatus.Status)
		}
		if latest.Final() && !evs[n-1].Kind.Final() {
			evs[n-1].Kind = latest
		}
	}
	if len(evs) == 0 {
		st := a.TrackInfo.LatestStatus.SubStatus
		if st == "NotFound_InvalidCode" {
			return tracking.Result{Status: tracking.Invalid, Message: "17TRACK: " + st}, true
		}
		return tracking.Result{Status: tracking.NotYet, Message: "17TRACK: " + a.TrackInfo.LatestStatus.Status, Synced: synced}, true
	}
	return tracking.Result{Status: tracking.Found, Events: evs, Synced: synced}, true
}

// synced is the newest latest_sync_time among the number's carriers:
// when 17TRACK last refreshed it (zero when it does not say).
func (a accepted) synced() time.Time {
	var at time.Time
	for _, p := range a.TrackInfo.Tracking.Providers {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(p.LatestSyncTime))
		if err == nil && t.After(at) {
			at = t.UTC()
		}
	}
	return at
}

func (w wireEvent) event() (tracking.Event, bool) {
	at, ok := w.when()
	if !ok {
		return tracking.Event{}, false
	}
	at = at.UTC().Truncate(time.Second)
	desc := strings.TrimSpace(w.Description)
	// An unknown sub_status says no more than its stage.
	kind := ClassifyEvent(w.SubStatus, desc)
	if kind == tracking.KindOther && w.Stage != "" {
		kind = ClassifyEvent(w.Stage, desc)
	}
	return tracking.Event{
		Key:         at.Format(time.RFC3339) + "|" + desc,
		Kind:        kind,
		Description: desc,
		Location:    strings.TrimSpace(w.Location),
		At:          at,
	}, true
}

// when is the event's instant: time_utc, else time_iso, else time_raw,
// which is local to the event's place (its own offset when 17TRACK gives
// one; Brasília for the Correios events without).
func (w wireEvent) when() (time.Time, bool) {
	for _, s := range []string{w.TimeUTC, w.TimeISO} {
		if at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err == nil {
			return at, true
		}
	}
	d, tm := strings.TrimSpace(w.TimeRaw.Date), strings.TrimSpace(w.TimeRaw.Time)
	if d == "" {
		return time.Time{}, false
	}
	if tm == "" {
		tm = "00:00:00"
	}
	if len(tm) == 5 {
		tm += ":00"
	}
	loc := brasilia.Zone
	if tz := strings.TrimSpace(w.TimeRaw.Timezone); tz != "" {
		if off, err := time.Parse("-07:00", tz); err == nil {
			_, secs := off.Zone()
			loc = time.FixedZone(tz, secs)
		}
	}
	at, err := time.ParseInLocation("2006-01-02 15:04:05", d+" "+tm, loc)
	return at, err == nil
}

// ClassifyEvent is Classify, but an event whose text says a payment is
// awaited is "tax due" whatever its stage: 17TRACK has no sub_status for
// Correios' PAR/17 "Aguardando pagamento", the one event a person must
// act on, and it may come as InTransit_Other or a customs stage. The
// text is Correios' own (pt-BR) or 17TRACK's translation of it.
func ClassifyEvent(stage, description string) tracking.Kind {
	if awaitsPayment(description) {
		return tracking.KindTaxDue
	}
	return Classify(stage)
}

func awaitsPayment(desc string) bool {
	d := strings.ToLower(desc)
	switch {
	case strings.Contains(d, "pagamento"):
		return strings.Contains(d, "aguardando") || strings.Contains(d, "pendente")
	case strings.Contains(d, "payment"):
		return strings.Contains(d, "await") || strings.Contains(d, "waiting") || strings.Contains(d, "pending")
	}
	return false
}

// Classify maps a 17TRACK stage or sub_status code to a kind.
func Classify(stage string) tracking.Kind {
	switch stage {
	case "InfoReceived":
		return tracking.KindLabel
	case "PickedUp", "InTransit_PickedUp":
		return tracking.KindPosted
	case "Departure", "Arrival", "InTransit", "InTransit_Departure", "InTransit_Arrival", "InTransit_Other":
		return tracking.KindTransit
	case "InTransit_CustomsProcessing", "InTransit_CustomsReleased":
		return tracking.KindCustoms
	case "InTransit_CustomsRequiringInformation":
		return tracking.KindTaxDue
	case "AvailableForPickup", "AvailableForPickup_Other":
		return tracking.KindAwaitingPickup
	case "OutForDelivery", "OutForDelivery_Other":
		return tracking.KindOutForDelivery
	case "Delivered", "Delivered_Other":
		return tracking.KindDelivered
	case "Returning", "Exception_Returning":
		return tracking.KindReturning
	case "Returned", "Exception_Returned":
		return tracking.KindReturned
	case "Exception_Lost", "Exception_Destroyed", "Exception_Damage", "Exception_Damaged", "Exception_Security":
		return tracking.KindLost
	}
	if strings.HasPrefix(stage, "DeliveryFailure") {
		return tracking.KindDeliveryFailed
	}
	return tracking.KindOther
}
