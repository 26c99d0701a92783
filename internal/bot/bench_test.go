package bot_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/trackcode"
)

// Goals from the bot issue.
const (
	goalThroughput = 2000.0                // updates/s
	goalP99        = 20 * time.Millisecond // update → reply
	// botMemoryMaxMiB is rastreio-bot.service's MemoryMax=.
	botMemoryMaxMiB = 256.0
)

// BenchmarkUpdates drives the real bot (telegram client, update loop,
// handlers, SQLite) end to end against the fake Bot API: every update is
// a message with a new tracking code, so each one saves a code and sends
// a reply. Two figures, measured in one run:
//   - throughput: a backlog of updates handled as fast as possible;
//   - latency: updates arriving at the goal rate (2,000/s), time from the
//     push to the fake until the reply reaches it, p50 and p99.
func BenchmarkUpdates(b *testing.B) {
	for b.Loop() {
		load := loadAverage()
		fake := telegramtest.New(b)
		h := startBot(b, fake, filepath.Join(b.TempDir(), "bench.db"))

		// Warm up: connections, prepared pages of SQLite.
		const warm = 200
		for i := 0; i < warm; i++ {
			fake.PushMessage(int64(1_000_000+i), 0, benchCode(1_000_000+i)+" aquecimento")
		}
		waitReplies(b, fake, warm)

		// Throughput: a backlog.
		const backlog = 6000
		start := time.Now()
		for i := 0; i < backlog; i++ {
			fake.PushMessage(int64(i+1), 0, benchCode(i)+" item <b>&")
		}
		waitReplies(b, fake, warm+backlog)
		elapsed := time.Since(start)
		throughput := float64(backlog) / elapsed.Seconds()

		// Latency at the goal rate, after a pause: the phases are
		// measured apart. Right after the backlog the bot, now quiet,
		// checkpoints the backlog's WAL (~200 MB here) and that fsync
		// delays the next ~100 ms of replies (p99 then 10-25 ms on this
		// machine; PAUSE=0s shows it).
		time.Sleep(pause())
		const paced = 4000
		// Pushed on a 1 ms ticker, as many as are due at the goal rate
		// (spinning for 500 µs steps would steal a core from the bot).
		pushed := make(map[int64]time.Time, paced)
		tick := time.NewTicker(time.Millisecond)
		t0 := time.Now()
		for i := 0; i < paced; {
			<-tick.C
			due := min(int(time.Since(t0).Seconds()*goalThroughput)+1, paced)
			for ; i < due; i++ {
				chat := int64(2_000_000 + i)
				pushed[chat] = time.Now()
				fake.PushMessage(chat, 0, benchCode(2_000_000+i)+" medido")
			}
		}
		tick.Stop()
		pacedFor := time.Since(t0)
		waitReplies(b, fake, warm+backlog+paced)
		var lat []time.Duration
		for _, c := range fake.Calls("sendMessage") {
			if t0, ok := pushed[c.ChatID]; ok && c.OK() {
				lat = append(lat, c.Time.Sub(t0))
			}
		}
		if len(lat) != paced {
			b.Fatalf("%d paced replies, want %d", len(lat), paced)
		}
		if os.Getenv("LATDEBUG") != "" { // list the slow replies, to find what stalls
			type pt struct {
				at  time.Duration
				lat time.Duration
			}
			var pts []pt
			for _, c := range fake.Calls("sendMessage") {
				if t0, ok := pushed[c.ChatID]; ok {
					pts = append(pts, pt{t0.Sub(pushed[2_000_000]), c.Time.Sub(t0)})
				}
			}
			for _, p := range pts {
				if p.lat > 5*time.Millisecond {
					fmt.Printf("slow: at %v lat %v\n", p.at.Round(time.Millisecond), p.lat.Round(100*time.Microsecond))
				}
			}
		}
		slices.Sort(lat)
		rate := float64(paced) / pacedFor.Seconds()
		p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]

		if saved := len(h.db.Tracked()); saved != warm+backlog+paced {
			b.Fatalf("%d codes saved, want %d", saved, warm+backlog+paced)
		}
		h.stop()

		b.ReportMetric(throughput, "updates/s")
		b.ReportMetric(throughput/goalThroughput, "throughput/2000")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
		b.ReportMetric(float64(p99)/float64(goalP99), "p99/20ms")
		// Peak RSS of this process: the bot and the fake Bot API together,
		// an upper bound of the bot's own (the units' MemoryMax= rests on it).
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		rss := float64(ru.Maxrss<<10) / (1 << 20)
		b.ReportMetric(rss, "peak_rss_MiB")
		b.ReportMetric(rss/botMemoryMaxMiB, "rss/MemoryMax")
		msg := fmt.Sprintf("bot: %.0f updates/s (%.2f× the 2,000/s goal); at %.0f/s p50 %v, p99 %v (%.2f of the 20 ms bound); machine load average at start %s",
			throughput, throughput/goalThroughput, rate, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), float64(p99)/float64(goalP99), load)
		b.Log(msg)
		fmt.Println(msg)
	}
}

// loadAverage is the 1-minute load average: the figures above are only
// meaningful when the two cores are not busy with something else.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

// pause is the gap between the phases (PAUSE overrides it).
func pause() time.Duration {
	d, err := time.ParseDuration(os.Getenv("PAUSE"))
	if err != nil {
		return 2 * time.Second
	}
	return d
}

func benchCode(i int) string {
	serial := fmt.Sprintf("%08d", i%100_000_000)
	return fmt.Sprintf("NL%s%dBR", serial, trackcode.CheckDigit(serial))
}

func waitReplies(b *testing.B, fake *telegramtest.Server, n int) {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for fake.Count("sendMessage") < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d replies after 60 s", fake.Count("sendMessage"), n)
		}
		time.Sleep(time.Millisecond)
	}
}
