package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildDemo builds rastreio-bot, rastreio-tracker and rastreio-demo side
// by side (the demo runs the binaries next to it) and returns the demo's path.
func buildDemo(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, pkg := range map[string]string{"rastreio-bot": "./cmd/bot", "rastreio-tracker": "./cmd/tracker", "rastreio-demo": "./cmd/demo"} {
		cmd := exec.Command("go", "build", "-tags", "sqlite_omit_load_extension", "-o", filepath.Join(dir, name), pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, out)
		}
	}
	return filepath.Join(dir, "rastreio-demo")
}

// Demo is a running rastreio-demo in a process group of its own.
type Demo struct {
	Cmd    *exec.Cmd
	URL    string // the page, from the address line
	Dir    string // its data directory, from the same line
	Ready  time.Duration
	stderr *bytes.Buffer
	exited chan struct{} // closed once it exited
	err    error         // how, set before exited closes
}

var readyLine = regexp.MustCompile(`(http://\S+?)/? .*data in (\S+)\)`)

// startDemo starts the demo and waits for its address line.
func startDemo(t testing.TB, exe string, env ...string) *Demo {
	t.Helper()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), append([]string{"DEMO_ADDR=127.0.0.1:0", "DEMO_PASS_INTERVAL=1s"}, env...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &Demo{Cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = &syncWriter{w: d.stderr}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stopped as a person would (it removes its temporary data),
		// killed if it does not stop.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-d.exited
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		d.err = cmd.Wait()
		close(d.exited)
	}()
	select {
	case line, ok := <-lines:
		m := readyLine.FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("first stdout line %q, want the address; stderr:\n%s", line, d.stderr)
		}
		d.URL, d.Dir, d.Ready = m[1], m[2], time.Since(began)
	case <-time.After(15 * time.Second):
		t.Fatalf("no address line in 15s; stderr:\n%s", d.stderr)
	}
	go func() {
		for range lines {
		}
	}()
	return d
}

// syncWriter guards a buffer the exec package writes from a goroutine.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// descendants lists the processes below pid (through /proc).
func descendants(pid int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}

func post(t testing.TB, url, body string) {
	t.Helper()
	r, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s %s", url, r.Status, b)
	}
}

// waitBotMessage reads the page's event stream until the bot says
// something containing want (case-insensitive).
func waitBotMessage(t testing.TB, base, want string, timeout time.Duration) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/events", nil)
	client := &http.Client{Timeout: timeout}
	r, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e struct {
			Message *struct {
				Out  bool
				Text string
			} `json:"message"`
			Messages []struct {
				Out  bool
				Text string
			} `json:"messages"`
		}
		json.Unmarshal([]byte(data), &e)
		msgs := e.Messages
		if e.Message != nil {
			msgs = append(msgs, *e.Message)
		}
		for _, m := range msgs {
			if !m.Out && strings.Contains(strings.ToLower(m.Text), strings.ToLower(want)) {
				return
			}
		}
	}
	t.Fatalf("the bot never said %q within %v", want, timeout)
}

// The real bot answers through the page, and a signal stops the demo
// and everything it started within 5 s, exit 0, its temporary data gone.
func TestDemoStartsAnswersAndStopsClean(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real programs")
	}
	exe := buildDemo(t)
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		group bool
	}{
		{"ctrl-c to the group", syscall.SIGINT, true},
		{"sigterm to the demo", syscall.SIGTERM, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startDemo(t, exe)
			if d.Ready > 10*time.Second {
				t.Errorf("ready after %v, want within 10s", d.Ready)
			}
			t.Logf("ready in %v at %s", d.Ready.Round(time.Millisecond), d.URL)
			r, err := http.Get(d.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if !regexp.MustCompile(`[A-Z]{2}\d{9}[A-Z]{2}`).Match(page) || !bytes.Contains(page, []byte("<textarea")) {
				t.Fatalf("the page shows no code to try or no text box:\n%s", page)
			}
			post(t, d.URL+"/api/send", `{"chat":1001,"text":"/start"}`)
			waitBotMessage(t, d.URL, "/pacotes", 10*time.Second)

			kids := descendants(d.Cmd.Process.Pid)
			if len(kids) == 0 {
				t.Fatal("the demo runs no child")
			}
			pid := d.Cmd.Process.Pid
			if tc.group {
				pid = -pid
			}
			began := time.Now()
			syscall.Kill(pid, tc.sig)
			select {
			case <-d.exited:
				if d.err != nil {
					t.Errorf("exit: %v, want 0; stderr:\n%s", d.err, d.stderr)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("still running 5s after %v", tc.sig)
			}
			t.Logf("stopped in %v", time.Since(began).Round(time.Millisecond))
			for _, k := range kids {
				if running(k) {
					t.Errorf("child %d still running after the demo exited", k)
				}
			}
			if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
				t.Errorf("temporary directory %s left behind (%v)", d.Dir, err)
			}
		})
	}
}

// DEMO_PASS_INTERVAL=0 (passes back to back) is accepted: the bot still
// starts and answers.
func TestDemoPassIntervalZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real programs")
	}
	d := startDemo(t, buildDemo(t), "DEMO_PASS_INTERVAL=0")
	post(t, d.URL+"/api/send", `{"chat":1001,"text":"/start"}`)
	waitBotMessage(t, d.URL, "/pacotes", 10*time.Second)
}
