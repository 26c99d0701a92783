package gifs

import (
	"bytes"
	"image/gif"
	"testing"
)

func TestGIFs(t *testing.T) {
	all := All()
	if len(all) != 2 {
		t.Fatalf("%d GIFs, want 2", len(all))
	}
	for _, g := range all {
		if len(g.Data) == 0 || len(g.Data) >= 300*1024 {
			t.Errorf("%s: %d bytes, want 0 < size < 300 KB", g.Name, len(g.Data))
		}
		a, err := gif.DecodeAll(bytes.NewReader(g.Data))
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		if len(a.Image) < 5 || a.Config.Width < 200 || a.Config.Height < 200 {
			t.Errorf("%s: %d frames of %dx%d, want an animation", g.Name, len(a.Image), a.Config.Width, a.Config.Height)
		}
		if g.Hash == "" {
			t.Errorf("%s: no hash", g.Name)
		}
	}
}
