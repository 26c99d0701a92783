package correios

import (
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/tracking"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		codigo, tipo string
		want         tracking.Kind
	}{
		{"PO", "01", tracking.KindPosted},
		{"PO", "09", tracking.KindPosted},
		{"RO", "01", tracking.KindTransit},
		{"DO", "01", tracking.KindTransit},
		{"PAR", "16", tracking.KindArrivedBrazil},
		{"PAR", "17", tracking.KindTaxDue},
		{"PAR", "21", tracking.KindCustoms},
		{"PAR", "10", tracking.KindCustomsCleared},
		{"PAR", "31", tracking.KindTaxPaid},
		{"PAR", "18", tracking.KindTransit},
		{"OEC", "01", tracking.KindOutForDelivery},
		{"OEC", "03", tracking.KindOutForDelivery},
		{"OEC", "09", tracking.KindReturning},
		{"BDE", "01", tracking.KindDelivered},
		{"BDI", "01", tracking.KindDelivered},
		{"BDR", "01", tracking.KindDelivered},
		{"BDE", "20", tracking.KindDeliveryFailed},
		{"BDE", "23", tracking.KindReturned},
		{"BDI", "26", tracking.KindReturning},
		{"LDI", "01", tracking.KindAwaitingPickup},
		{"LDI", "14", tracking.KindAwaitingPickup},
		{"BDE", "02", tracking.KindAwaitingPickup},
		{"BDR", "54", tracking.KindAwaitingPickup},
		{"FC", "82", tracking.KindLabel},
		{"EST", "01", tracking.KindCorrection},
		{"XYZ", "01", tracking.KindOther},
		{"PAR", "99", tracking.KindOther},
		{"OEC", "77", tracking.KindOther},
		{"BDE", "99", tracking.KindOther},
		{"", "", tracking.KindOther},
		// tipo written without the leading zero, as a number, or padded.
		{"BDE", "1", tracking.KindDelivered},
		{"bde", " 001 ", tracking.KindDelivered},
		{"OEC", "9", tracking.KindReturning},
		{"BDE", "9", tracking.KindLost},
		{"BDE", "43", tracking.KindSeized},
		{"BDI", "43", tracking.KindSeized},
	}
	for _, lost := range []string{"09", "12", "28", "37", "50", "51", "52", "80"} {
		for _, c := range []string{"BDE", "BDI", "BDR"} {
			tests = append(tests, struct {
				codigo, tipo string
				want         tracking.Kind
			}{c, lost, tracking.KindLost})
		}
	}
	for _, tc := range tests {
		if got := Classify(tc.codigo, tc.tipo); got != tc.want {
			t.Errorf("Classify(%q, %q) = %s, want %s", tc.codigo, tc.tipo, got, tc.want)
		}
	}
}

func TestNormTipo(t *testing.T) {
	for in, want := range map[string]string{"1": "01", "01": "01", "001": "01", "23": "23", " 9 ": "09", "": "", "a1": "A1", "100": "100"} {
		if got := NormTipo(in); got != want {
			t.Errorf("NormTipo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2022, 3, 11, 20, 3, 0, 0, time.UTC) // 17:03 in Brasília
	for _, in := range []string{
		"2022-03-11T17:03:00",
		"2022-03-11 17:03:00",
		"2022-03-11 17:03:00.000000",
		"2022-03-11T17:03",
		"11/03/2022 17:03:00",
		"2022-03-11T17:03:00-03:00",
		"2022-03-11T20:03:00Z",
	} {
		got, err := ParseTime(in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", in, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, want %v", in, got.UTC(), want)
		}
	}
	for _, bad := range []string{"", "ontem", "2022-13-45T99:00:00"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) = nil error, want one", bad)
		}
	}
}

func TestEventKeyAndLocation(t *testing.T) {
	at := time.Date(2025, 3, 3, 23, 30, 3, 0, brasilia.Zone)
	official := Unit{CodSro: "50630977", Cidade: "RECIFE", UF: "PE"}
	website := Unit{CodSro: "50630977", Cidade: " Recife ", UF: "pe"}
	noSro := Unit{Cidade: "RECIFE", UF: "PE"}
	k1 := EventKey("BDE", "01", at, official)
	if k1 != "BDE|01|2025-03-04T02:30:03Z|RECIFE/PE" {
		t.Fatalf("EventKey = %q", k1)
	}
	if k2 := EventKey("bde", "1", at.Add(400*time.Millisecond), website); k2 != k1 {
		t.Errorf("website-shaped key %q != official %q", k2, k1)
	}
	if k3 := EventKey("BDE", "01", at, noSro); k3 != k1 {
		t.Errorf("key without codSro %q != %q", k3, k1)
	}
	if k := EventKey("BDE", "01", at.Add(time.Second), official); k == k1 {
		t.Error("different instants share a key")
	}
	if k := EventKey("PAR", "18", at, official); k == k1 {
		t.Error("different codes share a key")
	}
	foreign := Unit{CodSro: "00752000", Nome: "SUECIA"}
	if got := EventKey("PO", "01", at, foreign); !strings.HasSuffix(got, "|00752000") {
		t.Errorf("foreign unit key %q, want codSro", got)
	}
	locs := []struct {
		u    Unit
		want string
	}{
		{official, "RECIFE/PE"},
		{Unit{Cidade: "São Paulo", UF: "SP"}, "SAO PAULO/SP"},
		{foreign, "SUECIA"},
		{Unit{Nome: "Unidade de Tratamento Internacional", UF: "BR"}, "Unidade de Tratamento Internacional"},
		{Unit{}, ""},
	}
	for _, tc := range locs {
		if got := tc.u.Location(); got != tc.want {
			t.Errorf("%+v.Location() = %q, want %q", tc.u, got, tc.want)
		}
	}
}
