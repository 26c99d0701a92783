package siterastreio_test

import (
	"testing"

	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/tracking"
)

// FuzzParseObject: any inner string parses or is refused cleanly; Found
// histories are oldest first with unique keys.
func FuzzParseObject(f *testing.F) {
	for _, name := range []string{"website-AM101610575BR.json", "website-QQ850419295BR.json"} {
		f.Add(string(fixture(f, name)))
	}
	f.Add(`{"erro":true,"mensagem":"Objeto não encontrado"}`)
	f.Add(`{"eventos":[{"codigo":"BDE","tipo":1,"dtHrCriado":"2024-01-01 10:00:00","unidade":[]}]}`)
	f.Fuzz(func(t *testing.T, inner string) {
		r, ok := siterastreio.ParseObject(inner)
		if !ok {
			return
		}
		switch r.Status {
		case tracking.Found:
			if len(r.Events) == 0 {
				t.Fatal("Found without events")
			}
		case tracking.NotYet, tracking.Invalid, tracking.NotOurs:
		default:
			t.Fatalf("status %v", r.Status)
		}
		seen := map[string]bool{}
		for i, e := range r.Events {
			if e.Key == "" || seen[e.Key] || (i > 0 && e.At.Before(r.Events[i-1].At)) {
				t.Fatalf("bad history %+v", r.Events)
			}
			seen[e.Key] = true
		}
	})
}
