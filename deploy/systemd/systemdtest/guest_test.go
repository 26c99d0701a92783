//go:build systemdtest

package systemdtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// guestPath is PATH inside the guest.
const guestPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// guest runs commands in the booted container through nsenter; the
// environment is reset so nothing of the host leaks in.
type guest struct {
	pid string // the guest's init, a host PID
}

// run runs script with sh -c in the guest, stdin from in, bounded by a
// timeout inside the guest (a timeout outside would leave a zombie there).
func (g guest) run(timeout time.Duration, in io.Reader, script string) (string, error) {
	secs := strconv.Itoa(int(timeout/time.Second) + 1)
	cmd := exec.Command("nsenter", "-t", g.pid, "-a",
		"env", "-i", "PATH="+guestPath, "HOME=/root", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0",
		"timeout", "-k", "5", secs, "sh", "-c", script)
	cmd.Stdin = in
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("guest: %q: %w: %s", script, err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// sh runs script (30 s at most) and fails the test on error.
func (g guest) sh(t testing.TB, script string) string {
	t.Helper()
	out, err := g.run(30*time.Second, nil, script)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// write puts content into path in the guest.
func (g guest) write(t testing.TB, path, mode, content string) {
	t.Helper()
	if _, err := g.run(10*time.Second, strings.NewReader(content),
		fmt.Sprintf("install -D -m %s /dev/stdin %s", mode, path)); err != nil {
		t.Fatal(err)
	}
}

// prop returns one unit property (one per call: systemctl prints several
// in its own order).
func (g guest) prop(t testing.TB, unit, name string) string {
	t.Helper()
	out, err := g.run(10*time.Second, nil, fmt.Sprintf("systemctl show -p %s --value %s", name, unit))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// waitFor polls cond every 100 ms until it is true or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// entry is one journal entry (journalctl -o json), single-valued fields.
type entry map[string]string

func (e entry) time() time.Time {
	us, _ := strconv.ParseInt(e["__REALTIME_TIMESTAMP"], 10, 64)
	return time.UnixMicro(us)
}

// journal returns the entries journalctl selects with args.
func (g guest) journal(t testing.TB, args string) []entry {
	t.Helper()
	out, err := g.run(30*time.Second, nil, "journalctl --no-pager -o json "+args)
	if err != nil {
		t.Fatal(err)
	}
	var es []entry
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue // "-- No entries --"
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(line, &raw); err != nil {
			t.Fatalf("journal line %q: %v", line, err)
		}
		e := entry{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) == nil {
				e[k] = s
				continue
			}
			var b []byte // non-UTF-8 values are arrays of bytes
			if json.Unmarshal(v, &b) == nil {
				e[k] = string(b)
				continue
			}
			e[k] = string(v) // repeated fields: the JSON array
		}
		es = append(es, e)
	}
	return es
}

// waitJournal polls the journal until some entry satisfies match.
func (g guest) waitJournal(t testing.TB, d time.Duration, args string, match func(entry) bool) (entry, bool) {
	t.Helper()
	var found entry
	ok := waitFor(d, func() bool {
		for _, e := range g.journal(t, args) {
			if match(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found, ok
}

// background runs a guest command while the test goes on.
func (g guest) background(timeout time.Duration, script string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		out, err := g.run(timeout, nil, script)
		ch <- result{out, err}
	}()
	return ch
}

type result struct {
	out string
	err error
}
