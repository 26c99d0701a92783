package correios_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/correios/correiostest"
)

// BenchmarkThroughput: 400 batches of 50 codes from 8 workers (as the
// tracker asks) against a fake enforcing the gateway's bucket (50 req/s,
// burst 55), client configured with the same figures. Figure: codes/s as a
// ratio to the bound 50 req/s × 50 codes; violations must be 0.
func BenchmarkThroughput(b *testing.B) {
	const (
		rateLimit = 50.0
		burst     = 55
		requests  = 400
		workers   = 8
	)
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, brasilia.Zone)
	for range b.N {
		srv := correiostest.New(correiostest.Options{Rate: rateLimit, Burst: burst,
			Lookup: func(code string) []byte { return correiostest.Object(code, 5, start) }})
		c, err := correios.New(correios.Config{BaseURL: srv.URL, User: "u", AccessCode: "p", Rate: rateLimit, Burst: burst})
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
				for codes := range jobs {
					if _, err := c.Track(b.Context(), codes); err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
					}
				}
			}()
		}
		for i := range requests {
			codes := make([]string, 50)
			for j := range codes {
				codes[j] = fmt.Sprintf("AA%09dBR", i*50+j)
			}
			jobs <- codes
		}
		close(jobs)
		wg.Wait()
		elapsed := time.Since(t0)
		st := srv.Stats()
		srv.Close()
		if failed != nil {
			b.Fatal(failed)
		}
		codesPerSec := float64(requests*50) / elapsed.Seconds()
		ratio := codesPerSec / (rateLimit * 50)
		b.ReportMetric(ratio, "ratio_to_bound")
		b.ReportMetric(float64(st.Violations), "violations")
		b.ReportMetric(codesPerSec, "codes/s")
		b.Logf("correios: %d codes in %v = %.0f codes/s = %.2f of the bound (50 req/s × 50 codes); %d rate-limit violations; %d token request(s)",
			requests*50, elapsed.Round(time.Millisecond), codesPerSec, ratio, st.Violations, st.TokenRequests)
	}
}
