package message

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/rastreio/rastreio/internal/message/places"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/tracking"
)

// Notifications the tracker sends when a parcel moves. Every value from
// a person or a provider is escaped; every message stays within
// telegram.MaxTextLen, measured on the HTML source. Dates are marks that
// Resolve writes at send time ("hoje às 08:01").

// maxField caps one provider text (descricao, detalhe, place) so a single
// absurd value cannot fill a message.
const maxField = 400

// markSlack bounds how much longer a date gets once resolved, per
// separator (two per mark).
const markSlack = 5

// CorreiosSite is where an import's tax is paid ("Minhas Importações").
const CorreiosSite = "www.correios.com.br"

var fold = places.Key

// Place writes a provider's place for people ("NITEROI/RJ" → "Niterói/RJ").
func Place(loc string) string { return places.Pretty(loc) }

// Header is a parcel's first line: the person's description, when there
// is one, then the code, which a tap copies:
// "📦 <b>tênis</b> · <code>QQ850419295BR</code>".
func Header(emoji, code, desc string) string {
	h := emoji + " "
	if d := strings.TrimSpace(desc); d != "" {
		h += "<b>" + Esc(clip(d, maxField)) + "</b> · "
	}
	return h + "<code>" + Esc(code) + "</code>"
}

// clip shortens s to at most n runes, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// EventLines renders one event: its label, the provider's description
// (unless it merely repeats the label) and detail, where (or from where
// to where) and when (at, the text for the date), and what to do about
// it. The history view shares it with notifications.
func EventLines(e tracking.Event, code, at string) string {
	return eventLines(e, code, at, true)
}

// HistoryLines is EventLines without the advice (the history lists many
// events; what to do is said when they happen).
func HistoryLines(e tracking.Event, at string) string {
	return eventLines(e, "", at, false)
}

func eventLines(e tracking.Event, code, at string, withAdvice bool) string {
	ki := Info(e.Kind)
	var b strings.Builder
	b.WriteString(ki.Emoji + " <b>" + Esc(ki.Label) + "</b>")
	if d := strings.TrimSpace(e.Description); d != "" && !RepeatsLabel(e.Kind, d) {
		b.WriteString("\n" + Esc(clip(d, maxField)))
	}
	if d := strings.TrimSpace(e.Detail); d != "" {
		b.WriteString("\n<i>" + Esc(clip(d, maxField)) + "</i>")
	}
	b.WriteString("\n")
	from, to := Place(e.Location), Place(e.Destination)
	switch {
	case from != "" && to != "" && from != to:
		b.WriteString("📍 De " + Esc(clip(from, maxField)) + " para " + Esc(clip(to, maxField)) + " · ")
	case from != "":
		b.WriteString("📍 " + Esc(clip(from, maxField)) + " · ")
	case to != "":
		b.WriteString("📍 Para " + Esc(clip(to, maxField)) + " · ")
	}
	b.WriteString("🕒 " + at)
	if a := advice(e, code); withAdvice && a != "" {
		b.WriteString("\n" + a)
	}
	return b.String()
}

// eventBlock is EventLines with a date mark (notifications).
func eventBlock(e tracking.Event, code string) string {
	return EventLines(e, code, whenMark(e.At))
}

// advice is what the person can do about an event, or "".
func advice(e tracking.Event, code string) string {
	switch e.Kind {
	case tracking.KindTaxDue:
		return TaxHint()
	case tracking.KindAwaitingPickup:
		return pickupHint(e)
	case tracking.KindTaxPaid:
		return "👉 Agora o pacote segue para entrega; eu aviso aqui quando ele se mexer."
	case tracking.KindDeliveryFailed:
		return "👉 Os Correios tentam entregar de novo. Se ninguém puder receber, o pacote pode ir para uma agência, e eu aviso aqui onde retirar."
	case tracking.KindLost:
		return "👉 Fale com a loja ou com quem enviou: quem postou pede a indenização aos Correios. Você também pode abrir uma reclamação no Fale com os Correios (" + Esc(CorreiosSite) + ") com o código."
	case tracking.KindSeized:
		return "👉 Um órgão de fiscalização (como a Receita Federal) reteve o pacote. Veja o motivo em <b>Minhas Importações</b> no site ou no app dos Correios e fale com a loja."
	case tracking.KindReturning, tracking.KindReturned:
		return "👉 Fale com a loja ou com quem enviou para combinar um novo envio ou o reembolso."
	}
	return ""
}

// TaxHint tells how to pay an import's tax (PAR/17): where, how, with
// what, by when, what happens after the deadline and after paying (see
// testdata/SOURCES.md for where each fact comes from).
func TaxHint() string {
	return "👉 <b>Como pagar:</b> no app Correios ou no site (" + Esc(CorreiosSite) + "), em <b>Minhas Importações</b>: " +
		"entre com sua conta idCorreios e procure este código. Dá para pagar com cartão de crédito ou boleto (o boleto leva de 1 a 3 dias úteis para compensar).\n" +
		"⏰ <b>Prazo:</b> 20 dias corridos desde a liberação pela Receita Federal; a data exata aparece em Minhas Importações. Sem pagamento no prazo, o pacote volta para o remetente.\n" +
		"🚚 Quando o pagamento for confirmado, a entrega continua, e eu aviso aqui."
}

// deadline finds a date ("12/03/2026") in a provider's pickup text.
var deadline = regexp.MustCompile(`\b(\d{2})/(\d{2})/(\d{4})\b`)

