package correios

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/tracking"
	"github.com/rastreio/rastreio/internal/tracking/trackingtest"
)

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func brt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, brasilia.Zone)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

type wantEvent struct {
	codigo, tipo string
	kind         tracking.Kind
	at           string // Brasília
	loc          string
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file   string
		codes  []string
		status map[string]tracking.Status
		events map[string][]wantEvent // oldest first
	}{
		{
			file:   "object-delivered.json",
			codes:  []string{"QQ850419295BR"},
			status: map[string]tracking.Status{"QQ850419295BR": tracking.Found},
			events: map[string][]wantEvent{"QQ850419295BR": {
				{"PO", "01", tracking.KindPosted, "2024-03-11T14:39:20", "PORTO ALEGRE/RS"},
				{"DO", "01", tracking.KindTransit, "2024-03-11T14:40:36", "PORTO ALEGRE/RS"},
				{"DO", "01", tracking.KindTransit, "2024-03-12T14:26:40", "PORTO ALEGRE/RS"},
				{"DO", "01", tracking.KindTransit, "2024-03-14T07:58:42", "RIO DE JANEIRO/RJ"},
				{"OEC", "01", tracking.KindOutForDelivery, "2024-03-15T09:19:54", "NITEROI/RJ"},
				{"BDE", "01", tracking.KindDelivered, "2024-03-15T14:19:48", "NITEROI/RJ"},
			}},
		},
		{
			file:   "object-in-transit.json",
			codes:  []string{"QH991577104BR"},
			status: map[string]tracking.Status{"QH991577104BR": tracking.Found},
			events: map[string][]wantEvent{"QH991577104BR": {
				{"PO", "01", tracking.KindPosted, "2022-03-29T17:36:45", "SERRA/ES"},
				{"DO", "01", tracking.KindTransit, "2022-03-29T17:38:13", "SERRA/ES"},
				{"RO", "01", tracking.KindTransit, "2022-03-30T04:12:06", "SERRA/ES"},
				{"RO", "01", tracking.KindTransit, "2022-04-09T09:58:59", "FORTALEZA/CE"},
			}},
		},
		{
			file:   "object-customs-awaiting-payment.json",
			codes:  []string{"LE449872154SE"},
			status: map[string]tracking.Status{"LE449872154SE": tracking.Found},
			events: map[string][]wantEvent{"LE449872154SE": {
				// PAR/18 and PO share a timestamp: the API lists PAR/18 after
				// PO (older), so it comes first here.
				{"PAR", "18", tracking.KindTransit, "2022-01-19T17:28:00", "SUECIA"},
				{"PO", "01", tracking.KindPosted, "2022-01-19T17:28:00", "SUECIA"},
				{"RO", "01", tracking.KindTransit, "2022-01-19T17:29:00", "SUECIA"},
				{"PAR", "16", tracking.KindArrivedBrazil, "2022-01-24T14:58:19", "CURITIBA/PR"},
				{"PAR", "21", tracking.KindCustoms, "2022-01-31T09:40:21", "CURITIBA/PR"},
				{"PAR", "17", tracking.KindTaxDue, "2022-02-02T23:17:58", "CURITIBA/PR"},
			}},
		},
		{
			file:   "object-not-found.json",
			codes:  []string{"AA123456785BR"},
			status: map[string]tracking.Status{"AA123456785BR": tracking.NotYet},
		},
		{
			file:  "batch-mixed.json",
			codes: []string{"PJ907948743BR", "AAAA", "DG049186226BR", "BR123456789BR", "XX000000000BR"},
			status: map[string]tracking.Status{
				"DG049186226BR": tracking.Found,
				"BR123456789BR": tracking.NotYet,
				"AAAA":          tracking.Invalid,
				"PJ907948743BR": tracking.NotOurs,
				// XX000000000BR was asked but is absent: no answer.
			},
			events: map[string][]wantEvent{"DG049186226BR": {
				{"PO", "01", tracking.KindPosted, "2022-03-10T19:10:36", "SAO PAULO/SP"},
				{"RO", "01", tracking.KindTransit, "2022-03-11T17:02:35", "BRASILIA/DF"},
				{"OEC", "03", tracking.KindOutForDelivery, "2022-03-11T17:02:45", "SAO PAULO/SP"},
				{"BDE", "01", tracking.KindDelivered, "2022-03-11T17:03:00", "XAPURI/AC"},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseResponse(readFixture(t, tc.file), tc.codes)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.status) {
				t.Errorf("got %d results, want %d: %v", len(got), len(tc.status), got)
			}
			for code, st := range tc.status {
				r, ok := got[code]
				if !ok || r.Status != st {
					t.Errorf("%s: status %v (present %v), want %v", code, r.Status, ok, st)
				}
				if st != tracking.Found && r.Message == "" {
					t.Errorf("%s: no message kept for %v", code, st)
				}
			}
			for code, want := range tc.events {
				evs := got[code].Events
				if len(evs) != len(want) {
					t.Fatalf("%s: %d events, want %d", code, len(evs), len(want))
				}
				keys := map[string]bool{}
				for i, w := range want {
					e := evs[i]
					if e.Codigo != w.codigo || e.Tipo != w.tipo || e.Kind != w.kind || !e.At.Equal(brt(w.at)) || e.Location != w.loc {
						t.Errorf("%s event %d = %s/%s %s %v %q, want %s/%s %s %s %q", code, i,
							e.Codigo, e.Tipo, e.Kind, e.At, e.Location, w.codigo, w.tipo, w.kind, w.at, w.loc)
					}
					if keys[e.Key] {
						t.Errorf("%s: duplicate key %q", code, e.Key)
					}
					keys[e.Key] = true
					if e.Description == "" || strings.HasSuffix(e.Detail, "\n") {
						t.Errorf("%s event %d: description %q detail %q", code, i, e.Description, e.Detail)
					}
				}
			}
		})
	}
}

