package pacotevicio_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/pacotevicio/pacoteviciotest"
	"github.com/rastreio/rastreio/internal/provider"
)

// BenchmarkThroughput: 30 codes (one request each) from 4 workers against
// a fake enforcing the client's default rate (2 req/s, burst 2). Figure:
// requests/s as a ratio to that bound; violations must be 0. Requests per
// 1,000 codes a day: internal/tracking's BenchmarkCostPer1000Codes.
func BenchmarkThroughput(b *testing.B) {
	spec := provider.Get(provider.PacoteVicio)
	const (
		codes   = 30
		workers = 4
	)
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for range b.N {
		srv := pacoteviciotest.New(pacoteviciotest.Options{Rate: spec.DefaultRate, Burst: spec.DefaultBurst,
			Lookup: func(code string) []byte { return correiostest.WebsiteObject(code, 5, start) }})
		c, err := pacotevicio.New(pacotevicio.Config{BaseURL: srv.URL, APIKey: "k"})
		if err != nil {
			b.Fatal(err)
		}
		jobs := make(chan []string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failed error
		t0 := time.Now()
		for range workers {
			wg.Go(func() {
				for batch := range jobs {
					if _, err := c.Track(b.Context(), batch); err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
					}
				}
			})
		}
		for i := 0; i < codes; i += c.MaxBatch() {
			batch := make([]string, 0, c.MaxBatch())
			for j := i; j < min(i+c.MaxBatch(), codes); j++ {
				batch = append(batch, fmt.Sprintf("LB%09dHK", j))
			}
			jobs <- batch
		}
		close(jobs)
		wg.Wait()
		elapsed := time.Since(t0)
		st := srv.Stats()
		srv.Close()
		if failed != nil {
			b.Fatal(failed)
		}
		if st.Requests != codes {
			b.Fatalf("%d requests for %d codes", st.Requests, codes)
		}
		rps := float64(st.Requests) / elapsed.Seconds()
		ratio := rps / spec.DefaultRate
		b.ReportMetric(ratio, "ratio_to_bound")
		b.ReportMetric(float64(st.Violations), "violations")
		b.Logf("pacotevicio: %d codes (%d requests) in %v = %.2f req/s = %.2f of the bound (%.0f req/s); %d violations",
			codes, st.Requests, elapsed.Round(time.Millisecond), rps, ratio, spec.DefaultRate, st.Violations)
	}
}
