package correios_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/providerhttp"
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

// A batch whose answer passes providerhttp.MaxBody fails alone: the
// batches around it are answered, the client does not give up however
// many there are, and nothing panics.
func TestOverCapBodyFailsItsBatchOnly(t *testing.T) {
	srv := correiostest.NewTB(t, correiostest.Options{User: testUser, AccessCode: testPass})
	start := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	huge := correiostest.Object("QH991577104BR", 8000, start)
	if len(huge) <= providerhttp.MaxBody {
		t.Fatalf("the huge answer has %d bytes, not over the cap", len(huge))
	}
	srv.SetObject("QH991577104BR", huge)
	srv.SetObject("QQ850419295BR", correiostest.Object("QQ850419295BR", 6, start))
	c := newClient(t, srv.URL, &memTokens{}, nil)
	for round := range 4 { // more than the client's MaxFailures
		_, err := c.Track(t.Context(), []string{"QH991577104BR", "LE449872154SE"})
		if !errors.Is(err, providerhttp.ErrBodyTooLarge) || !errors.Is(err, tracking.ErrUnavailable) {
			t.Fatalf("round %d: over-cap batch: %v, want ErrBodyTooLarge (unavailable)", round, err)
		}
		got, err := c.Track(t.Context(), []string{"QQ850419295BR"})
		if err != nil || got["QQ850419295BR"].Status != tracking.Found || len(got["QQ850419295BR"].Events) != 6 {
			t.Fatalf("round %d: the next batch: %v, %v", round, got, err)
		}
	}
}
