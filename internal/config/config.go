// Package config reads rastreio's settings from the environment and from
// systemd credential files, and validates them once. A *Error means a
// missing or malformed setting: the programs exit 78 (EX_CONFIG) on it.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/provider"
)

// Defaults. deploy/systemd/rastreio.env shows each beside its setting.
const (
	DefaultTelegramEndpoint = "https://api.telegram.org/bot%s/%s"
	DefaultDBName           = "rastreio.db"
	DefaultMaxCodesPerChat  = 100
	// DefaultMaxCodesPerPerson caps the codes one Telegram user may have
	// added across all chats (groups cost nothing to create).
	DefaultMaxCodesPerPerson = 200
	DefaultTelegramSendRate  = 25.0
	// DefaultPassInterval is the tracker unit's RestartSec: the most a
	// new code waits for its first check (the bot's promise).
	DefaultPassInterval    = 3 * time.Minute
	DefaultPassMaxDuration = 2 * time.Minute
)

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
	// Warning, when not empty, is one line for the log at start: the
	// token came from the environment although systemd credentials are
	// in use (a token left in rastreio.env overrides the credential).
	Warning string
}

// Bot is rastreio-bot's configuration.
type Bot struct {
	Common
	Telegram
	MaxCodesPerChat   int
	MaxCodesPerPerson int
	// PassInterval is the time between two tracker passes (the tracker
	// unit's RestartSec): the bot promises a new code's first check
	// within it.
	PassInterval time.Duration
	// Providers names the configured tracking providers (for /privacidade);
	// the bot never calls them.
	Providers []string
}

// ProviderSettings are one provider's settings, read as its entry in the
// provider table (internal/provider) says.
type ProviderSettings struct {
	URL     string
	Secrets map[string]Secret // by variable (CORREIOS_USER, SITERASTREIO_API_KEY, …)
	Options map[string]string // the optional settings that are set, by variable
}

// Secret returns the credential read from variable v (or its file).
func (p ProviderSettings) Secret(v string) Secret { return p.Secrets[v] }

// configured reports whether every credential spec needs is set.
func (p ProviderSettings) configured(spec provider.Spec) bool {
	for _, c := range spec.Credentials {
		if p.Secrets[c.Var] == "" {
			return false
		}
	}
	return true
}

// Tracker is rastreio-tracker's configuration.
type Tracker struct {
	Common
	Telegram
	// Settings holds every known provider's settings, by name.
	Settings        map[string]ProviderSettings
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
	if l.env("TELEGRAM_BOT_TOKEN") != "" && l.getenv("CREDENTIALS_DIRECTORY") != "" {
		t.Warning = "TELEGRAM_BOT_TOKEN is set in the environment and overrides the credential telegram-bot-token; remove it from the environment (e.g. /etc/rastreio/rastreio.env) and keep the token in /etc/credstore/rastreio.telegram-bot-token"
	}
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

// checkURL accepts an https URL, or an http one whose host is a loopback
// address (a local fake or proxy): plain http elsewhere would carry the
// token or key in clear.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("http://%s would send the token or key in clear: use https:// (plain http:// is accepted only for a loopback host such as 127.0.0.1)", u.Host)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
	if err = l.botLimits(&c); err != nil {
		return c, err
	}
	// Which providers receive codes, for /privacidade. Errors here are the
	// tracker's to report; the bot just says what it can.
	// A provider counts when all its credentials are there, as for the
	// tracker.
	configured := map[string]bool{}
	for _, spec := range provider.All() {
		configured[spec.Name] = true
		for _, cr := range spec.Credentials {
			if l.env(cr.Var) == "" && !l.credExists(cr.File) {
				configured[spec.Name] = false
			}
		}
	}
	c.Providers, _ = l.providers(configured)
	return c, nil
}

