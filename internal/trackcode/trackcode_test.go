package trackcode

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

type fixtureCode struct {
	code, verdict, source string
}

func loadCodes(tb testing.TB) []fixtureCode {
	tb.Helper()
	f, err := os.Open("testdata/s10-codes.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []fixtureCode
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		parts := strings.SplitN(sc.Text(), "\t", 3)
		if len(parts) != 3 {
			tb.Fatalf("bad fixture line %q", sc.Text())
		}
		out = append(out, fixtureCode{parts[0], parts[1], parts[2]})
	}
	if len(out) < 25 {
		tb.Fatalf("only %d fixture codes", len(out))
	}
	return out
}

// TestParseFixtures checks every line of the shared fixture, as is,
// lower-cased and with spaces around.
func TestParseFixtures(t *testing.T) {
	for _, fc := range loadCodes(t) {
		t.Run(fc.code, func(t *testing.T) {
			for _, in := range []string{fc.code, strings.ToLower(fc.code), "  " + fc.code + "\n"} {
				got, err := Parse(in)
				switch fc.verdict {
				case "valid":
					if err != nil || got != fc.code {
						t.Fatalf("Parse(%q) = %q, %v; want %q (%s)", in, got, err, fc.code, fc.source)
					}
					if !Valid(in) {
						t.Fatalf("Valid(%q) = false", in)
					}
				case "invalid":
					if err == nil {
						t.Fatalf("Parse(%q) accepted an invalid code (%s)", in, fc.source)
					}
					wantDigit := strings.Contains(fc.source, "check digit")
					if wantDigit != errors.Is(err, ErrCheckDigit) {
						t.Fatalf("Parse(%q) = %v; check-digit error expected: %v (%s)", in, err, wantDigit, fc.source)
					}
					if !wantDigit && !errors.Is(err, ErrFormat) {
						t.Fatalf("Parse(%q) = %v, want ErrFormat", in, err)
					}
				default:
					t.Fatalf("fixture verdict %q", fc.verdict)
				}
			}
		})
	}
}

// TestFindFixtures finds each fixture code inside a sentence and
// sorts it the way the bot answers: accepted, mistyped or ignored.
func TestFindFixtures(t *testing.T) {
	for _, fc := range loadCodes(t) {
		t.Run(fc.code, func(t *testing.T) {
			f := Find("meu pedido " + strings.ToLower(fc.code) + " - chegou?")
			digit := strings.Contains(fc.source, "check digit")
			switch {
			case fc.verdict == "valid":
				if len(f.Codes) != 1 || f.Codes[0].Code != fc.code || f.Codes[0].Description != "meu pedido chegou?" || len(f.Mistyped) != 0 {
					t.Fatalf("Find = %+v", f)
				}
			case digit:
				if len(f.Codes) != 0 || len(f.Mistyped) != 1 || f.Mistyped[0] != fc.code {
					t.Fatalf("Find = %+v, want it mistyped", f)
				}
			default:
				if len(f.Codes) != 0 || len(f.Mistyped) != 0 {
					t.Fatalf("Find = %+v, want nothing", f)
				}
			}
		})
	}
}

