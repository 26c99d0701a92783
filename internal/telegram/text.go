package telegram

import "unicode/utf16"

// MaxTextLen is Telegram's limit on one message's text: 4096 UTF-16 code
// units of the text after entity parsing. Measuring the HTML source, which
// is never shorter than the text it parses to, keeps a message under it.
const MaxTextLen = 4096

// TextLen is the length of s as Telegram counts it, in UTF-16 code units:
// 1 for most characters, 2 for those outside the Basic Multilingual Plane
// (most emoji). An invalid UTF-8 byte counts as the 1 unit of U+FFFD.
func TextLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
