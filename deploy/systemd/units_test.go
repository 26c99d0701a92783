// Static checks of the shipped units and of install.mk, run by `make test`
// as a normal user. `make test-systemd` (root) runs them under a real
// systemd.
package systemd_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/bot"
	"github.com/rastreio/rastreio/internal/config"
)

// unit is a parsed unit file: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: bad line %q", path, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

var credentials = []string{"telegram-bot-token", "correios-user", "correios-access-code", "siterastreio-api-key", "pacotevicio-api-key", "track17-api-key"}

func TestUnits(t *testing.T) {
	common := map[string]string{
		"User":                     "rastreio",
		"DynamicUser":              "yes",
		"StateDirectory":           "rastreio",
		"Restart":                  "always",
		"RestartPreventExitStatus": "78",
		"NotifyAccess":             "main",
		"EnvironmentFile":          "-/etc/rastreio/rastreio.env",
		"ProtectSystem":            "strict",
		"NoNewPrivileges":          "yes",
		"PrivateTmp":               "yes",
		"CapabilityBoundingSet":    "",
		"RestrictAddressFamilies":  "AF_INET AF_INET6 AF_UNIX",
		"SystemCallArchitectures":  "native",
		// Sized from the benchmarks' peak RSS (see the units' comment).
		"MemoryMax": "256M",
	}
	tests := []struct {
		file string
		want map[string]string
		unit map[string]string
	}{
		{"rastreio-bot.service", map[string]string{
			"Type": "notify", "ExecStart": "/usr/local/bin/rastreio-bot", "WatchdogSec": "30s",
		}, nil},
		{"rastreio-tracker.service", map[string]string{
			"Type": "exec", "ExecStart": "/usr/local/bin/rastreio-tracker", "RestartSec": "3min", "RuntimeMaxSec": "15min",
		}, map[string]string{"StartLimitIntervalSec": "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			u := parseUnit(t, tc.file)
			for k, v := range common {
				if got := u.get("Service", k); got != v {
					t.Errorf("[Service] %s=%q, want %q", k, got, v)
				}
			}
			for k, v := range tc.want {
				if got := u.get("Service", k); got != v {
					t.Errorf("[Service] %s=%q, want %q", k, got, v)
				}
			}
			for k, v := range tc.unit {
				if got := u.get("Unit", k); got != v {
					t.Errorf("[Unit] %s=%q, want %q", k, got, v)
				}
			}
			// StartLimitIntervalSec in [Service] is an unknown key, ignored.
			if _, ok := u["Service"]["StartLimitIntervalSec"]; ok {
				t.Error("StartLimitIntervalSec belongs in [Unit]")
			}
			// Secrets only through the credential store, with relative names
			// (an absent file is skipped; an absolute path fails the unit).
			var got []string
			for _, lc := range u["Service"]["LoadCredential"] {
				name, src, _ := strings.Cut(lc, ":")
				if src != "rastreio."+name {
					t.Errorf("LoadCredential=%s: want %s:rastreio.%s", lc, name, name)
				}
				got = append(got, name)
			}
			if !slices.Equal(got, credentials) {
				t.Errorf("LoadCredential names %v, want %v", got, credentials)
			}
			for _, k := range []string{"Environment", "SetCredential"} {
				if _, ok := u["Service"][k]; ok {
					t.Errorf("%s= in the unit: secrets and settings go elsewhere", k)
				}
			}
			if u.get("Install", "WantedBy") != "multi-user.target" {
				t.Error("[Install] WantedBy=multi-user.target missing")
			}
		})
	}
}

