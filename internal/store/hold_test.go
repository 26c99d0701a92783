package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

// heavySave is what a pass saves from a provider gone wild: codes answers
// of tracking.MaxEvents new events each, one of them with 15,000, every
// code tracked by a chat (one notification each).
func heavySave(tb testing.TB, s *Store, codes int) []Checked {
	tb.Helper()
	start := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	cs := make([]Checked, codes)
	for i := range cs {
		code := fmt.Sprintf("QQ%09dBR", i)
		trtTrack(tb, s, int64(i%50+1), code, "fone")
		n := tracking.MaxEvents
		if i == codes/2 {
			n = 15000
		}
		evs := make([]tracking.Event, n)
		for e := range evs {
			evs[e] = tracking.Event{Codigo: "RO", Tipo: "01", Kind: tracking.KindTransit,
				Description: "Objeto em transferência - por favor aguarde", Location: "SAO PAULO/SP",
				Destination: "NITEROI/RJ", At: start.Add(time.Duration(e) * time.Minute)}
		}
		cs[i] = trtFound(code, evs...)
	}
	return cs
}

// botDuring runs the bot's write (AddPackages, on its own connection
// pool, as the other process) every few milliseconds while save runs, and
// returns how long save took, the longest write and how many went in
// during it.
func botDuring(tb testing.TB, bot *Store, save func()) (took, longest time.Duration, writes int, err error) {
	tb.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			t0 := time.Now()
			_, werr := bot.AddPackages(context.Background(), ChatRef{ID: 9000}, []PackageItem{{Code: fmt.Sprintf("AB%09dBR", i)}}, 1_000_000)
			d := time.Since(t0)
			if werr != nil && err == nil {
				err = fmt.Errorf("bot write %d after %v: %w", i, d.Round(time.Millisecond), werr)
			}
			longest = max(longest, d)
			writes++
		}
	})
	t0 := time.Now()
	save()
	took = time.Since(t0)
	close(done)
	wg.Wait()
	return took, longest, writes, err
}

// While a pass saves a huge answer, the bot's writes (AddPackages) go in
// within a second: with a busy timeout of one second they would fail
// otherwise.
func TestBotWritesDuringHeavySave(t *testing.T) {
	if testing.Short() {
		t.Skip("a save of seconds; skipped under -short")
	}
	path := filepath.Join(t.TempDir(), "rastreio.db")
	tracker := mustOpen(t, path)
	bot, err := Open(t.Context(), path, busyTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer bot.Close()
	cs := heavySave(t, tracker, 500)
	var st SaveStats
	var serr error
	took, longest, writes, err := botDuring(t, bot, func() {
		st, serr = tracker.SaveResults(t.Context(), 1, cs, trtRender)
	})
	if serr != nil {
		t.Fatal(serr)
	}
	t.Logf("save of %d codes, %d events: %v; %d bot writes meanwhile, the longest %v", len(cs), st.NewEvents, took.Round(time.Millisecond), writes, longest.Round(time.Millisecond))
	if st.Found != len(cs) || st.NewEvents != len(cs)*tracking.MaxEvents || st.Queued != len(cs) {
		t.Fatalf("saved %+v, want %d codes with %d events each, one message each", st, len(cs), tracking.MaxEvents)
	}
	botGotIn(t, "save", took, longest, writes, err)
}

// While a pass expires many parcels of 1,000 events each (one
// transaction for them all held the lock for seconds), the bot's writes
// (AddPackages) go in within a second: with a busy timeout of one second
// they would fail otherwise.
func TestBotWritesDuringHeavyExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("an expiry of seconds; skipped under -short")
	}
	path := filepath.Join(t.TempDir(), "rastreio.db")
	tracker := mustOpen(t, path)
	bot, err := Open(t.Context(), path, busyTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer bot.Close()
	saved := time.Date(2025, 1, 3, 8, 0, 0, 0, time.UTC)
	tracker.SetClock(func() time.Time { return saved })
	cs := heavySave(t, tracker, 300)
	if _, err := tracker.SaveResults(t.Context(), 1, cs, trtRender); err != nil {
		t.Fatal(err)
	}
	// The history of earlier passes: each parcel has 1,000 events.
	if _, err := tracker.db.Exec(`
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 800)
INSERT INTO events (code, event_key, codigo, tipo, kind, description, location, destination, happened_at, provider, created_at)
SELECT p.code, 'earlier|' || n.i, 'RO', '01', ?, 'Objeto em transferência - por favor aguarde', 'SAO PAULO/SP', 'NITEROI/RJ', ? - n.i * 60, 'fake', ?
FROM parcels p, n WHERE p.code LIKE 'QQ%'`, string(tracking.KindTransit), saved.Add(-24*time.Hour).Unix(), saved.Unix()); err != nil {
		t.Fatal(err)
	}
	if _, err := tracker.db.Exec("DELETE FROM outbox"); err != nil {
		t.Fatal(err)
	}
	tracker.SetClock(func() time.Time { return saved.Add(ExpireIdle + 30*24*time.Hour) })
	var expired, queued int
	var eerr error
	took, longest, writes, err := botDuring(t, bot, func() {
		expired, queued, eerr = tracker.ExpireParcels(t.Context(), trtRender)
	})
	if eerr != nil {
		t.Fatal(eerr)
	}
	t.Logf("expiry of %d parcels of 1,000 events: %v; %d bot writes meanwhile, the longest %v", expired, took.Round(time.Millisecond), writes, longest.Round(time.Millisecond))
	if expired != len(cs) || queued != len(cs) {
		t.Fatalf("expired %d parcels, queued %d messages; want %d of each", expired, queued, len(cs))
	}
	var left int
	if err := tracker.db.QueryRow("SELECT (SELECT COUNT(*) FROM parcels WHERE code LIKE 'QQ%') + (SELECT COUNT(*) FROM events)").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d parcels and events left (%v), want none", left, err)
	}
	botGotIn(t, "expiry", took, longest, writes, err)
}

