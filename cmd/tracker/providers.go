package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/config"
	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/tracking"
)

// buildChain makes the providers named in cfg.Providers, in that order.
func buildChain(cfg config.Tracker, st *store.Store, log *slog.Logger) (*tracking.Chain, error) {
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
				Logger:  log.With(slog.String("provider", name)),
			})
		case config.ProviderTrack17:
			p, err = track17.New(track17.Config{
				BaseURL: cfg.Track17.URL,
				APIKey:  cfg.Track17.Key.Reveal(),
				Logger:  log.With(slog.String("provider", name)),
			})
		default:
			err = fmt.Errorf("provider %q is not available in this build", name)
		}
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return tracking.NewChain(ps...), nil
}

// usageAttrs reports each provider's requests this month, for the
// summary line.
func usageAttrs(ctx context.Context, st *store.Store, providers []string) []slog.Attr {
	month := time.Now().UTC().Format("2006-01")
	var parts []string
	for _, p := range providers {
		n, err := st.Usage(ctx, p, month)
		if err != nil {
			continue
		}
		parts = append(parts, p+"="+strconv.FormatInt(n, 10))
	}
	return []slog.Attr{slog.String("usage_month", strings.Join(parts, " "))}
}
