package config

import (
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/provider"
)

func TestProviderLimitsDefaults(t *testing.T) {
	p, err := LoadProviderLimits(env())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Recheck) != 0 {
		t.Fatalf("defaults carry overrides: %+v", p)
	}
	// Budgets are on by default: a per-request provider's free tier.
	for _, name := range []string{provider.SiteRastreio, provider.PacoteVicio} {
		if p.BudgetFor(name) != 1000 || !p.DefaultBudget[name] {
			t.Fatalf("%s budget %d (default %v), want its free tier 1000 by default", name, p.BudgetFor(name), p.DefaultBudget[name])
		}
	}
	if p.BudgetFor(provider.Correios) != 0 || p.DefaultBudget[provider.Track17] {
		t.Fatalf("budgets %+v: correios and track17 have none by default", p.Budget)
	}
	if p.RecheckFor(provider.SiteRastreio, 7*time.Minute) != 7*time.Minute || p.BudgetFor(provider.Track17) != 0 {
		t.Fatal("fallbacks")
	}
	if p.Rate[provider.SiteRastreio] != provider.Get(provider.SiteRastreio).DefaultRate || p.Rate[provider.Track17] != 3 ||
		p.Burst[provider.SiteRastreio] != 2 || p.Burst[provider.Track17] != 1 {
		t.Fatalf("rates %+v %+v", p.Rate, p.Burst)
	}
}

func TestProviderLimitsSet(t *testing.T) {
	p, err := LoadProviderLimits(env(
		"RASTREIO_RECHECK_INTERVAL_SITERASTREIO", "6h",
		"RASTREIO_RECHECK_INTERVAL_CORREIOS", "0",
		"SITERASTREIO_MONTHLY_BUDGET", "1000",
		"TRACK17_MONTHLY_BUDGET", "0",
		"PACOTEVICIO_MONTHLY_BUDGET", "unlimited",
		"TRACK17_RATE_LIMIT", "2.5",
		"SITERASTREIO_RATE_BURST", "4",
	))
	if err != nil {
		t.Fatal(err)
	}
	if p.RecheckFor(provider.SiteRastreio, 0) != 6*time.Hour || p.RecheckFor(provider.Correios, time.Hour) != 0 ||
		p.RecheckFor(provider.Track17, time.Hour) != time.Hour {
		t.Errorf("recheck %+v", p.Recheck)
	}
	if p.BudgetFor(provider.SiteRastreio) != 1000 || p.BudgetFor(provider.Track17) != 0 ||
		p.BudgetFor(provider.PacoteVicio) != 0 || len(p.DefaultBudget) != 0 {
		t.Errorf("budget %+v default %+v", p.Budget, p.DefaultBudget)
	}
	if p.Rate[provider.Track17] != 2.5 || p.Burst[provider.SiteRastreio] != 4 {
		t.Errorf("rate %+v burst %+v", p.Rate, p.Burst)
	}
}

func TestProviderLimitsErrors(t *testing.T) {
	for v, val := range map[string]string{
		"RASTREIO_RECHECK_INTERVAL_TRACK17": "soon",
		"SITERASTREIO_MONTHLY_BUDGET":       "-3",
		"CORREIOS_MONTHLY_BUDGET":           "lots",
		"TRACK17_RATE_LIMIT":                "0",
		"SITERASTREIO_RATE_BURST":           "x",
	} {
		_, err := LoadProviderLimits(env(v, val))
		wantVar(t, err, v)
	}
}
