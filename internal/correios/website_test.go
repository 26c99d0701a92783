package correios_test

import (
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/tracking"
	"github.com/rastreio/rastreio/internal/tracking/trackingtest"
)

func TestWebsiteFixtureDetails(t *testing.T) {
	r, ok := correios.ParseWebsite(string(fixture(t, "website-AM101610575BR.json")))
	if !ok || r.Status != tracking.Found || len(r.Events) != 2 {
		t.Fatalf("%+v %v", r, ok)
	}
	po, bde := r.Events[0], r.Events[1]
	if po.Codigo != "PO" || po.Tipo != "09" || po.Location != "FEIRA NOVA DO MARANHAO/MA" ||
		!po.At.Equal(time.Date(2025, 2, 24, 18, 51, 29, 0, time.UTC)) {
		t.Errorf("PO event %+v", po)
	}
	if bde.Key != "BDE|01|2025-03-04T02:30:03Z|RECIFE/PE" || bde.Detail == "" {
		t.Errorf("BDE event %+v", bde)
	}
}

func TestWebsiteShapes(t *testing.T) {
	tests := []struct {
		inner string
		want  tracking.Status
		ok    bool
	}{
		{``, tracking.NotYet, true},
		{`{}`, tracking.NotYet, true},
		{`{"erro":true,"mensagem":"Objeto não encontrado na base de dados dos Correios."}`, tracking.NotYet, true},
		{`{"codObjeto":"X","mensagem":"SRO-020: Objeto não encontrado na base de dados dos Correios."}`, tracking.NotYet, true},
		{`{"codObjeto":"X","mensagem":"SRO-019: Objeto inválido"}`, tracking.Invalid, true},
		{`{"codObjeto":"X","eventos":[]}`, tracking.NotYet, true},
		{`{"mailNo":"LP00123456789CN","detailList":[{"time":1748410407000}]}`, tracking.NotYet, true}, // Cainiao shape
		{`{"codObjeto":"X","eventos":[{"codigo":"PO","tipo":"01","dtHrCriado":"quando?"}]}`, 0, false},
		{`{not json`, 0, false},
		// The official envelope around the object.
		{`{"objetos":[{"codObjeto":"X","eventos":[{"codigo":"BDE","tipo":"01","dtHrCriado":"2024-03-15T14:19:48"}]}]}`, tracking.Found, true},
		{`{"objetos":[{"codObjeto":"X","mensagem":"SRO-019: Objeto inválido"}]}`, tracking.Invalid, true},
	}
	for _, tc := range tests {
		r, ok := correios.ParseWebsite(tc.inner)
		if ok != tc.ok || (ok && r.Status != tc.want) {
			t.Errorf("ParseWebsite(%.40q) = %v %v, want %v %v", tc.inner, r.Status, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseWebsite: any inner string parses or is refused cleanly; Found
// histories are oldest first with unique keys.
func FuzzParseWebsite(f *testing.F) {
	for _, name := range []string{"website-AM101610575BR.json", "website-QQ850419295BR.json"} {
		f.Add(string(fixture(f, name)))
	}
	f.Add(`{"erro":true,"mensagem":"Objeto não encontrado"}`)
	f.Add(`{"eventos":[{"codigo":"BDE","tipo":1,"dtHrCriado":"2024-01-01 10:00:00","unidade":[]}]}`)
	f.Fuzz(func(t *testing.T, inner string) {
		r, ok := correios.ParseWebsite(inner)
		if !ok {
			return
		}
		if err := trackingtest.CheckResult(r); err != nil {
			t.Fatalf("%v: %+v", err, r)
		}
	})
}
