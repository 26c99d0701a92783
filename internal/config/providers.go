package config

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rastreio/rastreio/internal/provider"
)

// ProviderLimits are the per-provider cost and rate settings:
//
//	RASTREIO_RECHECK_INTERVAL_<NAME>  least time between two checks of one
//	                                  active code by that provider (Go
//	                                  duration; overrides RASTREIO_RECHECK_INTERVAL)
//	<NAME>_MONTHLY_BUDGET             billed units a month (requests for
//	                                  siterastreio, pacotevicio and correios, registered
//	                                  numbers for track17); 0 or unset: no budget
//	<NAME>_RATE_LIMIT, <NAME>_RATE_BURST client-side request rate (req/s)
//	                                  and burst; defaults in the provider table
//
// <NAME> is the provider's name upper-cased: SITERASTREIO, PACOTEVICIO,
// TRACK17, CORREIOS.
type ProviderLimits struct {
	Recheck map[string]time.Duration // only providers with an override
	Budget  map[string]int64         // only providers with a budget
	Rate    map[string]float64       // every provider: its setting, else the table's default
	Burst   map[string]int
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
		Recheck: map[string]time.Duration{},
		Budget:  map[string]int64{},
		Rate:    map[string]float64{},
		Burst:   map[string]int{},
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
		if raw := l.env(v); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 0 {
				return p, &Error{Var: v, Msg: fmt.Sprintf("%q is not a whole number of billed units a month (0: no budget)", raw)}
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
