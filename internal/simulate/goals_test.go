package simulate

import (
	"fmt"
	"math"
	"testing"

	"github.com/rastreio/rastreio/internal/provider"
)

// journeysFile is the repo's journeys (cmd/tracker/testdata/SOURCES.md).
const journeysFile = "../../cmd/tracker/testdata/journeys.json"

// goal is one of the schedule's goals: a figure against its bound.
type goal struct {
	name          string
	figure, bound float64
}

func (g goal) ratio() float64 {
	if g.bound == 0 {
		if g.figure == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return g.figure / g.bound
}

// replayGoals replays the repo's journeys for the providers whose goals
// differ (Site Rastreio stands for PacoteVício: the same model), then
// again under a budget of a third of what the default schedule spent,
// and returns every goal as a figure and its bound.
func replayGoals(tb testing.TB) []goal {
	tb.Helper()
	js, err := LoadFile(journeysFile)
	if err != nil {
		tb.Fatal(err)
	}
	rep, err := Run(tb.Context(), js, Options{Providers: []string{provider.SiteRastreio, provider.Track17, provider.Correios}})
	if err != nil {
		tb.Fatal(err)
	}
	get := func(rep Report, prov, pol string) Result {
		for _, r := range rep.Results {
			if r.Provider == prov && r.Policy == pol {
				return r
			}
		}
		tb.Fatalf("no result for %s %s", prov, pol)
		return Result{}
	}
	var gs []goal
	site := get(rep, provider.SiteRastreio, Default)
	every := get(rep, provider.SiteRastreio, EveryPass)
	gs = append(gs,
		goal{"siterastreio default billed / every-pass billed (≤ 1/20)", site.BilledPerParcel / every.BilledPerParcel, 1.0 / 20},
		goal{"track17 default billed per parcel (≤ 1)", get(rep, provider.Track17, Default).BilledPerParcel, 1},
	)
	for _, prov := range []string{provider.SiteRastreio, provider.Track17, provider.Correios} {
		d := get(rep, prov, Default)
		gs = append(gs,
			goal{prov + " actionable delay median, s (≤ 30 min)", d.ActionableDelayMedianS, 30 * 60},
			goal{prov + " actionable delay p90, s (≤ 4 h)", d.ActionableDelayP90S, 4 * 3600},
			goal{prov + " all events delay p90, s (≤ 12 h)", d.DelayP90S, 12 * 3600},
		)
	}
	for _, r := range rep.Results {
		gs = append(gs, goal{fmt.Sprintf("%s %s missed + repeated (0)", r.Provider, r.Policy), float64(r.Missed + r.Repeated), 0})
	}

	// A budget of a third of what the default schedule spent in its
	// busiest month.
	var most int64
	for _, n := range site.BilledByMonth {
		most = max(most, n)
	}
	budget := max(most/3, 1)
	tight, err := Run(tb.Context(), js, Options{Providers: []string{provider.SiteRastreio}, Policies: []string{Default},
		Budgets: map[string]int64{provider.SiteRastreio: budget}})
	if err != nil {
		tb.Fatal(err)
	}
	t := get(tight, provider.SiteRastreio, Default)
	var over int64
	for _, n := range t.BilledByMonth {
		over = max(over, n)
	}
	gs = append(gs,
		goal{fmt.Sprintf("siterastreio billed in a month under a budget of %d (≤ budget)", budget), float64(over), float64(budget)},
		goal{"under that budget, actionable median / all events median (≤ 1: they come first)",
			t.ActionableDelayMedianS, math.Max(t.DelayMedianS, 1)},
		goal{"under that budget, missed + repeated (0)", float64(t.Missed + t.Repeated), 0},
	)
	return gs
}

// TestReplayGoals proves the schedule's goals on the repo's journeys.
func TestReplayGoals(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a month of journeys (about a minute)")
	}
	for _, g := range replayGoals(t) {
		if r := g.ratio(); r > 1 {
			t.Errorf("%s: %.4g against %.4g (ratio %.2f)", g.name, g.figure, g.bound, r)
		} else {
			t.Logf("%s: %.4g against %.4g (ratio %.2f)", g.name, g.figure, g.bound, r)
		}
	}
}

// BenchmarkReplayGoals prints each goal of the schedule as a ratio to its
// bound (≤ 1 met).
func BenchmarkReplayGoals(b *testing.B) {
	var gs []goal
	for range b.N {
		gs = replayGoals(b)
	}
	worst := 0.0
	for _, g := range gs {
		r := g.ratio()
		worst = max(worst, r)
		b.Logf("%-90s ratio %.3f (%.4g / %.4g)", g.name, r, g.figure, g.bound)
	}
	b.ReportMetric(worst, "worst_ratio_of_bound")
}
