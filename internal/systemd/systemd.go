// Package systemd is what makes the programs good systemd citizens:
// sd_notify (READY, STATUS, STOPPING, WATCHDOG), logging to the journal
// when stderr is the journal stream, and the exit statuses the units act
// on (Exit, ExitError: 78 stops a unit instead of restarting it).
//
// Logging choice (systemd issue 2913). journald attributes an entry sent
// with the native protocol to a unit by reading the sender's /proc entry
// when it processes the datagram; a process that exits first (the tracker,
// right after its summary) leaves entries that `journalctl -u` does not
// show. The stderr stream does not have the race, but it carries text only:
// no CODE=/CHAT_ID= fields to filter on. So entries go through the native
// protocol with their fields, and every log call then waits until journald
// has read the entry (journalBarrier: an empty datagram behind it, and
// SIOCOUTQ on our socket falling to 0), bounded by 500 ms. If the native
// socket fails, the line goes to stderr with a "<N>" priority prefix.
// `make test-systemd` proves it with journald paused: plain journal.Send
// loses the last lines of short-lived units, this handler keeps them.
package systemd

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/coreos/go-systemd/v22/journal"
)

// NewLogger returns the program's logger: ident names it
// (rastreio-bot, rastreio-tracker, the journal's SYSLOG_IDENTIFIER); level
// is the least level written.
//
// When stderr is the process's standard error and systemd connected it to
// the journal (journal.StderrIsJournalStream, checked once here), entries
// go to journald's native socket with structured fields (see
// journalHandler), and each call returns only once journald has read the
// entry, so even the last line before exit shows under `journalctl -u`
// (systemd issue 2913). Otherwise it is slog's text handler on stderr.
func NewLogger(ident string, level slog.Level, stderr io.Writer) *slog.Logger {
	if f, ok := stderr.(*os.File); ok && f == os.Stderr {
		if yes, err := journal.StderrIsJournalStream(); err == nil && yes {
			b := newJournalBarrier(journalSocket, barrierTimeout)
			return slog.New(newJournalHandler(ident, level, stderr, journal.Send, b.Wait))
		}
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// barrierTimeout bounds how long a log call waits for journald to read
// its entry; journald normally does within a fraction of a millisecond.
const barrierTimeout = 500 * time.Millisecond

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
