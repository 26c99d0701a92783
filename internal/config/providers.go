package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Provider limit defaults. Wonca and PacoteVício publish no rate (the
// latter's is a cautious guess: its free plan is 1,000 requests a month);
// 17TRACK allows 3 requests/s per key.
const (
	DefaultSiteRastreioRate  = 5.0
	DefaultSiteRastreioBurst = 2
	DefaultPacoteVicioRate   = 2.0
	DefaultPacoteVicioBurst  = 2
	DefaultTrack17Rate       = 3.0
	DefaultTrack17Burst      = 1
)

// Billing units: what one of a provider's billed units is.
const (
	BillNothing    = "nothing"     // free (the official API, under the operator's contract)
	BillPerRequest = "per request" // every check of a code (Site Rastreio, PacoteVício)
	BillPerParcel  = "per parcel"  // each number registered once (17TRACK)
)

// ProviderCost is what a provider bills and how fresh its data can be.
type ProviderCost struct {
	Billing string
	// FreeTier is the free plan's billed units a month: the default
	// monthly budget of a per-request provider.
	FreeTier int64
	// Freshness is how often the provider's data about a code can change:
	// a code is never asked it more often (17TRACK refreshes every 6–12 h).
	Freshness time.Duration
}

// Costs lists every provider's cost and freshness.
var Costs = map[string]ProviderCost{
	ProviderCorreios:     {Billing: BillNothing},
	ProviderSiteRastreio: {Billing: BillPerRequest, FreeTier: 1000},
	ProviderPacoteVicio:  {Billing: BillPerRequest, FreeTier: 1000},
	ProviderTrack17:      {Billing: BillPerParcel, Freshness: 6 * time.Hour},
}

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
//	                                  tier of a per-request provider (Costs),
//	                                  none for the others; unlimited or 0: none
//	SITERASTREIO_RATE_LIMIT/_BURST,   client-side request rate (req/s) and burst
//	PACOTEVICIO_RATE_LIMIT/_BURST,
//	TRACK17_RATE_LIMIT/_BURST
//
// <NAME> is the provider's name upper-cased: SITERASTREIO, PACOTEVICIO,
// TRACK17, CORREIOS.
type ProviderLimits struct {
	Recheck map[string]time.Duration // only providers with an override
	Budget  map[string]int64         // only providers with a budget
	// DefaultBudget names the providers whose budget is their free tier
	// because <NAME>_MONTHLY_BUDGET is unset.
	DefaultBudget map[string]bool
	Rate          map[string]float64 // siterastreio, pacotevicio, track17
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
	for _, name := range KnownProviders {
		up := strings.ToUpper(name)
		v := "RASTREIO_RECHECK_INTERVAL_" + up
		if l.env(v) != "" {
			d, err := l.duration(v, 0)
			if err != nil {
				return p, err
			}
			p.Recheck[name] = d
		}
		v = up + "_MONTHLY_BUDGET"
		switch raw := l.env(v); {
		case raw == "":
			if free := Costs[name].FreeTier; free > 0 {
				p.Budget[name], p.DefaultBudget[name] = free, true
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
	}
	var err error
	if p.Rate[ProviderSiteRastreio], err = l.positiveFloat("SITERASTREIO_RATE_LIMIT", DefaultSiteRastreioRate); err != nil {
		return p, err
	}
	if p.Burst[ProviderSiteRastreio], err = l.positiveInt("SITERASTREIO_RATE_BURST", DefaultSiteRastreioBurst); err != nil {
		return p, err
	}
	if p.Rate[ProviderPacoteVicio], err = l.positiveFloat("PACOTEVICIO_RATE_LIMIT", DefaultPacoteVicioRate); err != nil {
		return p, err
	}
	if p.Burst[ProviderPacoteVicio], err = l.positiveInt("PACOTEVICIO_RATE_BURST", DefaultPacoteVicioBurst); err != nil {
		return p, err
	}
	if p.Rate[ProviderTrack17], err = l.positiveFloat("TRACK17_RATE_LIMIT", DefaultTrack17Rate); err != nil {
		return p, err
	}
	if p.Burst[ProviderTrack17], err = l.positiveInt("TRACK17_RATE_BURST", DefaultTrack17Burst); err != nil {
		return p, err
	}
	return p, nil
}
