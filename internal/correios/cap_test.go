package correios_test

import (
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/tracking"
)

// checkCapped: a 15,000-event history comes back as tracking.MaxEvents
// events, the newest ones, with the posting event kept.
func checkCapped(t *testing.T, r tracking.Result, n int, start time.Time) {
	t.Helper()
	if r.Status != tracking.Found || len(r.Events) != tracking.MaxEvents {
		t.Fatalf("status %v with %d events, want found with %d", r.Status, len(r.Events), tracking.MaxEvents)
	}
	newest := start.Add(time.Duration(n-1) * 6 * time.Hour)
	if got := r.Events[len(r.Events)-1]; !got.At.Equal(newest) {
		t.Errorf("last event at %v, want the newest (%v)", got.At, newest)
	}
	if got := r.Events[0]; got.Kind != tracking.KindPosted || !got.At.Equal(start) {
		t.Errorf("first event %s at %v, want the posting event at %v", got.Kind, got.At, start)
	}
	if got, want := r.Events[1].At, start.Add(time.Duration(n-tracking.MaxEvents+1)*6*time.Hour); !got.Equal(want) {
		t.Errorf("oldest kept movement at %v, want %v", got, want)
	}
}

func TestParseKeepsNewestEvents(t *testing.T) {
	const n = 15000
	start := time.Date(2020, 1, 2, 12, 0, 0, 0, time.UTC)
	t.Run("official API", func(t *testing.T) {
		body := []byte(`{"objetos":[` + string(correiostest.Object("QQ850419295BR", n, start)) + `]}`)
		got, err := correios.ParseResponse(body, []string{"QQ850419295BR"})
		if err != nil {
			t.Fatal(err)
		}
		checkCapped(t, got["QQ850419295BR"], n, start)
	})
	t.Run("website object", func(t *testing.T) {
		r, ok := correios.ParseWebsite(string(correiostest.WebsiteObject("QQ850419295BR", n, start)))
		if !ok {
			t.Fatal("not read")
		}
		checkCapped(t, r, n, start)
	})
}
