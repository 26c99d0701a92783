// Package message holds rastreio's pt-BR texts rendered as Telegram HTML,
// shared by the bot's listings and the tracker's notifications. Words:
// "pacote" is the parcel, "código" its code, "rastreio" the service.
package message

import (
	"html"

	"github.com/rastreio/rastreio/internal/tracking"
)

// Esc escapes user or provider text for Telegram HTML.
func Esc(s string) string { return html.EscapeString(s) }

// KindInfo is how a kind of event is shown.
type KindInfo struct {
	Emoji string
	Label string // short pt-BR label
}

var kinds = map[tracking.Kind]KindInfo{
	tracking.KindLabel:          {"🏷️", "Etiqueta emitida"},
	tracking.KindPosted:         {"📮", "Postado"},
	tracking.KindTransit:        {"🚚", "Em trânsito"},
	tracking.KindArrivedBrazil:  {"🇧🇷", "Chegou ao Brasil"},
	tracking.KindCustoms:        {"🛃", "Na fiscalização aduaneira"},
	tracking.KindTaxDue:         {"💰", "Taxa a pagar"},
	tracking.KindTaxPaid:        {"💳", "Pagamento confirmado"},
	tracking.KindCustomsCleared: {"🛃", "Liberado pela alfândega"},
	tracking.KindOutForDelivery: {"🛵", "Saiu para entrega"},
	tracking.KindDeliveryFailed: {"⚠️", "Entrega não realizada"},
	tracking.KindAwaitingPickup: {"🏤", "Aguardando retirada"},
	tracking.KindDelivered:      {"✅", "Entregue"},
	tracking.KindReturning:      {"↩️", "Voltando ao remetente"},
	tracking.KindReturned:       {"↩️", "Devolvido ao remetente"},
	tracking.KindLost:           {"🚨", "Extraviado ou roubado"},
	tracking.KindSeized:         {"⛔", "Apreendido pela fiscalização"},
	tracking.KindCorrection:     {"✏️", "Correção"},
	tracking.KindOther:          {"📦", "Atualização"},
}

// Info returns how kind k is shown; unknown kinds show as an update.
func Info(k tracking.Kind) KindInfo {
	if ki, ok := kinds[k]; ok {
		return ki
	}
	return kinds[tracking.KindOther]
}

// redundant are the Correios descricao texts (folded, see same) that say
// no more than the label of their kind: shown, they would say it twice.
var redundant = map[tracking.Kind][]string{
	tracking.KindLabel:          {"Etiqueta emitida"},
	tracking.KindPosted:         {"Objeto postado"},
	tracking.KindTransit:        {"Objeto em trânsito - por favor aguarde", "Objeto em transferência - por favor aguarde", "Objeto em trânsito", "Objeto em transferência"},
	tracking.KindArrivedBrazil:  {"Objeto recebido pelos Correios do Brasil"},
	tracking.KindCustoms:        {"Encaminhado para fiscalização aduaneira"},
	tracking.KindTaxDue:         {"Aguardando pagamento"},
	tracking.KindTaxPaid:        {"Pagamento confirmado"},
	tracking.KindCustomsCleared: {"Fiscalização aduaneira finalizada"},
	tracking.KindOutForDelivery: {"Objeto saiu para entrega ao destinatário", "Objeto em rota de entrega"},
	tracking.KindAwaitingPickup: {"Objeto aguardando retirada no endereço indicado"},
	tracking.KindDelivered:      {"Objeto entregue ao destinatário"},
	tracking.KindReturned:       {"Objeto entregue ao remetente", "Objeto devolvido ao remetente"},
}

// RepeatsLabel reports whether a provider's description says no more
// than the label of kind k.
func RepeatsLabel(k tracking.Kind, desc string) bool {
	d := fold(desc)
	if d == fold(Info(k).Label) || d == fold("Objeto "+Info(k).Label) {
		return true
	}
	for _, r := range redundant[k] {
		if d == fold(r) {
			return true
		}
	}
	return false
}
