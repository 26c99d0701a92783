package provider

import (
	"strings"
	"testing"
)

// The table is well formed: unique lower-case names, a title, at least
// one credential, a URL variable and an https default, positive limits.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	vars := map[string]bool{}
	for _, s := range All() {
		if s.Name == "" || s.Name != strings.ToLower(s.Name) || seen[s.Name] {
			t.Errorf("name %q empty, not lower-case or repeated", s.Name)
		}
		seen[s.Name] = true
		if s.Title == "" || len(s.Credentials) == 0 || s.URLVar == "" ||
			!strings.HasPrefix(s.DefaultURL, "https://") || s.DefaultRate <= 0 || s.DefaultBurst <= 0 {
			t.Errorf("%s: incomplete spec %+v", s.Name, s)
		}
		for _, c := range s.Credentials {
			if c.Var == "" || c.File == "" || vars[c.Var] {
				t.Errorf("%s: credential %+v empty or shared", s.Name, c)
			}
			vars[c.Var] = true
		}
		if got, ok := Lookup(s.Name); !ok || got.Name != s.Name {
			t.Errorf("Lookup(%q) = %v %v", s.Name, got.Name, ok)
		}
	}
	for _, n := range []string{SiteRastreio, PacoteVicio, Track17, Correios} {
		if !seen[n] {
			t.Errorf("%s has a name constant but no entry", n)
		}
	}
	if _, ok := Lookup("nobody"); ok || Get("nobody").Name != "" {
		t.Error("Lookup of an unknown name found something")
	}
}

func TestSpecNames(t *testing.T) {
	c := Get(Correios)
	if c.RateVar() != "CORREIOS_RATE_LIMIT" || c.BurstVar() != "CORREIOS_RATE_BURST" ||
		c.BudgetVar() != "CORREIOS_MONTHLY_BUDGET" || c.RecheckVar() != "RASTREIO_RECHECK_INTERVAL_CORREIOS" {
		t.Errorf("variables %s %s %s %s", c.RateVar(), c.BurstVar(), c.BudgetVar(), c.RecheckVar())
	}
	if got := c.CredentialVars(); got != "CORREIOS_USER and CORREIOS_ACCESS_CODE" {
		t.Errorf("CredentialVars = %q", got)
	}
	if got := Get(Track17).CredentialVars(); got != "TRACK17_API_KEY" {
		t.Errorf("CredentialVars = %q", got)
	}
	if PerRequest.String() != "request" || PerParcel.String() != "registered parcel" || Free.String() != "nothing" {
		t.Error("billing names")
	}
}
