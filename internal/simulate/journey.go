// Package simulate replays parcel journeys through the tracker's real
// schedule, store, pass and delivery on a virtual clock, against
// in-process providers that bill and refresh like the real ones and a
// Telegram that records when it accepted each message. It answers what
// an operator asks before choosing a provider: how many billed checks a
// parcel costs, and how late its notifications come
// (`rastreio-tracker simulate`, docs/providers.md).
package simulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/trackcode"
	"github.com/rastreio/rastreio/internal/tracking"
)

// Journey is one parcel's history as the official API lists it.
type Journey struct {
	Code string
	// AddedAt is when a person added the code (default: one hour before
	// its first event).
	AddedAt time.Time
	// Events, oldest first, as the tracker's Correios parser reads them.
	Events []tracking.Event
}

// FormatError is a journeys file that cannot be used; its message names
// the problem in one line.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

// AddedBefore is how long before its first event a journey without
// added_at is added.
const AddedBefore = time.Hour

// LoadFile reads a journeys file (see Parse).
func LoadFile(path string) ([]Journey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &FormatError{Msg: err.Error()}
	}
	js, err := Parse(b)
	if err != nil {
		return nil, formatErr("%s: %v", path, err)
	}
	return js, nil
}

type wireJourney struct {
	Code    *string           `json:"code"`
	AddedAt *string           `json:"added_at"`
	Events  []json.RawMessage `json:"events"`
}

type wireEvent struct {
	Codigo     *string         `json:"codigo"`
	Tipo       json.RawMessage `json:"tipo"`
	DtHrCriado *string         `json:"dtHrCriado"`
	Descricao  *string         `json:"descricao"`
}

// Parse reads a JSON array of journeys, `{"code": "...", "added_at":
// "RFC 3339, optional", "events": [official-API events, newest first]}`.
// Every problem is a *FormatError naming the journey and event.
func Parse(b []byte) ([]Journey, error) {
	var wire []json.RawMessage
	if err := json.Unmarshal(b, &wire); err != nil {
		return nil, formatErr("not a JSON array of journeys: %v", err)
	}
	if len(wire) == 0 {
		return nil, formatErr("no journeys")
	}
	seen := map[string]int{}
	out := make([]Journey, 0, len(wire))
	for i, raw := range wire {
		j, err := parseJourney(raw)
		if err != nil {
			return nil, formatErr("journey %d: %v", i+1, err)
		}
		if k, dup := seen[j.Code]; dup {
			return nil, formatErr("journey %d: code %s already in journey %d", i+1, j.Code, k)
		}
		seen[j.Code] = i + 1
		out = append(out, j)
	}
	return out, nil
}

func parseJourney(raw json.RawMessage) (Journey, error) {
	var w wireJourney
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&w); err != nil {
		return Journey{}, fmt.Errorf("not a journey object: %v", err)
	}
	if w.Code == nil || strings.TrimSpace(*w.Code) == "" {
		return Journey{}, errors.New(`no "code"`)
	}
	code, err := trackcode.Parse(*w.Code)
	if err != nil {
		// The bot refuses such a code, so no pass ever sees it.
		return Journey{}, fmt.Errorf("code %q: %v", *w.Code, err)
	}
	j := Journey{Code: code}
	if w.AddedAt != nil {
		t, err := time.Parse(time.RFC3339, *w.AddedAt)
		if err != nil {
			return Journey{}, fmt.Errorf("%s: added_at %q is not an RFC 3339 time", j.Code, *w.AddedAt)
		}
		j.AddedAt = t
	}
	for k, re := range w.Events {
		var e wireEvent
		if err := json.Unmarshal(re, &e); err != nil {
			return Journey{}, fmt.Errorf("%s: event %d: not an event object: %v", j.Code, k+1, err)
		}
		switch {
		case e.Codigo == nil || strings.TrimSpace(*e.Codigo) == "":
			return Journey{}, fmt.Errorf(`%s: event %d: no "codigo"`, j.Code, k+1)
		case len(e.Tipo) == 0 || string(e.Tipo) == "null":
			return Journey{}, fmt.Errorf(`%s: event %d: no "tipo"`, j.Code, k+1)
		case e.DtHrCriado == nil:
			return Journey{}, fmt.Errorf(`%s: event %d: no "dtHrCriado"`, j.Code, k+1)
		case e.Descricao == nil:
			return Journey{}, fmt.Errorf(`%s: event %d: no "descricao"`, j.Code, k+1)
		}
		if _, err := correios.ParseTime(*e.DtHrCriado); err != nil {
			return Journey{}, fmt.Errorf("%s: event %d: dtHrCriado %q is not a Brasília time", j.Code, k+1, *e.DtHrCriado)
		}
		if b := bytes.TrimSpace(e.Tipo); b[0] != '"' && (b[0] < '0' || b[0] > '9') {
			return Journey{}, fmt.Errorf(`%s: event %d: "tipo" %s is neither a string nor a number`, j.Code, k+1, e.Tipo)
		}
	}
	res, ok := object(j.Code, w.Events).Result()
	if len(w.Events) > 0 && (!ok || len(res.Events) != len(w.Events)) {
		return Journey{}, fmt.Errorf("%s: %d events, %d distinct ones the tracker can read (a repeated event?)",
			j.Code, len(w.Events), len(res.Events))
	}
	j.Events = res.Events
	if j.AddedAt.IsZero() {
		if len(j.Events) == 0 {
			return Journey{}, fmt.Errorf(`%s: no events and no "added_at"`, j.Code)
		}
		j.AddedAt = j.Events[0].At.Add(-AddedBefore)
	}
	return j, nil
}

// object is the official API's object for code with events (newest
// first), decoded by the tracker's own parser.
func object(code string, events []json.RawMessage) correios.Object {
	body, _ := json.Marshal(struct {
		Code    string            `json:"codObjeto"`
		Eventos []json.RawMessage `json:"eventos"`
	}{code, events})
	var o correios.Object
	_ = json.Unmarshal(body, &o)
	if o.Eventos == nil {
		o.Mensagem = "SRO-020: Objeto não encontrado na base de dados dos Correios."
	}
	return o
}

// Actionable reports whether a person acts on an event of kind k (the
// replay's "actionable" delays).
func Actionable(k tracking.Kind) bool {
	switch k {
	case tracking.KindOutForDelivery, tracking.KindDeliveryFailed, tracking.KindAwaitingPickup,
		tracking.KindTaxDue, tracking.KindDelivered, tracking.KindReturned:
		return true
	}
	return false
}
