//go:build ignore

// gen draws the tutorial animations the bot sends on /gif, with a tiny
// built-in bitmap font (no font files, no dependencies). Run it with
// `go generate ./internal/bot/gifs` after changing a scene.
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
	width  = 320
	height = 300
	scale  = 2
	charW  = 6 * scale // 5 columns + 1 of spacing
	lineH  = 9 * scale
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
)

var palette = color.Palette{
	color.RGBA{0xdc, 0xe6, 0xee, 0xff}, // chat background
	color.RGBA{0x2a, 0x9d, 0xd8, 0xff}, // header
	color.RGBA{0xff, 0xff, 0xff, 0xff},
	color.RGBA{0x22, 0x2b, 0x33, 0xff}, // text
	color.RGBA{0xd9, 0xf6, 0xc4, 0xff}, // outgoing bubble
	color.RGBA{0x2e, 0xa0, 0x43, 0xff}, // check mark
	color.RGBA{0x8a, 0x96, 0xa0, 0xff}, // hints, cursor
	color.RGBA{0xb8, 0xcd, 0xdc, 0xff}, // inline button
	color.RGBA{0x7f, 0xa9, 0xc9, 0xff}, // pressed button
	color.RGBA{0xd0, 0x3b, 0x3b, 0xff},
}

// font is a 5×7 bitmap font: each glyph is 7 rows of 5 bits.
var font = map[rune][7]string{
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
	'.': {"00000", "00000", "00000", "00000", "00000", "01100", "01100"},
	'!': {"00100", "00100", "00100", "00100", "00100", "00000", "00100"},
	'-': {"00000", "00000", "00000", "11111", "00000", "00000", "00000"},
	'?': {"01110", "10001", "00001", "00010", "00100", "00000", "00100"},
	',': {"00000", "00000", "00000", "00000", "01100", "00100", "01000"},
	'(': {"00010", "00100", "01000", "01000", "01000", "00100", "00010"},
	')': {"01000", "00100", "00010", "00010", "00010", "00100", "01000"},
	' ': {"00000", "00000", "00000", "00000", "00000", "00000", "00000"},
}

type canvas struct{ *image.Paletted }

func newCanvas() canvas {
	c := canvas{image.NewPaletted(image.Rect(0, 0, width, height), palette)}
	c.rect(0, 0, width, height, cBackground)
	c.rect(0, 0, width, 30, cHeader)
	c.text(12, 8, "RASTREIO BOT", cWhite)
	c.rect(0, height-34, width, height, cWhite)
	return c
}

func (c canvas) rect(x0, y0, x1, y1 int, col uint8) {
	for y := max(y0, 0); y < min(y1, height); y++ {
		for x := max(x0, 0); x < min(x1, width); x++ {
			c.SetColorIndex(x, y, col)
		}
	}
}

// bubble is a rectangle with its corners rounded by 3 pixels.
func (c canvas) bubble(x0, y0, x1, y1 int, col uint8) {
	c.rect(x0, y0, x1, y1, col)
	bg := c.ColorIndexAt(x0-1, y0)
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
				c.SetColorIndex(p[0]+dx*k, p[1]+dy*d, bg)
			}
		}
	}
}

func (c canvas) text(x, y int, s string, col uint8) {
	for i, r := range strings.ToUpper(s) {
		g, ok := font[r]
		if !ok {
			log.Fatalf("no glyph for %q", r)
		}
		for row, bits := range g {
			for colN, b := range bits {
				if b == '1' {
					c.rect(x+i*charW+colN*scale, y+row*scale, x+i*charW+(colN+1)*scale, y+(row+1)*scale, col)
				}
			}
		}
	}
}

func (c canvas) check(x, y int) {
	pts := [][2]int{{0, 5}, {1, 6}, {2, 7}, {3, 8}, {4, 7}, {5, 6}, {6, 5}, {7, 4}, {8, 3}, {9, 2}, {10, 1}}
	for _, p := range pts {
		c.rect(x+p[0], y+p[1], x+p[0]+3, y+p[1]+3, cGreen)
	}
}

func textW(s string) int { return len(s) * charW }

