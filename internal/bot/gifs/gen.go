//go:build ignore

// gen draws the tutorial animations the bot sends on /gif, with a tiny
// built-in bitmap font and pictograms for the emoji (no font files, no
// dependencies). The scenes copy the bot's real texts and buttons; run
// `go generate ./internal/bot/gifs` after changing one.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"log"
	"os"
	"strings"
)

const (
	width  = 600
	height = 540
	scale  = 2
	charW  = 6 * scale  // 5 columns + 1 of spacing
	lineH  = 11 * scale // 7 rows, 2 of descenders, 2 of spacing
	inputH = 34
	headH  = 30
	btnH   = 28
)

// Palette indices.
const (
	cBackground = iota
	cHeader
	cWhite
	cText
	cUserBubble
	cGreen
	cGrey
	cButton
	cButtonHot
	cRed
	cBrown
	cTan
	cPill
)

var palette = color.Palette{
	color.RGBA{0xdc, 0xe6, 0xee, 0xff}, // chat background
	color.RGBA{0x2a, 0x9d, 0xd8, 0xff}, // header
	color.RGBA{0xff, 0xff, 0xff, 0xff},
	color.RGBA{0x22, 0x2b, 0x33, 0xff}, // text
	color.RGBA{0xd9, 0xf6, 0xc4, 0xff}, // outgoing bubble
	color.RGBA{0x2e, 0xa0, 0x43, 0xff}, // check mark
	color.RGBA{0x8a, 0x96, 0xa0, 0xff}, // hints, cursor, bin
	color.RGBA{0xb8, 0xcd, 0xdc, 0xff}, // inline button
	color.RGBA{0x7f, 0xa9, 0xc9, 0xff}, // pressed button
	color.RGBA{0xd0, 0x3b, 0x3b, 0xff},
	color.RGBA{0x9a, 0x62, 0x2e, 0xff}, // box edges
	color.RGBA{0xe8, 0xc2, 0x7a, 0xff}, // cardboard, paper
	color.RGBA{0x9f, 0xb4, 0xc4, 0xff}, // service note
}

