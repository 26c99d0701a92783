package systemd

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeNotifySocket listens where NOTIFY_SOCKET points, as systemd does.
func fakeNotifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd") // short: a socket path is < 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", p)
	return c
}

func readDatagram(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := c.ReadFromUnix(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	c := fakeNotifySocket(t)
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"ready", func() { Ready("polling, 12 chats, 240 codes") }, "READY=1\nSTATUS=polling, 12 chats, 240 codes"},
		{"status", func() { Status("pass %d: %d codes", 3, 40) }, "STATUS=pass 3: 40 codes"},
		{"watchdog", WatchdogPing, "WATCHDOG=1"},
		{"stopping", Stopping, "STOPPING=1"},
		// NOTIFY_SOCKET stays set: a later ping still arrives.
		{"watchdog after stopping", WatchdogPing, "WATCHDOG=1"},
	}
	for _, tc := range tests {
		tc.call()
		if got := readDatagram(t, c); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if os.Getenv("NOTIFY_SOCKET") == "" {
		t.Error("NOTIFY_SOCKET was unset")
	}
}

// captureLog sends the default logger's output to the returned builder
// for the test, and forgets an earlier sd_notify failure, so each test
// sees its own first one.
func captureLog(t *testing.T) *strings.Builder {
	t.Helper()
	var buf strings.Builder
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	notifyErr = sync.Once{}
	t.Cleanup(func() { slog.SetDefault(old); notifyErr = sync.Once{} })
	return &buf
}

// Without systemd nothing happens and nothing fails: no warning, and a
// socket that appears later still gets the notifications.
func TestNotifyWithoutSystemd(t *testing.T) {
	logged := captureLog(t)
	t.Setenv("NOTIFY_SOCKET", "")
	Ready("x")
	Status("y")
	WatchdogPing()
	Stopping()
	if logged.Len() != 0 {
		t.Errorf("logged without systemd: %q", logged.String())
	}
	c := fakeNotifySocket(t)
	Status("z")
	if got := readDatagram(t, c); got != "STATUS=z" {
		t.Errorf("got %q after NOTIFY_SOCKET was set, want STATUS=z", got)
	}
	if logged.Len() != 0 {
		t.Errorf("logged: %q", logged.String())
	}
}

// A socket that cannot be reached is reported once, not on every call.
func TestNotifyBrokenSocketLogsOnce(t *testing.T) {
	logged := captureLog(t)
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent"))
	Status("a")
	Status("b")
	WatchdogPing()
	if n := strings.Count(logged.String(), "sd_notify failed"); n != 1 {
		t.Errorf("logged %d times, want once: %q", n, logged.String())
	}
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "absent") {
		t.Errorf("the warning does not say what failed: %q", logged.String())
	}
}

func TestWatchdogInterval(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	tests := []struct {
		name, usec, pid string
		want            time.Duration
	}{
		{"none", "", "", 0},
		{"ours", "10000000", me, 5 * time.Second},
		{"no pid given", "3000000", "", 1500 * time.Millisecond},
		{"another process's", "10000000", "1", 0},
		{"garbage", "soon", me, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tc.usec)
			t.Setenv("WATCHDOG_PID", tc.pid)
			if got := WatchdogInterval(); got != tc.want {
				t.Errorf("WatchdogInterval() = %v, want %v", got, tc.want)
			}
		})
	}
}
