// Package provider is the table of tracking providers: for each one its
// name, the title people see, the settings it reads (credentials, base
// URL, rate and burst, with their defaults), what it bills and how fresh
// its data is. It imports no provider client, so the bot reads it too.
//
// Config (names, credentials, validation, exit-78 messages), the
// tracker's chain, the clients' defaults, the bot's /privacidade and the
// README's provider table all read this table. Adding a provider is one
// entry here plus its client package (and the line in the tracker that
// builds it from its settings, which a test there checks).
package provider

import (
	"strings"
	"time"
)

// Provider names, as RASTREIO_PROVIDERS, the logs and the database
// (provider_usage, the tokens table, which provider checked a parcel)
// spell them.
const (
	SiteRastreio = "siterastreio"
	PacoteVicio  = "pacotevicio"
	Track17      = "track17"
	Correios     = "correios"
)

// Billing is the unit a provider bills.
type Billing int

const (
	// Free: nothing is billed.
	Free Billing = iota
	// PerRequest: every request is billed (one code per request).
	PerRequest
	// PerParcel: each parcel is billed once, when it is registered;
	// asking about it afterwards is free.
	PerParcel
)

// String is the unit as the docs name it.
func (b Billing) String() string {
	switch b {
	case PerRequest:
		return "request"
	case PerParcel:
		return "registered parcel"
	}
	return "nothing"
}

// Credential is one secret setting: an environment variable, else the
// systemd credential file of that name ($CREDENTIALS_DIRECTORY/File,
// installed as /etc/credstore/rastreio.File).
type Credential struct {
	Var  string
	File string
}

// Spec describes one provider.
type Spec struct {
	Name  string
	Title string // how people know it, in the bot's texts
	// Credentials are all needed for the provider to count as configured.
	Credentials []Credential
	// Options are optional plain settings the client reads (environment only).
	Options    []string
	URLVar     string
	DefaultURL string
	// DefaultRate (requests/s) and DefaultBurst are the client-side limits
	// unless RateVar and BurstVar say otherwise.
	DefaultRate  float64
	DefaultBurst int
	Billing      Billing
	// FreeTier is the free plan's billed units a month: the default
	// monthly budget of a per-request provider (0: none).
	FreeTier int64
	// Refresh is how often the provider refreshes its own copy of the
	// Correios data: asking it about a code more often gains nothing.
	// 0: it asks the Correios on every request.
	Refresh time.Duration
}

// env is the provider's name as settings spell it: SITERASTREIO, TRACK17.
func (s Spec) env() string { return strings.ToUpper(s.Name) }

// RateVar is the variable that sets the client-side rate (requests/s).
func (s Spec) RateVar() string { return s.env() + "_RATE_LIMIT" }

// BurstVar is the variable that sets the client-side burst.
func (s Spec) BurstVar() string { return s.env() + "_RATE_BURST" }

// BudgetVar is the variable that sets the monthly budget (billed units).
func (s Spec) BudgetVar() string { return s.env() + "_MONTHLY_BUDGET" }

// RecheckVar is the variable that sets the provider's re-check interval.
func (s Spec) RecheckVar() string { return "RASTREIO_RECHECK_INTERVAL_" + s.env() }

// CredentialVars names the credential variables for people: "A" or
// "A and B".
func (s Spec) CredentialVars() string {
	vars := make([]string, len(s.Credentials))
	for i, c := range s.Credentials {
		vars[i] = c.Var
	}
	return and(vars)
}

func and(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// specs is the table, in the default order of the chain: the providers
// that see every Correios parcel first, the official API (only parcels
// under your own contract) last.
var specs = []Spec{
	{
		Name:         SiteRastreio,
		Title:        "Site Rastreio (Wonca Labs)",
		Credentials:  []Credential{{Var: "SITERASTREIO_API_KEY", File: "siterastreio-api-key"}},
		URLVar:       "SITERASTREIO_API_URL",
		DefaultURL:   "https://api-labs.wonca.com.br",
		DefaultRate:  5, // Wonca publishes no figure
		DefaultBurst: 2,
		Billing:      PerRequest,
		FreeTier:     1000, // Wonca's free plan: 1,000 requests a month
	},
	{
		Name:        PacoteVicio,
		Title:       "PacoteVício (RapidAPI)",
		Credentials: []Credential{{Var: "PACOTEVICIO_API_KEY", File: "pacotevicio-api-key"}},
		URLVar:      "PACOTEVICIO_API_URL",
		DefaultURL:  "https://api.pacotevicio.dev",
		// A guess on the safe side: PacoteVício publishes no per-second
		// limit, and its free plan is 1,000 requests a month.
		DefaultRate:  2,
		DefaultBurst: 2,
		Billing:      PerRequest,
		FreeTier:     1000, // RapidAPI's Basic plan: 1,000 requests a month
	},
	{
		Name:         Track17,
		Title:        "17TRACK",
		Credentials:  []Credential{{Var: "TRACK17_API_KEY", File: "track17-api-key"}},
		URLVar:       "TRACK17_API_URL",
		DefaultURL:   "https://api.17track.net",
		DefaultRate:  3, // per key, 17TRACK's published limit
		DefaultBurst: 1,
		Billing:      PerParcel,
		// 17TRACK refreshes a registered number every 6 to 12 hours.
		Refresh: 6 * time.Hour,
	},
	{
		Name:  Correios,
		Title: "API oficial dos Correios",
		Credentials: []Credential{
			{Var: "CORREIOS_USER", File: "correios-user"},
			{Var: "CORREIOS_ACCESS_CODE", File: "correios-access-code"},
		},
		Options:      []string{"CORREIOS_POSTCARD"},
		URLVar:       "CORREIOS_API_URL",
		DefaultURL:   "https://api.correios.com.br",
		DefaultRate:  10, // the gateway allows 50/s per key
		DefaultBurst: 5,
		Billing:      Free,
	},
}

// All returns every provider, in the default order of the chain.
func All() []Spec {
	out := make([]Spec, len(specs))
	copy(out, specs)
	return out
}

// Names returns every provider's name, in the default order.
func Names() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// Lookup returns the provider called name.
func Lookup(name string) (Spec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Get returns the provider called name; the zero Spec when there is none
// (the clients ask for their own name, which a test checks is listed).
func Get(name string) Spec {
	s, _ := Lookup(name)
	return s
}