// font is a 5×7 bitmap font; lower-case letters with a descender have
// two more rows, accented ones are built by accented below.
var font = map[rune][]string{
	'A': {"01110", "10001", "10001", "11111", "10001", "10001", "10001"},
	'B': {"11110", "10001", "10001", "11110", "10001", "10001", "11110"},
	'C': {"01110", "10001", "10000", "10000", "10000", "10001", "01110"},
	'D': {"11110", "10001", "10001", "10001", "10001", "10001", "11110"},
	'E': {"11111", "10000", "10000", "11110", "10000", "10000", "11111"},
	'F': {"11111", "10000", "10000", "11110", "10000", "10000", "10000"},
	'G': {"01110", "10001", "10000", "10111", "10001", "10001", "01111"},
	'H': {"10001", "10001", "10001", "11111", "10001", "10001", "10001"},
	'I': {"01110", "00100", "00100", "00100", "00100", "00100", "01110"},
	'J': {"00111", "00010", "00010", "00010", "00010", "10010", "01100"},
	'K': {"10001", "10010", "10100", "11000", "10100", "10010", "10001"},
	'L': {"10000", "10000", "10000", "10000", "10000", "10000", "11111"},
	'M': {"10001", "11011", "10101", "10101", "10001", "10001", "10001"},
	'N': {"10001", "10001", "11001", "10101", "10011", "10001", "10001"},
	'O': {"01110", "10001", "10001", "10001", "10001", "10001", "01110"},
	'P': {"11110", "10001", "10001", "11110", "10000", "10000", "10000"},
	'Q': {"01110", "10001", "10001", "10001", "10101", "10010", "01101"},
	'R': {"11110", "10001", "10001", "11110", "10100", "10010", "10001"},
	'S': {"01111", "10000", "10000", "01110", "00001", "00001", "11110"},
	'T': {"11111", "00100", "00100", "00100", "00100", "00100", "00100"},
	'U': {"10001", "10001", "10001", "10001", "10001", "10001", "01110"},
	'V': {"10001", "10001", "10001", "10001", "10001", "01010", "00100"},
	'W': {"10001", "10001", "10001", "10101", "10101", "10101", "01010"},
	'X': {"10001", "10001", "01010", "00100", "01010", "10001", "10001"},
	'Y': {"10001", "10001", "10001", "01010", "00100", "00100", "00100"},
	'Z': {"11111", "00001", "00010", "00100", "01000", "10000", "11111"},
	'a': {"00000", "00000", "01110", "00001", "01111", "10001", "01111"},
	'b': {"10000", "10000", "10110", "11001", "10001", "10001", "11110"},
	'c': {"00000", "00000", "01110", "10000", "10000", "10001", "01110"},
	'd': {"00001", "00001", "01101", "10011", "10001", "10001", "01111"},
	'e': {"00000", "00000", "01110", "10001", "11111", "10000", "01110"},
	'f': {"00110", "01001", "01000", "11100", "01000", "01000", "01000"},
	'g': {"00000", "00000", "01111", "10001", "10001", "01111", "00001", "10001", "01110"},
	'h': {"10000", "10000", "10110", "11001", "10001", "10001", "10001"},
	'i': {"00100", "00000", "01100", "00100", "00100", "00100", "01110"},
	'j': {"00010", "00000", "00110", "00010", "00010", "00010", "00010", "10010", "01100"},
	'k': {"10000", "10000", "10010", "10100", "11000", "10100", "10010"},
	'l': {"01100", "00100", "00100", "00100", "00100", "00100", "01110"},
	'm': {"00000", "00000", "11010", "10101", "10101", "10001", "10001"},
	'n': {"00000", "00000", "10110", "11001", "10001", "10001", "10001"},
	'o': {"00000", "00000", "01110", "10001", "10001", "10001", "01110"},
	'p': {"00000", "00000", "11110", "10001", "10001", "11110", "10000", "10000", "10000"},
	'q': {"00000", "00000", "01111", "10001", "10001", "01111", "00001", "00001", "00001"},
	'r': {"00000", "00000", "10110", "11001", "10000", "10000", "10000"},
	's': {"00000", "00000", "01111", "10000", "01110", "00001", "11110"},
	't': {"01000", "01000", "11100", "01000", "01000", "01001", "00110"},
	'u': {"00000", "00000", "10001", "10001", "10001", "10011", "01101"},
	'v': {"00000", "00000", "10001", "10001", "10001", "01010", "00100"},
	'w': {"00000", "00000", "10001", "10001", "10101", "10101", "01010"},
	'x': {"00000", "00000", "10001", "01010", "00100", "01010", "10001"},
	'y': {"00000", "00000", "10001", "10001", "10001", "01111", "00001", "10001", "01110"},
	'z': {"00000", "00000", "11111", "00010", "00100", "01000", "11111"},
	'0': {"01110", "10001", "10011", "10101", "11001", "10001", "01110"},
	'1': {"00100", "01100", "00100", "00100", "00100", "00100", "01110"},
	'2': {"01110", "10001", "00001", "00010", "00100", "01000", "11111"},
	'3': {"11111", "00010", "00100", "00010", "00001", "10001", "01110"},
	'4': {"00010", "00110", "01010", "10010", "11111", "00010", "00010"},
	'5': {"11111", "10000", "11110", "00001", "00001", "10001", "01110"},
	'6': {"00110", "01000", "10000", "11110", "10001", "10001", "01110"},
	'7': {"11111", "00001", "00010", "00100", "01000", "01000", "01000"},
	'8': {"01110", "10001", "10001", "01110", "10001", "10001", "01110"},
	'9': {"01110", "10001", "10001", "01111", "00001", "00010", "01100"},
	'/': {"00000", "00001", "00010", "00100", "01000", "10000", "00000"},
	':': {"00000", "01100", "01100", "00000", "01100", "01100", "00000"},
	';': {"00000", "01100", "01100", "00000", "01100", "00100", "01000"},
	'.': {"00000", "00000", "00000", "00000", "00000", "01100", "01100"},
	'!': {"00100", "00100", "00100", "00100", "00100", "00000", "00100"},
	'-': {"00000", "00000", "00000", "11111", "00000", "00000", "00000"},
	'?': {"01110", "10001", "00001", "00010", "00100", "00000", "00100"},
	',': {"00000", "00000", "00000", "00000", "01100", "00100", "01000"},
	'(': {"00010", "00100", "01000", "01000", "01000", "00100", "00010"},
	')': {"01000", "00100", "00010", "00010", "00010", "00100", "01000"},
	'·': {"00000", "00000", "00000", "01100", "01100", "00000", "00000"},
	'•': {"00000", "00000", "01110", "01110", "01110", "00000", "00000"},
	'…': {"00000", "00000", "00000", "00000", "00000", "00000", "10101"},
	' ': {"00000", "00000", "00000", "00000", "00000", "00000", "00000"},
}

