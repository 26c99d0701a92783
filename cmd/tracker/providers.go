package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/config"
	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/tracking"
)

// buildChain makes the providers named in cfg.Providers, in that order,
// each wrapped in a tracking.Meter that records its monthly usage in the
// database and enforces its monthly budget (<NAME>_MONTHLY_BUDGET).
func buildChain(ctx context.Context, cfg config.Tracker, st *store.Store, log *slog.Logger) (*tracking.Chain, error) {
	var ps []tracking.Provider
	for _, name := range cfg.Providers {
		var p tracking.Provider
		var err error
		switch name {
		case config.ProviderCorreios:
			p, err = correios.New(correios.Config{
				BaseURL:    cfg.Correios.URL,
				User:       cfg.Correios.User,
				AccessCode: cfg.Correios.AccessCode.Reveal(),
				Postcard:   cfg.Correios.Postcard,
				Rate:       cfg.Correios.Rate,
				Burst:      cfg.Correios.Burst,
				Tokens:     st,
				Logger:     log.With(slog.String("provider", name)),
			})
		case config.ProviderSiteRastreio:
			p, err = siterastreio.New(siterastreio.Config{
				BaseURL: cfg.SiteRastreio.URL,
				APIKey:  cfg.SiteRastreio.Key.Reveal(),
				Rate:    cfg.Limits.Rate[name],
				Burst:   cfg.Limits.Burst[name],
				Logger:  log.With(slog.String("provider", name)),
			})
		case config.ProviderTrack17:
			p, err = track17.New(track17.Config{
				BaseURL: cfg.Track17.URL,
				APIKey:  cfg.Track17.Key.Reveal(),
				Rate:    cfg.Limits.Rate[name],
				Burst:   cfg.Limits.Burst[name],
				Logger:  log.With(slog.String("provider", name)),
			})
		default:
			err = fmt.Errorf("provider %q is not available in this build", name)
		}
		if err != nil {
			return nil, err
		}
		m, err := tracking.NewMeter(ctx, p, st, cfg.Limits.BudgetFor(name), nil)
		if err != nil {
			return nil, err
		}
		ps = append(ps, m)
	}
	chain := tracking.NewChain(ps...)
	chain.OnError(func(provider string, err error) {
		log.Warn("provider call failed", slog.String("provider", provider), slog.Any("error", err))
	})
	return chain, nil
}

// usageAttrs reports each provider's billed units this month, with its
// budget when one is set ("siterastreio=120/1000"), for the summary line.
func usageAttrs(ctx context.Context, st *store.Store, providers []string, limits config.ProviderLimits) []slog.Attr {
	month := tracking.Month(time.Now())
	var parts []string
	for _, p := range providers {
		n, err := st.Usage(ctx, p, month)
		if err != nil {
			continue
		}
		parts = append(parts, tracking.Usage{Provider: p, Month: month, Used: n, Budget: limits.BudgetFor(p)}.String())
	}
	return []slog.Attr{slog.String("usage_month", strings.Join(parts, " "))}
}
