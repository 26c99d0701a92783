package message

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	goldenfile "github.com/rastreio/rastreio/internal/golden"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/tracking"
)

// golden compares got with the golden file of that name (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name+".golden"), got)
}

// brt is a naive Brasília time, as Correios gives them.
func brt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, brasilia.Zone)
	if err != nil {
		panic(err)
	}
	return t
}

// now is when the golden notifications are sent.
var now = brt("2024-03-06T16:00:00")

var (
	evPosted = tracking.Event{Codigo: "PO", Tipo: "01", Kind: tracking.KindPosted,
		Description: "Objeto postado", Location: "SAO PAULO/SP", At: brt("2024-03-04T10:12:40")}
	evTransit = tracking.Event{Codigo: "RO", Tipo: "01", Kind: tracking.KindTransit,
		Description: "Objeto em transferência - por favor aguarde",
		Location:    "CAJAMAR/SP", Destination: "NITEROI/RJ", At: brt("2024-03-05T18:40:02")}
	evOut = tracking.Event{Codigo: "OEC", Tipo: "01", Kind: tracking.KindOutForDelivery,
		Description: "Objeto saiu para entrega ao destinatário", Location: "NITEROI/RJ", At: brt("2024-03-06T08:01:00")}
	evDelivered = tracking.Event{Codigo: "BDE", Tipo: "01", Kind: tracking.KindDelivered,
		Description: "Objeto entregue ao destinatário", Location: "NITEROI/RJ", At: brt("2024-03-06T14:35:10")}
	evTax = tracking.Event{Codigo: "PAR", Tipo: "17", Kind: tracking.KindTaxDue,
		Description: "Aguardando pagamento", Location: "CURITIBA/PR", At: brt("2024-02-20T09:17:55")}
	evForeign = tracking.Event{Codigo: "PO", Tipo: "01", Kind: tracking.KindPosted,
		Description: "Objeto postado", Location: "SUECIA", At: brt("2023-12-28T11:00:00")}
	evPickup = tracking.Event{Codigo: "LDI", Tipo: "01", Kind: tracking.KindAwaitingPickup,
		Description: "Objeto aguardando retirada no endereço indicado",
		Detail:      "Para retirá-lo, é preciso informar o código do objeto e apresentar documentação que comprove ser o destinatário ou pessoa por ele oficialmente autorizada.",
		Location:    "NITEROI/RJ", Address: "RUA NORONHA TORREZAO, 157 - SANTA ROSA", At: brt("2024-03-06T09:30:00")}
)

// journey has one event of every kind, as Correios words them.
var journey = []tracking.Event{
	{Codigo: "FC", Tipo: "82", Kind: tracking.KindLabel, Description: "Etiqueta emitida", Detail: "Aguardando postagem pelo remetente", At: brt("2024-03-01T09:00:00")},
	evPosted,
	evTransit,
	{Codigo: "PAR", Tipo: "16", Kind: tracking.KindArrivedBrazil, Description: "Objeto recebido pelos Correios do Brasil", Location: "CURITIBA/PR", At: brt("2024-03-05T07:00:00")},
	{Codigo: "PAR", Tipo: "21", Kind: tracking.KindCustoms, Description: "Encaminhado para fiscalização aduaneira", Location: "CURITIBA/PR", At: brt("2024-03-05T07:10:00")},
	evTax,
	{Codigo: "PAR", Tipo: "31", Kind: tracking.KindTaxPaid, Description: "Pagamento confirmado", Location: "CURITIBA/PR", At: brt("2024-03-05T08:00:00")},
	{Codigo: "PAR", Tipo: "10", Kind: tracking.KindCustomsCleared, Description: "Fiscalização aduaneira finalizada", Location: "CURITIBA/PR", At: brt("2024-03-05T09:00:00")},
	evOut,
	{Codigo: "BDE", Tipo: "20", Kind: tracking.KindDeliveryFailed, Description: "Objeto não entregue - carteiro não atendido", Detail: "Por favor, aguarde. Será realizada nova tentativa de entrega", Location: "NITEROI/RJ", At: brt("2024-03-06T11:00:00")},
	evPickup,
	evDelivered,
	{Codigo: "OEC", Tipo: "09", Kind: tracking.KindReturning, Description: "Objeto saiu para entrega ao remetente", Location: "NITEROI/RJ", At: brt("2024-03-06T12:00:00")},
	{Codigo: "BDE", Tipo: "23", Kind: tracking.KindReturned, Description: "Objeto entregue ao remetente", Location: "CAJAMAR/SP", At: brt("2024-03-06T13:00:00")},
	{Codigo: "BDE", Tipo: "50", Kind: tracking.KindLost, Description: "Objeto roubado", Detail: "Favor entrar em contato com os Correios.", Location: "NITEROI/RJ", At: brt("2024-03-06T13:10:00")},
	{Codigo: "BDE", Tipo: "43", Kind: tracking.KindSeized, Description: "Objeto apreendido por órgão de fiscalização ou outro órgão anuente", Location: "CURITIBA/PR", At: brt("2024-03-06T13:20:00")},
	{Codigo: "EST", Tipo: "01", Kind: tracking.KindCorrection, Description: "Favor desconsiderar a informação anterior", At: brt("2024-03-06T13:30:00")},
	{Codigo: "XYZ", Tipo: "99", Kind: tracking.KindOther, Description: "Algo que o rastreio ainda não conhece", At: brt("2024-03-06T13:40:00")},
}