// accented adds the accented lower-case letters pt-BR needs: the
// accent on the two rows above the x-height.
func accented() {
	marks := map[rune]string{'´': "00010 00100", '`': "01000 00100", '^': "00100 01010", '~': "01101 10110"}
	for _, a := range []struct {
		r, base, mark rune
	}{
		{'á', 'a', '´'}, {'à', 'a', '`'}, {'â', 'a', '^'}, {'ã', 'a', '~'},
		{'é', 'e', '´'}, {'ê', 'e', '^'}, {'í', 'i', '´'}, {'ó', 'o', '´'},
		{'ô', 'o', '^'}, {'õ', 'o', '~'}, {'ú', 'u', '´'},
	} {
		g := append([]string(nil), font[a.base]...)
		copy(g, strings.Fields(marks[a.mark]))
		if a.base == 'i' {
			g[2] = "01100"
		}
		font[a.r] = g
	}
	font['ç'] = append(append([]string(nil), font['c']...), "00100", "01100")
}

// icons stand for the emoji of the bot's texts: 9×9 pictograms drawn
// two character cells wide. Letters are palette colors, '.' is clear.
var icons = map[rune][]string{
	'📦': {".........", "bbbbbbbbb", "byyybyyyb", "byyybyyyb", "bbbbbbbbb", "byyyyyyyb", "byyyyyyyb", "byyyyyyyb", "bbbbbbbbb"},
	'✅': {".ggggggg.", "ggggggggg", "ggggggwgg", "gggggwwgg", "gwggwwggg", "gwwwwgggg", "ggwwggggg", "ggggggggg", ".ggggggg."},
	'🔎': {".kkkk....", "k....k...", "k....k...", "k....k...", "k....k...", ".kkkkk...", ".....kk..", "......kk.", ".......kk"},
	'🛵': {"......kk.", ".......r.", ".......r.", "..rrrrrr.", ".rrrrrrrr", "rrrrrrrrr", ".kk...kk.", "k..k.k..k", ".kk...kk."},
	'📍': {"...rrr...", "..rrrrr..", ".rrwwrrr.", ".rrwwrrr.", "..rrrrr..", "...rrr...", "....k....", "....k....", "....k...."},
	'🕒': {"..kkkkk..", ".kwwwwwk.", "kwwwkwwwk", "kwwwkwwwk", "kwwwkkkwk", "kwwwwwwwk", "kwwwwwwwk", ".kwwwwwk.", "..kkkkk.."},
	'📜': {"bbbbbbbb.", "byyyyyyyb", ".ykkkkky.", ".yyyyyyy.", ".ykkkkky.", ".yyyyyyy.", ".ykkkyyy.", "byyyyyyyb", ".bbbbbbbb"},
	'🗑': {"...xxx...", "xxxxxxxxx", ".........", ".xxxxxxx.", ".xkxkxkx.", ".xkxkxkx.", ".xkxkxkx.", ".xkxkxkx.", "..xxxxx.."},
	'↩': {"...h.....", "..hh.....", ".hhhhhhh.", "..hh...h.", "...h...h.", ".......h.", "..hhhhh..", ".........", "........."},
}

var iconColors = map[byte]uint8{'b': cBrown, 'y': cTan, 'g': cGreen, 'w': cWhite, 'k': cText, 'r': cRed, 'x': cGrey, 'h': cHeader}

type canvas struct{ *image.Paletted }

func (c canvas) rect(x0, y0, x1, y1 int, col uint8) {
	for y := max(y0, 0); y < min(y1, height); y++ {
		for x := max(x0, 0); x < min(x1, width); x++ {
			c.SetColorIndex(x, y, col)
		}
	}
}

// bubble is a rectangle with its corners rounded by 3 pixels.
func (c canvas) bubble(x0, y0, x1, y1 int, col uint8) {
	bg := uint8(cBackground)
	c.rect(x0, y0, x1, y1, col)
	for _, p := range [][2]int{{x0, y0}, {x1 - 1, y0}, {x0, y1 - 1}, {x1 - 1, y1 - 1}} {
		for d := 0; d < 3; d++ {
			dx, dy := 1, 1
			if p[0] > x0 {
				dx = -1
			}
			if p[1] > y0 {
				dy = -1
			}
			for k := 0; k < 3-d; k++ {
				if x, y := p[0]+dx*k, p[1]+dy*d; y >= 0 && y < height {
					c.SetColorIndex(x, y, bg)
				}
			}
		}
	}
}

// cells is how many character cells s takes: an icon takes two; '*'
// (bold on/off) and '_' (italic on/off) take none.
func cells(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == '*' || r == '_' || r == '\uFE0F':
		case icons[r] != nil:
			n += 2
		default:
			n++
		}
	}
	return n
}

