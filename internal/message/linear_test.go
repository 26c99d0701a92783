package message

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/tracking"
)

// newEventsByTrial is the first NewEvents: rebuild the message leaving out
// one more of the oldest events until it fits (quadratic). NewEvents must
// write exactly what it wrote.
func newEventsByTrial(code, desc string, events []tracking.Event) string {
	head := Header("📦", code, desc)
	blocks := make([]string, len(events))
	for i, e := range events {
		blocks[i] = eventBlock(e, code)
	}
	for skip := 0; ; skip++ {
		var b strings.Builder
		b.WriteString(head)
		shown := len(blocks) - skip
		if len(blocks) > 1 {
			fmt.Fprintf(&b, "\n%d atualizações, da mais antiga para a mais nova:", len(blocks))
		}
		b.WriteString(overflowNote(skip))
		for i, bl := range blocks[skip:] {
			if i == 0 && len(blocks) == 1 {
				b.WriteString("\n" + bl)
				continue
			}
			b.WriteString("\n\n" + bl)
		}
		out := b.String()
		if cost(out) <= telegram.MaxTextLen || shown <= 1 {
			return out
		}
	}
}

// randomEvents is n events, oldest first, of random kinds and lengths
// (some far too long for one message, some short enough that leaving the
// oldest out costs more than showing it).
func randomEvents(rng *rand.Rand, n int) []tracking.Event {
	kinds := []tracking.Kind{tracking.KindPosted, tracking.KindTransit, tracking.KindOutForDelivery,
		tracking.KindAwaitingPickup, tracking.KindTaxDue, tracking.KindDelivered, tracking.KindOther}
	t := brt("2024-01-02T08:00:00")
	evs := make([]tracking.Event, n)
	for i := range evs {
		t = t.Add(time.Duration(rng.IntN(90000)) * time.Second)
		e := tracking.Event{Kind: kinds[rng.IntN(len(kinds))], At: t}
		switch rng.IntN(4) {
		case 0: // bare
		case 1:
			e.Description, e.Location = "Objeto em transferência - por favor aguarde", "CAJAMAR/SP"
		case 2:
			e.Description, e.Detail, e.Location = strings.Repeat("ação <&> ", rng.IntN(60)), strings.Repeat("x", rng.IntN(500)), "SAO PAULO/SP"
		case 3:
			e.Location, e.Destination = "CURITIBA/PR", "NITEROI/RJ"
		}
		evs[i] = e
	}
	return evs
}

func TestNewEventsSameAsByTrial(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := rng.IntN(40)
		if round%10 == 0 {
			n = rng.IntN(150)
		}
		evs := randomEvents(rng, n)
		desc := strings.Repeat("d", rng.IntN(3)*rng.IntN(2000))
		got, want := NewEvents("QQ850419295BR", desc, evs), newEventsByTrial("QQ850419295BR", desc, evs)
		if got != want {
			t.Fatalf("round %d, %d events: differs from the message built by trial\n--- got\n%s\n--- want\n%s", round, n, got, want)
		}
		if cost(got) > telegram.MaxTextLen && strings.Count(got, "🕒") > 1 {
			t.Fatalf("round %d: over the limit with more than one event shown", round)
		}
	}
}

// BenchmarkNewEvents: a notification for 8,000 new events (a provider
// gone wild; parsers keep tracking.MaxEvents, but the message must not
// depend on them). Bound: 50 ms (the first NewEvents took 19.7 s).
func BenchmarkNewEvents(b *testing.B) {
	const n, bound = 8000, 50 * time.Millisecond
	evs := randomEvents(rand.New(rand.NewPCG(3, 4)), n)
	for range b.N {
		t0 := time.Now()
		msg := NewEvents("QQ850419295BR", "tênis", evs)
		took := time.Since(t0)
		if !strings.Contains(msg, fmt.Sprintf("%d atualizações", n)) {
			b.Fatal("not the message for every event")
		}
		ratio := float64(took) / float64(bound)
		b.ReportMetric(ratio, "ratio_to_bound")
		line := fmt.Sprintf("message: a notification for %d new events built in %v = %.3f of the 50 ms bound", n, took.Round(time.Microsecond), ratio)
		b.Log(line)
		fmt.Fprintln(os.Stderr, line)
	}
}