// A provider's 15,000 events of one code are stored as the newest
// tracking.MaxEvents, announced in one message.
func TestSaveResultsKeepsNewestEvents(t *testing.T) {
	s := mustOpen(t, "")
	cs := heavySave(t, s, 1)
	cs[0].Result.Events = cs[0].Result.Events[:1]
	start := cs[0].Result.Events[0].At
	for e := 1; e < 15000; e++ {
		ev := cs[0].Result.Events[0]
		ev.At = start.Add(time.Duration(e) * time.Minute)
		cs[0].Result.Events = append(cs[0].Result.Events, ev)
	}
	st := trtSave(t, s, 1, cs...)
	evs, err := s.Events(t.Context(), cs[0].Code)
	if err != nil {
		t.Fatal(err)
	}
	if st.NewEvents != tracking.MaxEvents || len(evs) != tracking.MaxEvents || st.Queued != 1 {
		t.Fatalf("stored %d events (%+v), want %d and one message", len(evs), st, tracking.MaxEvents)
	}
	if newest := start.Add(14999 * time.Minute); !evs[len(evs)-1].At.Equal(newest) {
		t.Fatalf("newest stored event at %v, want %v", evs[len(evs)-1].At, newest)
	}
}

// BenchmarkBotWaitDuringSave: the bot's longest write (AddPackages) while
// the tracker saves 300 codes of tracking.MaxEvents new events each (one
// of 15,000), as a ratio to the bound of one second.
func BenchmarkBotWaitDuringSave(b *testing.B) {
	for range b.N {
		path := filepath.Join(b.TempDir(), "rastreio.db")
		tracker := mustOpen(b, path)
		bot := mustOpen(b, path)
		cs := heavySave(b, tracker, 300)
		b.ResetTimer()
		var serr error
		took, longest, writes, err := botDuring(b, bot, func() {
			_, serr = tracker.SaveResults(context.Background(), 1, cs, trtRender)
		})
		if serr != nil || err != nil {
			b.Fatal(serr, err)
		}
		ratio := longest.Seconds()
		b.ReportMetric(ratio, "ratio_to_bound")
		line := fmt.Sprintf("store: the bot's longest write while a pass saved %d codes × %d events (%v): %v = %.2f of the 1 s bound (%d writes)",
			len(cs), tracking.MaxEvents, took.Round(time.Millisecond), longest.Round(time.Millisecond), ratio, writes)
		b.Log(line)
		fmt.Fprintln(os.Stderr, line)
	}
}

// botGotIn fails the test unless the bot's writes during a long write of
// the tracker's (what, lasting took) all went in, each within a second,
// and the write lasted long enough to show it.
func botGotIn(t *testing.T, what string, took, longest time.Duration, writes int, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if longest >= time.Second || writes < int(took/time.Second) {
		t.Fatalf("the bot's longest write took %v (%d writes in %v), want under a second", longest, writes, took)
	}
	if took < 1200*time.Millisecond {
		t.Fatalf("the %s took %v: too short to show anything (make it larger)", what, took)
	}
}
