package pass

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/delivery"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/store/storetest"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/tracking"
)

// BenchmarkDelivery: notifications to many chats through a fake Telegram
// that enforces Telegram's limits (30/s overall, 1/s per chat, 20/min per
// group), with TELEGRAM_SEND_RATE=30. Goal: ≥ 90 % of 30 msgs/s, no 429.
// By default 1,500 notifications to 150 chats (~53 s); set
// RASTREIO_BENCH_FULL=1 for the 3,000 to 300 chats (~105 s).
func BenchmarkDelivery(b *testing.B) {
	msgs, chats := 1500, 150
	if os.Getenv("RASTREIO_BENCH_FULL") == "1" {
		msgs, chats = 3000, 300
	}
	const rateBound = 30.0
	for range b.N {
		path := filepath.Join(b.TempDir(), "rastreio.db")
		st, err := store.Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		body := Render(store.Notice{Kind: store.NoticeEvents, Code: "QQ850419295BR", Description: "fone de ouvido",
			Events: []tracking.Event{{Codigo: "RO", Tipo: "01", Kind: tracking.KindTransit,
				Description: "Objeto em transferência - por favor aguarde", Location: "SAO PAULO/SP", At: time.Now()}}})
		q := make([]storetest.Queued, msgs)
		for i := range q {
			// Interleaved, as a pass queues them: code after code, chat after chat.
			q[i] = storetest.Queued{Chat: int64(i%chats + 1), Code: "QQ850419295BR", Body: body}
		}
		storetest.Open(b, path).Queue(q...)
		tg := telegramtest.NewUnstarted(telegramtest.DefaultToken)
		tg.Start()
		defer tg.Close()
		tg.KeepCalls(false)
		lim := tg.EnforceLimits(telegramtest.TelegramLimits())
		c, err := telegram.New(context.Background(), tg.Token, tg.Endpoint(), telegram.Options{SkipGetMe: true})
		if err != nil {
			b.Fatal(err)
		}
		p := New(st, tracking.NewChain(), delivery.TelegramSender(c), Options{SendRate: 30, PassMax: 5 * time.Minute})
		b.ResetTimer()
		start := time.Now()
		sum, err := p.Run(context.Background())
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		ls := lim.Stats()
		perSec := float64(sum.Sent) / elapsed.Seconds()
		b.ReportMetric(perSec, "msgs/s")
		b.ReportMetric(perSec/rateBound, "ratio_of_bound")
		b.ReportMetric(float64(ls.Violations), "telegram_429s")
		line := fmt.Sprintf("delivery: %d of %d notifications to %d chats in %v = %.1f msgs/s = %.3f of 30 msgs/s (goal ≥ 0.90); "+
			"429s %d (goal 0); most sends in one sliding second %d; left %d",
			sum.Sent, msgs, chats, elapsed.Round(time.Millisecond), perSec, perSec/rateBound, ls.Violations, ls.MaxInWindow, sum.Left)
		b.Log(line)
		fmt.Fprintln(os.Stderr, line)
		if sum.Sent != msgs || ls.Violations != 0 {
			b.Errorf("sent %d of %d with %d violations", sum.Sent, msgs, ls.Violations)
		}
	}
}
