package simulate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/provider"
)

func brt(day, h, m int) time.Time { return time.Date(2024, 3, day, h, m, 0, 0, brasilia.Zone) }

func TestWaking(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to time.Time
		want     time.Duration
	}{
		{"within a day", brt(4, 9, 0), brt(4, 9, 30), 30 * time.Minute},
		{"night does not count: 23:17 heard at 07:05", brt(4, 23, 17), brt(5, 7, 5), 5 * time.Minute},
		{"evening to morning", brt(4, 21, 0), brt(5, 8, 0), 2 * time.Hour},
		{"a whole day", brt(4, 7, 0), brt(5, 7, 0), 15 * time.Hour},
		{"backwards", brt(4, 9, 0), brt(4, 8, 0), 0},
	} {
		if got := Waking(c.from, c.to); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{5, 1, 3, 2, 4}
	if q := Quantile(xs, 0.5); q != 3 {
		t.Errorf("median %v, want 3", q)
	}
	if q := Quantile(xs, 0.9); q != 4.6 {
		t.Errorf("p90 %v, want 4.6", q)
	}
	if q := Quantile(nil, 0.5); q != 0 {
		t.Errorf("empty: %v", q)
	}
}

func TestParseMalformed(t *testing.T) {
	ev := `{"codigo":"PO","tipo":"01","dtHrCriado":"2024-03-04T10:00:00","descricao":"Objeto postado"}`
	for _, c := range []struct{ body, want string }{
		{`{}`, "not a JSON array"},
		{`[]`, "no journeys"},
		{`[{"events":[` + ev + `]}]`, `journey 1: no "code"`},
		{`[{"code":"XX123","events":[` + ev + `]}]`, `journey 1: code "XX123": not a tracking code`},
		{`[{"code":"QQ850419296BR","events":[` + ev + `]}]`, `code "QQ850419296BR": tracking code check digit does not match`},
		{`[{"code":"QQ850419295BR","events":[{"tipo":"01","dtHrCriado":"2024-03-04T10:00:00","descricao":"x"}]}]`, `event 1: no "codigo"`},
		{`[{"code":"QQ850419295BR","events":[{"codigo":"PO","tipo":"01","dtHrCriado":"ontem","descricao":"x"}]}]`, `dtHrCriado "ontem"`},
		{`[{"code":"QQ850419295BR","added_at":"2024-03-04","events":[` + ev + `]}]`, "added_at"},
		{`[{"code":"QQ850419295BR","events":[]}]`, `no events and no "added_at"`},
		{`[{"code":"QQ850419295BR","events":[` + ev + `]},{"code":"QQ850419295BR","events":[` + ev + `]}]`, "already in journey 1"},
		{`[{"code":"QQ850419295BR","events":[` + ev + `,` + ev + `]}]`, "repeated event"},
	} {
		_, err := Parse([]byte(c.body))
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line with %q", c.body, err, c.want)
		}
	}
}

