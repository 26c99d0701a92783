// Package config reads rastreio's settings from the environment and from
// systemd credential files, and validates them once. A *Error means a
// missing or malformed setting: the programs exit 78 (EX_CONFIG) on it.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults, as DESIGN.md pins them.
const (
	DefaultTelegramEndpoint = "https://api.telegram.org/bot%s/%s"
	DefaultDBName           = "rastreio.db"
	DefaultMaxCodesPerChat  = 100
	DefaultCorreiosURL      = "https://api.correios.com.br"
	DefaultCorreiosRate     = 10.0 // requests/s; the gateway allows 50/s per key
	DefaultCorreiosBurst    = 5
	DefaultSiteRastreioURL  = "https://api-labs.wonca.com.br"
	DefaultPacoteVicioURL   = "https://api.pacotevicio.dev"
	DefaultTrack17URL       = "https://api.17track.net"
	DefaultTelegramSendRate = 25.0
	DefaultPassMaxDuration  = 2 * time.Minute
)

// Provider names, in the default order of the chain.
const (
	ProviderSiteRastreio = "siterastreio"
	ProviderPacoteVicio  = "pacotevicio"
	ProviderTrack17      = "track17"
	ProviderCorreios     = "correios"
)

// KnownProviders lists every provider name RASTREIO_PROVIDERS accepts, in
// the default order.
var KnownProviders = []string{ProviderSiteRastreio, ProviderPacoteVicio, ProviderTrack17, ProviderCorreios}

// Error is a missing or malformed setting. Var names the variable (or
// variables) to fix.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

// IsConfigError reports whether err is (or wraps) a configuration error.
func IsConfigError(err error) bool {
	var ce *Error
	return errors.As(err, &ce)
}

// Secret is a string that never prints.
type Secret string

func (Secret) String() string                 { return "[redacted]" }
func (Secret) LogValue() slog.Value           { return slog.StringValue("[redacted]") }
func (s Secret) GoString() string             { return `config.Secret("[redacted]")` }
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret's value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// Common holds what both programs need.
type Common struct {
	DBPath   string
	LogLevel slog.Level
}

// Telegram holds the Bot API settings.
type Telegram struct {
	Token    Secret
	Endpoint string // fmt format: token, then method
}

// Bot is rastreio-bot's configuration.
type Bot struct {
	Common
	Telegram
	MaxCodesPerChat int
	// Providers names the configured tracking providers (for /privacidade);
	// the bot never calls them.
	Providers []string
}

// Correios holds the official API settings.
type Correios struct {
	URL        string
	User       string
	AccessCode Secret
	Postcard   string
	Rate       float64
	Burst      int
}

// Keyed is a provider that authenticates with one API key.
type Keyed struct {
	URL string
	Key Secret
}

// Tracker is rastreio-tracker's configuration.
type Tracker struct {
	Common
	Telegram
	Correios        Correios
	SiteRastreio    Keyed
	PacoteVicio     Keyed
	Track17         Keyed
	Providers       []string // in the order tried
	RecheckInterval time.Duration
	RecheckSet      bool // RASTREIO_RECHECK_INTERVAL set: no adaptive schedule
	SendRate        float64
	PassMax         time.Duration
	// Limits are the per-provider re-check, budget and rate settings
	// (providers.go).
	Limits ProviderLimits
}

// Getenv is os.Getenv's shape, injected so tests need no real environment.
type Getenv func(string) string

// loader reads a setting from the environment, then from a credential file.
type loader struct {
	getenv Getenv
}

func (l loader) env(name string) string { return strings.TrimSpace(l.getenv(name)) }

// secret returns the variable's value, else the content of the systemd
// credential file $CREDENTIALS_DIRECTORY/cred, trimmed.
func (l loader) secret(name, cred string) (Secret, error) {
	if v := l.env(name); v != "" {
		return Secret(v), nil
	}
	dir := l.getenv("CREDENTIALS_DIRECTORY")
	if dir == "" || cred == "" {
		return "", nil
	}
	b, err := os.ReadFile(filepath.Join(dir, cred))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", &Error{Var: name, Msg: fmt.Sprintf("cannot read credential %s: %v", cred, err)}
	}
	return Secret(strings.TrimSpace(string(b))), nil
}

func (l loader) common() (Common, error) {
	c := Common{DBPath: l.env("RASTREIO_DB")}
	if c.DBPath == "" {
		if dir := l.env("STATE_DIRECTORY"); dir != "" {
			// StateDirectory= may list several paths separated by ':'.
			dir, _, _ = strings.Cut(dir, ":")
			c.DBPath = filepath.Join(dir, DefaultDBName)
		} else {
			c.DBPath = DefaultDBName
		}
	}
	switch strings.ToLower(l.env("LOG_LEVEL")) {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, &Error{Var: "LOG_LEVEL", Msg: fmt.Sprintf("%q is not one of debug, info, warn, error", l.env("LOG_LEVEL"))}
	}
	return c, nil
}