// The env template documents every setting the programs read
// (internal/config), commented out, and holds no secret.
func TestEnvTemplate(t *testing.T) {
	b, err := os.ReadFile("rastreio.env")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, v := range []string{
		"TELEGRAM_API_ENDPOINT", "RASTREIO_DB", "RASTREIO_MAX_CODES_PER_CHAT", "RASTREIO_MAX_CODES_PER_PERSON", "RASTREIO_PASS_INTERVAL", "CORREIOS_API_URL",
		"CORREIOS_POSTCARD", "CORREIOS_RATE_LIMIT", "CORREIOS_RATE_BURST", "SITERASTREIO_API_URL", "PACOTEVICIO_API_URL",
		"TRACK17_API_URL", "RASTREIO_PROVIDERS", "RASTREIO_RECHECK_INTERVAL", "TELEGRAM_SEND_RATE", "LOG_LEVEL",
	} {
		if !strings.Contains(s, "\n#"+v+"=") {
			t.Errorf("rastreio.env lacks a commented %s=", v)
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			t.Errorf("active line %q: the template sets nothing", line)
		}
	}
	for _, c := range credentials {
		if !strings.Contains(s, "rastreio."+c) {
			t.Errorf("rastreio.env does not say where %s goes", c)
		}
	}
}

// install-units with DESTDIR stages the files (no systemctl, no root):
// binaries, units with ExecStart under PREFIX, the env template never
// overwritten, the credential store 0700.
func TestInstallUnitsStaged(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed:", err)
	}
	src := t.TempDir()
	for _, p := range []string{"rastreio-bot", "rastreio-tracker"} {
		if err := os.WriteFile(filepath.Join(src, p), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dest := t.TempDir()
	run := func() string {
		cmd := exec.Command("make", "--no-print-directory", "-f", "install.mk", "install-units",
			"DESTDIR="+dest, "PREFIX=/opt/rastreio", "BINSRC="+src, "UNITSRC=.")
		cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make install-units: %v\n%s", err, out)
		}
		return string(out)
	}
	run()
	for _, p := range []string{"rastreio-bot", "rastreio-tracker"} {
		fi, err := os.Stat(filepath.Join(dest, "opt/rastreio/bin", p))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v", p, fi, err)
		}
		u := parseUnit(t, filepath.Join(dest, "etc/systemd/system", p+".service"))
		if got := u.get("Service", "ExecStart"); got != "/opt/rastreio/bin/"+p {
			t.Errorf("%s ExecStart=%s, want /opt/rastreio/bin/%s", p, got, p)
		}
	}
	if fi, err := os.Stat(filepath.Join(dest, "etc/credstore")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("credstore: %v %v", fi, err)
	}
	env := filepath.Join(dest, "etc/rastreio/rastreio.env")
	// A token put there would override the credential: not world-readable.
	if fi, err := os.Stat(env); err != nil {
		t.Error(err)
	} else if m := fi.Mode().Perm(); m != 0o640 {
		t.Errorf("rastreio.env installed with mode %v, want 0640", m)
	}
	if err := os.WriteFile(env, []byte("LOG_LEVEL=debug\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(); !strings.Contains(out, "keeping "+env) {
		t.Errorf("second run did not keep rastreio.env:\n%s", out)
	}
	if b, _ := os.ReadFile(env); string(b) != "LOG_LEVEL=debug\n" {
		t.Errorf("rastreio.env overwritten: %q", b)
	}
}

// The bot's default RASTREIO_PASS_INTERVAL (its promise of a new code's
// first check) is the tracker unit's RestartSec.
func TestPassIntervalIsRestartSec(t *testing.T) {
	rs := parseUnit(t, "rastreio-tracker.service").get("Service", "RestartSec")
	d, err := time.ParseDuration(strings.TrimSuffix(rs, "in")) // systemd's "3min" is Go's "3m"
	if err != nil {
		t.Fatalf("RestartSec=%q: %v", rs, err)
	}
	for _, def := range []time.Duration{config.DefaultPassInterval, bot.DefaultPassInterval} {
		if d != def {
			t.Errorf("RestartSec=%s, RASTREIO_PASS_INTERVAL defaults to %s", d, def)
		}
	}
}
