package main

import (
	"log/slog"
	"testing"

	"github.com/rastreio/rastreio/internal/config"
	"github.com/rastreio/rastreio/internal/provider"
)

// TestEveryProviderBuilds: each provider of the table has a client here,
// built from the settings the table names, answering to the table's name;
// and no client is built for a provider the table does not list.
func TestEveryProviderBuilds(t *testing.T) {
	for _, spec := range provider.All() {
		build, ok := clients[spec.Name]
		if !ok {
			t.Errorf("provider %s is in the table but the tracker cannot build it", spec.Name)
			continue
		}
		ps := config.ProviderSettings{URL: spec.DefaultURL, Secrets: map[string]config.Secret{}}
		for _, c := range spec.Credentials {
			ps.Secrets[c.Var] = "x"
		}
		p, err := build(ps, spec.DefaultRate, spec.DefaultBurst, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Errorf("%s: %v", spec.Name, err)
			continue
		}
		if p.Name() != spec.Name {
			t.Errorf("client for %s calls itself %s", spec.Name, p.Name())
		}
	}
	for name := range clients {
		if _, ok := provider.Lookup(name); !ok {
			t.Errorf("client %s is not in the provider table", name)
		}
	}
}
