package message

import tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

// Callback data of a parcel's buttons (Telegram allows 64 bytes), shared
// by /pacotes and the tracker's notifications; the bot answers them.
const (
	CallbackHistory = "h:"
	CallbackStop    = "d:"
)

// ParcelButtons are a notification's buttons, as /pacotes has them: the
// history and stop tracking.
func ParcelButtons(code string) tgbotapi.InlineKeyboardMarkup {
	return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("📜 Histórico", CallbackHistory+code),
		tgbotapi.NewInlineKeyboardButtonData("🗑 Parar de acompanhar", CallbackStop+code),
	))
}
