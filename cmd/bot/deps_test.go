package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoProvider: the bot answers from SQLite only, so it must not
// even link a provider client, the HTTP layer they share or its rate
// limiter. It reads tracking codes through internal/trackcode.
func TestLinksNoProvider(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages, expected the bot's whole graph:\n%s", len(deps), out)
	}
	forbidden := []string{
		"github.com/rastreio/rastreio/internal/correios",
		"github.com/rastreio/rastreio/internal/siterastreio",
		"github.com/rastreio/rastreio/internal/pacotevicio",
		"github.com/rastreio/rastreio/internal/track17",
		"github.com/rastreio/rastreio/internal/providerhttp",
		"golang.org/x/time/rate",
	}
	seen := map[string]bool{}
	for _, d := range deps {
		seen[d] = true
	}
	if !seen["github.com/rastreio/rastreio/internal/trackcode"] {
		t.Errorf("the bot does not link internal/trackcode; the list is not what this test expects:\n%s", out)
	}
	for _, f := range forbidden {
		for _, d := range deps {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("rastreio-bot links %s", d)
			}
		}
	}
}
