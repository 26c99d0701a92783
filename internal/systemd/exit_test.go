package systemd

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestExit(t *testing.T) {
	c := fakeNotifySocket(t)
	cause := errors.New("TELEGRAM_BOT_TOKEN: not set")
	tests := []struct {
		name   string
		err    error
		code   int
		stderr string
		status string // STATUS= sent, "" for none
	}{
		{"success", nil, 0, "", ""},
		{"plain error", errors.New("database r.db: disk I/O error"), 1, "prog: database r.db: disk I/O error\n", ""},
		{"configuration", ConfigError("configuration error: token", cause), 78, "prog: TELEGRAM_BOT_TOKEN: not set\n", "STATUS=configuration error: token"},
		{"wrapped", fmt.Errorf("start: %w", &ExitError{Code: ExitUnavailable, Err: cause}), 69, "prog: TELEGRAM_BOT_TOKEN: not set\n", ""},
		{"logged already", &ExitError{Code: ExitFailure}, 1, "", ""},
		{"status only", &ExitError{Code: ExitConfig, Status: "configuration error: key"}, 78, "", "STATUS=configuration error: key"},
		{"no code is still a failure", &ExitError{}, 1, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			if got := Exit("prog", tc.err, &stderr); got != tc.code {
				t.Errorf("exit %d, want %d", got, tc.code)
			}
			if stderr.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
			if got := pendingDatagram(t, c); got != tc.status {
				t.Errorf("notified %q, want %q", got, tc.status)
			}
		})
	}
}

// pendingDatagram is the notification waiting on c, or "" when none came.
func pendingDatagram(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	n, _, err := c.ReadFromUnix(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return ""
		}
		t.Fatal(err)
	}
	return string(buf[:n])
}