// pickupHint says where to pick the parcel up, what to bring and by when.
func pickupHint(e tracking.Event) string {
	var b strings.Builder
	addr := places.Title(strings.TrimSpace(e.Address))
	where := Place(e.Location)
	switch {
	case addr != "" && where != "":
		b.WriteString("👉 <b>Onde retirar:</b> " + Esc(clip(addr, maxField)) + ", " + Esc(where) + "\n")
	case addr != "":
		b.WriteString("👉 <b>Onde retirar:</b> " + Esc(clip(addr, maxField)) + "\n")
	default:
		b.WriteString("👉 <b>Onde retirar:</b> na agência dos Correios indicada no rastreio")
		if where != "" {
			b.WriteString(", em " + Esc(where))
		}
		b.WriteString("\n")
	}
	b.WriteString("🪪 Leve um documento com foto e o código. Outra pessoa pode retirar com uma autorização sua.\n")
	if m := deadline.FindStringSubmatch(e.Detail + " " + e.Description); m != nil {
		b.WriteString("⏰ Retire até " + m[1] + "/" + m[2] + "/" + m[3] + ". Depois disso, o pacote volta para o remetente.")
	} else {
		b.WriteString("⏰ Não demore: o pacote fica guardado só por alguns dias e depois volta para o remetente.")
	}
	return b.String()
}

// FirstStatus is a chat's first message about code: its current status.
// appeared says the code was not found at first and now is.
func FirstStatus(code, desc string, current tracking.Event, appeared bool) string {
	intro := "Situação atual:"
	if appeared {
		intro = "🔎 Apareceu no rastreio! Situação atual:"
	}
	return Header("📦", code, desc) + "\n" + intro + "\n\n" + eventBlock(current, code)
}

// NewEvents announces events (oldest first) of code. When they do not
// all fit in one message, the oldest are left out and counted. It
// renders events from the newest until one does not fit, so a history of
// thousands costs what a full message costs.
func NewEvents(code, desc string, events []tracking.Event) string {
	head := Header("📦", code, desc)
	n := len(events)
	var intro string
	if n > 1 {
		intro = fmt.Sprintf("\n%d atualizações, da mais antiga para a mais nova:", n)
	}
	sep := "\n\n"
	if n == 1 {
		sep = "\n"
	}
	// Walk from the newest, adding each block's cost (a date mark may
	// resolve to a longer text, "04/03/2025 às 14:35": markSlack per
	// separator). sum: head, intro and every block so far; shown: how
	// many of the newest fit with the note counting the others (at least
	// one). The walk stops once even the blocks alone overflow.
	sum := cost(head) + cost(intro)
	blocks := make([]string, 0, min(n, 32)) // newest first
	shown, full := 0, false
	for i := n - 1; i >= 0 && sum <= telegram.MaxTextLen; i-- {
		bl := eventBlock(events[i], code)
		blocks = append(blocks, bl)
		sum += cost(sep) + cost(bl)
		// One more block shown is one fewer counted in the note, whose
		// count gets at most a digit shorter: once a block does not fit,
		// no further one does.
		fits := sum+cost(overflowNote(i)) <= telegram.MaxTextLen
		if !full && (fits || shown == 0) {
			shown = len(blocks)
		}
		full = full || !fits
	}
	if len(blocks) == n && sum <= telegram.MaxTextLen {
		shown = n // all of them, without the note (it may be longer than the oldest block)
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(intro)
	b.WriteString(overflowNote(n - shown))
	for i := shown - 1; i >= 0; i-- {
		b.WriteString(sep)
		b.WriteString(blocks[i])
	}
	return b.String()
}

// overflowNote says how many of the oldest events a notification left out
// ("" for none).
func overflowNote(skipped int) string {
	if skipped == 0 {
		return ""
	}
	return fmt.Sprintf("\n<i>(as %d mais antigas não cabem aqui; toque em 📜 Histórico para ver mais)</i>", skipped)
}

// cost is how much of telegram.MaxTextLen s may take once its date marks
// are resolved.
func cost(s string) int {
	return telegram.TextLen(s) + markSlack*strings.Count(s, markSep)
}

// InvalidCode says the provider calls code invalid and it is no longer
// tracked.
func InvalidCode(code, desc string) string {
	return Header("❌", code, desc) + "\n" +
		"O rastreio diz que este código não existe, então parei de acompanhá-lo. Confira o código no e-mail ou no app da loja e mande o certo."
}

// ExpiredNotFound says code never showed up and left the list.
func ExpiredNotFound(code, desc string) string {
	return Header("⌛", code, desc) + "\n" +
		"Este código não apareceu no rastreio em 30 dias, então parei de acompanhá-lo e ele saiu da lista. Se o pacote ainda não chegou, confira o código no e-mail ou no app da loja e mande de novo."
}

// ExpiredFinal says code was finished (delivered, returned) long ago and
// left the list.
func ExpiredFinal(code, desc string) string {
	return Header("🏁", code, desc) + "\n" +
		"Este pacote terminou o percurso há mais de 30 dias, então saiu da lista."
}

// ExpiredIdle says code had no movement for months and left the list.
func ExpiredIdle(code, desc string) string {
	return Header("⌛", code, desc) + "\n" +
		"Este pacote está sem nenhuma movimentação há 90 dias, então parei de acompanhá-lo e ele saiu da lista. Se ainda estiver esperando, mande o código de novo."
}