func TestNotificationsGolden(t *testing.T) {
	hostile := `<b>tênis & "meia"</b>`
	cases := []struct {
		name string
		got  string
	}{
		{"first_delivered", FirstStatus("QQ850419295BR", "Fone de ouvido", evDelivered, false)},
		{"first_appeared", FirstStatus("LE449872154SE", "", evForeign, true)},
		{"first_tax_due", FirstStatus("LE449872154SE", "casaco", evTax, false)},
		{"first_pickup", FirstStatus("QQ850419295BR", "tênis", evPickup, false)},
		{"events_one", NewEvents("QQ850419295BR", "Fone de ouvido", []tracking.Event{evOut})},
		{"events_several", NewEvents("QQ850419295BR", hostile, []tracking.Event{evPosted, evTransit, evOut, evDelivered})},
		{"events_every_kind", NewEvents("QQ850419295BR", "tênis", journey)},
		{"invalid", InvalidCode("AA123456785BR", hostile)},
		{"expired_not_found", ExpiredNotFound("AA123456785BR", "livro")},
		{"expired_final", ExpiredFinal("QQ850419295BR", "")},
		{"expired_idle", ExpiredIdle("QQ850419295BR", "livro")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Resolve(tc.got, now)
			checkHTML(t, got)
			golden(t, tc.name, got)
		})
	}
}

// checkHTML fails on text Telegram would reject: unescaped person or
// provider text, a date mark left unresolved, or a message over the limit.
func checkHTML(t *testing.T, s string) {
	t.Helper()
	if telegram.TextLen(s) > telegram.MaxTextLen {
		t.Errorf("message is %d long, over %d", telegram.TextLen(s), telegram.MaxTextLen)
	}
	if strings.Contains(s, markSep) {
		t.Errorf("unresolved date mark in %q", s)
	}
	rest := s
	for _, tag := range []string{"<b>", "</b>", "<i>", "</i>", "<code>", "</code>"} {
		rest = strings.ReplaceAll(rest, tag, "")
	}
	if strings.ContainsAny(rest, "<>") {
		t.Errorf("unescaped < or > in %q", s)
	}
	if strings.Contains(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "", "&#34;", "", "&#39;", "").Replace(rest), "&") {
		t.Errorf("unescaped & in %q", s)
	}
}

func TestHeaderLeadsWithDescriptionAndCopyableCode(t *testing.T) {
	got := Resolve(NewEvents("QQ850419295BR", "tênis", []tracking.Event{evOut}), now)
	if first, _, _ := strings.Cut(got, "\n"); first != "📦 <b>tênis</b> · <code>QQ850419295BR</code>" {
		t.Errorf("first line %q", first)
	}
	got = FirstStatus("QQ850419295BR", "", evOut, false)
	if first, _, _ := strings.Cut(got, "\n"); first != "📦 <code>QQ850419295BR</code>" {
		t.Errorf("first line without a description %q", first)
	}
}

func TestNotificationContent(t *testing.T) {
	msg := Resolve(NewEvents("QQ850419295BR", `<x>&`, []tracking.Event{evPosted, evTransit, evTax}), now)
	for _, want := range []string{
		"QQ850419295BR", "&lt;x&gt;&amp;", "São Paulo/SP", "De Cajamar/SP para Niterói/RJ",
		"04/03 às 10:12", "ontem às 18:40", "20/02 às 09:17",
		Info(tracking.KindTaxDue).Emoji, "Minhas Importações", CorreiosSite,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, gone := range []string{"SAO PAULO", "Objeto postado", "por favor aguarde", "Aguardando pagamento"} {
		if strings.Contains(msg, gone) {
			t.Errorf("message repeats %q:\n%s", gone, msg)
		}
	}
	// Oldest first.
	if strings.Index(msg, "10:12") > strings.Index(msg, "18:40") {
		t.Errorf("events not oldest first:\n%s", msg)
	}
	// A description that says more than the label is kept.
	odd := evOut
	odd.Description = "Objeto saiu para entrega ao destinatário - rota 7"
	if m := FirstStatus("X", "", odd, false); !strings.Contains(m, "rota 7") {
		t.Errorf("descricao dropped although it adds to the label:\n%s", m)
	}
}

func TestWhen(t *testing.T) {
	now := brt("2026-03-04T00:30:00") // 03:30 UTC
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{brt("2026-03-04T00:05:00"), "hoje às 00:05"},
		{time.Date(2026, 3, 4, 2, 59, 0, 0, time.UTC), "ontem às 23:59"}, // UTC already the 4th
		{brt("2026-03-03T08:01:00"), "ontem às 08:01"},
		{brt("2026-03-02T14:35:00"), "02/03 às 14:35"},
		{brt("2026-01-01T00:00:00"), "01/01 às 00:00"},
		{brt("2025-12-31T23:59:00"), "31/12/2025 às 23:59"},
		{brt("2026-03-05T10:00:00"), "05/03 às 10:00"}, // a clock ahead: a date, not "hoje"
	} {
		if got := When(tc.at, now); got != tc.want {
			t.Errorf("When(%s) = %q, want %q", tc.at, got, tc.want)
		}
	}
}

