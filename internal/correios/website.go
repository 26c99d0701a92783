package correios

import (
	"strings"

	"github.com/rastreio/rastreio/internal/tracking"
)

// website is the part of the website object read besides Object.
type website struct {
	Object
	Erro bool `json:"erro"`
	// Objetos: the official API's envelope, in case the object comes
	// wrapped in it ({"objetos":[…]}); its first object is used.
	Objetos []Object `json:"objetos"`
}

// ParseWebsite reads the Correios website's object, as Site Rastreio (the
// inner JSON string of a Track reply) and PacoteVício (the reply body)
// serve it. "Not found" shapes ({"erro":true,…}, SRO-020, an
// empty object, a carrier's pre-Correios shape without eventos) are
// NotYet; SRO-019 is Invalid. ok is false when the string is not JSON.
func ParseWebsite(inner string) (tracking.Result, bool) {
	inner = strings.TrimSpace(inner)
	if inner == "" {
		return tracking.Result{Status: tracking.NotYet}, true
	}
	var w website
	if err := decode([]byte(inner), &w); err != nil {
		return tracking.Result{}, false
	}
	if len(w.Eventos) == 0 && w.Mensagem == "" && len(w.Objetos) > 0 {
		w.Object = w.Objetos[0]
	}
	if r, ok := w.Result(); ok {
		return r, true
	}
	if len(w.Eventos) > 0 && !w.Erro {
		// Events there but none readable: no answer this time.
		return tracking.Result{}, false
	}
	return tracking.Result{Status: tracking.NotYet, Message: strings.TrimSpace(w.Mensagem)}, true
}
