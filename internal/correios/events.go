package correios

import (
	"strconv"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/tracking"
)

// NormTipo normalises an event tipo to the API's two-digit string: "1",
// " 01", "001" and the JSON number 1 all become "01". Non-numeric tipos are
// returned trimmed and upper-cased.
func NormTipo(tipo string) string {
	t := strings.TrimSpace(tipo)
	if t == "" {
		return ""
	}
	if n, err := strconv.Atoi(t); err == nil && n >= 0 {
		if n < 10 {
			return "0" + strconv.Itoa(n)
		}
		return strconv.Itoa(n)
	}
	return strings.ToUpper(t)
}

// Classify says what the event codigo+tipo means for the person waiting
// for the parcel (fixtures/correios/README.md, "Event codes"). It never
// looks at the description: "Objeto entregue ao remetente" is a return.
// Unknown pairs are KindOther.
func Classify(codigo, tipo string) tracking.Kind {
	c := strings.ToUpper(strings.TrimSpace(codigo))
	t := NormTipo(tipo)
	switch c {
	case "PO":
		return tracking.KindPosted
	case "RO", "DO":
		return tracking.KindTransit
	case "LDI":
		return tracking.KindAwaitingPickup
	case "EST":
		return tracking.KindCorrection
	case "FC":
		if t == "82" {
			return tracking.KindLabel
		}
	case "PAR":
		switch t {
		case "16":
			return tracking.KindArrivedBrazil
		case "17":
			return tracking.KindTaxDue
		case "21":
			return tracking.KindCustoms
		case "10":
			return tracking.KindCustomsCleared
		case "31":
			return tracking.KindTaxPaid
		case "18":
			return tracking.KindTransit
		}
	case "OEC":
		switch t {
		case "01", "03":
			return tracking.KindOutForDelivery
		case "09":
			return tracking.KindReturning
		}
	case "BDE", "BDI", "BDR":
		switch t {
		case "00", "01":
			return tracking.KindDelivered
		case "20", "21":
			return tracking.KindDeliveryFailed
		case "23":
			return tracking.KindReturned
		case "26":
			return tracking.KindReturning
		case "02", "54":
			return tracking.KindAwaitingPickup
		case "43":
			return tracking.KindSeized
		case "09", "12", "28", "37", "50", "51", "52", "80":
			return tracking.KindLost
		}
	}
	return tracking.KindOther
}

// Unit is where an event happened, in either the official or the website
// shape.
type Unit struct {
	CodSro string
	Nome   string // foreign units ("SUECIA") carry a name, no city
	Cidade string
	UF     string
	// Street address, when the provider gives it (LDI, OEC events).
	Logradouro, Numero, Bairro string
}

// Address renders the unit's street address as the provider wrote it
// ("RUA NORONHA TORREZAO, 157 - SANTA ROSA"), or "" without a street.
func (u Unit) Address() string {
	street := strings.Join(strings.Fields(u.Logradouro), " ")
	if street == "" {
		return ""
	}
	if n := strings.TrimSpace(u.Numero); n != "" {
		street += ", " + n
	}
	if b := strings.Join(strings.Fields(u.Bairro), " "); b != "" {
		street += " - " + b
	}
	return street
}

// Location renders the unit for people: "CIDADE/UF", else the unit's
// name (foreign units), else "". City names are folded to upper case
// without accents, as the official API writes them, so the same event
// reads the same whichever provider reported it.
func (u Unit) Location() string {
	city, uf := fold(u.Cidade), fold(u.UF)
	switch {
	case city != "" && uf != "" && uf != "BR":
		return city + "/" + uf
	case city != "":
		return city
	}
	if n := strings.TrimSpace(u.Nome); n != "" {
		return n
	}
	return ""
}

// keyPart identifies the unit inside an event key: city/UF, else the SRO
// unit code, else the name.
func (u Unit) keyPart() string {
	city, uf := fold(u.Cidade), fold(u.UF)
	if city != "" {
		return city + "/" + uf
	}
	if c := strings.TrimSpace(u.CodSro); c != "" {
		return c
	}
	return fold(u.Nome)
}

// EventKey is an event's identity within its parcel:
// codigo|tipo|UTC instant|unit. The description is left out on purpose:
// Correios rewords the same event over time.
func EventKey(codigo, tipo string, at time.Time, u Unit) string {
	return strings.ToUpper(strings.TrimSpace(codigo)) + "|" + NormTipo(tipo) + "|" +
		at.UTC().Truncate(time.Second).Format(time.RFC3339) + "|" + u.keyPart()
}

// NewEvent builds the normalised event from Correios fields (official or
// website shape). dest is the unit the parcel is sent to (transfers), or
// the zero Unit.
func NewEvent(codigo, tipo, descricao, detalhe string, at time.Time, u, dest Unit) tracking.Event {
	c := strings.ToUpper(strings.TrimSpace(codigo))
	t := NormTipo(tipo)
	return tracking.Event{
		Key:         EventKey(c, t, at, u),
		Codigo:      c,
		Tipo:        t,
		Kind:        Classify(c, t),
		Description: strings.TrimSpace(descricao),
		Detail:      strings.TrimSpace(detalhe),
		Location:    u.Location(),
		Destination: dest.Location(),
		Address:     u.Address(),
		At:          at.UTC().Truncate(time.Second),
	}
}

// ParseTime parses a naive Brasília timestamp as Correios writes it:
// "2006-01-02T15:04:05", with a space instead of the T, with or without
// fractional seconds ("2025-03-03 23:30:03.000000"), or without seconds.
// A timestamp carrying its own offset (RFC 3339) keeps it.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == 19 && (s[10] == 'T' || s[10] == ' ') {
		layout := "2006-01-02T15:04:05"
		if s[10] == ' ' {
			layout = "2006-01-02 15:04:05"
		}
		if t, err := time.ParseInLocation(layout, s, brasilia.Zone); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	var firstErr error
	for _, layout := range timeLayouts {
		t, err := time.ParseInLocation(layout, s, brasilia.Zone)
		if err == nil {
			return t, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return time.Time{}, firstErr
}

var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"02/01/2006 15:04:05",
	"02/01/2006 15:04",
}

// fold upper-cases s and strips Portuguese accents ("São Paulo" →
// "SAO PAULO"), collapsing inner spaces.
func fold(s string) string {
	if isFolded(s) {
		return s // the official API's usual case: no allocation
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToUpper(s) {
		if a, ok := unaccent[r]; ok {
			r = a
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isFolded reports whether s is already upper-case ASCII with single
// inner spaces and none around it.
func isFolded(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80 || (c >= 'a' && c <= 'z') || c == '\t' || c == '\n' || c == '\r':
			return false
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' '):
			return false
		}
	}
	return true
}

var unaccent = map[rune]rune{
	'Á': 'A', 'À': 'A', 'Â': 'A', 'Ã': 'A', 'Ä': 'A',
	'É': 'E', 'È': 'E', 'Ê': 'E', 'Ë': 'E',
	'Í': 'I', 'Ì': 'I', 'Î': 'I', 'Ï': 'I',
	'Ó': 'O', 'Ò': 'O', 'Ô': 'O', 'Õ': 'O', 'Ö': 'O',
	'Ú': 'U', 'Ù': 'U', 'Û': 'U', 'Ü': 'U',
	'Ç': 'C', 'Ñ': 'N',
}