func TestParseDetailTrimmed(t *testing.T) {
	got, err := ParseResponse(readFixture(t, "batch-mixed.json"), []string{"DG049186226BR"})
	if err != nil {
		t.Fatal(err)
	}
	oec := got["DG049186226BR"].Events[2]
	if oec.Detail != "Aguarde envio de link para acompanhar a entrega em tempo real" {
		t.Errorf("detail %q", oec.Detail)
	}
	if oec.Description != "Objeto em rota de entrega" {
		t.Errorf("description %q", oec.Description)
	}
}

func TestParseLenient(t *testing.T) {
	body := `{"tipoResultado":"Todos","extra":{"a":[1,2]},"objetos":[
	 {"codObjeto":"qq850419295br","mensagem":"","novo":true,"eventos":[
	   {"codigo":"BDE","tipo":1,"dtHrCriado":"2024-03-15 14:19:48","descricao":"Objeto entregue ao destinatário",
	    "unidade":{"endereco":[]}},
	   {"codigo":"OEC","tipo":"1","dtHrCriado":{"date":"2024-03-15 09:19:54.000000","timezone_type":3},
	    "descricao":"Objeto saiu para entrega ao destinatário","unidade":[]},
	   {"codigo":"DO","tipo":"01","dtHrCriado":"not a date","descricao":"skipped"},
	   {"codigo":"RO","tipo":{"bad":1},"dtHrCriado":"2024-03-14T07:58:42"},
	   "not an event",
	   {"codigo":"PO","tipo":"01","dtHrCriado":"2024-03-11T14:39:20","descricao":"Objeto postado",
	    "unidade":{"codSro":91040988,"endereco":{"cidade":"PORTO ALEGRE","uf":"RS"}}}
	 ]},
	 {"codObjeto":"AA123456785BR","mensagem":"SRO-999: algo novo"},
	 {"codObjeto":"DG049186226BR","eventos":[]},
	 "garbage"
	]}`
	got, err := ParseResponse([]byte(body), []string{"QQ850419295BR", "AA123456785BR", "DG049186226BR"})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := got["QQ850419295BR"]
	if !ok || r.Status != tracking.Found || len(r.Events) != 3 {
		t.Fatalf("QQ850419295BR = %+v (present %v), want Found with 3 events", r, ok)
	}
	kinds := []tracking.Kind{tracking.KindPosted, tracking.KindOutForDelivery, tracking.KindDelivered}
	for i, k := range kinds {
		if r.Events[i].Kind != k {
			t.Errorf("event %d kind %s, want %s", i, r.Events[i].Kind, k)
		}
	}
	if r.Events[0].Key != "PO|01|2024-03-11T17:39:20Z|PORTO ALEGRE/RS" {
		t.Errorf("key %q", r.Events[0].Key)
	}
	if _, ok := got["AA123456785BR"]; ok {
		t.Error("an unknown message without events must leave the code unanswered")
	}
	if got["DG049186226BR"].Status != tracking.NotYet {
		t.Errorf("empty history: %v, want NotYet", got["DG049186226BR"].Status)
	}
}

func TestParseUnusable(t *testing.T) {
	for _, body := range []string{"", "<html>502</html>", `{"objetos":[{"codObjeto":"A"`, `{"msgs":["x"]}`, `[]`, `null`} {
		if _, err := ParseResponse([]byte(body), []string{"A"}); !errors.Is(err, ErrBody) {
			t.Errorf("ParseResponse(%q) err = %v, want ErrBody", body, err)
		}
	}
}

// FuzzParseResponse: any body parses or fails cleanly; results are only
// for asked codes; Found histories are oldest first with unique,
// non-empty keys.
func FuzzParseResponse(f *testing.F) {
	for _, name := range []string{"object-delivered.json", "object-in-transit.json", "object-customs-awaiting-payment.json",
		"object-not-found.json", "batch-mixed.json", "token-201.json", "token-401.json", "accept-language-missing-400.json"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"objetos":[{"codObjeto":"A","eventos":[{"codigo":"X","tipo":7,"dtHrCriado":{"date":"2020-01-01 00:00:00"}}]}]}`))
	codes := []string{"QQ850419295BR", "QH991577104BR", "LE449872154SE", "AA123456785BR", "DG049186226BR",
		"BR123456789BR", "AAAA", "PJ907948743BR", "A"}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseResponse(body, codes)
		if err != nil {
			if !errors.Is(err, ErrBody) {
				t.Fatalf("error %v is not ErrBody", err)
			}
			return
		}
		asked := map[string]bool{}
		for _, c := range codes {
			asked[c] = true
		}
		for code, r := range got {
			if !asked[code] {
				t.Fatalf("result for %q not asked", code)
			}
			if err := trackingtest.CheckResult(r); err != nil {
				t.Fatalf("%s: %v", code, err)
			}
		}
		// Whatever parsed must survive a JSON round trip of the results.
		if _, err := json.Marshal(got); err != nil {
			t.Fatal(err)
		}
	})
}
