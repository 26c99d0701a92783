package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
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
	var out strings.Builder
	var stack []string
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("can't parse entities: Unclosed start tag at byte offset %d", i)
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
					return "", fmt.Errorf("can't parse entities: Unexpected end tag at byte offset %d", i)
				}
				return "", fmt.Errorf("can't parse entities: Unsupported start tag %q at byte offset %d", name, i)
			}
			if closing {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", fmt.Errorf("can't parse entities: Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top(stack), name)
				}
				stack = stack[:len(stack)-1]
			} else {
				if name == "a" && !strings.Contains(attrs, "href=") {
					return "", fmt.Errorf("can't parse entities: Can't find end tag corresponding to start tag \"a\"")
				}
				if strings.ContainsAny(attrs, "<") {
					return "", fmt.Errorf("can't parse entities: Unclosed start tag at byte offset %d", i)
				}
				stack = append(stack, name)
			}
			i += end + 1
		case '>':
			return "", fmt.Errorf("can't parse entities: Unexpected end of name token at byte offset %d", i)
		case '&':
			semi := strings.IndexByte(s[i:], ';')
			if semi < 0 || semi > 10 {
				return "", fmt.Errorf("can't parse entities: Unsupported HTML entity at byte offset %d", i)
			}
			r, ok := entity(s[i+1 : i+semi])
			if !ok {
				return "", fmt.Errorf("can't parse entities: Unsupported HTML entity %q at byte offset %d", s[i:i+semi+1], i)
			}
			out.WriteString(r)
			i += semi + 1
		default:
			out.WriteByte(c)
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("can't parse entities: Can't find end tag corresponding to start tag %q", top(stack))
	}
	return out.String(), nil
}

func top(stack []string) string {
	if len(stack) == 0 {
		return ""
	}
	return stack[len(stack)-1]
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