func textW(s string) int { return cells(s) * charW }

// text draws s from (x, y), the top of a capital letter; *…* is bold,
// _…_ italic, as Telegram shows <b> and <i>.
func (c canvas) text(x, y int, s string, col uint8) {
	bold, italic := false, false
	for _, r := range s {
		switch {
		case r == '*':
			bold = !bold
			continue
		case r == '_':
			italic = !italic
			continue
		case r == '\uFE0F':
			continue
		}
		if ic := icons[r]; ic != nil {
			for row, line := range ic {
				for colN := 0; colN < len(line); colN++ {
					if k, ok := iconColors[line[colN]]; ok {
						px, py := x+colN*scale+2, y-2+row*scale
						c.rect(px, py, px+scale, py+scale, k)
					}
				}
			}
			x += 2 * charW
			continue
		}
		g, ok := font[r]
		if !ok {
			log.Fatalf("no glyph for %q", r)
		}
		for row, bits := range g {
			shift := 0
			if italic {
				shift = (6 - row) / 3
			}
			for colN, b := range bits {
				if b != '1' {
					continue
				}
				px, py := x+colN*scale+shift, y+row*scale
				w := scale
				if bold {
					w++
				}
				c.rect(px, py, px+w, py+scale, col)
			}
		}
		x += charW
	}
}

