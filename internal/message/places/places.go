// Package places writes the places providers name in capitals without
// accents ("SAO PAULO/SP", "NITEROI", "SUECIA") as people write them
// ("São Paulo/SP", "Niterói", "Suécia"): Brazilian municipalities as the
// IBGE lists them and countries by their pt-BR names, both embedded (see
// SOURCES.md). The folded form is only ever a lookup key.
package places

import (
	"bufio"
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

//go:embed municipios.tsv
var municipiosTSV string

//go:embed paises.tsv
var paisesTSV string

var (
	once      sync.Once
	cities    map[string]string // UF + "/" + Key(nome) → nome
	cityOnly  map[string]string // Key(nome) → nome, when unique in Brazil
	countries map[string]string // Key(nome) → nome
)

// countryAliases are other names Correios units use for a country.
var countryAliases = map[string]string{
	"EUA":                 "Estados Unidos",
	"USA":                 "Estados Unidos",
	"PAISES BAIXOS":       "Países Baixos",
	"HOLANDA":             "Holanda",
	"GRA BRETANHA":        "Reino Unido",
	"INGLATERRA":          "Reino Unido",
	"CINGAPURA":           "Cingapura",
	"SINGAPURA":           "Singapura",
	"COREIA":              "Coreia do Sul",
	"REPUBLICA DA COREIA": "Coreia do Sul",
}

func load() {
	cities = make(map[string]string, 5600)
	dup := map[string]bool{}
	cityOnly = make(map[string]string, 5600)
	sc := bufio.NewScanner(strings.NewReader(municipiosTSV))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		k := Key(f[1])
		cities[f[0]+"/"+k] = f[1]
		if _, seen := cityOnly[k]; seen {
			dup[k] = true
		}
		cityOnly[k] = f[1]
	}
	for k := range dup {
		delete(cityOnly, k)
	}
	countries = make(map[string]string, 300)
	sc = bufio.NewScanner(strings.NewReader(paisesTSV))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		countries[Key(f[1])] = f[1]
	}
	for k, v := range countryAliases {
		countries[Key(k)] = v
	}
}

// Key folds a name for lookups: letters and digits only, upper case,
// without accents ("Alta Floresta D'Oeste" → "ALTAFLORESTADOESTE").
func Key(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if a, ok := unaccent[unicode.ToUpper(r)]; ok {
			r = a
		}
		r = unicode.ToUpper(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var unaccent = map[rune]rune{
	'Á': 'A', 'À': 'A', 'Â': 'A', 'Ã': 'A', 'Ä': 'A', 'Å': 'A',
	'É': 'E', 'È': 'E', 'Ê': 'E', 'Ë': 'E',
	'Í': 'I', 'Ì': 'I', 'Î': 'I', 'Ï': 'I',
	'Ó': 'O', 'Ò': 'O', 'Ô': 'O', 'Õ': 'O', 'Ö': 'O',
	'Ú': 'U', 'Ù': 'U', 'Û': 'U', 'Ü': 'U',
	'Ç': 'C', 'Ñ': 'N',
}

// City returns the IBGE name of the municipality city (any case, with or
// without accents) in the state uf.
func City(city, uf string) (string, bool) {
	once.Do(load)
	n, ok := cities[strings.ToUpper(strings.TrimSpace(uf))+"/"+Key(city)]
	return n, ok
}

// Country returns the pt-BR name of a country written in any case, with
// or without accents.
func Country(name string) (string, bool) {
	once.Do(load)
	n, ok := countries[Key(name)]
	return n, ok
}

// Pretty writes a provider's place for people: "CIDADE/UF" with the
// IBGE name, a country by its pt-BR name, and anything else in capitals
// in title case ("CTE CAJAMAR" → "Cte Cajamar"); other text is kept.
func Pretty(loc string) string {
	loc = strings.Join(strings.Fields(loc), " ")
	if loc == "" {
		return ""
	}
	if i := strings.LastIndexByte(loc, '/'); i > 0 {
		city, uf := strings.TrimSpace(loc[:i]), strings.ToUpper(strings.TrimSpace(loc[i+1:]))
		if len(uf) == 2 {
			if n, ok := City(city, uf); ok {
				return n + "/" + uf
			}
			return Title(city) + "/" + uf
		}
	}
	if n, ok := Country(loc); ok {
		return n
	}
	once.Do(load)
	if n, ok := cityOnly[Key(loc)]; ok {
		return n
	}
	return Title(loc)
}

// small are the words that stay lower case inside a title.
var small = map[string]bool{
	"de": true, "da": true, "do": true, "das": true, "dos": true, "e": true,
	"em": true, "na": true, "no": true, "nas": true, "nos": true, "a": true, "o": true,
}

// Title writes text that is all in capitals in title case, keeping
// Portuguese particles ("de", "da", "dos", …) in lower case; text that
// already has lower case letters is returned as it is.
func Title(s string) string {
	if strings.ToUpper(s) != s || strings.ToLower(s) == s {
		return s
	}
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		if i > 0 && small[w] {
			continue
		}
		words[i] = titleWord(w)
	}
	return strings.Join(words, " ")
}

// titleWord capitalises w and each part after a hyphen or apostrophe.
func titleWord(w string) string {
	r := []rune(w)
	up := true
	for i, c := range r {
		if up && unicode.IsLetter(c) {
			r[i] = unicode.ToUpper(c)
			up = false
		}
		if c == '-' || c == '\'' || c == '(' {
			up = true
		}
	}
	return string(r)
}
