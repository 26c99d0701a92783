package telegramtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// allowedTags are the tags Telegram's HTML parse mode accepts.
var allowedTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "code": true, "pre": true, "tg-emoji": true, "blockquote": true,
}

// ParseHTML checks s the way Telegram's parse_mode=HTML does (strictly:
// every <, > and & outside a tag or entity is an error, as the Bot API
// documentation demands) and returns the text the person sees.
func ParseHTML(s string) (string, error) {
	plain, _, err := ParseHTMLEntities(s)
	return plain, err
}

// entityTypes maps a tag to the entity Telegram makes of it.
var entityTypes = map[string]string{
	"b": "bold", "strong": "bold", "i": "italic", "em": "italic",
	"u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
	"del": "strikethrough", "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link",
	"code": "code", "pre": "pre", "tg-emoji": "custom_emoji", "blockquote": "blockquote",
}

type openTag struct {
	name, attrs string
	offset      int // UTF-16 units of text before it
}

// ParseHTMLEntities is ParseHTML that also returns the formatting as the
// Bot API reports it in a message's entities: offsets and lengths in
// UTF-16 units, sorted by offset, empty ones dropped, <pre><code
// class="language-x"> as one pre entity with its language.
func ParseHTMLEntities(s string) (string, []tgbotapi.MessageEntity, error) {
	var out strings.Builder
	var stack []openTag
	var ents []tgbotapi.MessageEntity
	n16 := 0 // UTF-16 length of out
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", nil, fmt.Errorf("can't parse entities: Unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+end]
			closing := strings.HasPrefix(tag, "/")
			if closing {
				tag = tag[1:]
			}
			name, attrs, _ := strings.Cut(tag, " ")
			name = strings.ToLower(strings.TrimSpace(name))
			if !allowedTags[name] {
				if closing {
					return "", nil, fmt.Errorf("can't parse entities: Unexpected end tag at byte offset %d", i)
				}
				return "", nil, fmt.Errorf("can't parse entities: Unsupported start tag %q at byte offset %d", name, i)
			}
			if closing {
				if len(stack) == 0 || stack[len(stack)-1].name != name {
					return "", nil, fmt.Errorf("can't parse entities: Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top(stack), name)
				}
				open := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				ents = addEntity(ents, open, n16)
			} else {
				if name == "a" && !strings.Contains(attrs, "href=") {
					return "", nil, fmt.Errorf("can't parse entities: Can't find end tag corresponding to start tag \"a\"")
				}
				if strings.ContainsAny(attrs, "<") {
					return "", nil, fmt.Errorf("can't parse entities: Unclosed start tag at byte offset %d", i)
				}
				stack = append(stack, openTag{name: name, attrs: attrs, offset: n16})
			}
			i += end + 1
		case '>':
			return "", nil, fmt.Errorf("can't parse entities: Unexpected end of name token at byte offset %d", i)
		case '&':
			semi := strings.IndexByte(s[i:], ';')
			if semi < 0 || semi > 10 {
				return "", nil, fmt.Errorf("can't parse entities: Unsupported HTML entity at byte offset %d", i)
			}
			r, ok := entity(s[i+1 : i+semi])
			if !ok {
				return "", nil, fmt.Errorf("can't parse entities: Unsupported HTML entity %q at byte offset %d", s[i:i+semi+1], i)
			}
			out.WriteString(r)
			n16 += utf16Len(r)
			i += semi + 1
		default:
			out.WriteByte(c)
			if c&0xC0 != 0x80 { // a rune starts here
				n16++
				if c >= 0xF0 { // beyond the BMP: a surrogate pair
					n16++
				}
			}
			i++
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("can't parse entities: Can't find end tag corresponding to start tag %q", top(stack))
	}
	sort.SliceStable(ents, func(a, b int) bool {
		if ents[a].Offset != ents[b].Offset {
			return ents[a].Offset < ents[b].Offset
		}
		return ents[a].Length > ents[b].Length
	})
	return out.String(), ents, nil
}

// addEntity records the entity of the tag open closed at offset end.
func addEntity(ents []tgbotapi.MessageEntity, open openTag, end int) []tgbotapi.MessageEntity {
	e := tgbotapi.MessageEntity{Type: entityTypes[open.name], Offset: open.offset, Length: end - open.offset}
	switch open.name {
	case "a":
		e.URL = attr(open.attrs, "href")
	case "blockquote":
		if strings.Contains(" "+open.attrs+" ", " expandable") {
			e.Type = "expandable_blockquote"
		}
	case "code":
		// <pre><code class="language-x">: the language goes to the pre.
		if lang, ok := strings.CutPrefix(attr(open.attrs, "class"), "language-"); ok {
			e.Language = lang
		}
	case "pre":
		// A code with a language right inside becomes the pre's language.
		for i := len(ents) - 1; i >= 0; i-- {
			c := ents[i]
			if c.Type == "code" && c.Offset == e.Offset && c.Length == e.Length {
				e.Language = c.Language
				ents = append(ents[:i], ents[i+1:]...)
				break
			}
		}
	}
	if e.Length <= 0 {
		return ents
	}
	return append(ents, e)
}

// attr is the value of the attribute name in a tag's attributes, quotes
// and entities resolved ("" when absent).
func attr(attrs, name string) string {
	for rest := attrs; rest != ""; {
		rest = strings.TrimLeft(rest, " \t\n")
		k, after, ok := strings.Cut(rest, "=")
		if !ok {
			return ""
		}
		k = strings.ToLower(strings.TrimSpace(k))
		after = strings.TrimLeft(after, " ")
		var v string
		if after != "" && (after[0] == '"' || after[0] == '\'') {
			q := after[0]
			end := strings.IndexByte(after[1:], q)
			if end < 0 {
				return ""
			}
			v, rest = after[1:1+end], after[2+end:]
		} else {
			end := strings.IndexAny(after, " \t\n")
			if end < 0 {
				end = len(after)
			}
			v, rest = after[:end], after[end:]
		}
		if k == name {
			if plain, err := ParseHTML(v); err == nil {
				return plain
			}
			return v
		}
	}
	return ""
}

func top(stack []openTag) string {
	if len(stack) == 0 {
		return ""
	}
	return stack[len(stack)-1].name
}

func entity(name string) (string, bool) {
	switch name {
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "amp":
		return "&", true
	case "quot":
		return `"`, true
	}
	if strings.HasPrefix(name, "#x") || strings.HasPrefix(name, "#X") {
		n, err := strconv.ParseUint(name[2:], 16, 32)
		return string(rune(n)), err == nil
	}
	if strings.HasPrefix(name, "#") {
		n, err := strconv.ParseUint(name[1:], 10, 32)
		return string(rune(n)), err == nil
	}
	return "", false
}

// utf16Len is the length Telegram counts text limits in.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
