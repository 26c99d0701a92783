// Package gifs holds the tutorial animations /gif sends, drawn by gen.go
// and embedded in the binary.
package gifs

//go:generate go run gen.go

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
)

//go:embed adicionar.gif pacotes.gif
var files embed.FS

// GIF is one tutorial animation.
type GIF struct {
	Name string // file name, e.g. adicionar.gif
	Data []byte
	// Hash identifies this version of the file, so a changed GIF is
	// uploaded again instead of reusing an old file_id.
	Hash string
}

// All returns the tutorials in the order they are sent.
func All() []GIF {
	var out []GIF
	for _, name := range []string{"adicionar.gif", "pacotes.gif"} {
		data, err := files.ReadFile(name)
		if err != nil {
			panic("gifs: " + name + " not embedded: " + err.Error())
		}
		sum := sha256.Sum256(data)
		out = append(out, GIF{Name: name, Data: data, Hash: hex.EncodeToString(sum[:6])})
	}
	return out
}
