package gifs

import (
	"bytes"
	"image/gif"
	"os"
	"os/exec"
	"path/filepath"
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

// TestGIFsAreGenerated fails when gen.go was changed without running
// `go generate ./internal/bot/gifs` (or the GIFs were edited by hand).
func TestGIFsAreGenerated(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	src, err := os.ReadFile("gen.go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gen.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "run", "gen.go")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, out)
	}
	for _, g := range All() {
		fresh, err := os.ReadFile(filepath.Join(dir, g.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, g.Data) {
			t.Errorf("%s differs from what gen.go draws (%d bytes, embedded %d): run go generate ./internal/bot/gifs", g.Name, len(fresh), len(g.Data))
		}
	}
}
