package demo

import (
	"html"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// RenderEntities turns a message's text and entities (what a Telegram
// client receives) into safe HTML for the page, as a client draws it:
// bold, italic, underline, strikethrough, spoiler, code, pre, links,
// blockquotes; in plain runs, URLs and /commands become links, as
// Telegram's clients make them. Everything else is escaped.
func RenderEntities(text string, ents []tgbotapi.MessageEntity) string {
	u := utf16.Encode([]rune(text))
	ents = append([]tgbotapi.MessageEntity(nil), ents...)
	sort.SliceStable(ents, func(a, b int) bool {
		if ents[a].Offset != ents[b].Offset {
			return ents[a].Offset < ents[b].Offset
		}
		return ents[a].Length > ents[b].Length
	})
	var b strings.Builder
	var stack []int // indexes into ents, open now
	pos := 0
	plainDepth := 0 // >0 inside code, pre or a link: no linkifying
	flush := func(to int) {
		if to > len(u) {
			to = len(u)
		}
		if to <= pos {
			return
		}
		seg := string(utf16.Decode(u[pos:to]))
		if plainDepth > 0 {
			b.WriteString(html.EscapeString(seg))
		} else {
			b.WriteString(linkify(seg))
		}
		pos = to
	}
	literal := func(e tgbotapi.MessageEntity) bool {
		return e.Type == "code" || e.Type == "pre" || e.Type == "text_link" || e.Type == "url"
	}
	closeTop := func() {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		b.WriteString(closeTag(ents[i]))
		if literal(ents[i]) {
			plainDepth--
		}
	}
	openOne := func(i int) {
		stack = append(stack, i)
		b.WriteString(openTag(ents[i]))
		if literal(ents[i]) {
			plainDepth++
		}
	}
	next := 0
	for {
		// The nearest boundary: the end of an open entity or the start
		// of the next one.
		at := len(u)
		for _, i := range stack {
			if end := ents[i].Offset + ents[i].Length; end < at {
				at = end
			}
		}
		if next < len(ents) && ents[next].Offset < at {
			at = ents[next].Offset
		}
		flush(at)
		// Close what ends here; an entity ending under one that goes on
		// closes those above it and opens them again (overlaps).
		for {
			k := -1
			for j, i := range stack {
				if ents[i].Offset+ents[i].Length <= at {
					k = j
					break
				}
			}
			if k < 0 {
				break
			}
			reopen := append([]int(nil), stack[k+1:]...)
			for len(stack) > k {
				closeTop()
			}
			for _, i := range reopen {
				if ents[i].Offset+ents[i].Length > at {
					openOne(i)
				}
			}
		}
		for next < len(ents) && ents[next].Offset <= at {
			if ents[next].Length > 0 && ents[next].Offset >= 0 {
				openOne(next)
			}
			next++
		}
		if at >= len(u) && next >= len(ents) {
			break
		}
	}
	flush(len(u))
	for len(stack) > 0 {
		closeTop()
	}
	return b.String()
}

func openTag(e tgbotapi.MessageEntity) string {
	switch e.Type {
	case "bold":
		return "<b>"
	case "italic":
		return "<i>"
	case "underline":
		return "<u>"
	case "strikethrough":
		return "<s>"
	case "spoiler":
		return `<span class="spoiler" title="mostrar">`
	case "code":
		return "<code>"
	case "pre":
		if e.Language != "" {
			return `<pre data-lang="` + html.EscapeString(e.Language) + `"><code>`
		}
		return "<pre><code>"
	case "text_link":
		if safeURL(e.URL) {
			return `<a href="` + html.EscapeString(e.URL) + `" target="_blank" rel="noopener noreferrer">`
		}
		return `<span class="link">`
	case "blockquote":
		return "<blockquote>"
	case "expandable_blockquote":
		return `<blockquote class="expandable">`
	}
	return "<span>"
}

func closeTag(e tgbotapi.MessageEntity) string {
	switch e.Type {
	case "bold":
		return "</b>"
	case "italic":
		return "</i>"
	case "underline":
		return "</u>"
	case "strikethrough":
		return "</s>"
	case "code":
		return "</code>"
	case "pre":
		return "</code></pre>"
	case "text_link":
		if safeURL(e.URL) {
			return "</a>"
		}
	case "blockquote", "expandable_blockquote":
		return "</blockquote>"
	}
	return "</span>"
}

func safeURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto", "tg":
		return true
	}
	return false
}

// autoLink finds what clients turn into links in plain text: URLs, and
// /commands at a word's start.
var autoLink = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)]|(?:^|[\s(])(/[A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?\b`)

func linkify(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range autoLink.FindAllStringSubmatchIndex(s, -1) {
		start, end := m[0], m[1]
		if m[2] >= 0 { // a command: the group leaves out the space before it
			start = m[2]
			b.WriteString(html.EscapeString(s[last:start]))
			cmd := s[start:end]
			b.WriteString(`<a class="cmd" href="#" data-cmd="` + html.EscapeString(cmd) + `">` + html.EscapeString(cmd) + `</a>`)
		} else {
			b.WriteString(html.EscapeString(s[last:start]))
			u := s[start:end]
			b.WriteString(`<a href="` + html.EscapeString(u) + `" target="_blank" rel="noopener noreferrer">` + html.EscapeString(u) + `</a>`)
		}
		last = end
	}
	b.WriteString(html.EscapeString(s[last:]))
	return b.String()
}
