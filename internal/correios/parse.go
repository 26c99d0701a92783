package correios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rastreio/rastreio/internal/tracking"
)

// Per-object messages inside a 200 (matched on the prefix only: the
// wording after it varies).
const (
	msgNotFound = "SRO-020" // not (yet) in the Correios base: keep asking
	msgInvalid  = "SRO-019" // malformed code: stop asking
	msgNotOurs  = "SRO-009" // belongs to another contract
)

// ErrBody means a 200 whose body cannot be used.
var ErrBody = errors.New("correios: unusable response body")

// Object is one tracked object, in the official API's shape or the
// Correios website's (served by Site Rastreio and PacoteVício): only the
// fields rastreio uses, decoded leniently (a field of the wrong type is
// left empty; an event that cannot be read or dated is skipped).
type Object struct {
	CodObjeto string      `json:"codObjeto"`
	Mensagem  string      `json:"mensagem"`
	Eventos   []wireEvent `json:"eventos"`
}

type wireEvent struct {
	Codigo     string   `json:"codigo"`
	Tipo       flexText `json:"tipo"`
	DtHrCriado flexTime `json:"dtHrCriado"`
	Descricao  string   `json:"descricao"`
	Detalhe    string   `json:"detalhe"`
	Unidade    wireUnit `json:"unidade"` // PHP writes an empty one as []: left zero
	Destino    wireUnit `json:"unidadeDestino"`
}

type wireUnit struct {
	CodSro   flexText     `json:"codSro"`
	Nome     string       `json:"nome"`
	Endereco wireEndereco `json:"endereco"`
}

type wireEndereco struct {
	Cidade     string   `json:"cidade"`
	UF         string   `json:"uf"`
	Logradouro string   `json:"logradouro"`
	Numero     flexText `json:"numero"`
	Bairro     string   `json:"bairro"`
}

func (w wireUnit) unit() Unit {
	return Unit{
		CodSro:     w.CodSro.S,
		Nome:       w.Nome,
		Cidade:     w.Endereco.Cidade,
		UF:         w.Endereco.UF,
		Logradouro: w.Endereco.Logradouro,
		Numero:     w.Endereco.Numero.S,
		Bairro:     w.Endereco.Bairro,
	}
}

// flexText is a JSON string or number ("01" or 1); null is "". Anything
// else marks it bad instead of failing the whole body.
type flexText struct {
	S   string
	Bad bool
}

func (f *flexText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = flexText{}
	case b[0] == '"':
		s, ok := jsonString(b)
		*f = flexText{S: s, Bad: !ok}
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			*f = flexText{S: strconv.FormatInt(i, 10)}
		} else {
			*f = flexText{S: string(b)}
		}
	default:
		*f = flexText{Bad: true}
	}
	return nil
}

// flexTime is a timestamp written as a string ("2022-03-11T17:03:00") or
// as PHP's DateTime object ({"date":"2025-03-03 23:30:03.000000",
// "timezone_type":3,"timezone":"America/Sao_Paulo"}), kept raw for
// ParseTime. Anything else leaves it empty (the event is skipped).
type flexTime string

func (f *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*f = ""
	switch {
	case len(b) > 0 && b[0] == '"':
		if s, ok := jsonString(b); ok {
			*f = flexTime(s)
		}
	case len(b) > 0 && b[0] == '{':
		var o struct {
			Date string `json:"date"`
		}
		if json.Unmarshal(b, &o) == nil {
			*f = flexTime(o.Date)
		}
	}
	return nil
}

// jsonString decodes a JSON string literal, without the decoder for the
// common case of no escapes.
func jsonString(b []byte) (string, bool) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		return string(b[1 : len(b)-1]), true
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}

// Result converts the object into the provider-neutral result. ok is
// false when the object says nothing usable (an unknown message and no
// events): the caller treats the code as unanswered this time.
func (o Object) Result() (r tracking.Result, ok bool) {
	msg := strings.TrimSpace(o.Mensagem)
	events := o.events()
	if len(events) > 0 {
		return tracking.Result{Status: tracking.Found, Events: events}, true
	}
	switch {
	case strings.HasPrefix(msg, msgNotFound):
		return tracking.Result{Status: tracking.NotYet, Message: msg}, true
	case strings.HasPrefix(msg, msgInvalid):
		return tracking.Result{Status: tracking.Invalid, Message: msg}, true
	case strings.HasPrefix(msg, msgNotOurs):
		return tracking.Result{Status: tracking.NotOurs, Message: msg}, true
	case msg == "" && o.Eventos != nil && len(o.Eventos) == 0:
		// Known object, empty history: nothing to show yet.
		return tracking.Result{Status: tracking.NotYet}, true
	}
	return tracking.Result{Message: msg}, false
}

// events decodes the history, skipping events that cannot be read or
// dated, and returns it oldest first (the API sends newest first; events
// sharing a timestamp keep the API's relative order, reversed).
// Duplicate keys are dropped; a history longer than tracking.MaxEvents
// keeps its newest events (tracking.KeepNewest).
func (o Object) events() []tracking.Event {
	out := make([]tracking.Event, 0, len(o.Eventos))
	seen := make(map[string]bool, len(o.Eventos))
	for i := len(o.Eventos) - 1; i >= 0; i-- {
		w := &o.Eventos[i]
		if strings.TrimSpace(w.Codigo) == "" || w.Tipo.Bad {
			continue
		}
		at, err := ParseTime(string(w.DtHrCriado))
		if err != nil {
			continue
		}
		e := NewEvent(w.Codigo, w.Tipo.S, w.Descricao, w.Detalhe, at, w.Unidade.unit(), w.Destino.unit())
		if seen[e.Key] {
			continue
		}
		seen[e.Key] = true
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return tracking.KeepNewest(out)
}

type wireResponse struct {
	Objetos []Object `json:"objetos"`
}

// ParseResponse reads a tracking response body of the official API and
// returns the result of each requested code found in it, matched by
// codObjeto (the order is not guaranteed). Objects for codes not asked
// for are ignored; requested codes missing from the map had no usable
// answer. A body that is not a tracking response is ErrBody.
func ParseResponse(body []byte, requested []string) (map[string]tracking.Result, error) {
	var w wireResponse
	if err := decode(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBody, err)
	}
	if w.Objetos == nil {
		return nil, fmt.Errorf("%w: no objetos", ErrBody)
	}
	want := make(map[string]string, len(requested))
	for _, c := range requested {
		want[normCode(c)] = c
	}
	out := make(map[string]tracking.Result, len(requested))
	for _, o := range w.Objetos {
		code, asked := want[normCode(o.CodObjeto)]
		if !asked {
			continue
		}
		if _, dup := out[code]; dup {
			continue
		}
		if r, ok := o.Result(); ok {
			out[code] = r
		}
	}
	return out, nil
}

func normCode(c string) string { return strings.ToUpper(strings.TrimSpace(c)) }

// decode unmarshals body into v leniently: a value of the wrong type
// leaves its field empty (encoding/json skips it and goes on); only a body
// that is not JSON is an error.
func decode(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return nil
	}
	return err
}
