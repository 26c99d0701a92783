package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/provider"
)

func env(kv ...string) Getenv {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

const tok = "123456:ABCdefGHIjklMNOpqrSTUvwx"

func wantVar(t *testing.T, err error, v string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *config.Error naming %s", err, v)
	}
	if !strings.Contains(ce.Var, v) || !strings.Contains(ce.Error(), v) {
		t.Fatalf("error %q does not name %s", ce.Error(), v)
	}
}

func TestLoadBotDefaults(t *testing.T) {
	c, err := LoadBot(env("TELEGRAM_BOT_TOKEN", " "+tok+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Token.Reveal() != tok {
		t.Errorf("token not trimmed: %q", c.Token.Reveal())
	}
	if c.Endpoint != DefaultTelegramEndpoint || c.DBPath != "rastreio.db" || c.MaxCodesPerChat != 100 || c.MaxCodesPerPerson != 200 || c.LogLevel != slog.LevelInfo ||
		c.PassInterval != 3*time.Minute {
		t.Errorf("defaults wrong: %+v", c)
	}
	if len(c.Providers) != 0 {
		t.Errorf("providers = %v, want none", c.Providers)
	}
}

// RASTREIO_PASS_INTERVAL is the tracker unit's RestartSec, as systemd
// writes it or as a Go duration.
func TestPassInterval(t *testing.T) {
	c, err := LoadBot(env("TELEGRAM_BOT_TOKEN", tok, "RASTREIO_PASS_INTERVAL", "10m"))
	if err != nil || c.PassInterval != 10*time.Minute {
		t.Fatalf("PassInterval = %v, %v", c.PassInterval, err)
	}
}

func TestStateDirectoryDefault(t *testing.T) {
	c, err := LoadBot(env("TELEGRAM_BOT_TOKEN", tok, "STATE_DIRECTORY", "/var/lib/rastreio"))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBPath != "/var/lib/rastreio/rastreio.db" {
		t.Errorf("DBPath = %q", c.DBPath)
	}
	c, _ = LoadBot(env("TELEGRAM_BOT_TOKEN", tok, "STATE_DIRECTORY", "/a", "RASTREIO_DB", "/b/x.db"))
	if c.DBPath != "/b/x.db" {
		t.Errorf("RASTREIO_DB must win: %q", c.DBPath)
	}
}

func TestBotErrors(t *testing.T) {
	cases := []struct {
		name string
		env  Getenv
		v    string
	}{
		{"missing token", env(), "TELEGRAM_BOT_TOKEN"},
		{"token with space", env("TELEGRAM_BOT_TOKEN", "12 34"), "TELEGRAM_BOT_TOKEN"},
		{"endpoint one verb", env("TELEGRAM_BOT_TOKEN", tok, "TELEGRAM_API_ENDPOINT", "http://x/bot%s"), "TELEGRAM_API_ENDPOINT"},
		{"endpoint not url", env("TELEGRAM_BOT_TOKEN", tok, "TELEGRAM_API_ENDPOINT", "not a url %s %s"), "TELEGRAM_API_ENDPOINT"},
		{"endpoint %d", env("TELEGRAM_BOT_TOKEN", tok, "TELEGRAM_API_ENDPOINT", "http://x/bot%s/%s/%d"), "TELEGRAM_API_ENDPOINT"},
		{"cap zero", env("TELEGRAM_BOT_TOKEN", tok, "RASTREIO_MAX_CODES_PER_CHAT", "0"), "RASTREIO_MAX_CODES_PER_CHAT"},
		{"cap text", env("TELEGRAM_BOT_TOKEN", tok, "RASTREIO_MAX_CODES_PER_CHAT", "muitos"), "RASTREIO_MAX_CODES_PER_CHAT"},
		{"person cap zero", env("TELEGRAM_BOT_TOKEN", tok, "RASTREIO_MAX_CODES_PER_PERSON", "0"), "RASTREIO_MAX_CODES_PER_PERSON"},
		{"person cap text", env("TELEGRAM_BOT_TOKEN", tok, "RASTREIO_MAX_CODES_PER_PERSON", "muitos"), "RASTREIO_MAX_CODES_PER_PERSON"},
		{"log level", env("TELEGRAM_BOT_TOKEN", tok, "LOG_LEVEL", "loud"), "LOG_LEVEL"},
		{"pass interval text", env("TELEGRAM_BOT_TOKEN", tok, "RASTREIO_PASS_INTERVAL", "3 minutos"), "RASTREIO_PASS_INTERVAL"},
		{"pass interval zero", env("TELEGRAM_BOT_TOKEN", tok, "RASTREIO_PASS_INTERVAL", "0"), "RASTREIO_PASS_INTERVAL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadBot(tc.env)
			wantVar(t, err, tc.v)
			if strings.Contains(err.Error(), tok) {
				t.Fatalf("error leaks the token: %v", err)
			}
		})
	}
}

func TestCredentialFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, v string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("telegram-bot-token", tok+"\n")
	write("correios-user", "loja\n")
	write("correios-access-code", "  segredo \n")
	c, err := LoadTracker(env("CREDENTIALS_DIRECTORY", dir))
	if err != nil {
		t.Fatal(err)
	}
	cs := c.Settings[provider.Correios]
	user, code := cs.Secret("CORREIOS_USER").Reveal(), cs.Secret("CORREIOS_ACCESS_CODE").Reveal()
	if c.Token.Reveal() != tok || user != "loja" || code != "segredo" {
		t.Fatalf("credentials not read and trimmed: %q %q %q", c.Token.Reveal(), user, code)
	}
	if fmt.Sprint(c.Providers) != "[correios]" {
		t.Fatalf("providers = %v", c.Providers)
	}
	// The environment wins over the credential file.
	c, _ = LoadTracker(env("CREDENTIALS_DIRECTORY", dir, "CORREIOS_USER", "outra"))
	if u := c.Settings[provider.Correios].Secret("CORREIOS_USER").Reveal(); u != "outra" {
		t.Fatalf("env must win: %q", u)
	}
	// The bot lists the provider for /privacidade from the credential file.
	b, err := LoadBot(env("CREDENTIALS_DIRECTORY", dir))
	if err != nil || fmt.Sprint(b.Providers) != "[correios]" {
		t.Fatalf("bot providers = %v, %v", b.Providers, err)
	}
}

