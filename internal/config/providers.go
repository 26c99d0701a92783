package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/provider"
)

// Unlimited is the <NAME>_MONTHLY_BUDGET value that lifts the default budget.
const Unlimited = "unlimited"

// ProviderLimits are the per-provider cost and rate settings:
//
//	RASTREIO_RECHECK_INTERVAL_<NAME>  least time between two checks of one
//	                                  active code by that provider (Go
//	                                  duration; overrides RASTREIO_RECHECK_INTERVAL)
//	<NAME>_MONTHLY_BUDGET             billed units a month (requests for
//	                                  siterastreio and pacotevicio, registered
//	                                  numbers for track17); unset: the free
//	                                  tier of a per-request provider (the
//	                                  provider table), none for the others;
//	                                  unlimited or 0: none
//	<NAME>_RATE_LIMIT, <NAME>_RATE_BURST client-side request rate (req/s)
//	                                  and burst; defaults in the provider table
//
// <NAME> is the provider's name upper-cased: SITERASTREIO, PACOTEVICIO,
// TRACK17, CORREIOS.
type ProviderLimits struct {
	Recheck map[string]time.Duration // only providers with an override
	Budget  map[string]int64         // only providers with a budget
	// DefaultBudget names the providers whose budget is their free tier
	// because <NAME>_MONTHLY_BUDGET is unset.
	DefaultBudget map[string]bool
	Rate          map[string]float64 // every provider: its setting, else the table's default
	Burst         map[string]int
}

// RecheckFor returns provider's re-check interval: its override, else
// global (RASTREIO_RECHECK_INTERVAL).
func (p ProviderLimits) RecheckFor(provider string, global time.Duration) time.Duration {
	if d, ok := p.Recheck[provider]; ok {
		return d
	}
	return global
}

// BudgetFor returns provider's monthly budget (0: none).
func (p ProviderLimits) BudgetFor(provider string) int64 { return p.Budget[provider] }

// LoadProviderLimits reads the per-provider settings. A malformed value is
// a *Error naming the variable (exit 78).
func LoadProviderLimits(getenv Getenv) (ProviderLimits, error) {
	l := loader{getenv}
	p := ProviderLimits{
		Recheck:       map[string]time.Duration{},
		Budget:        map[string]int64{},
		DefaultBudget: map[string]bool{},
		Rate:          map[string]float64{},
		Burst:         map[string]int{},
	}
	for _, spec := range provider.All() {
		name := spec.Name
		if v := spec.RecheckVar(); l.env(v) != "" {
			d, err := l.duration(v, 0)
			if err != nil {
				return p, err
			}
			p.Recheck[name] = d
		}
		v := spec.BudgetVar()
		switch raw := l.env(v); {
		case raw == "":
			if spec.FreeTier > 0 {
				p.Budget[name], p.DefaultBudget[name] = spec.FreeTier, true
			}
		case strings.EqualFold(raw, Unlimited):
		default:
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 0 {
				return p, &Error{Var: v, Msg: fmt.Sprintf("%q is not a whole number of billed units a month (or %s)", raw, Unlimited)}
			}
			if n > 0 {
				p.Budget[name] = n
			}
		}
		var err error
		if p.Rate[name], err = l.positiveFloat(spec.RateVar(), spec.DefaultRate); err != nil {
			return p, err
		}
		if p.Burst[name], err = l.positiveInt(spec.BurstVar(), spec.DefaultBurst); err != nil {
			return p, err
		}
	}
	return p, nil
}
