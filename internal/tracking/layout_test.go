package tracking_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/rastreio/rastreio/"

// providers are the provider client packages; each has its fake below it
// (correios/correiostest, …).
var providers = []string{"correios", "siterastreio", "pacotevicio", "track17"}

// website is the one sanctioned crossing: correios is also the Correios
// domain (what codigo+tipo mean, the website object and its parser), and
// the two providers that serve the Correios website's object read it
// there, their fakes build it with correiostest.
var website = map[string][]string{
	"siterastreio":                  {"correios"},
	"pacotevicio":                   {"correios"},
	"siterastreio/siterastreiotest": {"correios/correiostest"},
	"pacotevicio/pacoteviciotest":   {"correios/correiostest"},
}

// TestNoProviderImportsAnother: no provider package, nor its fake,
// imports another provider's (beyond the Correios domain above); the HTTP
// layer they share and the tracking codes import no provider at all.
func TestNoProviderImportsAnother(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"internal/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	owner := func(pkg string) string { // the provider pkg belongs to, or ""
		for _, p := range providers {
			if pkg == p || strings.HasPrefix(pkg, p+"/") {
				return p
			}
		}
		return ""
	}
	checked := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, ok := strings.CutPrefix(f[0], module+"internal/")
		if !ok {
			continue
		}
		from := owner(pkg)
		shared := pkg == "providerhttp" || strings.HasPrefix(pkg, "providerhttp/") || pkg == "trackcode"
		if from == "" && !shared {
			continue
		}
		checked[pkg] = true
		for _, imp := range f[1:] {
			imp, ok := strings.CutPrefix(imp, module+"internal/")
			if !ok {
				continue
			}
			to := owner(imp)
			if to == "" || to == from || slices.Contains(website[pkg], imp) {
				continue
			}
			t.Errorf("%s imports %s", pkg, imp)
		}
	}
	for _, p := range append(slices.Clone(providers), "providerhttp", "trackcode", "correios/correiostest", "track17/track17test") {
		if !checked[p] {
			t.Errorf("go list did not report %s; the check above saw nothing of it", p)
		}
	}
}