func TestResolveAtSendTime(t *testing.T) {
	body := FirstStatus("QQ850419295BR", "", evOut, false)
	if strings.Contains(body, "hoje") || !strings.Contains(body, markSep) {
		t.Fatalf("the date was written before sending: %q", body)
	}
	if got := Resolve(body, brt("2024-03-06T20:00:00")); !strings.Contains(got, "hoje às 08:01") {
		t.Errorf("same day: %q", got)
	}
	if got := Resolve(body, brt("2024-03-09T20:00:00")); !strings.Contains(got, "06/03 às 08:01") || strings.Contains(got, "hoje") {
		t.Errorf("sent days later: %q", got)
	}
	if got := Resolve("sem marca <b>x</b>", now); got != "sem marca <b>x</b>" {
		t.Errorf("text without marks changed: %q", got)
	}
}

func TestPlacesWithAccents(t *testing.T) {
	for in, want := range map[string]string{
		"SAO PAULO/SP":               "São Paulo/SP",
		"NITEROI/RJ":                 "Niterói/RJ",
		"Niteroi/RJ":                 "Niterói/RJ",
		"ALTA FLORESTA D OESTE/RO":   "Alta Floresta D'Oeste/RO",
		"SUECIA":                     "Suécia",
		"ESTADOS UNIDOS":             "Estados Unidos",
		"CTE CAJAMAR":                "Cte Cajamar",
		"UNIDADE INEXISTENTE DO SUL": "Unidade Inexistente do Sul",
		"LUGAR QUALQUER/ZZ":          "Lugar Qualquer/ZZ",
	} {
		if got := Place(in); got != want {
			t.Errorf("Place(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKindsOwnLabels(t *testing.T) {
	seen := map[string]tracking.Kind{}
	for _, k := range []tracking.Kind{tracking.KindCustoms, tracking.KindTaxDue, tracking.KindTaxPaid,
		tracking.KindCustomsCleared, tracking.KindLost, tracking.KindSeized, tracking.KindReturned, tracking.KindReturning} {
		l := Info(k).Label
		if other, dup := seen[l]; dup {
			t.Errorf("%s and %s both read %q", k, other, l)
		}
		seen[l] = k
	}
	for _, k := range []tracking.Kind{tracking.KindLost, tracking.KindSeized, tracking.KindDeliveryFailed,
		tracking.KindReturned, tracking.KindReturning, tracking.KindAwaitingPickup, tracking.KindTaxDue} {
		if advice(tracking.Event{Kind: k}, "X") == "" {
			t.Errorf("%s says nothing on what to do", k)
		}
	}
}

func TestTaxHintSaysHowWhereAndByWhen(t *testing.T) {
	h := TaxHint()
	for _, want := range []string{"app Correios", "Minhas Importações", "idCorreios", "cartão de crédito", "boleto",
		"20 dias", "volta para o remetente", "entrega continua"} {
		if !strings.Contains(h, want) {
			t.Errorf("tax hint lacks %q:\n%s", want, h)
		}
	}
}

func TestPickupSaysWhereWhatAndDeadline(t *testing.T) {
	m := Resolve(FirstStatus("QQ850419295BR", "", evPickup, false), now)
	for _, want := range []string{"Rua Noronha Torrezao, 157 - Santa Rosa, Niterói/RJ", "documento com foto", "volta para o remetente"} {
		if !strings.Contains(m, want) {
			t.Errorf("pickup lacks %q:\n%s", want, m)
		}
	}
	e := evPickup
	e.Detail = "Prazo para retirada: 14/03/2024"
	if m := FirstStatus("X", "", e, false); !strings.Contains(m, "Retire até 14/03/2024") {
		t.Errorf("the provider's deadline is not shown:\n%s", m)
	}
}

func TestNewEventsFitsTelegramLimit(t *testing.T) {
	var evs []tracking.Event
	long := strings.Repeat("ação <&> ", 200) // escaping makes it longer
	for i := 0; i < 60; i++ {
		e := evTransit
		e.At = brt("2023-03-04T18:40:02").Add(time.Duration(i) * time.Hour)
		e.Description = long
		e.Detail = long
		evs = append(evs, e)
	}
	msg := Resolve(NewEvents("QQ850419295BR", strings.Repeat("d", 5000), evs), now)
	checkHTML(t, msg)
	if !strings.Contains(msg, "60 atualizações") || !strings.Contains(msg, "mais antigas não cabem") {
		t.Errorf("overflow not announced:\n%s", msg[:300])
	}
	// The newest event is always shown.
	if !strings.Contains(msg, When(evs[59].At, now)) {
		t.Errorf("newest event missing")
	}
	if strings.Contains(msg, When(evs[0].At, now)) {
		t.Errorf("oldest event shown although it cannot fit")
	}
}
