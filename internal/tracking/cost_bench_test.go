package tracking_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/pacotevicio/pacoteviciotest"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/siterastreio/siterastreiotest"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/track17/track17test"
	"github.com/rastreio/rastreio/internal/tracking"
)

// passSpacing is the tracker unit's default RestartSec (deploy/systemd):
// with RASTREIO_RECHECK_INTERVAL=0 every active code is asked every pass.
const passSpacing = 3 * time.Minute

// BenchmarkCostPer1000Codes measures, per provider, the requests one pass
// makes for 1,000 active codes (asked through the chain, as the tracker
// asks them, against the provider's fake) and turns it into requests and
// billed units per 1,000 codes per day at the default intervals (one pass
// every 3 min ≈ 480 passes/day). Figure: as a ratio to a 1,000-unit monthly
// free tier (1,000/30 a day).
func BenchmarkCostPer1000Codes(b *testing.B) {
	const n = 1000
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("LB%09dHK", i)
	}
	passesPerDay := float64(24*time.Hour) / float64(passSpacing)
	type counter interface{ Requests() int64 }
	for range b.N {
		cf := correiostest.New(correiostest.Options{Lookup: func(c string) []byte { return correiostest.Object(c, 3, start) }})
		sf := siterastreiotest.New(siterastreiotest.Options{Lookup: func(c string) []byte { return correiostest.WebsiteObject(c, 3, start) }})
		pf := pacoteviciotest.New(pacoteviciotest.Options{Lookup: func(c string) []byte { return correiostest.WebsiteObject(c, 3, start) }})
		tf := track17test.New(track17test.Options{Lookup: func(string) []byte { return track17test.TrackInfo(3, start) }})
		cc, _ := correios.New(correios.Config{BaseURL: cf.URL, User: "u", AccessCode: "p", Rate: 1e5, Burst: 1000})
		sc, _ := siterastreio.New(siterastreio.Config{BaseURL: sf.URL, APIKey: "k", Rate: 1e5, Burst: 1000, Concurrency: 8})
		pc, _ := pacotevicio.New(pacotevicio.Config{BaseURL: pf.URL, APIKey: "k", Rate: 1e5, Burst: 1000, Concurrency: 8})
		tc, _ := track17.New(track17.Config{BaseURL: tf.URL, APIKey: "k", Rate: 1e5, Burst: 1000})
		for _, p := range []tracking.Provider{cc, sc, pc, tc} {
			view := tracking.NewChain(p).View("")
			pass := func() (reqs, billed int64) {
				r0, b0 := p.(counter).Requests(), p.(tracking.Billed).Billed()
				for i := 0; i < n; i += view.MaxBatch() {
					if _, err := view.Track(b.Context(), codes[i:min(i+view.MaxBatch(), n)]); err != nil {
						b.Fatal(err)
					}
				}
				return p.(counter).Requests() - r0, p.(tracking.Billed).Billed() - b0
			}
			firstReq, firstBilled := pass() // 17TRACK registers here
			steadyReq, steadyBilled := pass()
			perDay := firstReq + int64(float64(steadyReq)*(passesPerDay-1))
			billedPerDay := firstBilled + int64(float64(steadyBilled)*(passesPerDay-1))
			ratio := float64(billedPerDay) / (1000.0 / 30)
			b.ReportMetric(float64(perDay), p.Name()+"_req/1000codes/day")
			b.Logf("%s: first pass %d requests (%d billed), then %d requests (%d billed) per pass for 1,000 codes; "+
				"at %v spacing (%.0f passes/day): %d requests/day, %d billed units/day = %.1f× a 1,000/month free tier's daily share",
				p.Name(), firstReq, firstBilled, steadyReq, steadyBilled, passSpacing, passesPerDay, perDay, billedPerDay, ratio)
		}
		cf.Close()
		sf.Close()
		pf.Close()
		tf.Close()
	}
}
