package provider

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// table returns the rows (cells trimmed) of the first Markdown table in
// file whose header row begins with header.
func table(t *testing.T, file, header string) [][]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case !in && strings.HasPrefix(line, header):
			in = true
		case in && strings.HasPrefix(line, "|---"):
		case in && strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		case in:
			return rows
		}
	}
	if !in {
		t.Fatalf("%s: no table with header %q", file, header)
	}
	return rows
}

// rowsByName checks the doc table lists exactly the providers of the
// provider table, in its order (each first cell starts with `name`).
func rowsByName(t *testing.T, file string, rows [][]string) {
	t.Helper()
	var got []string
	for _, r := range rows {
		name, _, _ := strings.Cut(strings.TrimPrefix(r[0], "`"), "`")
		got = append(got, name)
	}
	if strings.Join(got, ",") != strings.Join(Names(), ",") {
		t.Fatalf("%s lists providers %v, the provider table %v", file, got, Names())
	}
}

// The README's provider table agrees with the provider table: the same
// providers in the same order, their credential files, their billing unit.
func TestREADMETable(t *testing.T) {
	const file = "../../README.md"
	rows := table(t, file, "| provider | credentials")
	rowsByName(t, file, rows)
	for i, spec := range All() {
		r := rows[i]
		if len(r) < 3 {
			t.Fatalf("%s: row %v is short", file, r)
		}
		files := make([]string, len(spec.Credentials))
		for j, c := range spec.Credentials {
			files[j] = "`rastreio." + c.File + "`"
		}
		if want := strings.Join(files, ", "); r[1] != want {
			t.Errorf("%s: %s credentials %q, want %q", file, spec.Name, r[1], want)
		}
		if r[2] != spec.Billing.String() {
			t.Errorf("%s: %s billed per %q, want %q", file, spec.Name, r[2], spec.Billing)
		}
	}
}

// docs/providers.md's table agrees too: credential variables, billing
// unit and default rate and burst.
func TestProvidersDocTable(t *testing.T) {
	const file = "../../docs/providers.md"
	rows := table(t, file, "| name | what it is")
	rowsByName(t, file, rows)
	for i, spec := range All() {
		r := rows[i]
		if len(r) < 5 {
			t.Fatalf("%s: row %v is short", file, r)
		}
		for _, c := range spec.Credentials {
			if !strings.Contains(r[1], "`"+c.Var+"`") {
				t.Errorf("%s: %s does not name %s", file, spec.Name, c.Var)
			}
		}
		if !strings.HasPrefix(r[3], spec.Billing.String()+" ") && r[3] != spec.Billing.String() {
			t.Errorf("%s: %s billed per %q, want %q", file, spec.Name, r[3], spec.Billing)
		}
		rate := fmt.Sprintf("%g req/s, burst %d (`%s`, `_BURST`", spec.DefaultRate, spec.DefaultBurst, spec.RateVar())
		if !strings.HasPrefix(r[4], rate) {
			t.Errorf("%s: %s rate %q, want it to start %q", file, spec.Name, r[4], rate)
		}
	}
}
