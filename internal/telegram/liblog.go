package telegram

import (
	"fmt"
	"log/slog"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// LibraryLogger adapts logger to the Telegram library's package logger,
// for tgbotapi.SetLogger: each line becomes a Warn entry "telegram
// library" with the text in detail, after redact (the library's network
// errors carry the bot token in the URL: pass a func that scrubs it, e.g.
// Redact with the token). A nil redact keeps the text as is.
func LibraryLogger(logger *slog.Logger, redact func(string) string) tgbotapi.BotLogger {
	return tgLogger{l: logger, redact: redact}
}

type tgLogger struct {
	l      *slog.Logger
	redact func(string) string
}

func (t tgLogger) Println(v ...any)               { t.log(fmt.Sprintln(v...)) }
func (t tgLogger) Printf(format string, v ...any) { t.log(fmt.Sprintf(format, v...)) }

func (t tgLogger) log(s string) {
	s = strings.TrimSpace(s)
	if t.redact != nil {
		s = t.redact(s)
	}
	t.l.Warn("telegram library", slog.String("detail", s))
}
