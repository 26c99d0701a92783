package telegram_test

import (
	"strings"
	"testing"

	"github.com/rastreio/rastreio/internal/telegram"
)

func TestTextLen(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"AA123456785BR", 13},
		{"descrição", 9},          // 2-byte UTF-8, 1 unit each
		{"📦 <b>x</b>", 2 + 1 + 8}, // an emoji outside the BMP is 2 units
		{"🇧🇷", 4},                 // a flag is two regional indicators
		{"a\xffb", 3},             // an invalid byte is U+FFFD, 1 unit
		{strings.Repeat("é", 5000), 5000},
	}
	for _, tc := range tests {
		if got := telegram.TextLen(tc.s); got != tc.want {
			t.Errorf("TextLen(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}
