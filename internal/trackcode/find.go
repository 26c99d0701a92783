package trackcode

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPerMessage is how many codes Find takes from one message.
const MaxPerMessage = 50

// MaxDescriptionLen bounds a description, in characters.
const MaxDescriptionLen = 100

// Found is a code in a message with the description that goes with it.
type Found struct {
	Code        string // normalised: upper-case, no spaces
	Description string
}

// Findings is what Find read in a message.
type Findings struct {
	Codes     []Found  // valid codes, first occurrence order, no repeats
	Mistyped  []string // code-shaped but the check digit does not match
	Truncated bool     // more than MaxPerMessage valid codes; the rest was dropped
}

// codeRE finds code-shaped text: two letters, nine digits, two letters,
// in any case, with an optional space between the letters and the digits
// (people copy "QQ 850419295 BR" from receipts). Letters or digits glued
// to either end make it not a code.
var codeRE = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}])([a-z]{2}) ?([0-9]{9}) ?([a-z]{2})(?:$|[^\p{L}\p{N}])`)

// Find finds every tracking code in a free-text message. Each code's
// description is the text on its line without the codes; in a one-line
// message that is the rest of the message, shared by its codes. A code
// seen twice keeps its first position and the first non-empty
// description.
func Find(text string) Findings {
	var f Findings
	seen := map[string]int{}
	mistyped := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		matches := findLine(line)
		if len(matches) == 0 {
			continue
		}
		desc := describe(line, matches)
		for _, m := range matches {
			code, err := Parse(m.code)
			if err == ErrCheckDigit {
				if !mistyped[code] {
					mistyped[code] = true
					f.Mistyped = append(f.Mistyped, code)
				}
				continue
			}
			if err != nil {
				continue
			}
			if i, ok := seen[code]; ok {
				if f.Codes[i].Description == "" {
					f.Codes[i].Description = desc
				}
				continue
			}
			if len(f.Codes) == MaxPerMessage {
				f.Truncated = true
				continue
			}
			seen[code] = len(f.Codes)
			f.Codes = append(f.Codes, Found{Code: code, Description: desc})
		}
	}
	return f
}

type lineMatch struct {
	code       string // letters+digits+letters, spaces removed
	start, end int    // byte span of the code in the line
}

// findLine returns the code-shaped spans of line. Matches may share the
// separator between two codes, so the search restarts at each code's end.
func findLine(line string) []lineMatch {
	var out []lineMatch
	for pos := 0; pos < len(line); {
		loc := codeRE.FindStringSubmatchIndex(line[pos:])
		if loc == nil {
			break
		}
		start, end := pos+loc[2], pos+loc[7]
		code := line[pos+loc[2]:pos+loc[3]] + line[pos+loc[4]:pos+loc[5]] + line[pos+loc[6]:pos+loc[7]]
		out = append(out, lineMatch{code: code, start: start, end: end})
		pos = end
	}
	return out
}

// describe is line without its codes, tidied: separators people put
// between a code and its name (" - ", ":", ",") trimmed next to each
// removed code, runs of spaces collapsed, capped at MaxDescriptionLen.
func describe(line string, ms []lineMatch) string {
	var parts []string
	last := 0
	for i := 0; i <= len(ms); i++ {
		end := len(line)
		if i < len(ms) {
			end = ms[i].start
		}
		p := line[last:end]
		if i > 0 {
			p = strings.TrimLeftFunc(p, isSeparator) // after a code
		}
		if i < len(ms) {
			p = strings.TrimRightFunc(p, isSeparator) // before a code
			last = ms[i].end
		}
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	s := strings.ToValidUTF8(strings.Join(parts, " "), "")
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	if utf8.RuneCountInString(s) > MaxDescriptionLen {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:MaxDescriptionLen-1])) + "…"
	}
	return s
}

func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("-–—:;,|=·•*", r)
}
