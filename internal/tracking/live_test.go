//go:build live

// Live smoke test against the real providers: only with `-tags live` and
// real keys in the environment (never in make test):
//
//	SITERASTREIO_API_KEY=… PACOTEVICIO_API_KEY=… TRACK17_API_KEY=… CORREIOS_USER=… CORREIOS_ACCESS_CODE=… \
//	LIVE_CODES=QQ850419295BR go test -tags 'live sqlite_omit_load_extension' -run Live -v ./internal/tracking
package tracking_test

import (
	"os"
	"strings"
	"testing"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/tracking"
)

func TestLiveProviders(t *testing.T) {
	codes := strings.Split(os.Getenv("LIVE_CODES"), ",")
	if codes[0] == "" {
		codes = []string{"QQ850419295BR"}
	}
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	var ps []tracking.Provider
	if k := os.Getenv("SITERASTREIO_API_KEY"); k != "" {
		p, err := siterastreio.New(siterastreio.Config{BaseURL: env("SITERASTREIO_API_URL", provider.Get(provider.SiteRastreio).DefaultURL), APIKey: k})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if k := os.Getenv("PACOTEVICIO_API_KEY"); k != "" {
		p, err := pacotevicio.New(pacotevicio.Config{BaseURL: env("PACOTEVICIO_API_URL", provider.Get(provider.PacoteVicio).DefaultURL), APIKey: k})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if k := os.Getenv("TRACK17_API_KEY"); k != "" {
		p, err := track17.New(track17.Config{BaseURL: env("TRACK17_API_URL", provider.Get(provider.Track17).DefaultURL), APIKey: k})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if u := os.Getenv("CORREIOS_USER"); u != "" {
		p, err := correios.New(correios.Config{BaseURL: env("CORREIOS_API_URL", provider.Get(provider.Correios).DefaultURL), User: u,
			AccessCode: os.Getenv("CORREIOS_ACCESS_CODE"), Postcard: os.Getenv("CORREIOS_POSTCARD"), Rate: 1, Burst: 1})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		t.Fatal("set SITERASTREIO_API_KEY, PACOTEVICIO_API_KEY, TRACK17_API_KEY or CORREIOS_USER/CORREIOS_ACCESS_CODE")
	}
	for _, p := range ps {
		res, err := p.Track(t.Context(), codes[:min(len(codes), p.MaxBatch())])
		if err != nil {
			t.Errorf("%s: %v", p.Name(), err)
			continue
		}
		for code, r := range res {
			t.Logf("%s %s: %s %q, %d events", p.Name(), code, r.Status, r.Message, len(r.Events))
			for _, e := range r.Events {
				t.Logf("  %s %-16s %s | %s | %s", e.At.Format("2006-01-02 15:04"), e.Kind, e.Key, e.Description, e.Location)
			}
		}
	}
}