func (l loader) telegram() (Telegram, error) {
	var t Telegram
	tok, err := l.secret("TELEGRAM_BOT_TOKEN", "telegram-bot-token")
	if err != nil {
		return t, err
	}
	if tok == "" {
		return t, &Error{Var: "TELEGRAM_BOT_TOKEN", Msg: "not set: put the token from @BotFather in TELEGRAM_BOT_TOKEN or in the credential telegram-bot-token (/etc/credstore/rastreio.telegram-bot-token)"}
	}
	if strings.ContainsAny(tok.Reveal(), " \t\r\n/?#%") {
		return t, &Error{Var: "TELEGRAM_BOT_TOKEN", Msg: "malformed: a bot token looks like 123456:ABC-DEF… with no spaces or slashes"}
	}
	t.Token = tok
	t.Endpoint = l.env("TELEGRAM_API_ENDPOINT")
	if t.Endpoint == "" {
		t.Endpoint = DefaultTelegramEndpoint
	}
	if err := checkEndpoint(t.Endpoint); err != nil {
		return t, &Error{Var: "TELEGRAM_API_ENDPOINT", Msg: err.Error()}
	}
	return t, nil
}

// checkEndpoint accepts a Bot API URL format with exactly two %s verbs
// (token, then method) that yields an http(s) URL.
func checkEndpoint(f string) error {
	if strings.Count(f, "%s") != 2 || strings.Count(f, "%") != 2 {
		return fmt.Errorf("%q must hold exactly two %%s (token, then method), like %s", f, DefaultTelegramEndpoint)
	}
	return checkURL(fmt.Sprintf(f, "TOKEN", "getMe"))
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

func (l loader) baseURL(name, def string) (string, error) {
	v := l.env(name)
	if v == "" {
		v = def
	}
	if err := checkURL(v); err != nil {
		return "", &Error{Var: name, Msg: err.Error()}
	}
	return strings.TrimRight(v, "/"), nil
}

func (l loader) positiveInt(name string, def int) (int, error) {
	v := l.env(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, &Error{Var: name, Msg: fmt.Sprintf("%q is not a positive whole number", v)}
	}
	return n, nil
}

func (l loader) positiveFloat(name string, def float64) (float64, error) {
	v := l.env(name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f != f || f > 1e6 {
		return 0, &Error{Var: name, Msg: fmt.Sprintf("%q is not a positive number", v)}
	}
	return f, nil
}

func (l loader) duration(name string, def time.Duration) (time.Duration, error) {
	v := l.env(name)
	if v == "" {
		return def, nil
	}
	if v == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, &Error{Var: name, Msg: fmt.Sprintf("%q is not a duration like 30m or 6h", v)}
	}
	return d, nil
}

// LoadBot reads rastreio-bot's settings. It needs no provider settings.
func LoadBot(getenv Getenv) (Bot, error) {
	l := loader{getenv}
	var c Bot
	var err error
	if c.Common, err = l.common(); err != nil {
		return c, err
	}
	if c.Telegram, err = l.telegram(); err != nil {
		return c, err
	}
	if c.MaxCodesPerChat, err = l.positiveInt("RASTREIO_MAX_CODES_PER_CHAT", DefaultMaxCodesPerChat); err != nil {
		return c, err
	}
	// Which providers receive codes, for /privacidade. Errors here are the
	// tracker's to report; the bot just says what it can.
	c.Providers, _ = l.providers(map[string]bool{
		ProviderSiteRastreio: l.env("SITERASTREIO_API_KEY") != "" || l.credExists("siterastreio-api-key"),
		ProviderPacoteVicio:  l.env("PACOTEVICIO_API_KEY") != "" || l.credExists("pacotevicio-api-key"),
		ProviderTrack17:      l.env("TRACK17_API_KEY") != "" || l.credExists("track17-api-key"),
		ProviderCorreios:     l.env("CORREIOS_USER") != "" || l.credExists("correios-user"),
	})
	return c, nil
}

func (l loader) credExists(cred string) bool {
	dir := l.getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, cred))
	return err == nil
}

// providers resolves RASTREIO_PROVIDERS against which providers have
// credentials.
func (l loader) providers(configured map[string]bool) ([]string, error) {
	raw := l.env("RASTREIO_PROVIDERS")
	if raw == "" {
		var ps []string
		for _, p := range KnownProviders {
			if configured[p] {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			return nil, &Error{
				Var: "CORREIOS_USER, SITERASTREIO_API_KEY, PACOTEVICIO_API_KEY, TRACK17_API_KEY",
				Msg: "no tracking provider configured: set SITERASTREIO_API_KEY, PACOTEVICIO_API_KEY, TRACK17_API_KEY, or CORREIOS_USER and CORREIOS_ACCESS_CODE (or their credential files)",
			}
		}
		return ps, nil
	}
	var ps []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' }) {
		p := strings.ToLower(f)
		known := false
		for _, k := range KnownProviders {
			known = known || k == p
		}
		if !known {
			return nil, &Error{Var: "RASTREIO_PROVIDERS", Msg: fmt.Sprintf("unknown provider %q (known: %s)", f, strings.Join(KnownProviders, ", "))}
		}
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil, &Error{Var: "RASTREIO_PROVIDERS", Msg: "lists no provider"}
	}
	return ps, nil
}

// LoadTracker reads rastreio-tracker's settings.
func LoadTracker(getenv Getenv) (Tracker, error) {
	l := loader{getenv}
	var c Tracker
	var err error
	if c.Common, err = l.common(); err != nil {
		return c, err
	}
	// The Telegram token is checked after the providers: a tracker with
	// nothing set first learns which provider settings it needs.
	tgErr := error(nil)
	c.Telegram, tgErr = l.telegram()

	// Correios (official API).
	if c.Correios.URL, err = l.baseURL("CORREIOS_API_URL", DefaultCorreiosURL); err != nil {
		return c, err
	}
	user, err := l.secret("CORREIOS_USER", "correios-user")
	if err != nil {
		return c, err
	}
	c.Correios.User = user.Reveal()
	if c.Correios.AccessCode, err = l.secret("CORREIOS_ACCESS_CODE", "correios-access-code"); err != nil {
		return c, err
	}
	c.Correios.Postcard = l.env("CORREIOS_POSTCARD")
	if c.Correios.Rate, err = l.positiveFloat("CORREIOS_RATE_LIMIT", DefaultCorreiosRate); err != nil {
		return c, err
	}
	if c.Correios.Burst, err = l.positiveInt("CORREIOS_RATE_BURST", DefaultCorreiosBurst); err != nil {
		return c, err
	}

	// Third-party providers.
	if c.SiteRastreio.URL, err = l.baseURL("SITERASTREIO_API_URL", DefaultSiteRastreioURL); err != nil {
		return c, err
	}
	if c.SiteRastreio.Key, err = l.secret("SITERASTREIO_API_KEY", "siterastreio-api-key"); err != nil {
		return c, err
	}
	if c.PacoteVicio.URL, err = l.baseURL("PACOTEVICIO_API_URL", DefaultPacoteVicioURL); err != nil {
		return c, err
	}
	if c.PacoteVicio.Key, err = l.secret("PACOTEVICIO_API_KEY", "pacotevicio-api-key"); err != nil {
		return c, err
	}
	if c.Track17.URL, err = l.baseURL("TRACK17_API_URL", DefaultTrack17URL); err != nil {
		return c, err
	}
	if c.Track17.Key, err = l.secret("TRACK17_API_KEY", "track17-api-key"); err != nil {
		return c, err
	}

	configured := map[string]bool{
		ProviderSiteRastreio: c.SiteRastreio.Key != "",
		ProviderPacoteVicio:  c.PacoteVicio.Key != "",
		ProviderTrack17:      c.Track17.Key != "",
		ProviderCorreios:     c.Correios.User != "" && c.Correios.AccessCode != "",
	}
	if c.Providers, err = l.providers(configured); err != nil {
		return c, err
	}
	if tgErr != nil {
		return c, tgErr
	}
	for _, p := range c.Providers {
		if configured[p] {
			continue
		}
		switch p {
		case ProviderCorreios:
			missing := "CORREIOS_USER"
			if c.Correios.User != "" {
				missing = "CORREIOS_ACCESS_CODE"
			}
			return c, &Error{Var: missing, Msg: "not set, but RASTREIO_PROVIDERS lists correios: set CORREIOS_USER and CORREIOS_ACCESS_CODE (or the credentials correios-user, correios-access-code)"}
		case ProviderSiteRastreio:
			return c, &Error{Var: "SITERASTREIO_API_KEY", Msg: "not set, but RASTREIO_PROVIDERS lists siterastreio (or write the credential siterastreio-api-key)"}
		case ProviderPacoteVicio:
			return c, &Error{Var: "PACOTEVICIO_API_KEY", Msg: "not set, but RASTREIO_PROVIDERS lists pacotevicio (or write the credential pacotevicio-api-key)"}
		case ProviderTrack17:
			return c, &Error{Var: "TRACK17_API_KEY", Msg: "not set, but RASTREIO_PROVIDERS lists track17 (or write the credential track17-api-key)"}
		}
	}

	if c.RecheckInterval, err = l.duration("RASTREIO_RECHECK_INTERVAL", 0); err != nil {
		return c, err
	}
	// Set (even to 0): the pass-counted behaviour; unset: the schedule.
	c.RecheckSet = l.env("RASTREIO_RECHECK_INTERVAL") != ""
	if c.SendRate, err = l.positiveFloat("TELEGRAM_SEND_RATE", DefaultTelegramSendRate); err != nil {
		return c, err
	}
	if c.SendRate > 30 {
		return c, &Error{Var: "TELEGRAM_SEND_RATE", Msg: fmt.Sprintf("%v is above Telegram's 30 messages per second", c.SendRate)}
	}
	if c.PassMax, err = l.duration("RASTREIO_PASS_MAX_DURATION", DefaultPassMaxDuration); err != nil {
		return c, err
	}
	if c.PassMax == 0 {
		c.PassMax = DefaultPassMaxDuration
	}
	if c.Limits, err = LoadProviderLimits(getenv); err != nil {
		return c, err
	}
	return c, nil
}