// The bot and the tracker agree on which providers are configured: a
// provider with only part of its credentials counts for neither.
func TestBotAndTrackerAgreeOnConfigured(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
		want string
	}{
		{"user alone", []string{"CORREIOS_USER", "u", "SITERASTREIO_API_KEY", "k"}, "[siterastreio]"},
		{"access code alone", []string{"CORREIOS_ACCESS_CODE", "c", "TRACK17_API_KEY", "k"}, "[track17]"},
		{"both", []string{"CORREIOS_USER", "u", "CORREIOS_ACCESS_CODE", "c", "PACOTEVICIO_API_KEY", "k"}, "[pacotevicio correios]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := env(append([]string{"TELEGRAM_BOT_TOKEN", tok}, tc.kv...)...)
			b, err := LoadBot(getenv)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := LoadTracker(getenv)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(b.Providers) != tc.want || fmt.Sprint(tr.Providers) != tc.want {
				t.Fatalf("bot %v, tracker %v, want %s", b.Providers, tr.Providers, tc.want)
			}
		})
	}
}

func TestTrackerProviders(t *testing.T) {
	base := []string{"TELEGRAM_BOT_TOKEN", tok}
	with := func(kv ...string) Getenv { return env(append(append([]string{}, base...), kv...)...) }
	t.Run("none", func(t *testing.T) {
		_, err := LoadTracker(with())
		wantVar(t, err, "CORREIOS_USER")
	})
	t.Run("default order", func(t *testing.T) {
		c, err := LoadTracker(with("CORREIOS_USER", "u", "CORREIOS_ACCESS_CODE", "p", "SITERASTREIO_API_KEY", "k", "TRACK17_API_KEY", "t"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Providers, ","); got != "siterastreio,track17,correios" {
			t.Fatalf("providers = %s", got)
		}
	})
	t.Run("explicit order", func(t *testing.T) {
		c, err := LoadTracker(with("CORREIOS_USER", "u", "CORREIOS_ACCESS_CODE", "p", "SITERASTREIO_API_KEY", "k", "RASTREIO_PROVIDERS", "Correios, siterastreio"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Providers, ","); got != "correios,siterastreio" {
			t.Fatalf("providers = %s", got)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		_, err := LoadTracker(with("SITERASTREIO_API_KEY", "k", "RASTREIO_PROVIDERS", "siterastreio,proxyapp"))
		wantVar(t, err, "RASTREIO_PROVIDERS")
		if !strings.Contains(err.Error(), "proxyapp") {
			t.Fatalf("error does not name the unknown provider: %v", err)
		}
	})
	t.Run("listed but not configured", func(t *testing.T) {
		_, err := LoadTracker(with("CORREIOS_USER", "u", "RASTREIO_PROVIDERS", "correios"))
		wantVar(t, err, "CORREIOS_ACCESS_CODE")
	})
	t.Run("bad numbers", func(t *testing.T) {
		for _, kv := range [][2]string{
			{"CORREIOS_RATE_LIMIT", "-1"}, {"CORREIOS_RATE_BURST", "x"}, {"TELEGRAM_SEND_RATE", "31"},
			{"RASTREIO_RECHECK_INTERVAL", "soon"}, {"CORREIOS_API_URL", "ftp://x"},
			// The bot's settings, from the environment file both units share.
			{"RASTREIO_MAX_CODES_PER_PERSON", "muitos"}, {"RASTREIO_MAX_CODES_PER_CHAT", "0"},
			{"RASTREIO_PASS_INTERVAL", "3 minutos"}, {"RASTREIO_PASS_INTERVAL", "0"},
		} {
			_, err := LoadTracker(with("SITERASTREIO_API_KEY", "k", kv[0], kv[1]))
			wantVar(t, err, kv[0])
		}
	})
	t.Run("recheck", func(t *testing.T) {
		c, err := LoadTracker(with("SITERASTREIO_API_KEY", "k", "RASTREIO_RECHECK_INTERVAL", "6h"))
		if err != nil || c.RecheckInterval != 6*time.Hour {
			t.Fatalf("recheck = %v, %v", c.RecheckInterval, err)
		}
	})
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("supersecret")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), fmt.Sprintf("%+v", Telegram{Token: s})} {
		if strings.Contains(out, "supersecret") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "key", s, "cfg", ProviderSettings{Secrets: map[string]Secret{"SITERASTREIO_API_KEY": s}})
	if strings.Contains(b.String(), "supersecret") {
		t.Fatalf("secret logged: %s", b.String())
	}
}

// With nothing set, the tracker names the provider settings first (the
// operator's first step), then the token.
func TestTrackerNothingSetNamesProviders(t *testing.T) {
	_, err := LoadTracker(env())
	wantVar(t, err, "CORREIOS_USER")
	_, err = LoadTracker(env("SITERASTREIO_API_KEY", "k"))
	wantVar(t, err, "TELEGRAM_BOT_TOKEN")
}

// Plain http carries the token or key in clear: refused for every URL
// setting unless the host is a loopback address.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	const tok = "123:abcdefgh"
	keys := []string{"TELEGRAM_BOT_TOKEN", tok, "CORREIOS_USER", "u", "CORREIOS_ACCESS_CODE", "c",
		"SITERASTREIO_API_KEY", "k", "PACOTEVICIO_API_KEY", "k", "TRACK17_API_KEY", "k"}
	load := func(name, v string) error {
		e := env(append(append([]string(nil), keys...), name, v)...)
		if name == "TELEGRAM_API_ENDPOINT" {
			_, err := LoadBot(e)
			return err
		}
		_, err := LoadTracker(e)
		return err
	}
	for _, name := range []string{"TELEGRAM_API_ENDPOINT", "CORREIOS_API_URL", "SITERASTREIO_API_URL", "PACOTEVICIO_API_URL", "TRACK17_API_URL"} {
		suffix := ""
		if name == "TELEGRAM_API_ENDPOINT" {
			suffix = "/bot%s/%s"
		}
		for _, bad := range []string{"http://api.example.com", "http://10.0.0.1:8080", "http://localhost.example.com", "HTTP://api.example.com", "http://[2001:db8::1]:80"} {
			err := load(name, bad+suffix)
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != name || !strings.Contains(err.Error(), "https://") {
				t.Errorf("%s=%s: err %v, want a config error naming it", name, bad, err)
			}
		}
		for _, ok := range []string{"https://api.example.com", "http://127.0.0.1:9", "http://127.8.9.10", "http://localhost:8081", "http://LOCALHOST", "http://[::1]:9"} {
			if err := load(name, ok+suffix); err != nil {
				t.Errorf("%s=%s refused: %v", name, ok, err)
			}
		}
	}
}
