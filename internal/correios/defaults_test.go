package correios

import (
	"testing"

	"github.com/rastreio/rastreio/internal/provider"
)

// A Config without rate or burst takes the provider table's, the same
// defaults config gives CORREIOS_RATE_LIMIT and CORREIOS_RATE_BURST.
func TestDefaultsFromProviderTable(t *testing.T) {
	c, err := New(Config{BaseURL: "http://127.0.0.1:9", User: "u", AccessCode: "c"})
	if err != nil {
		t.Fatal(err)
	}
	spec := provider.Get(provider.Correios)
	if spec.DefaultRate <= 0 || c.cfg.Rate != spec.DefaultRate || c.cfg.Burst != spec.DefaultBurst {
		t.Fatalf("rate %v burst %d, want the table's %v and %d", c.cfg.Rate, c.cfg.Burst, spec.DefaultRate, spec.DefaultBurst)
	}
	if c.Name() != spec.Name {
		t.Fatalf("name %q, table %q", c.Name(), spec.Name)
	}
}
