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

// codeRE finds code-shaped text as people write it: two letters, nine
// digits, two letters, in any case, glued ("QQ850419295BR") or with
// spaces between the letters and the digits and between groups of three
// digits ("DZ 087 632 119 BR", "qq850 419 295br"). Letters or digits
// glued to either end make it not a code. Groups 1 and 5 are the
// letters, 2–4 the digits; the spans between them tell a spaced form.
var codeRE = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}])([a-z]{2})` + sp + `([0-9]{3})` + sp + `([0-9]{3})` + sp + `([0-9]{3})` + sp + `([a-z]{2})(?:$|[^\p{L}\p{N}])`)

// sp is what may separate the parts of a code: nothing, or one to three
// spaces (the no-break spaces of text copied from a web page included).
const sp = `[ \x{00A0}\x{202F}]{0,3}`

// Find finds every tracking code in a free-text message. Each code's
// description is the text on its line without the codes, links, and the
// quotes, brackets, bullets and emoji around them; in a one-line message
// that is the rest of the message, shared by its codes. A code seen
// twice keeps its first position and the first non-empty description.
//
// A code written with spaces inside counts only when its check digit
// matches and its last two letters name a country, unless it is alone
// on its line: "ligue no 98765 4321" or "RG 123456789 SP" in a sentence
// must not become codes, nor mistyped ones.
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
			if m.bad {
				if !mistyped[m.code] {
					mistyped[m.code] = true
					f.Mistyped = append(f.Mistyped, m.code)
				}
				continue
			}
			if i, ok := seen[m.code]; ok {
				if f.Codes[i].Description == "" {
					f.Codes[i].Description = desc
				}
				continue
			}
			if len(f.Codes) == MaxPerMessage {
				f.Truncated = true
				continue
			}
			seen[m.code] = len(f.Codes)
			f.Codes = append(f.Codes, Found{Code: m.code, Description: desc})
		}
	}
	return f
}

type lineMatch struct {
	code       string // normalised: letters+digits+letters, upper case
	bad        bool   // the check digit does not match
	start, end int    // byte span of the code in the line
}

// findLine returns the codes of line, valid or mistyped. Matches may
// share the separator between two codes, so the search restarts at each
// code's end; a spaced candidate that is refused restarts just after its
// first letter, so a glued code that overlaps it is still found.
func findLine(line string) []lineMatch {
	var out []lineMatch
	for pos := 0; pos < len(line); {
		loc := codeRE.FindStringSubmatchIndex(line[pos:])
		if loc == nil {
			break
		}
		for i := range loc {
			loc[i] += pos
		}
		start, end := loc[2], loc[11]
		code := strings.ToUpper(line[loc[2]:loc[3]] + line[loc[4]:loc[5]] + line[loc[6]:loc[7]] + line[loc[8]:loc[9]] + line[loc[10]:loc[11]])
		_, err := Parse(code)
		ok := err == nil
		if end-start != Len && !alone(line, start, end) {
			// Spaced, in a sentence: only a checked code with a country's
			// letters, written in capitals or with its digits in groups of
			// three, counts; anything else is left alone, not called
			// mistyped ("no 987654321 se", "RG 123456789 SP").
			letters := line[loc[2]:loc[3]] + line[loc[10]:loc[11]]
			grouped := loc[5] < loc[6] && loc[7] < loc[8]
			if !ok || !isCountry(code[11:]) || (letters != strings.ToUpper(letters) && !grouped) {
				pos = start + 1
				continue
			}
		}
		out = append(out, lineMatch{code: code, bad: !ok, start: start, end: end})
		pos = end
	}
	return out
}

// alone reports whether line holds nothing but the code at [start, end),
// give or take the bullets, quotes, brackets and emoji around it.
func alone(line string, start, end int) bool {
	return tidy(trimNumbering(line[:start]), true, true) == "" && tidy(line[end:], true, true) == ""
}

// describe is line without its codes and links, each remaining piece
// tidied (see tidy), the pieces joined by a space and capped at
// MaxDescriptionLen. A piece ending in ":" that only announces the code
// ("Segue o código:", "Código de rastreio:") is left out.
func describe(line string, ms []lineMatch) string {
	cut := make([][2]int, 0, len(ms))
	for _, m := range ms {
		cut = append(cut, [2]int{m.start, m.end})
	}
	cut = mergeSpans(append(cut, linkSpans(line)...))
	var parts []string
	last := 0
	for i := 0; i <= len(cut); i++ {
		end := len(line)
		if i < len(cut) {
			end = cut[i][0]
		}
		p := line[last:end]
		if i < len(cut) {
			last = cut[i][1]
		}
		if i == 0 {
			p = trimNumbering(p)
		}
		if strings.HasSuffix(strings.TrimRightFunc(p, unicode.IsSpace), ":") {
			p = dropLeadIn(p)
		}
		// Separators go next to a code or link and at the line's start
		// (bullets); at its end they may be the name's ("&lt;b&gt;").
		if p = tidy(p, true, i < len(cut)); p != "" {
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

// linkRE is a word that is a link or part of one: a scheme, "www.", a
// host followed by a path or query ("t.me/bot?start=…",
// "linkcorreios.com.br/?id=…"), a bare host on a known domain, or
// anything carrying a query string ("index.php?objetos=…"). A link can
// carry someone's token: no part of it may become a description.
var linkRE = regexp.MustCompile(`(?i)^[^\p{L}\p{N}]*(?:.*://|www\.|[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}[\p{L}\p{N}-]*[/?#]|[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.(?:com|net|org|br|me|io|app|ly|gl|co|info|site|store|shop|link)(?:$|[^\p{L}\p{N}])|.*[?&][^=\s]*=)`)

// linkSpans returns the byte spans of line's words (runs of non-space)
// that are links.
func linkSpans(line string) [][2]int {
	var out [][2]int
	start := -1
	for i, r := range line + " " {
		if unicode.IsSpace(r) {
			if start >= 0 && linkRE.MatchString(line[start:i]) {
				out = append(out, [2]int{start, i})
			}
			start = -1
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

// mergeSpans sorts spans and merges the ones that overlap.
func mergeSpans(s [][2]int) [][2]int {
	for i := 1; i < len(s); i++ { // insertion sort: a handful of spans
		for j := i; j > 0 && s[j][0] < s[j-1][0]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	var out [][2]int
	for _, v := range s {
		if n := len(out); n > 0 && v[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], v[1])
			continue
		}
		out = append(out, v)
	}
	return out
}

// numberingRE is a list's numbering at the start of a line: "1.", "2)",
// "3 -", "1️⃣".
var numberingRE = regexp.MustCompile(`^\s*(?:\d{1,3}\s*[.)º°-]|\d\x{FE0F}?\x{20E3})(?:\s|$)`)

func trimNumbering(s string) string {
	if loc := numberingRE.FindStringIndex(s); loc != nil {
		return s[loc[1]:]
	}
	return s
}

// leadIns are words of a text that only announces a code.
var leadIns = []string{
	"código", "codigo", "códigos", "codigos", "cód", "cod", "rastreio", "rastreios",
	"rastreamento", "rastrear", "tracking", "objeto", "objetos", "segue", "seguem",
	"aqui", "eis", "abaixo", "número", "numero", "nº", "n°", "n", "link",
}

// dropLeadIn removes from the end of p (which ends in ":") the clauses
// that only announce the code: "Tênis - código:" keeps "Tênis", "Segue o
// código de rastreio:" and "Cód. rastreio:" are nothing; "Tênis:" is a
// name and stays.
func dropLeadIn(p string) string {
	body := p
	for {
		body = strings.TrimRightFunc(body, func(r rune) bool { return isSeparator(r) || strings.ContainsRune(".!?", r) })
		if body == "" {
			return ""
		}
		cut := strings.LastIndexAny(body, ".!?;|–—•")
		if i := strings.LastIndex(body, " - "); i > cut {
			cut = i
		}
		if !announces(body[cut+1:]) {
			if body == strings.TrimRightFunc(p, func(r rune) bool { return unicode.IsSpace(r) || r == ':' }) {
				return p // nothing dropped
			}
			return body
		}
		if cut < 0 {
			return ""
		}
		body = body[:cut+1]
	}
}

// announces reports whether clause has a word of leadIns.
func announces(clause string) bool {
	words := strings.FieldsFunc(strings.ToLower(clause), func(r rune) bool { return !unicode.IsLetter(r) && r != '°' })
	for _, w := range words {
		for _, l := range leadIns {
			if w == l {
				return true
			}
		}
	}
	return false
}

// tidy trims from both ends of s what is not part of a name: spaces,
// emoji, unpaired quotes and brackets, quotes or brackets wrapping all
// of it, and separators and bullets on the sides asked for.
func tidy(s string, left, right bool) string {
	for {
		s = strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || isEmoji(r) || left && isSeparator(r) })
		s = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsSpace(r) || isEmoji(r) || right && isSeparator(r) })
		if s == "" {
			return ""
		}
		first, n := utf8.DecodeRuneInString(s)
		lastR, m := utf8.DecodeLastRuneInString(s)
		inner, body := s[n:], s[:len(s)-m]
		switch {
		case len(s) > n && isOpen(first) && closerOf(first) == lastR &&
			!strings.ContainsRune(s[n:len(s)-m], first) && !strings.ContainsRune(s[n:len(s)-m], lastR):
			s = s[n : len(s)-m] // "(tênis)", "«livro»", "'caneca'"
		case isQuote(first) && strings.Count(s, string(first))%2 == 1:
			s = inner
		case isQuote(lastR) && strings.Count(s, string(lastR))%2 == 1:
			s = body
		case isQuote(first) || isQuote(lastR):
			return s // balanced straight quotes: 'tênis "azul"'
		case isOpen(first) && !strings.ContainsRune(inner, closerOf(first)):
			s = inner
		case isClose(first):
			s = inner
		case isClose(lastR) && !strings.ContainsRune(body, openerOf(lastR)):
			s = body
		case isOpen(lastR):
			s = body
		default:
			return s
		}
	}
}

