package demo

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func alive(pid int) bool {
	// A zombie still answers kill 0: look at its state too.
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err == nil && !strings.HasPrefix(strings.TrimSpace(string(out)), "Z")
}

// A child that ignores SIGTERM and left a grandchild behind: Stop kills
// the whole group after the grace period.
func TestStopKillsTheProcessGroup(t *testing.T) {
	pr, pw := io.Pipe()
	p, err := StartProc("stubborn", "/bin/sh", []string{"-c", `trap "" TERM; sleep 60 & echo $!; while :; do sleep 0.05; done`}, nil, pw)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	grandchild, _ := strconv.Atoi(strings.TrimSpace(line))
	if !alive(grandchild) || !alive(p.Pid()) {
		t.Fatalf("child %d or grandchild %d not running", p.Pid(), grandchild)
	}
	began := time.Now()
	p.Stop(300 * time.Millisecond)
	took := time.Since(began)
	if took < 250*time.Millisecond || took > 3*time.Second {
		t.Errorf("Stop took %v, want the grace (300ms) then SIGKILL", took)
	}
	deadline := time.Now().Add(2 * time.Second)
	for alive(grandchild) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(grandchild) {
		t.Fatalf("grandchild %d outlived Stop", grandchild)
	}
	if code := ExitCode(p.Err()); code != -1 {
		t.Errorf("exit code %d, want -1 (killed)", code)
	}
}

// A child that honours SIGTERM stops at once, its exit status kept.
func TestStopPoliteChild(t *testing.T) {
	p, err := StartProc("polite", "/bin/sh", []string{"-c", `trap "exit 0" TERM; while :; do sleep 0.05; done`}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the trap is set
	began := time.Now()
	if err := p.Stop(5 * time.Second); err != nil {
		t.Errorf("Stop: %v, want a clean exit", err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("Stop took %v", took)
	}
}

func TestRunLoopRepeatsAndStops(t *testing.T) {
	s := &Supervisor{Out: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Grace: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunLoop(ctx, "true", "/bin/true", nil, 20*time.Millisecond, func(err error, took time.Duration) {
			if err != nil {
				t.Errorf("run failed: %v", err)
			}
			runs.Add(1)
		})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if runs.Load() < 3 {
		t.Fatalf("%d runs in 5s, want at least 3", runs.Load())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("RunLoop did not return after cancel")
	}

	// Cancelled mid-run: the running child is stopped.
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() {
		defer close(done)
		s.RunLoop(ctx, "sleep", "/bin/sleep", []string{"60"}, time.Hour, nil)
	}()
	time.Sleep(100 * time.Millisecond)
	began := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("RunLoop did not stop its child")
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("stopping took %v", took)
	}
}

func TestChildEnv(t *testing.T) {
	env := ChildEnv([]string{
		"PATH=/usr/bin", "HOME=/root", "TELEGRAM_BOT_TOKEN=real:token", "SITERASTREIO_API_KEY=k",
		"PACOTEVICIO_MONTHLY_BUDGET=5", "CREDENTIALS_DIRECTORY=/run/creds", "RASTREIO_DB=/var/lib/x.db", "DEMO_DIR=/tmp/d",
	}, map[string]string{"RASTREIO_DB": "/tmp/demo.db"})
	got := strings.Join(env, " ")
	want := "PATH=/usr/bin HOME=/root RASTREIO_DB=/tmp/demo.db"
	if got != want {
		t.Fatalf("ChildEnv = %q, want %q", got, want)
	}
}
