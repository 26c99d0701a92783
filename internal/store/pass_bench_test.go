package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

// BenchmarkDatabaseSize: the database for 100,000 tracked codes (1,000
// chats) with 10 events each, written through SaveResults as passes do
// (notifications rendered and queued, then delivered and deleted). The
// figure is the live data (pages in use after a checkpoint), per 100k
// codes, against a budget of 512 MiB.
func BenchmarkDatabaseSize(b *testing.B) {
	const (
		codes  = 100_000
		chats  = 1_000
		events = 10
		budget = 512 << 20
	)
	for range b.N {
		path := filepath.Join(b.TempDir(), "size.db")
		s := mustOpen(b, path)
		ctx := context.Background()
		tx, err := s.db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for c := range chats {
			tx.Exec("INSERT INTO chats (id, created_at, updated_at) VALUES (?, 0, 0)", int64(c+1))
		}
		insP, _ := tx.Prepare("INSERT INTO parcels (code, created_at) VALUES (?, 0)")
		insT, _ := tx.Prepare("INSERT INTO tracked (chat_id, code, description, added_at) VALUES (?, ?, 'fone de ouvido', 0)")
		for i := range codes {
			code := fmt.Sprintf("QQ%09dBR", i)
			if _, err := insP.Exec(code); err != nil {
				b.Fatal(err)
			}
			if _, err := insT.Exec(int64(i%chats+1), code); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		descs := []string{"Objeto postado", "Objeto em transferência - por favor aguarde", "Objeto saiu para entrega ao destinatário"}
		render := func(n Notice) string {
			return fmt.Sprintf("%d %s %s %d events", n.Kind, n.Code, n.Description, len(n.Events))
		}
		b.ResetTimer()
		t0 := time.Now()
		const chunk = 500
		for first := 0; first < codes; first += chunk {
			var cs []Checked
			for i := first; i < first+chunk; i++ {
				code := fmt.Sprintf("QQ%09dBR", i)
				evs := make([]tracking.Event, events)
				for e := range evs {
					evs[e] = tracking.Event{Codigo: "RO", Tipo: "01", Kind: tracking.KindTransit, Description: descs[e%3],
						Detail:   "de Unidade de Tratamento, SAO PAULO - SP para Unidade de Distribuição, NITEROI - RJ",
						Location: "SAO PAULO/SP", At: start.Add(time.Duration(e) * 6 * time.Hour)}
				}
				cs = append(cs, Checked{Code: code, Result: tracking.Result{Status: tracking.Found, Events: evs, Provider: "correios"}})
			}
			if _, err := s.SaveResults(ctx, 1, cs, render); err != nil {
				b.Fatal(err)
			}
		}
		write := time.Since(t0)
		b.StopTimer()
		if _, err := s.db.Exec("DELETE FROM outbox"); err != nil { // delivered
			b.Fatal(err)
		}
		s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		var pages, free, size int64
		s.db.QueryRow("PRAGMA page_count").Scan(&pages)
		s.db.QueryRow("PRAGMA freelist_count").Scan(&free)
		s.db.QueryRow("PRAGMA page_size").Scan(&size)
		live := (pages - free) * size
		var nev int64
		s.db.QueryRow("SELECT COUNT(*) FROM events").Scan(&nev)
		fi, _ := os.Stat(path)
		b.ReportMetric(float64(live)/(1<<20), "MiB_per_100k_codes")
		b.ReportMetric(float64(live)/budget, "ratio_of_budget")
		b.ReportMetric(float64(live)/float64(nev), "bytes/event")
		line := fmt.Sprintf("database: %d codes, %d events: %.1f MiB live (file %.1f MiB) = %.3f of a 512 MiB budget per 100k codes; %.0f bytes per event; written in %v (%.0f codes/s through SaveResults)",
			codes, nev, float64(live)/(1<<20), float64(fi.Size())/(1<<20), float64(live)/budget, float64(live)/float64(nev), write.Round(time.Millisecond), codes/write.Seconds())
		b.Log(line)
		fmt.Fprintln(os.Stderr, line)
	}
}