// pairs are the quotes and brackets people wrap codes and names in, as
// opener, closer. Straight quotes are both.
var pairs = []string{`""`, "''", "``", "“”", "‘’", "«»", "‹›", "„“", "()", "[]", "{}", "<>"}

func isOpen(r rune) bool { return closerOf(r) != 0 }

// isQuote reports whether r is a quote that both opens and closes.
func isQuote(r rune) bool { return r != 0 && closerOf(r) == r }

func isClose(r rune) bool { return openerOf(r) != 0 && closerOf(r) == 0 }

func closerOf(r rune) rune {
	for _, p := range pairs {
		rs := []rune(p)
		if rs[0] == r {
			return rs[1]
		}
	}
	return 0
}

func openerOf(r rune) rune {
	for _, p := range pairs {
		rs := []rune(p)
		if rs[1] == r {
			return rs[0]
		}
	}
	return 0
}

func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("-–—:;,|=·•*‣◦▪▫►▸→⇒➜", r)
}

// isEmoji reports whether r is an emoji or a piece of one (variation
// selectors, joiners, skin tones, keycaps, tags).
func isEmoji(r rune) bool {
	switch {
	case unicode.Is(unicode.So, r), unicode.Is(unicode.Sk, r) && r >= 0x1F3FB:
		return true
	case r == 0x200D, r == 0x20E3, r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0020 && r <= 0xE007F:
		return true
	}
	return false
}

// isCountry reports whether cc is an ISO 3166-1 alpha-2 code, the last
// two letters of an S10 code.
func isCountry(cc string) bool {
	return len(cc) == 2 && strings.Contains(countries, " "+cc+" ")
}

// countries are the ISO 3166-1 alpha-2 codes (from the tz database's
// iso3166.tab, public domain).
const countries = " AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "
