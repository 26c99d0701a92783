package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/provider"
)

func TestPacoteVicioSettings(t *testing.T) {
	base := []string{"TELEGRAM_BOT_TOKEN", tok}
	with := func(kv ...string) Getenv { return env(append(append([]string{}, base...), kv...)...) }

	t.Run("key from the environment, default URL", func(t *testing.T) {
		c, err := LoadTracker(with("PACOTEVICIO_API_KEY", "pv"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(c.Providers, ",") != "pacotevicio" || c.Settings["pacotevicio"].Secret("PACOTEVICIO_API_KEY").Reveal() != "pv" ||
			c.Settings["pacotevicio"].URL != "https://api.pacotevicio.dev" {
			t.Fatalf("providers %v url %q", c.Providers, c.Settings["pacotevicio"].URL)
		}
	})
	t.Run("key from the credential file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "pacotevicio-api-key"), []byte(" pv-cred\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadTracker(with("CREDENTIALS_DIRECTORY", dir, "PACOTEVICIO_API_URL", "http://127.0.0.1:9/"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Settings["pacotevicio"].Secret("PACOTEVICIO_API_KEY").Reveal() != "pv-cred" || c.Settings["pacotevicio"].URL != "http://127.0.0.1:9" || strings.Join(c.Providers, ",") != "pacotevicio" {
			t.Fatalf("key %q url %q providers %v", c.Settings["pacotevicio"].Secret("PACOTEVICIO_API_KEY").Reveal(), c.Settings["pacotevicio"].URL, c.Providers)
		}
		// The bot names it in /privacidade from the same file.
		b, err := LoadBot(env("TELEGRAM_BOT_TOKEN", tok, "CREDENTIALS_DIRECTORY", dir))
		if err != nil || strings.Join(b.Providers, ",") != "pacotevicio" {
			t.Fatalf("bot providers %v %v", b.Providers, err)
		}
	})
	t.Run("default order: after siterastreio, official last", func(t *testing.T) {
		c, err := LoadTracker(with("CORREIOS_USER", "u", "CORREIOS_ACCESS_CODE", "p", "SITERASTREIO_API_KEY", "k",
			"TRACK17_API_KEY", "t", "PACOTEVICIO_API_KEY", "pv"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Providers, ","); got != "siterastreio,pacotevicio,track17,correios" {
			t.Fatalf("providers = %s", got)
		}
	})
	t.Run("listed but not configured", func(t *testing.T) {
		_, err := LoadTracker(with("SITERASTREIO_API_KEY", "k", "RASTREIO_PROVIDERS", "siterastreio,pacotevicio"))
		wantVar(t, err, "PACOTEVICIO_API_KEY")
	})
	t.Run("bad URL", func(t *testing.T) {
		_, err := LoadTracker(with("PACOTEVICIO_API_KEY", "pv", "PACOTEVICIO_API_URL", "api.pacotevicio.dev"))
		wantVar(t, err, "PACOTEVICIO_API_URL")
	})
	t.Run("nothing configured names it, and CORREIOS_USER", func(t *testing.T) {
		_, err := LoadTracker(with())
		wantVar(t, err, "CORREIOS_USER")
		wantVar(t, err, "PACOTEVICIO_API_KEY")
	})
}

func TestPacoteVicioLimits(t *testing.T) {
	p, err := LoadProviderLimits(env())
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate[provider.PacoteVicio] != 2 || p.Burst[provider.PacoteVicio] != 2 || p.BudgetFor(provider.PacoteVicio) != 1000 ||
		p.RecheckFor(provider.PacoteVicio, time.Minute) != time.Minute {
		t.Fatalf("defaults: rate %v burst %v", p.Rate, p.Burst)
	}
	p, err = LoadProviderLimits(env("PACOTEVICIO_RATE_LIMIT", "0.5", "PACOTEVICIO_RATE_BURST", "1",
		"PACOTEVICIO_MONTHLY_BUDGET", "1000", "RASTREIO_RECHECK_INTERVAL_PACOTEVICIO", "12h"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate[provider.PacoteVicio] != 0.5 || p.Burst[provider.PacoteVicio] != 1 || p.BudgetFor(provider.PacoteVicio) != 1000 ||
		p.RecheckFor(provider.PacoteVicio, 0) != 12*time.Hour || p.RecheckFor(provider.SiteRastreio, 0) != 0 {
		t.Fatalf("set: rate %v burst %v budget %v recheck %v", p.Rate, p.Burst, p.Budget, p.Recheck)
	}
	for v, val := range map[string]string{
		"PACOTEVICIO_RATE_LIMIT":                "-1",
		"PACOTEVICIO_RATE_BURST":                "many",
		"PACOTEVICIO_MONTHLY_BUDGET":            "1k",
		"RASTREIO_RECHECK_INTERVAL_PACOTEVICIO": "daily",
	} {
		_, err := LoadProviderLimits(env(v, val))
		wantVar(t, err, v)
	}
}
