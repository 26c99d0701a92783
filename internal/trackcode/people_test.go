package trackcode

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFindAsPeopleWrite reads messages as people send them: codes copied
// from a receipt in groups of three, spaced anywhere, quoted, bracketed,
// in a list, inside a link, after a lead-in ending in ":". The phrasing
// follows what shops send and what people write in forums and complaint
// sites ("Segue o código de rastreio:", "Seu pedido foi enviado!",
// Correios' own "SS123456789BR; SS…" lists).
func TestFindAsPeopleWrite(t *testing.T) {
	type fc = Found
	const q, h = "QQ850419295BR", "QH991577104BR"
	for _, tc := range []struct {
		name     string
		in       string
		want     []fc
		mistyped []string
	}{
		// Spaced forms.
		{"groups of three", "DZ 087 632 119 BR", []fc{{"DZ087632119BR", ""}}, nil},
		{"groups of three with a name", "DZ 087 632 119 BR - fone de ouvido", []fc{{"DZ087632119BR", "fone de ouvido"}}, nil},
		{"lower case, glued letters", "qq850 419 295br", []fc{{q, ""}}, nil},
		{"spaced around the digits", "QQ 850419295 BR", []fc{{q, ""}}, nil},
		{"spaced in a sentence", "oi, o código é QQ 850 419 295 BR obrigada", []fc{{q, "oi, o código é obrigada"}}, nil},
		{"no-break spaces from a web page", "QQ\u00a0850\u00a0419\u00a0295\u00a0BR livro", []fc{{q, "livro"}}, nil},
		{"two spaced codes on a line", "QQ 850 419 295 BR e QH 991 577 104 BR", []fc{{q, "e"}, {h, "e"}}, nil},
		{"spaced and mistyped, alone", "QQ 850 419 294 BR", nil, []string{"QQ850419294BR"}},
		{"spaced and mistyped, alone in quotes", `"qq 850419294 br"`, nil, []string{"QQ850419294BR"}},
		{"glued and mistyped in a sentence", "meu código QQ850419294BR", nil, []string{"QQ850419294BR"}},

		// What must not become a code.
		{"spaced and mistyped in a sentence", "meu código é QQ 850419294 BR", nil, nil},
		{"phone after a short word", "me liga no 987654321 se precisar", nil, nil},
		{"phone in groups", "meu zap é 11 98765 4321 ok", nil, nil},
		{"RG and state", "RG 123456789 SP, CPF 123.456.789-09", nil, nil},
		{"CPF glued to letters", "cpf12345678909br", nil, nil},
		{"checked digit, not a country, in a sentence", "ligue no 850419295 ok?", nil, nil},
		{"lower-case words around nine digits", "o pix de 850419295 br veio", nil, nil},
		{"too many spaces", "QQ    850419295    BR", nil, nil},
		{"groups of four", "QQ 8504 1929 5BR", nil, nil},

		// Quotes, brackets, bullets, emoji.
		{"quoted in a sentence", `O meu código é "QQ850419295BR", eu li no site`, []fc{{q, "O meu código é eu li no site"}}, nil},
		{"quoted alone", `"QQ850419295BR"`, []fc{{q, ""}}, nil},
		{"curly quotes", "“QQ850419295BR” presente da Ana", []fc{{q, "presente da Ana"}}, nil},
		{"guillemets", "«QQ850419295BR» livro", []fc{{q, "livro"}}, nil},
		{"parentheses", "(QQ850419295BR)", []fc{{q, ""}}, nil},
		{"brackets and a name", "[QQ850419295BR] capinha", []fc{{q, "capinha"}}, nil},
		{"name in parentheses", "QQ850419295BR (tênis)", []fc{{q, "tênis"}}, nil},
		{"parentheses inside the name kept", "pedido #123 (loja) QQ850419295BR", []fc{{q, "pedido #123 (loja)"}}, nil},
		{"quotes inside the name kept", `tênis "azul" QQ850419295BR`, []fc{{q, `tênis "azul"`}}, nil},
		{"bullet list", "• QQ850419295BR tênis\n- QH991577104BR caneca\n* DG049186226BR\n· LE449872154SE livro",
			[]fc{{q, "tênis"}, {h, "caneca"}, {"DG049186226BR", ""}, {"LE449872154SE", "livro"}}, nil},
		{"numbered list", "1. QQ850419295BR tênis\n2) QH991577104BR caneca\n3 - DG049186226BR\n1️⃣ LE449872154SE livro",
			[]fc{{q, "tênis"}, {h, "caneca"}, {"DG049186226BR", ""}, {"LE449872154SE", "livro"}}, nil},
		{"a number that is a name", "2 camisetas QQ850419295BR", []fc{{q, "2 camisetas"}}, nil},
		{"emoji around", "📦 QQ850419295BR 👟 tênis novo 😍🙏🏽", []fc{{q, "tênis novo"}}, nil},
		{"emoji inside kept", "QQ850419295BR fone 🎧 bluetooth", []fc{{q, "fone 🎧 bluetooth"}}, nil},
		{"only emoji", "QQ850419295BR ✅", []fc{{q, ""}}, nil},
		{"arrow", "tênis → QQ850419295BR", []fc{{q, "tênis"}}, nil},

		// Lead-ins ending in ":".
		{"segue o código", "Segue o código: QQ850419295BR", []fc{{q, ""}}, nil},
		{"lead-in on its own line", "Segue o código de rastreio:\nQQ850419295BR", []fc{{q, ""}}, nil},
		{"shop's message", "Olá! Seu pedido foi enviado. Código de rastreio: QQ850419295BR", []fc{{q, "Olá! Seu pedido foi enviado"}}, nil},
		{"abbreviated lead-in", "Cód. rastreio: QQ850419295BR", []fc{{q, ""}}, nil},
		{"name then lead-in", "Tênis - código: QQ850419295BR", []fc{{q, "Tênis"}}, nil},
		{"a name before the colon", "Tênis: QQ850419295BR", []fc{{q, "Tênis"}}, nil},
		{"codes after a lead-in", "Códigos: QQ850419295BR; QH991577104BR", []fc{{q, ""}, {h, ""}}, nil},
		{"Correios' list", "SS123456785BR; QQ850419295BR", []fc{{"SS123456785BR", ""}, {q, ""}}, nil},

		// Links: the code is read, no part of the link is a description.
		{"Correios' page", "https://rastreamento.correios.com.br/app/index.php?objetos=QQ850419295BR", []fc{{q, ""}}, nil},
		{"link with words", "olha o rastreio https://www.linkcorreios.com.br/?id=QQ850419295BR do tênis", []fc{{q, "olha o rastreio do tênis"}}, nil},
		{"deep link", "https://t.me/RastreioBot?start=QQ850419295BR", []fc{{q, ""}}, nil},
		{"no scheme", "linkcorreios.com.br/?id=QQ850419295BR&token=abc123", []fc{{q, ""}}, nil},
		{"link with a token, code elsewhere", "QQ850419295BR https://loja.example/pedido?token=s3cr3t chegou", []fc{{q, "chegou"}}, nil},
		{"link in brackets", "(https://rastreamento.correios.com.br/app/index.php?objetos=QQ850419295BR) livro", []fc{{q, "livro"}}, nil},
		{"query without a host", "index.php?objetos=QQ850419295BR", []fc{{q, ""}}, nil},
		{"bare host", "rastreie em correios.com.br QQ850419295BR", []fc{{q, "rastreie em"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Find(tc.in)
			if fmt.Sprint(f.Codes) != fmt.Sprint(tc.want) || fmt.Sprint(f.Mistyped) != fmt.Sprint(tc.mistyped) || f.Truncated {
				t.Fatalf("Find(%q) = %+v; want codes %+v, mistyped %v", tc.in, f, tc.want, tc.mistyped)
			}
		})
	}
}

// TestFindSpacedForms writes every valid fixture code spaced the ways
// receipts and people do, alone and in a sentence.
func TestFindSpacedForms(t *testing.T) {
	for _, fc := range loadCodes(t) {
		if fc.verdict != "valid" || !isCountry(fc.code[11:]) {
			continue
		}
		c := fc.code
		for _, typed := range []string{
			c[:2] + " " + c[2:5] + " " + c[5:8] + " " + c[8:11] + " " + c[11:],
			c[:2] + " " + c[2:11] + " " + c[11:],
			strings.ToLower(c[:5] + " " + c[5:8] + " " + c[8:]),
			c[:11] + " " + c[11:],
		} {
			for _, in := range []string{typed, "código " + typed + " chegou?"} {
				f := Find(in)
				if len(f.Codes) != 1 || f.Codes[0].Code != c || len(f.Mistyped) != 0 {
					t.Errorf("Find(%q) = %+v, want %s", in, f, c)
				}
			}
		}
	}
}

// queryRE is a query string: what a link carries after "?".
var queryRE = regexp.MustCompile(`\?[^\s?]*=`)

func FuzzFindLinks(f *testing.F) {
	f.Add("olha", "rastreamento.correios.com.br/app/index.php", "objetos", "QQ850419295BR", "tênis")
	f.Add("", "t.me/RastreioBot", "start", "qq850419295br", "")
	f.Add("(", "www.linkcorreios.com.br/", "id", "QQ 850 419 295 BR", ")")
	f.Add("meu", "loja.example/p", "token", "s3cr3t&id=QQ850419295BR", "valeu 👟")
	f.Fuzz(func(t *testing.T, before, host, key, value, after string) {
		for _, scheme := range []string{"https://", "http://", ""} {
			link := scheme + host + "?" + key + "=" + value
			in := before + " " + link + " " + after
			r := Find(in)
			for _, c := range r.Codes {
				d := c.Description
				if strings.Contains(d, "://") && !strings.Contains(before+after, "://") {
					t.Fatalf("description %q from %q holds a scheme", d, in)
				}
				if queryRE.MatchString(d) {
					t.Fatalf("description %q from %q holds a query string", d, in)
				}
				if v := strings.TrimSpace(value); utf8.RuneCountInString(v) >= 6 && !strings.ContainsAny(v, " \t\n\r\u00a0\u202f\u2028\u2029\u0085\v\f") &&
					strings.Contains(d, v) && !strings.Contains(before+after+key+host, v) {
					t.Fatalf("description %q from %q holds the link's value %q", d, in, v)
				}
			}
		}
	})
}