// botLimits reads the bot's caps and pass interval. The tracker reads
// them too, only to refuse a malformed one: both units share one
// environment file, and a typo there must stop both, not only the bot.
func (l loader) botLimits(c *Bot) error {
	var err error
	if c.MaxCodesPerChat, err = l.positiveInt("RASTREIO_MAX_CODES_PER_CHAT", DefaultMaxCodesPerChat); err != nil {
		return err
	}
	if c.MaxCodesPerPerson, err = l.positiveInt("RASTREIO_MAX_CODES_PER_PERSON", DefaultMaxCodesPerPerson); err != nil {
		return err
	}
	if c.PassInterval, err = l.duration("RASTREIO_PASS_INTERVAL", DefaultPassInterval); err != nil {
		return err
	}
	if c.PassInterval <= 0 {
		return &Error{Var: "RASTREIO_PASS_INTERVAL", Msg: "must be more than 0 (the tracker unit's RestartSec, like 3m)"}
	}
	return nil
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
		var ps, first, all []string
		for _, spec := range provider.All() {
			if configured[spec.Name] {
				ps = append(ps, spec.Name)
			}
			first = append(first, spec.Credentials[0].Var)
			all = append(all, spec.CredentialVars())
		}
		if len(ps) == 0 {
			return nil, &Error{
				Var: strings.Join(first, ", "),
				Msg: "no tracking provider configured: set " + strings.Join(all[:len(all)-1], ", ") + ", or " + all[len(all)-1] + " (or their credential files)",
			}
		}
		return ps, nil
	}
	var ps []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' }) {
		p := strings.ToLower(f)
		if _, known := provider.Lookup(p); !known {
			return nil, &Error{Var: "RASTREIO_PROVIDERS", Msg: fmt.Sprintf("unknown provider %q (known: %s)", f, strings.Join(provider.Names(), ", "))}
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

	c.Settings = map[string]ProviderSettings{}
	configured := map[string]bool{}
	for _, spec := range provider.All() {
		ps, err := l.provider(spec)
		if err != nil {
			return c, err
		}
		c.Settings[spec.Name] = ps
		configured[spec.Name] = ps.configured(spec)
	}
	if c.Providers, err = l.providers(configured); err != nil {
		return c, err
	}
	if tgErr != nil {
		return c, tgErr
	}
	for _, name := range c.Providers {
		if !configured[name] {
			return c, notConfigured(provider.Get(name), c.Settings[name])
		}
	}

	if err = l.botLimits(&Bot{}); err != nil {
		return c, err
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

// provider reads the settings spec names.
func (l loader) provider(spec provider.Spec) (ProviderSettings, error) {
	ps := ProviderSettings{Secrets: map[string]Secret{}, Options: map[string]string{}}
	var err error
	if ps.URL, err = l.baseURL(spec.URLVar, spec.DefaultURL); err != nil {
		return ps, err
	}
	for _, cr := range spec.Credentials {
		if ps.Secrets[cr.Var], err = l.secret(cr.Var, cr.File); err != nil {
			return ps, err
		}
	}
	for _, v := range spec.Options {
		if val := l.env(v); val != "" {
			ps.Options[v] = val
		}
	}
	return ps, nil
}

// notConfigured is the exit-78 error for a provider RASTREIO_PROVIDERS
// lists without its credentials; it names the first one missing.
func notConfigured(spec provider.Spec, ps ProviderSettings) error {
	missing := spec.Credentials[0]
	files := make([]string, len(spec.Credentials))
	for i, cr := range spec.Credentials {
		files[i] = cr.File
		if ps.Secrets[missing.Var] != "" && ps.Secrets[cr.Var] == "" {
			missing = cr
		}
	}
	if len(spec.Credentials) == 1 {
		return &Error{Var: missing.Var, Msg: fmt.Sprintf("not set, but RASTREIO_PROVIDERS lists %s (or write the credential %s)", spec.Name, missing.File)}
	}
	return &Error{Var: missing.Var, Msg: fmt.Sprintf("not set, but RASTREIO_PROVIDERS lists %s: set %s (or the credentials %s)",
		spec.Name, spec.CredentialVars(), strings.Join(files, ", "))}
}
