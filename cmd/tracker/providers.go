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
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/schedule"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/tracking"
)

// providers is the chain and its meters (usage per provider).
type providers struct {
	chain  *tracking.Chain
	meters []*tracking.Meter
}

// buildChain makes the providers named in cfg.Providers, in that order,
// each wrapped in a Meter that records its monthly usage and refuses calls
// once its budget is spent (the chain then moves codes to the next one).
func buildChain(ctx context.Context, cfg config.Tracker, limits config.ProviderLimits, st *store.Store, log *slog.Logger) (*providers, error) {
	out := &providers{}
	var ps []tracking.Provider
	for _, name := range cfg.Providers {
		var p tracking.Provider
		var err error
		plog := log.With(slog.String("provider", name))
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
				Logger:     plog,
			})
		case config.ProviderSiteRastreio:
			p, err = siterastreio.New(siterastreio.Config{
				BaseURL: cfg.SiteRastreio.URL,
				APIKey:  cfg.SiteRastreio.Key.Reveal(),
				Rate:    limits.Rate[name],
				Burst:   limits.Burst[name],
				Logger:  plog,
			})
		case config.ProviderPacoteVicio:
			p, err = pacotevicio.New(pacotevicio.Config{
				BaseURL: cfg.PacoteVicio.URL,
				APIKey:  cfg.PacoteVicio.Key.Reveal(),
				Rate:    limits.Rate[name],
				Burst:   limits.Burst[name],
				Logger:  plog,
			})
		case config.ProviderTrack17:
			p, err = track17.New(track17.Config{
				BaseURL: cfg.Track17.URL,
				APIKey:  cfg.Track17.Key.Reveal(),
				Rate:    limits.Rate[name],
				Burst:   limits.Burst[name],
				Logger:  plog,
			})
		default:
			err = &config.Error{Var: "RASTREIO_PROVIDERS", Msg: fmt.Sprintf("provider %q is not available in this build", name)}
		}
		if err != nil {
			return nil, err
		}
		m, err := tracking.NewMeter(ctx, p, st, limits.BudgetFor(name), nil)
		if err != nil {
			return nil, fmt.Errorf("usage: %w", err)
		}
		out.meters = append(out.meters, m)
		ps = append(ps, m)
	}
	out.chain = tracking.NewChain(ps...)
	// The pass logs the failures it sees (and counts them in the summary);
	// the chain tells of those it absorbed by falling through.
	out.chain.OnError(func(provider string, err error) {
		log.Debug("provider call failed", slog.String("provider", provider), slog.Any("error", err))
	})
	return out, nil
}

// recheck is each provider's re-check interval for the codes pinned to
// it: its own setting (else RASTREIO_RECHECK_INTERVAL), stretched when its
// monthly budget is being spent faster than the calendar allows.
// spacing is the time since the previous pass began (0: unknown).
func (p *providers) recheck(cfg config.Tracker, limits config.ProviderLimits, spacing time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	now := time.Now()
	for _, m := range p.meters {
		base := limits.RecheckFor(m.Name(), cfg.RecheckInterval)
		out[m.Name()] = m.Usage().Interval(now, base, spacing)
	}
	return out
}

// usage is "correios=120 siterastreio=37/1000" for the summary line.
func (p *providers) usage() slog.Attr {
	parts := make([]string, 0, len(p.meters))
	for _, m := range p.meters {
		parts = append(parts, m.Usage().String())
	}
	return slog.String("usage", strings.Join(parts, " "))
}

// defaultBudgets is "siterastreio=1000" for the providers whose budget is
// their free tier because none was set ("" when none).
func (p *providers) defaultBudgets(limits config.ProviderLimits) string {
	var parts []string
	for _, m := range p.meters {
		if limits.DefaultBudget[m.Name()] {
			parts = append(parts, m.Name()+"="+strconv.FormatInt(limits.BudgetFor(m.Name()), 10))
		}
	}
	return strings.Join(parts, " ")
}

// allowance is, per provider with a budget, the billed checks this pass
// may spend so the budget lasts the month.
func (p *providers) allowance(now time.Time) map[string]int64 {
	out := map[string]int64{}
	for _, m := range p.meters {
		if a := m.Usage().Allowance(now); a >= 0 {
			out[m.Name()] = a
		}
	}
	return out
}

// policy is the schedule's operator part: each provider's freshness and
// the intervals pinned with RASTREIO_RECHECK_INTERVAL_<NAME>.
type policy schedule.Policy

func schedulePolicy(limits config.ProviderLimits) policy {
	p := policy{Freshness: map[string]time.Duration{}, Pinned: map[string]time.Duration{}}
	for name, c := range config.Costs {
		if c.Freshness > 0 {
			p.Freshness[name] = c.Freshness
		}
	}
	for name, d := range limits.Recheck {
		p.Pinned[name] = d
	}
	return p
}

// Next is the store's ScheduleFunc.
func (p policy) Next(f schedule.Facts, now time.Time) time.Time {
	return schedule.Next(f, now, schedule.Policy(p))
}
