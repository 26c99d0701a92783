// Package message holds rastreio's pt-BR texts rendered as Telegram HTML,
// shared by the bot's listings and the tracker's notifications.
package message

import (
	"html"
	"time"

	"github.com/rastreio/rastreio/internal/tracking"
)

// Brasilia is the time zone every date is shown in (UTC−3, no DST since 2019).
var Brasilia = loadBrasilia()

func loadBrasilia() *time.Location {
	if loc, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return loc
	}
	return time.FixedZone("BRT", -3*60*60)
}

// FormatTime renders t as dd/mm/aaaa HH:MM in Brasília time.
func FormatTime(t time.Time) string { return t.In(Brasilia).Format("02/01/2006 15:04") }

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
	tracking.KindCustoms:        {"🛃", "Na alfândega"},
	tracking.KindTaxDue:         {"💰", "Taxa a pagar"},
	tracking.KindOutForDelivery: {"🛵", "Saiu para entrega"},
	tracking.KindDeliveryFailed: {"⚠️", "Entrega não realizada"},
	tracking.KindAwaitingPickup: {"🏤", "Aguardando retirada"},
	tracking.KindDelivered:      {"✅", "Entregue"},
	tracking.KindReturning:      {"↩️", "Voltando ao remetente"},
	tracking.KindReturned:       {"↩️", "Devolvido ao remetente"},
	tracking.KindLost:           {"🚨", "Extraviado ou roubado"},
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