// wrap breaks s into lines of at most n cells, at spaces.
func wrap(s string, n int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && cells(line)+1+cells(w) > n {
			out = append(out, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(out, line)
}

// msg is one message in the chat: the user's (out), the bot's with its
// inline keyboard, or a centered service note.
type msg struct {
	out   bool
	note  bool
	lines []string
	kb    [][]string
}

// chat is what one frame shows.
type chat struct {
	msgs   []msg
	input  string
	cursor bool
	hot    string // the button being pressed
}

const wrapAt = 42

func (ch chat) draw() *image.Paletted {
	c := canvas{image.NewPaletted(image.Rect(0, 0, width, height), palette)}
	c.rect(0, 0, width, height, cBackground)
	y := height - inputH - 8
	for i := len(ch.msgs) - 1; i >= 0 && y > headH; i-- {
		m := ch.msgs[i]
		w := 0
		for _, l := range m.lines {
			w = max(w, textW(l))
		}
		switch {
		case m.note:
			top := y - lineH - 6
			x := (width - w) / 2
			c.bubble(x-10, top, x+w+10, y, cPill)
			c.text(x, top+5, m.lines[0], cWhite)
			y = top - 10
		case m.out:
			top := y - len(m.lines)*lineH - 8
			c.bubble(width-w-26, top, width-8, y, cUserBubble)
			for j, l := range m.lines {
				c.text(width-w-16, top+6+j*lineH, l, cText)
			}
			y = top - 8
		default:
			for _, row := range m.kb {
				need := 0
				for _, b := range row {
					need = max(need, textW(b)+12)
				}
				w = max(w, need*len(row)+4*(len(row)-1)-20)
			}
			x1 := 8 + w + 20
			for j := len(m.kb) - 1; j >= 0; j-- {
				row := m.kb[j]
				top := y - btnH
				bw := (x1 - 8 - 4*(len(row)-1)) / len(row)
				for k, b := range row {
					bx := 8 + k*(bw+4)
					col := uint8(cButton)
					if b == ch.hot {
						col = cButtonHot
					}
					c.bubble(bx, top, bx+bw, y, col)
					c.text(bx+(bw-textW(b))/2+1, top+(btnH-14)/2, b, cText)
				}
				y = top - 4
			}
			top := y - len(m.lines)*lineH - 8
			c.bubble(8, top, x1, y, cWhite)
			for j, l := range m.lines {
				c.text(18, top+6+j*lineH, l, cText)
			}
			y = top - 8
		}
	}
	c.rect(0, 0, width, headH, cHeader)
	c.text(12, 8, "Rastreio Bot", cWhite)
	c.rect(0, height-inputH, width, height, cWhite)
	if ch.input == "" {
		c.text(12, height-24, "Mensagem", cGrey)
	} else {
		c.text(12, height-24, ch.input, cText)
	}
	if ch.cursor {
		x := 12 + textW(ch.input)
		if ch.input == "" {
			x = 10
		}
		c.rect(x, height-27, x+2, height-7, cGrey)
	}
	return c.Paletted
}

type anim struct {
	frames []*image.Paletted
	delays []int
}

func (a *anim) add(ch chat, delay int) {
	a.frames = append(a.frames, ch.draw())
	a.delays = append(a.delays, delay)
}

// typeIn adds a frame per character typed.
func (a *anim) typeIn(ch chat, s string, delay int) {
	for i := range s {
		if i > 0 {
			ch.input = s[:i]
			a.add(ch, delay)
		}
	}
	ch.input = s
	a.add(ch, delay)
}

// encode writes the animation with every frame after the first cropped
// to the part that changed (disposal "none" keeps the rest).
func (a *anim) encode(path string) {
	g := &gif.GIF{LoopCount: 0}
	var prev *image.Paletted
	for i, f := range a.frames {
		out := f
		if prev != nil {
			r := diff(prev, f)
			if r.Empty() {
				r = image.Rect(0, 0, 1, 1)
			}
			out = f.SubImage(r).(*image.Paletted)
		}
		g.Image = append(g.Image, out)
		g.Delay = append(g.Delay, a.delays[i])
		g.Disposal = append(g.Disposal, gif.DisposalNone)
		prev = f
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d frames, %d bytes\n", path, len(a.frames), buf.Len())
}

func diff(a, b *image.Paletted) image.Rectangle {
	r := image.Rectangle{}
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			if a.Pix[y*a.Stride+x] != b.Pix[y*b.Stride+x] {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// addScene: send a code with a description, get the confirmation, and
// later a notification when the parcel moves.
func addScene() *anim {
	a := &anim{}
	ch := chat{cursor: true}
	a.add(ch, 60)
	sent := "QQ850419295BR tênis"
	a.typeIn(ch, sent, 9)
	ch.input, ch.cursor = sent, false
	a.add(ch, 50)
	ch.input, ch.cursor = "", true
	ch.msgs = append(ch.msgs, msg{out: true, lines: []string{sent}})
	a.add(ch, 90)
	confirm := []string{"✅ Pronto! Vou acompanhar:", "• *tênis* · QQ850419295BR", ""}
	confirm = append(confirm, wrap("🔎 Vou consultar o rastreio em até 3 minutos e mando a situação aqui assim que ela aparecer; depois aviso sempre que o pacote se mexer. Veja tudo em /pacotes.", wrapAt)...)
	ch.msgs = append(ch.msgs, msg{lines: confirm})
	a.add(ch, 350)
	ch.msgs = append(ch.msgs, msg{note: true, lines: []string{"mais tarde"}})
	a.add(ch, 80)
	ch.msgs = append(ch.msgs, msg{
		lines: []string{"📦 *tênis* · QQ850419295BR", "🛵 *Saiu para entrega*", "📍 Niterói/RJ · 🕒 hoje às 08:01"},
		kb:    [][]string{{"📜 Histórico", "🗑 Parar de acompanhar"}},
	})
	a.add(ch, 450)
	return a
}

// listScene: /pacotes, the numbered list with its buttons, remove the
// delivered one.
func listScene() *anim {
	a := &anim{}
	ch := chat{cursor: true}
	a.add(ch, 50)
	a.typeIn(ch, "/pacotes", 10)
	ch.input = ""
	ch.msgs = append(ch.msgs, msg{out: true, lines: []string{"/pacotes"}})
	a.add(ch, 80)
	list := msg{
		lines: []string{
			"📦 *Seus pacotes*", "",
			"*1.* *tênis* · QQ850419295BR", "🛵 *Saiu para entrega* · hoje às 11:00", "_Conferido hoje às 11:50_", "",
			"*2.* *livro* · AM101610575BR", "✅ *Entregue* · ontem às 14:35", "_Conferido ontem às 15:02_", "",
			"📜 histórico · 🗑 parar de acompanhar",
		},
		kb: [][]string{{"📜 1", "🗑 1"}, {"📜 2", "🗑 2"}},
	}
	ch.msgs = append(ch.msgs, list)
	a.add(ch, 350)
	ch.hot = "🗑 2"
	a.add(ch, 40)
	ch.hot = ""
	list.kb = list.kb[:1]
	ch.msgs[len(ch.msgs)-1] = list
	ch.msgs = append(ch.msgs, msg{
		lines: wrap("🗑 Pronto, parei de acompanhar AM101610575BR (livro). Tocou sem querer? Dá para desfazer por 1 minuto.", wrapAt),
		kb:    [][]string{{"↩️ Desfazer"}},
	})
	a.add(ch, 450)
	return a
}

func main() {
	accented()
	addScene().encode("adicionar.gif")
	listScene().encode("pacotes.gif")
}
