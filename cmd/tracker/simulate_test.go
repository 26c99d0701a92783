package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sim "github.com/rastreio/rastreio/internal/simulate"
	"github.com/rastreio/rastreio/internal/systemd"
)

// simulate prints a table, then the report as its last stdout line. One
// journey of the repo's file keeps it short: the month is
// internal/simulate's TestReplayGoals.
func TestSimulateCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("replays five days, every pass among them")
	}
	all, err := sim.LoadFile("testdata/journeys.json")
	if err != nil || len(all) < 8 {
		t.Fatalf("the repo's journeys: %d, %v", len(all), err)
	}
	var raw []json.RawMessage
	body, err := os.ReadFile("testdata/journeys.json")
	if err == nil {
		err = json.Unmarshal(body, &raw)
	}
	if err != nil {
		t.Fatal(err)
	}
	var one json.RawMessage
	for i, j := range all {
		if j.Code == "DG049186226BR" { // a day from posted to delivered
			one = raw[i]
		}
	}
	file := filepath.Join(t.TempDir(), "one.json")
	if err := os.WriteFile(file, append(append([]byte("["), one...), ']'), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := simulateExit(t, &out, &errb, "-journeys", file, "-providers", "siterastreio,track17")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) < 4 || !strings.Contains(out.String(), "actionable median") {
		t.Fatalf("no table:\n%s", out.String())
	}
	var rep struct {
		Parcels int `json:"parcels"`
		Events  int `json:"events"`
		Results []struct {
			Provider string  `json:"provider"`
			Policy   string  `json:"policy"`
			Billed   float64 `json:"billed_per_parcel"`
			Missed   int     `json:"missed"`
			Repeated int     `json:"repeated"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the report: %v\n%s", err, lines[len(lines)-1])
	}
	if rep.Parcels != 1 || rep.Events != 4 || len(rep.Results) != 6 {
		t.Fatalf("report: %+v", rep)
	}
	for _, r := range rep.Results {
		if r.Provider == "track17" && r.Billed != 1 {
			t.Errorf("track17 %s billed %v per parcel, want 1", r.Policy, r.Billed)
		}
		if r.Provider == "siterastreio" && r.Policy == "every-pass" && r.Billed < 100 {
			t.Errorf("siterastreio every pass billed %v per parcel, want hundreds", r.Billed)
		}
		if r.Missed != 0 || r.Repeated != 0 {
			t.Errorf("%s %s: missed %d, repeated %d", r.Provider, r.Policy, r.Missed, r.Repeated)
		}
	}
}

// simulateExit runs `rastreio-tracker simulate args…` as main does and
// returns its exit status.
func simulateExit(t *testing.T, stdout, stderr *bytes.Buffer, args ...string) int {
	t.Helper()
	err := run(t.Context(), append([]string{program, "simulate"}, args...), func(string) string { return "" }, stdout, stderr)
	return systemd.Exit(program, err, stderr)
}

// A malformed file or option: exit 78 with one line naming the problem.
func TestSimulateMalformed(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"code":"QQ850419295BR","events":[{"codigo":"PO","tipo":"01","dtHrCriado":"amanhã","descricao":"x"}]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-journeys", bad}, `dtHrCriado "amanhã"`},
		{[]string{"-journeys", filepath.Join(dir, "none.json")}, "no such file"},
		{[]string{}, "-journeys FILE is required"},
		{[]string{"-journeys", bad, "-providers", "fedex"}, `unknown provider "fedex"`},
	} {
		var out, errb bytes.Buffer
		if code := simulateExit(t, &out, &errb, c.args...); code != systemd.ExitConfig {
			t.Errorf("%v: exit %d, want 78", c.args, code)
		}
		msg := strings.TrimRight(errb.String(), "\n")
		if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) {
			t.Errorf("%v: stderr %q, want one line with %q", c.args, msg, c.want)
		}
	}
}
