package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/store/storetest"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

// seedCodes writes n tracked codes spread over chats chats, in one
// transaction.
func seedCodes(tb testing.TB, path string, n, chats int) {
	tb.Helper()
	now := time.Now()
	rows := make([]storetest.Tracked, n)
	for i := range rows {
		rows[i] = storetest.Tracked{Chat: int64(i%chats + 1), Code: fmt.Sprintf("QQ%09dBR", i), Description: "encomenda", Added: now}
	}
	storetest.Open(tb, path).Track(rows...)
}

var reSummary = regexp.MustCompile(`checked=(\d+).*query_duration=(\S+)`)

// BenchmarkPassThroughput: a pass over 100,000 tracked codes (10 events
// each, all new: the heaviest pass) against a fake Correios enforcing 50
// requests/s with a burst of 55. The real program runs in a child process
// (this binary re-executed, which carries the test fakes too) so its peak
// RSS is its own. RASTREIO_PASS_MAX_DURATION=56s leaves ~42 s to query,
// enough for all 100k codes at the bound; the rest of the bound delivers.
// Throughput is codes answered and saved per second of querying.
// BENCH_GOMEMLIMIT, BENCH_GODEBUG, BENCH_MALLOC_ARENA_MAX and
// BENCH_RASTREIO_MEMSTATS pass through to the child; BENCH_DUMP=file
// keeps its output.
func BenchmarkPassThroughput(b *testing.B) {
	const (
		codes     = 100_000
		chats     = 1_000
		rateLimit = 50
		burst     = 55
		bound     = rateLimit * 50 // codes/s the provider allows
		rssBound  = 64 << 20
	)
	for range b.N {
		dir := b.TempDir()
		db := filepath.Join(dir, "rastreio.db")
		seedCodes(b, db, codes, chats)
		start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		fc := correiostest.New(correiostest.Options{
			User: testUser, AccessCode: testPass, Rate: rateLimit, Burst: burst,
			Lookup: func(code string) []byte { return correiostest.Object(code, 10, start) },
		})
		defer fc.Close()
		tg := telegramtest.NewUnstarted(telegramtest.DefaultToken)
		tg.Start()
		defer tg.Close()
		tg.KeepCalls(false)
		lim := tg.EnforceLimits(telegramtest.TelegramLimits())

		env := map[string]string{
			"RASTREIO_DB":                db,
			"TELEGRAM_BOT_TOKEN":         telegramtest.DefaultToken,
			"TELEGRAM_API_ENDPOINT":      tg.Endpoint(),
			"CORREIOS_API_URL":           fc.URL,
			"CORREIOS_USER":              testUser,
			"CORREIOS_ACCESS_CODE":       testPass,
			"CORREIOS_RATE_LIMIT":        strconv.Itoa(rateLimit),
			"CORREIOS_RATE_BURST":        strconv.Itoa(burst),
			"TELEGRAM_SEND_RATE":         "30",
			"RASTREIO_RECHECK_INTERVAL":  "0", // every code every pass: the throughput bound
			"RASTREIO_PASS_MAX_DURATION": "56s",
		}
		// Runtime knobs for experiments, e.g. BENCH_GOMEMLIMIT=32MiB.
		for _, k := range []string{"GOMEMLIMIT", "GODEBUG", "MALLOC_ARENA_MAX", "RASTREIO_MEMSTATS"} {
			if v := os.Getenv("BENCH_" + k); v != "" {
				env[k] = v
			}
		}
		var out syncBuffer
		b.ResetTimer()
		began := time.Now()
		cmd := startChild(b, env, &out)
		sampled := make(chan string, 1)
		go func() {
			peak := map[string]int{}
			for {
				bs, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
				if err != nil {
					break
				}
				for _, l := range strings.Split(string(bs), "\n") {
					for _, k := range []string{"RssAnon:", "RssFile:", "RssShmem:", "VmRSS:"} {
						if strings.HasPrefix(l, k) {
							var v int
							fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(l, k)), &v)
							peak[k] = max(peak[k], v)
						}
					}
				}
				time.Sleep(200 * time.Millisecond)
			}
			sampled <- fmt.Sprint(peak)
		}()
		err := cmd.Wait()
		b.Logf("peak memory by kind (KiB): %s", <-sampled)
		b.StopTimer()
		if err != nil {
			b.Fatalf("tracker: %v\n%s", err, out.String())
		}
		if f := os.Getenv("BENCH_DUMP"); f != "" {
			os.WriteFile(f, []byte(out.String()), 0o644)
		}
		m := reSummary.FindStringSubmatch(out.String())
		if m == nil {
			b.Fatalf("no summary in:\n%s", out.String())
		}
		checked, _ := strconv.Atoi(m[1])
		qd, err := time.ParseDuration(m[2])
		if err != nil || qd <= 0 {
			b.Fatalf("query_duration %q: %v", m[2], err)
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB → bytes
		perSec := float64(checked) / qd.Seconds()
		st := fc.Stats()
		firstReq := time.Duration(0)
		reqs := fc.Requests()
		if len(reqs) > 0 {
			firstReq = reqs[0].At.Sub(began)
		}
		buckets := map[int]int{}
		for _, r := range reqs {
			if len(r.Codes) > 0 {
				buckets[int(r.At.Sub(began)/(5*time.Second))]++
			}
		}
		b.Logf("tracking requests per 5 s: %v", buckets)
		b.ReportMetric(perSec, "codes/s")
		b.ReportMetric(perSec/bound, "ratio_of_bound")
		b.ReportMetric(float64(st.Violations), "rate_violations")
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MiB")
		b.ReportMetric(float64(rss)/rssBound, "rss_ratio")
		line := fmt.Sprintf("pass throughput: %d of %d codes in %v of querying = %.0f codes/s = %.3f of the %d codes/s bound (goal ≥ 0.90); "+
			"Correios rate-limit violations %d (goal 0), max %d codes per request; peak RSS %.1f MiB = %.3f of 64 MiB; Telegram 429s %d; first Correios request %v after the process started",
			checked, codes, qd.Round(time.Millisecond), perSec, perSec/bound, bound, st.Violations, st.MaxCodes,
			float64(rss)/(1<<20), float64(rss)/rssBound, lim.Stats().Violations, firstReq.Round(time.Millisecond))
		b.Log(line)
		fmt.Fprintln(os.Stderr, line)
	}
}
