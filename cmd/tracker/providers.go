package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/config"
	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/provider"
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

// client builds one provider's client from its settings (URL and
// credentials as the provider table names them) and its limits.
type client func(ps config.ProviderSettings, rate float64, burst int, st *store.Store, log *slog.Logger) (tracking.Provider, error)

// clients has one entry per provider in the table (internal/provider);
// TestEveryProviderBuilds checks none is missing.
var clients = map[string]client{
	provider.SiteRastreio: func(ps config.ProviderSettings, rate float64, burst int, _ *store.Store, log *slog.Logger) (tracking.Provider, error) {
		return siterastreio.New(siterastreio.Config{BaseURL: ps.URL, APIKey: ps.Secret("SITERASTREIO_API_KEY").Reveal(),
			Rate: rate, Burst: burst, Logger: log})
	},
	provider.PacoteVicio: func(ps config.ProviderSettings, rate float64, burst int, _ *store.Store, log *slog.Logger) (tracking.Provider, error) {
		return pacotevicio.New(pacotevicio.Config{BaseURL: ps.URL, APIKey: ps.Secret("PACOTEVICIO_API_KEY").Reveal(),
			Rate: rate, Burst: burst, Logger: log})
	},
	provider.Track17: func(ps config.ProviderSettings, rate float64, burst int, _ *store.Store, log *slog.Logger) (tracking.Provider, error) {
		return track17.New(track17.Config{BaseURL: ps.URL, APIKey: ps.Secret("TRACK17_API_KEY").Reveal(),
			Rate: rate, Burst: burst, Logger: log})
	},
	provider.Correios: func(ps config.ProviderSettings, rate float64, burst int, st *store.Store, log *slog.Logger) (tracking.Provider, error) {
		return correios.New(correios.Config{BaseURL: ps.URL, User: ps.Secret("CORREIOS_USER").Reveal(),
			AccessCode: ps.Secret("CORREIOS_ACCESS_CODE").Reveal(), Postcard: ps.Options["CORREIOS_POSTCARD"],
			Rate: rate, Burst: burst, Tokens: st, Logger: log})
	},
}

// buildChain makes the providers named in cfg.Providers, in that order,
// each wrapped in a Meter that records its monthly usage and refuses calls
// once its budget is spent (the chain then moves codes to the next one).
func buildChain(ctx context.Context, cfg config.Tracker, limits config.ProviderLimits, st *store.Store, log *slog.Logger) (*providers, error) {
	out := &providers{}
	var ps []tracking.Provider
	for _, name := range cfg.Providers {
		build, ok := clients[name]
		if !ok {
			return nil, &config.Error{Var: "RASTREIO_PROVIDERS", Msg: fmt.Sprintf("provider %q is not available in this build", name)}
		}
		p, err := build(cfg.Settings[name], limits.Rate[name], limits.Burst[name], st, log.With(slog.String("provider", name)))
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

// slowed names the providers whose monthly budget slows checks: those
// the pass held codes back for (inPass), and those whose budget is spent
// or runs ahead of the calendar.
func (p *providers) slowed(now time.Time, inPass []string) []string {
	set := map[string]bool{}
	for _, n := range inPass {
		set[n] = true
	}
	for _, m := range p.meters {
		if u := m.Usage(); u.Spent() || u.Slowdown(now) > 1 {
			set[m.Name()] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// authVars names the settings of the provider(s) whose credentials were
// rejected.
func authVars(err error) string {
	var ce *tracking.ChainError
	if !errors.As(err, &ce) {
		return provider.Get(provider.Correios).CredentialVars()
	}
	var vars []string
	for _, spec := range provider.All() {
		if perr := ce.ProviderErr(spec.Name); perr != nil && errors.Is(perr, tracking.ErrAuth) {
			vars = append(vars, spec.CredentialVars())
		}
	}
	if len(vars) == 0 {
		return "the provider credentials"
	}
	return strings.Join(vars, ", ")
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
	for _, spec := range provider.All() {
		if spec.Refresh > 0 {
			p.Freshness[spec.Name] = spec.Refresh
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