func TestCheckDigit(t *testing.T) {
	for _, tc := range []struct {
		serial string
		want   int
	}{
		{"85041929", 5}, // QQ850419295BR
		{"12345678", 5}, // BR123456789BR is wrong: 5 is right (sum 187, 187%11=0 → 11 → 5)
		{"71132012", 9}, // LB711320125HK should be …9
		{"80395358", 6}, // OS803953581BR should be …6
	} {
		if got := CheckDigit(tc.serial); got != tc.want {
			t.Errorf("CheckDigit(%s) = %d, want %d", tc.serial, got, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	type fc = Found
	for _, tc := range []struct {
		name     string
		in       string
		want     []fc
		mistyped []string
	}{
		{"one line shares the rest", "QQ850419295BR tênis e QH991577104BR", []fc{{"QQ850419295BR", "tênis e"}, {"QH991577104BR", "tênis e"}}, nil},
		{"per line", "QQ850419295BR - tênis\nLE449872154SE: fone <b>&\n\nDG049186226BR",
			[]fc{{"QQ850419295BR", "tênis"}, {"LE449872154SE", "fone <b>&"}, {"DG049186226BR", ""}}, nil},
		{"lower case and spaces around", "   qq850419295br   ", []fc{{"QQ850419295BR", ""}}, nil},
		{"spaces inside", "QQ 850419295 BR presente", []fc{{"QQ850419295BR", "presente"}}, nil},
		{"glued codes are one token", "QQ850419295BRQH991577104BR", nil, nil},
		{"comma separated", "QQ850419295BR,QH991577104BR", []fc{{"QQ850419295BR", ""}, {"QH991577104BR", ""}}, nil},
		{"in a URL", "https://rastreamento.correios.com.br/app/index.php?objetos=QQ850419295BR", []fc{{"QQ850419295BR", ""}}, nil},
		{"repeat keeps first, fills description", "QQ850419295BR\nQQ850419295BR tênis", []fc{{"QQ850419295BR", "tênis"}}, nil},
		{"mistyped", "QQ850419294BR tênis", nil, []string{"QQ850419294BR"}},
		{"mixed", "QQ850419295BR\nqq850419294br\nQQ850419294BR", []fc{{"QQ850419295BR", ""}}, []string{"QQ850419294BR"}},
		{"glued letters", "xQQ850419295BR", nil, nil},
		{"accented neighbour", "éQQ850419295BR", nil, nil},
		{"no code", "oi, tudo bem?", nil, nil},
		{"CRLF", "QQ850419295BR livro\r\nQH991577104BR caneca\r\n", []fc{{"QQ850419295BR", "livro"}, {"QH991577104BR", "caneca"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Find(tc.in)
			if fmt.Sprint(f.Codes) != fmt.Sprint(tc.want) || fmt.Sprint(f.Mistyped) != fmt.Sprint(tc.mistyped) || f.Truncated {
				t.Fatalf("Find(%q) = %+v; want codes %+v, mistyped %v", tc.in, f, tc.want, tc.mistyped)
			}
		})
	}
}

func TestFindLimits(t *testing.T) {
	var b strings.Builder
	var want []string
	for i := 0; i < MaxPerMessage+5; i++ {
		serial := fmt.Sprintf("%08d", 10000000+i*7919)
		code := fmt.Sprintf("QQ%s%dBR", serial, CheckDigit(serial))
		want = append(want, code)
		fmt.Fprintf(&b, "%s item %d\n", code, i)
	}
	f := Find(b.String())
	if len(f.Codes) != MaxPerMessage || !f.Truncated {
		t.Fatalf("%d codes, truncated %v; want %d, true", len(f.Codes), f.Truncated, MaxPerMessage)
	}
	for i, c := range f.Codes {
		if c.Code != want[i] || c.Description != fmt.Sprintf("item %d", i) {
			t.Fatalf("code %d = %+v, want %s item %d", i, c, want[i], i)
		}
	}
	long := Find("QQ850419295BR " + strings.Repeat("ã", 500))
	if n := utf8.RuneCountInString(long.Codes[0].Description); n != MaxDescriptionLen {
		t.Fatalf("description of %d characters, want %d", n, MaxDescriptionLen)
	}
	bad := Find("QQ850419295BR \xff\xfe ok")
	if !utf8.ValidString(bad.Codes[0].Description) {
		t.Fatalf("invalid UTF-8 kept: %q", bad.Codes[0].Description)
	}
}

func FuzzParse(f *testing.F) {
	for _, fc := range loadCodes(f) {
		f.Add(fc.code)
	}
	f.Add("")
	f.Add("qq850419295br ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err == nil {
			if len(c) != Len || !Valid(c) || c != strings.ToUpper(c) {
				t.Fatalf("Parse(%q) = %q accepted but not canonical", s, c)
			}
		}
	})
}

func FuzzFind(f *testing.F) {
	for _, fc := range loadCodes(f) {
		f.Add(fc.code + " " + fc.source)
	}
	f.Add("QQ850419295BR tênis\nqq 850419295 br\r\nxx")
	f.Add("\xff QQ850419295BR \x00")
	f.Add("“QQ 850 419 295 BR” 1️⃣ https://t.me/x?start=QH991577104BR «tênis» (a) [b] :")
	f.Fuzz(func(t *testing.T, s string) {
		r := Find(s)
		if len(r.Codes) > MaxPerMessage {
			t.Fatalf("%d codes", len(r.Codes))
		}
		seen := map[string]bool{}
		for _, c := range r.Codes {
			if !Valid(c.Code) || seen[c.Code] {
				t.Fatalf("bad or repeated code %q from %q", c.Code, s)
			}
			seen[c.Code] = true
			if !utf8.ValidString(c.Description) || utf8.RuneCountInString(c.Description) > MaxDescriptionLen || strings.ContainsAny(c.Description, "\n") {
				t.Fatalf("bad description %q from %q", c.Description, s)
			}
			if strings.Contains(c.Description, "://") || queryRE.MatchString(c.Description) {
				t.Fatalf("description %q from %q holds a link", c.Description, s)
			}
		}
		for _, m := range r.Mistyped {
			if _, err := Parse(m); !errors.Is(err, ErrCheckDigit) {
				t.Fatalf("mistyped %q is %v", m, err)
			}
		}
	})
}
