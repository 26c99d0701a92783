package message

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// brt is a naive Brasília time, as Correios gives them.
func brt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, Brasilia)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	evPosted = tracking.Event{Codigo: "PO", Tipo: "01", Kind: tracking.KindPosted,
		Description: "Objeto postado", Location: "SAO PAULO/SP", At: brt("2024-03-04T10:12:40")}
	evTransit = tracking.Event{Codigo: "RO", Tipo: "01", Kind: tracking.KindTransit,
		Description: "Objeto em transferência - por favor aguarde",
		Detail:      "de Unidade de Tratamento, SAO PAULO - SP para Unidade de Distribuição, NITEROI - RJ",
		Location:    "SAO PAULO/SP", At: brt("2024-03-04T18:40:02")}
	evOut = tracking.Event{Codigo: "OEC", Tipo: "01", Kind: tracking.KindOutForDelivery,
		Description: "Objeto saiu para entrega ao destinatário", Location: "NITEROI/RJ", At: brt("2024-03-06T08:01:00")}
	evDelivered = tracking.Event{Codigo: "BDE", Tipo: "01", Kind: tracking.KindDelivered,
		Description: "Objeto entregue ao destinatário", Location: "NITEROI/RJ", At: brt("2024-03-06T14:35:10")}
	evTax = tracking.Event{Codigo: "PAR", Tipo: "17", Kind: tracking.KindTaxDue,
		Description: "Aguardando pagamento", Detail: "Acesse o ambiente Minhas Importações",
		Location: "CURITIBA/PR", At: brt("2022-04-20T09:17:55")}
	evForeign = tracking.Event{Codigo: "PO", Tipo: "01", Kind: tracking.KindPosted,
		Description: "Objeto postado", Location: "SWEDEN", At: brt("2022-03-28T11:00:00")}
)

func TestNotificationsGolden(t *testing.T) {
	hostile := `<b>tênis & "meia"</b>`
	cases := []struct {
		name string
		got  string
	}{
		{"first_delivered", FirstStatus("QQ850419295BR", "Fone de ouvido", evDelivered, false)},
		{"first_appeared", FirstStatus("LE449872154SE", "", evForeign, true)},
		{"first_tax_due", FirstStatus("LE449872154SE", "casaco", evTax, false)},
		{"events_one", NewEvents("QQ850419295BR", "Fone de ouvido", []tracking.Event{evDelivered})},
		{"events_several", NewEvents("QQ850419295BR", hostile, []tracking.Event{evPosted, evTransit, evOut, evDelivered})},
		{"invalid", InvalidCode("AA123456785BR", hostile)},
		{"expired_not_found", ExpiredNotFound("AA123456785BR", "livro")},
		{"expired_final", ExpiredFinal("QQ850419295BR", "")},
		{"expired_idle", ExpiredIdle("QQ850419295BR", "livro")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkHTML(t, tc.got)
			golden(t, tc.name, tc.got)
		})
	}
}

// checkHTML fails on text Telegram would reject: unescaped person or
// provider text, or a message over the limit.
func checkHTML(t *testing.T, s string) {
	t.Helper()
	if textLen(s) > MaxMessageLen {
		t.Errorf("message is %d long, over %d", textLen(s), MaxMessageLen)
	}
	rest := s
	for _, tag := range []string{"<b>", "</b>", "<i>", "</i>"} {
		rest = strings.ReplaceAll(rest, tag, "")
	}
	if strings.ContainsAny(rest, "<>") {
		t.Errorf("unescaped < or > in %q", s)
	}
	if strings.Contains(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "", "&#34;", "", "&#39;", "").Replace(rest), "&") {
		t.Errorf("unescaped & in %q", s)
	}
}

func TestNotificationContent(t *testing.T) {
	msg := NewEvents("QQ850419295BR", `<x>&`, []tracking.Event{evPosted, evTransit, evTax})
	for _, want := range []string{
		"QQ850419295BR", "&lt;x&gt;&amp;", "Objeto postado", "Objeto em transferência - por favor aguarde",
		"de Unidade de Tratamento", "SAO PAULO/SP", "04/03/2024 10:12", "04/03/2024 18:40",
		Info(tracking.KindTaxDue).Emoji, "Minhas Importações", CorreiosSite,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// Oldest first.
	if strings.Index(msg, "10:12") > strings.Index(msg, "18:40") {
		t.Errorf("events not oldest first:\n%s", msg)
	}
	// Events carry their own time zone; the message shows Brasília time.
	utc := evPosted
	utc.At = time.Date(2024, 3, 4, 13, 12, 0, 0, time.UTC)
	if m := FirstStatus("X", "", utc, false); !strings.Contains(m, "04/03/2024 10:12") {
		t.Errorf("UTC 13:12 not shown as 10:12 Brasília:\n%s", m)
	}
}

func TestNewEventsFitsTelegramLimit(t *testing.T) {
	var evs []tracking.Event
	long := strings.Repeat("ação <&> ", 200) // escaping makes it longer
	for i := 0; i < 60; i++ {
		e := evTransit
		e.At = evTransit.At.Add(time.Duration(i) * time.Hour)
		e.Description = long
		e.Detail = long
		evs = append(evs, e)
	}
	msg := NewEvents("QQ850419295BR", strings.Repeat("d", 5000), evs)
	checkHTML(t, msg)
	if !strings.Contains(msg, "60 novas atualizações") || !strings.Contains(msg, "mais antigas não cabem") {
		t.Errorf("overflow not announced:\n%s", msg[:300])
	}
	// The newest event is always shown.
	if !strings.Contains(msg, FormatTime(evs[59].At)) {
		t.Errorf("newest event missing")
	}
	if strings.Contains(msg, FormatTime(evs[0].At)) {
		t.Errorf("oldest event shown although it cannot fit")
	}
}
