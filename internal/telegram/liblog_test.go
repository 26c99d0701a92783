package telegram_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/telegram"
)

func TestLibraryLogger(t *testing.T) {
	const token = "123456:AAHsecretsecretsecret"
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	var bl tgbotapi.BotLogger = telegram.LibraryLogger(l, func(s string) string { return strings.ReplaceAll(s, token, "<token>") })
	bl.Println("Failed to get updates, retrying in 3 seconds...")
	bl.Printf("%s", errors.New(`Post "https://api.telegram.org/bot`+token+`/getUpdates": dial tcp: i/o timeout`))
	out := buf.String()
	if strings.Contains(out, token) {
		t.Fatalf("token leaked: %q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %q", len(lines), out)
	}
	for _, ln := range lines {
		if !strings.Contains(ln, `level=WARN msg="telegram library" detail=`) {
			t.Errorf("line %q", ln)
		}
	}
	if !strings.Contains(lines[1], "bot<token>/getUpdates") || strings.HasSuffix(lines[0], `\n"`) {
		t.Errorf("lines %q", lines)
	}
}