// typing draws the input box holding s, with a cursor.
func (c canvas) input(s string, cursor bool) {
	c.rect(0, height-34, width, height, cWhite)
	if s == "" {
		c.text(12, height-25, "MENSAGEM", cGrey)
	} else {
		c.text(12, height-25, s, cText)
	}
	if cursor {
		x := 12 + textW(s)
		if s == "" {
			x = 10
		}
		c.rect(x, height-27, x+2, height-9, cGrey)
	}
}

// outgoing draws a user bubble at the right, ending at y, and returns its top.
func (c canvas) outgoing(y int, lines ...string) int {
	w := 0
	for _, l := range lines {
		w = max(w, textW(l))
	}
	top := y - len(lines)*lineH - 10
	c.bubble(width-w-24, top, width-8, y, cUserBubble)
	for i, l := range lines {
		c.text(width-w-16, top+6+i*lineH, l, cText)
	}
	return top
}

// incoming draws a bot bubble at the left from top, and returns its bottom.
func (c canvas) incoming(top int, check bool, lines ...string) int {
	w := 0
	for _, l := range lines {
		w = max(w, textW(l))
	}
	x := 16
	if check {
		x = 34
	}
	bottom := top + len(lines)*lineH + 10
	c.bubble(8, top, x+w+8, bottom, cWhite)
	if check {
		c.check(14, top+4)
	}
	for i, l := range lines {
		c.text(x, top+6+i*lineH, l, cText)
	}
	return bottom
}

func (c canvas) button(x0, y0, x1, y1 int, label string, hot bool) {
	col := uint8(cButton)
	if hot {
		col = cButtonHot
	}
	c.bubble(x0, y0, x1, y1, col)
	c.text(x0+(x1-x0-textW(label))/2+1, y0+(y1-y0-14)/2, label, cText)
}

type anim struct {
	frames []*image.Paletted
	delays []int
}

func (a *anim) add(c canvas, delay int) {
	img := image.NewPaletted(c.Rect, palette)
	copy(img.Pix, c.Pix)
	a.frames = append(a.frames, img)
	a.delays = append(a.delays, delay)
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

// addScene: type a code with a description, send it, get the confirmation.
func addScene() *anim {
	a := &anim{}
	c := newCanvas()
	msg := "QQ850419295BR TENIS"
	c.input("", true)
	a.add(c, 60)
	for i := 1; i <= len(msg); i++ {
		c.input(msg[:i], true)
		a.add(c, 9)
	}
	c.input(msg, false)
	a.add(c, 60)
	c.input("", true)
	c.outgoing(110, msg)
	a.add(c, 90)
	c.incoming(122, true, "PRONTO! VOU ACOMPANHAR:", "QQ850419295BR - TENIS", "AVISO AQUI QUANDO", "O PACOTE SE MEXER.")
	a.add(c, 400)
	return a
}

// listScene: /pacotes, the list with its buttons, remove one.
func listScene() *anim {
	a := &anim{}
	c := newCanvas()
	msg := "/PACOTES"
	c.input("", true)
	a.add(c, 50)
	for i := 1; i <= len(msg); i++ {
		c.input(msg[:i], true)
		a.add(c, 10)
	}
	c.input("", true)
	c.outgoing(72, msg)
	a.add(c, 80)
	bottom := c.incoming(82, false, "SEUS PACOTES (1)", "1. QQ850419295BR - TENIS", "ENTREGUE 05/03 14:32")
	c.button(8, bottom+4, 156, bottom+30, "HISTORICO", false)
	c.button(164, bottom+4, width-8, bottom+30, "REMOVER", false)
	a.add(c, 250)
	c.button(164, bottom+4, width-8, bottom+30, "REMOVER", true)
	a.add(c, 40)
	c.button(164, bottom+4, width-8, bottom+30, "REMOVER", false)
	c.incoming(bottom+38, false, "PAREI DE ACOMPANHAR", "QQ850419295BR (TENIS).")
	a.add(c, 400)
	return a
}

func main() {
	addScene().encode("adicionar.gif")
	listScene().encode("pacotes.gif")
}
