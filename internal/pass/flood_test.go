package pass

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

// A provider answers 15,000 new events for a code that three chats
// follow, beside ordinary answers: a pass bounded to 5 s ends within it,
// stores at most tracking.MaxEvents of them and delivers one message per
// chat and code.
func TestPassWithFifteenThousandEvents(t *testing.T) {
	e := newEnv(t)
	const flood = "AA100000000BR"
	for chat := int64(1); chat <= 3; chat++ {
		e.track(t, chat, flood, "")
		e.track(t, chat, fmt.Sprintf("BB%09dBR", chat), "")
	}
	e.prov.set(flood, ev("PO", tracking.KindPosted, 0, "Objeto postado"))
	opt := fastOpts()
	opt.PassMax = 5 * time.Second
	if sum := e.pass(t, opt); sum.Sent != 3 {
		t.Fatalf("pass 1: %+v, want the first status to each chat", sum)
	}
	evs := []tracking.Event{ev("PO", tracking.KindPosted, 0, "Objeto postado")}
	for i := 1; i <= 15000; i++ {
		e := ev("RO", tracking.KindTransit, 1, "Objeto em transferência - por favor aguarde")
		e.At = e.At.Add(time.Duration(i) * time.Minute)
		evs = append(evs, e)
	}
	e.prov.set(flood, evs...)
	for chat := int64(1); chat <= 3; chat++ {
		e.prov.set(fmt.Sprintf("BB%09dBR", chat), ev("PO", tracking.KindPosted, 2, "Objeto postado"))
	}
	sum := e.pass(t, opt)
	t.Logf("pass 2: %v, %d new events, %d sent", sum.Duration.Round(time.Millisecond), sum.NewEvents, sum.Sent)
	if sum.Duration > opt.PassMax || sum.Stopped != "" {
		t.Fatalf("pass 2 took %v (stopped: %q), bound %v", sum.Duration, sum.Stopped, opt.PassMax)
	}
	// The posting event was known: the newest MaxEvents-1 are new, and
	// each BB code's first event.
	if sum.NewEvents != tracking.MaxEvents-1+3 || sum.Sent != 6 || sum.Left != 0 {
		t.Fatalf("pass 2: %+v, want %d new events and 6 messages sent", sum, tracking.MaxEvents-1+3)
	}
	for chat := int64(1); chat <= 3; chat++ {
		var about []string
		for _, m := range texts(e.tg.Messages(chat))[1:] {
			if strings.Contains(m, flood) {
				about = append(about, m)
			}
		}
		if len(about) != 1 || !strings.Contains(about[0], fmt.Sprintf("%d atualizações", tracking.MaxEvents-1)) ||
			!strings.Contains(about[0], "mais antigas não cabem aqui") {
			t.Fatalf("chat %d: %d messages about %s, want one announcing %d updates:\n%s", chat, len(about), flood, tracking.MaxEvents-1, about)
		}
	}
}
