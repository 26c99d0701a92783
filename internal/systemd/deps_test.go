package systemd

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// golang.org/x/sys came in at v0.1.0 (2022) through go-systemd, older
// than years of fixes; go.mod requires a current one (this package links
// it through go-systemd). This guards against a downgrade.
func TestCurrentXSys(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?golang\.org/x/sys v0\.(\d+)\.\d+`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod does not require golang.org/x/sys")
	}
	if minor, _ := strconv.Atoi(string(m[1])); minor < 50 {
		t.Fatalf("go.mod requires golang.org/x/sys v0.%s; want v0.50.0 or later", m[1])
	}
}