// A small replay on known numbers: one domestic parcel, every provider
// under the default schedule and the oracle, Site Rastreio and Correios
// also every pass; the oracle checks once per visible moment, every-pass
// bills far more than the default schedule, nothing is missed or
// repeated, 17TRACK bills the registration only and Correios nothing.
func TestReplaySmall(t *testing.T) {
	body := `[{"code":"QQ850419295BR","added_at":"2024-03-11T09:00:00-03:00","events":[
{"codigo":"BDE","tipo":"01","dtHrCriado":"2024-03-15T14:19:48","descricao":"Objeto entregue ao destinatário","unidade":{"endereco":{"cidade":"NITEROI","uf":"RJ"}}},
{"codigo":"OEC","tipo":"01","dtHrCriado":"2024-03-15T09:19:54","descricao":"Objeto saiu para entrega ao destinatário","unidade":{"endereco":{"cidade":"NITEROI","uf":"RJ"}}},
{"codigo":"RO","tipo":"01","dtHrCriado":"2024-03-14T07:58:42","descricao":"Objeto em transferência - por favor aguarde","unidade":{"endereco":{"cidade":"RIO DE JANEIRO","uf":"RJ"}}},
{"codigo":"PO","tipo":"01","dtHrCriado":"2024-03-11T16:05:00","descricao":"Objeto postado","unidade":{"endereco":{"cidade":"SAO PAULO","uf":"SP"}}}]}]`
	js, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(t.Context(), js, Options{Policies: []string{Default, Oracle}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Parcels != 1 || rep.Events != 4 || len(rep.Results) != len(provider.Names())*2 {
		t.Fatalf("report %d parcels, %d events, %d results", rep.Parcels, rep.Events, len(rep.Results))
	}
	results := rep.Results
	if !testing.Short() {
		// Every pass runs 3,900 passes: for the providers whose figures
		// are checked below (TestReplayGoals replays it for the others).
		ep, err := Run(t.Context(), js, Options{Providers: []string{provider.SiteRastreio, provider.Correios}, Policies: []string{EveryPass}})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, ep.Results...)
	}
	by := map[string]Result{}
	for _, r := range results {
		by[r.Provider+" "+r.Policy] = r
		if r.Missed != 0 || r.Repeated != 0 {
			t.Errorf("%s %s: missed %d, repeated %d", r.Provider, r.Policy, r.Missed, r.Repeated)
		}
		if len(r.Delays) != 4 {
			t.Errorf("%s %s: %d events heard, want 4", r.Provider, r.Policy, len(r.Delays))
		}
	}
	// Oracle: the first check (not found yet) plus one per event.
	if o := by["siterastreio oracle"]; o.Requests != 5 || o.Billed != 5 {
		t.Errorf("oracle: %d requests, %d billed, want 5", o.Requests, o.Billed)
	}
	if testing.Short() {
		return
	}
	// Every pass at 3 min from added to four days after the last event
	// (final codes backing off in passes).
	ep := by["siterastreio every-pass"]
	if ep.Billed < 1500 {
		t.Errorf("every-pass billed %d, want thousands", ep.Billed)
	}
	if d := by["siterastreio default"]; d.Billed*20 > ep.Billed || d.Billed < 5 {
		t.Errorf("default billed %d, every-pass %d", d.Billed, ep.Billed)
	}
	if r := by["track17 default"]; r.Billed != 1 {
		t.Errorf("track17 billed %d, want 1 (the registration)", r.Billed)
	}
	if r := by["correios every-pass"]; r.Billed != 0 || r.Requests < 1500 {
		t.Errorf("correios: %d billed, %d requests", r.Billed, r.Requests)
	}
	// Every pass hears the out-for-delivery event within a pass or two
	// of its visibility (5 min website delay).
	if r := by["siterastreio every-pass"]; r.ActionableDelayMedianS > 400 {
		t.Errorf("every-pass actionable median %vs", r.ActionableDelayMedianS)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"parcels":1`, `"events":4`, `"requests_per_parcel"`, `"billed_per_parcel"`, `"delay_median_s"`,
		`"delay_p90_s"`, `"actionable_delay_median_s"`, `"actionable_delay_p90_s"`, `"missed"`, `"repeated"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON %s lacks %s", b, k)
		}
	}
}

// A budget is never exceeded in a month.
func TestReplayBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("codes held back by the budget stay due: a pass every 3 min")
	}
	js, err := LoadFile(journeysFile)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(t.Context(), js, Options{Providers: []string{provider.SiteRastreio}, Policies: []string{Default},
		Budgets: map[string]int64{provider.SiteRastreio: 60}})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	for m, n := range r.BilledByMonth {
		if n > 60 {
			t.Errorf("%s: billed %d, budget 60", m, n)
		}
	}
	if r.Billed == 0 {
		t.Error("nothing billed")
	}
}
