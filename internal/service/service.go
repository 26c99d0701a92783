// Package service is what makes the programs good systemd citizens:
// sd_notify (READY, STATUS, STOPPING, WATCHDOG) and logging to the
// journal when stderr is the journal stream.
package service

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// NewLogger returns the program's logger: ident names it
// (rastreio-bot, rastreio-tracker); level is the least level written.
func NewLogger(ident string, level slog.Level, stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

var notifyErr sync.Once

// notify sends state to systemd when NOTIFY_SOCKET is set; a failure is
// logged once and otherwise ignored (the program works without systemd).
func notify(state string) {
	// false: never unset NOTIFY_SOCKET, later WATCHDOG/STOPPING need it.
	if _, err := daemon.SdNotify(false, state); err != nil {
		notifyErr.Do(func() { slog.Warn("sd_notify failed", slog.Any("error", err)) })
	}
}

// Ready tells systemd the service is up, with a status line.
func Ready(status string) { notify(daemon.SdNotifyReady + "\nSTATUS=" + status) }

// Status sets the line systemctl status shows.
func Status(format string, args ...any) { notify("STATUS=" + fmt.Sprintf(format, args...)) }

// Stopping tells systemd shutdown has begun.
func Stopping() { notify(daemon.SdNotifyStopping) }

// WatchdogPing tells systemd the service is alive.
func WatchdogPing() { notify(daemon.SdNotifyWatchdog) }

// WatchdogInterval is how often to ping the watchdog (half of
// WatchdogSec), or 0 when no watchdog is set for this process.
func WatchdogInterval() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return 0
	}
	return d / 2
}
