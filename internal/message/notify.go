package message

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rastreio/rastreio/internal/tracking"
)

// Notifications the tracker sends when a parcel moves. Every value from
// a person or a provider is escaped; every message stays within
// Telegram's 4096 characters.

// MaxMessageLen is Telegram's limit for a message text, in UTF-16 units
// of the parsed text. Measuring the HTML source (longer than the parsed
// text) keeps us safely under it.
const MaxMessageLen = 4096

// maxField caps one provider text (descricao, detalhe, place) so a single
// absurd value cannot fill a message.
const maxField = 400

// CorreiosSite is where an import's tax is paid ("Minhas Importações").
const CorreiosSite = "www.correios.com.br"

// header is the first line: the code and the chat's description.
func header(emoji, code, desc string) string {
	h := emoji + " <b>" + Esc(code) + "</b>"
	if d := strings.TrimSpace(desc); d != "" {
		h += " — " + Esc(clip(d, maxField))
	}
	return h
}

// clip shortens s to at most n runes, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// textLen is the length Telegram counts (UTF-16 units).
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// eventBlock renders one event: kind, description, detail, place and time.
func eventBlock(e tracking.Event) string {
	ki := Info(e.Kind)
	var b strings.Builder
	b.WriteString(ki.Emoji + " <b>" + Esc(ki.Label) + "</b>")
	if d := strings.TrimSpace(e.Description); d != "" {
		b.WriteString("\n" + Esc(clip(d, maxField)))
	}
	if d := strings.TrimSpace(e.Detail); d != "" {
		b.WriteString("\n<i>" + Esc(clip(d, maxField)) + "</i>")
	}
	b.WriteString("\n")
	if l := strings.TrimSpace(e.Location); l != "" {
		b.WriteString("📍 " + Esc(clip(l, maxField)) + " · ")
	}
	b.WriteString("🕒 " + FormatTime(e.At))
	if e.Kind == tracking.KindTaxDue {
		b.WriteString("\n" + TaxHint())
	}
	return b.String()
}

// TaxHint tells how to pay an import's tax (PAR/17).
func TaxHint() string {
	return "💡 Para pagar, entre no site dos Correios (" + Esc(CorreiosSite) +
		"), em <b>Minhas Importações</b>, com o código do objeto. Depois do pagamento a entrega segue normalmente."
}

// FirstStatus is a chat's first message about code: its current status.
// appeared says the code was not found at first and now is.
func FirstStatus(code, desc string, current tracking.Event, appeared bool) string {
	intro := "Situação atual:"
	if appeared {
		intro = "🔎 Apareceu no rastreio! Situação atual:"
	}
	return header("📦", code, desc) + "\n" + intro + "\n\n" + eventBlock(current)
}

// NewEvents announces events (oldest first) of code. When they do not
// all fit in one message, the oldest are left out and counted.
func NewEvents(code, desc string, events []tracking.Event) string {
	head := header("📦", code, desc)
	blocks := make([]string, len(events))
	for i, e := range events {
		blocks[i] = eventBlock(e)
	}
	for skip := 0; ; skip++ {
		var b strings.Builder
		b.WriteString(head + "\n")
		shown := len(blocks) - skip
		switch {
		case shown == 1 && skip == 0:
			b.WriteString("Nova atualização:")
		default:
			fmt.Fprintf(&b, "%d novas atualizações:", len(blocks))
		}
		if skip > 0 {
			fmt.Fprintf(&b, "\n<i>(as %d mais antigas não cabem aqui; veja o histórico em /pacotes)</i>", skip)
		}
		for _, bl := range blocks[skip:] {
			b.WriteString("\n\n" + bl)
		}
		if out := b.String(); textLen(out) <= MaxMessageLen || shown <= 1 {
			return out
		}
	}
}

// InvalidCode says the provider calls code invalid and it is no longer
// tracked.
func InvalidCode(code, desc string) string {
	return header("❌", code, desc) + "\n" +
		"O rastreamento diz que este código não existe. Confira se foi digitado certo; se não, mande o código correto. Parei de acompanhar este."
}

// ExpiredNotFound says code never showed up and left the list.
func ExpiredNotFound(code, desc string) string {
	return header("⌛", code, desc) + "\n" +
		"Este código não apareceu no rastreio em 30 dias, então parei de acompanhá-lo e ele saiu da sua lista. Se ainda estiver esperando, mande o código de novo."
}

// ExpiredFinal says code was finished (delivered, returned) long ago and
// left the list.
func ExpiredFinal(code, desc string) string {
	return header("🏁", code, desc) + "\n" +
		"Este objeto foi finalizado há mais de 30 dias, então saiu da sua lista de acompanhamento."
}

// ExpiredIdle says code had no movement for months and left the list.
func ExpiredIdle(code, desc string) string {
	return header("⌛", code, desc) + "\n" +
		"Este objeto está sem nenhuma movimentação há 90 dias, então parei de acompanhá-lo e ele saiu da sua lista. Se ainda estiver esperando, mande o código de novo."
}
