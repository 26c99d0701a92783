package track17_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/provider"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/track17/track17test"
)

// BenchmarkThroughput: 1,000 registered numbers in batches of 40 from 8
// workers against a fake enforcing 17TRACK's 3 req/s (burst 1). Figure:
// numbers/s as a ratio to the bound 3 req/s × 40 numbers; violations 0.
func BenchmarkThroughput(b *testing.B) {
	spec := provider.Get(provider.Track17)
	const (
		numbers = 1000
		workers = 8
	)
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for range b.N {
		srv := track17test.New(track17test.Options{Rate: spec.DefaultRate, Burst: spec.DefaultBurst,
			Lookup: func(string) []byte { return track17test.TrackInfo(5, start) }})
		all := make([]string, numbers)
		for i := range all {
			all[i] = fmt.Sprintf("LB%09dHK", i)
		}
		srv.Register(all...)
		c, err := track17.New(track17.Config{BaseURL: srv.URL, APIKey: "k"})
		if err != nil {
			b.Fatal(err)
		}
		jobs := make(chan []string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failed error
		t0 := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for batch := range jobs {
					if _, err := c.Track(b.Context(), batch); err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
					}
				}
			}()
		}
		for i := 0; i < numbers; i += track17.MaxBatch {
			jobs <- all[i:min(i+track17.MaxBatch, numbers)]
		}
		close(jobs)
		wg.Wait()
		elapsed := time.Since(t0)
		st := srv.Stats()
		srv.Close()
		if failed != nil {
			b.Fatal(failed)
		}
		nps := float64(numbers) / elapsed.Seconds()
		bound := spec.DefaultRate * track17.MaxBatch
		ratio := nps / bound
		b.ReportMetric(ratio, "ratio_to_bound")
		b.ReportMetric(float64(st.Violations), "violations")
		b.Logf("track17: %d numbers (%d requests) in %v = %.1f numbers/s = %.2f of the bound (3 req/s × 40); %d violations",
			numbers, st.Requests, elapsed.Round(time.Millisecond), nps, ratio, st.Violations)
	}
}
