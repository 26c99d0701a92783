//go:build systemdtest

// Package systemdtest checks rastreio's systemd units under a real systemd
// (Debian 12, systemd 252) booted by deploy/systemd/test-systemd.sh, which
// passes the guest's init PID in RASTREIO_GUEST_PID. Run it with
// `make test-systemd` (root). The programs in the guest talk to fake
// Telegram (telegramtest) and fake Correios (correiostest) servers run by
// this test on the host's 127.0.0.1, which the guest shares.
package systemdtest

import (
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/pacotevicio/pacoteviciotest"
	"github.com/rastreio/rastreio/internal/siterastreio/siterastreiotest"
	"github.com/rastreio/rastreio/internal/systemd"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/track17/track17test"
)

const (
	token     = "7654321:AAHsystemdTestSecretToken42"
	badToken  = "7654321:AAHwrongTokenForThisTest00"
	corUser   = "rastreio-systemd-test"
	corAccess = "CorreiosSecretAccessCode77"
	// Every provider's key is loaded (credentials) and must stay as
	// secret as the token.
	srKey      = "SiteRastreioSecretKey5150"
	pvKey      = "PacoteVicioRapidAPISecretKey8086"
	t17Key     = "Track17SecretKey6502"
	chat       = int64(424242)
	code       = "QQ850419295BR"
	restartSec = 3 * time.Second // the tracker's RestartSec in the test drop-in
	watchdog   = 10 * time.Second
	bot        = "rastreio-bot.service"
	tracker    = "rastreio-tracker.service"
	// Where the guest gets things from the host (bound read-only).
	share = "/mnt/rastreio"
)

// summaryRE matches the tracker's summary line, the last of each pass.
var summaryRE = regexp.MustCompile(envOr("RASTREIO_SUMMARY_RE", `^pass done `))

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type outcome struct {
	name string
	ok   bool
	took time.Duration
	note string
}

var outcomes []outcome

func TestMain(m *testing.M) {
	// The test binary doubles as the short-lived logger of the issue-2913
	// check (it is copied into the guest and run as a unit there).
	if mode := os.Getenv("RASTREIO_LOGEXIT"); mode != "" {
		os.Exit(logExit(mode))
	}
	if os.Getenv("RASTREIO_GUEST_PID") == "" {
		fmt.Println("systemdtest: run through `make test-systemd` (needs a booted guest)")
		os.Exit(2)
	}
	telegramtest.WaitTimeout = 20 * time.Second
	code := m.Run()
	passed, failed := 0, 0
	fmt.Println()
	for _, o := range outcomes {
		status := "PASS"
		if o.ok {
			passed++
		} else {
			status = "FAIL"
			failed++
		}
		note := ""
		if o.note != "" {
			note = " — " + o.note
		}
		fmt.Printf("%s  %-70s %5.1fs%s\n", status, o.name, o.took.Seconds(), note)
	}
	fmt.Printf("test-systemd: %d passed, %d failed\n", passed, failed)
	if failed > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// logExit logs two lines and exits at once, as a tracker pass does.
// "barrier": through systemd.NewLogger; "raw": journal.Send alone.
func logExit(mode string) int {
	n := os.Getenv("RASTREIO_LOGEXIT_N")
	switch mode {
	case "barrier":
		l := systemd.NewLogger("logexit", slog.LevelInfo, os.Stderr)
		l.Info("first line", "run", n)
		l.Info("last line", "run", n)
	case "cost": // what the barrier costs per line, under a real journald
		l := systemd.NewLogger("logexit", slog.LevelInfo, os.Stderr)
		const lines = 2000
		start := time.Now()
		for i := range lines {
			l.Info("cost line", "i", i, "code", "QQ850419295BR")
		}
		l.Info("cost done", "per_line_us", time.Since(start).Microseconds()/lines)
	case "raw":
		vars := map[string]string{"SYSLOG_IDENTIFIER": "logexit", "RUN": n}
		journal.Send("first line run="+n, journal.PriInfo, vars)
		journal.Send("last line run="+n, journal.PriInfo, vars)
	}
	return 0
}

// check runs one named check as a subtest and records its outcome.
func check(t *testing.T, name string, f func(t *testing.T) string) bool {
	start := time.Now()
	var note string
	ok := t.Run(name, func(t *testing.T) { note = f(t) })
	outcomes = append(outcomes, outcome{name, ok, time.Since(start), note})
	status := "PASS"
	if !ok {
		status = "FAIL"
	}
	fmt.Printf("%s %s (%.1fs) %s\n", status, name, time.Since(start).Seconds(), note)
	return ok
}

func TestSystemd(t *testing.T) {
	g := guest{pid: os.Getenv("RASTREIO_GUEST_PID")}
	tarball := envOr("RASTREIO_GUEST_TARBALL", share+"/rastreio.tar.gz")

	tg := telegramtest.NewUnstarted(token)
	tg.Start()
	t.Cleanup(tg.Close)
	gt := newGate(t, tg.URL())
	cor := correiostest.NewTB(t, correiostest.Options{User: corUser, AccessCode: corAccess})
	cor.SetObject(code, correiostest.Object(code, 3, time.Now().Add(-72*time.Hour)))
	// The other providers, asked after Correios (RASTREIO_PROVIDERS).
	sr := siterastreiotest.NewTB(t, siterastreiotest.Options{APIKey: srKey})
	pv := pacoteviciotest.NewTB(t, pacoteviciotest.Options{APIKey: pvKey})
	t17 := track17test.NewTB(t, track17test.Options{APIKey: t17Key})

	check(t, "install-units from the release tarball (no Go, no credentials yet)", func(t *testing.T) string {
		out := g.sh(t, `if command -v go || command -v gcc; then echo "the guest has a compiler"; exit 1; fi
mkdir -p /root/rel && tar -xzf `+tarball+` -C /root/rel --strip-components=1 && cd /root/rel && make install-units 2>&1`)
		for _, want := range []string{"/etc/credstore/rastreio.telegram-bot-token", "install -m 0600 /dev/stdin"} {
			if !strings.Contains(out, want) {
				t.Errorf("install-units output lacks %q:\n%s", want, out)
			}
		}
		g.sh(t, "test -x /usr/local/bin/rastreio-bot && test -x /usr/local/bin/rastreio-tracker && test -f /etc/rastreio/rastreio.env")
		if m := strings.TrimSpace(g.sh(t, "stat -c %a /etc/credstore")); m != "700" {
			t.Errorf("/etc/credstore mode %s, want 700", m)
		}
		if m := strings.TrimSpace(g.sh(t, "stat -c '%a %U %G' /etc/rastreio/rastreio.env")); m != "640 root root" {
			t.Errorf("/etc/rastreio/rastreio.env is %s, want 640 root root", m)
		}
		for _, u := range []string{bot, tracker} {
			// systemd parsed the limit (the guest's cgroup2 has no
			// controllers, so it is not enforced here).
			if m := g.prop(t, u, "MemoryMax"); m != strconv.Itoa(256<<20) {
				t.Errorf("%s MemoryMax=%s, want %d (256M)", u, m, 256<<20)
			}
			if s := g.prop(t, u, "UnitFileState"); s != "enabled" {
				t.Errorf("%s UnitFileState=%s, want enabled", u, s)
			}
			if s := g.prop(t, u, "ActiveState"); s != "inactive" {
				t.Errorf("%s ActiveState=%s, want inactive (no credentials yet)", u, s)
			}
		}
		return ""
	})

	check(t, "systemd-analyze verify prints nothing", func(t *testing.T) string {
		out, err := g.run(60*time.Second, nil, "systemd-analyze verify "+bot+" "+tracker+" 2>&1")
		if err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("verify: %v\n%s", err, out)
		}
		return ""
	})

	check(t, "systemd-analyze security exposure ≤ 2.0 for each unit", func(t *testing.T) string {
		re := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)
		var notes []string
		for _, u := range []string{bot, tracker} {
			for _, mode := range []string{"--offline=yes ", ""} {
				out, _ := g.run(60*time.Second, nil, "systemd-analyze security "+mode+u+" 2>&1")
				m := re.FindStringSubmatch(out)
				if m == nil {
					t.Errorf("%s%s: no score in\n%s", mode, u, out)
					continue
				}
				score, _ := strconv.ParseFloat(m[1], 64)
				if score > 2.0 {
					t.Errorf("%s%s: exposure %.1f > 2.0", mode, u, score)
				}
				kind := "offline"
				if mode == "" {
					kind = "online"
				}
				notes = append(notes, fmt.Sprintf("%s %s %.1f", strings.TrimSuffix(u, ".service"), kind, score))
			}
		}
		return strings.Join(notes, ", ")
	})

	// RASTREIO_RECHECK_INTERVAL=0: every active code at every pass, as
	// outside tests run it; the SIGTERM check needs a pass that is asking
	// Correios (the adaptive schedule leaves a just-answered code alone).
	env := fmt.Sprintf("# written by the systemd test\nTELEGRAM_API_ENDPOINT=%s\nCORREIOS_API_URL=%s\nSITERASTREIO_API_URL=%s\nPACOTEVICIO_API_URL=%s\nTRACK17_API_URL=%s\nRASTREIO_PROVIDERS=correios,siterastreio,pacotevicio,track17\nRASTREIO_RECHECK_INTERVAL=0\nLOG_LEVEL=debug\n",
		gt.endpoint(), cor.URL, sr.URL, pv.URL, t17.URL)
	check(t, "install-units keeps an existing rastreio.env; PREFIX reaches ExecStart", func(t *testing.T) string {
		g.write(t, "/etc/rastreio/rastreio.env", "0644", env)
		g.write(t, "/etc/systemd/system/rastreio-tracker.service.d/test.conf", "0644",
			fmt.Sprintf("[Service]\nRestartSec=%ds\n", int(restartSec/time.Second)))
		g.write(t, "/etc/systemd/system/rastreio-bot.service.d/test.conf", "0644",
			fmt.Sprintf("[Service]\nRestartSec=1s\nWatchdogSec=%ds\n", int(watchdog/time.Second)))
		out := g.sh(t, "cd /root/rel && make install-units 2>&1")
		if !strings.Contains(out, "keeping /etc/rastreio/rastreio.env") {
			t.Errorf("install-units output:\n%s", out)
		}
		if got := g.sh(t, "cat /etc/rastreio/rastreio.env"); got != env {
			t.Errorf("rastreio.env was changed:\n%s", got)
		}
		g.sh(t, "cd /root/rel && make install-units DESTDIR=/tmp/stage PREFIX=/opt/rastreio >/dev/null")
		if got := g.sh(t, "grep ^ExecStart= /tmp/stage/etc/systemd/system/rastreio-bot.service /tmp/stage/etc/systemd/system/rastreio-tracker.service"); !strings.Contains(got, "ExecStart=/opt/rastreio/bin/rastreio-bot\n") || !strings.Contains(got, "ExecStart=/opt/rastreio/bin/rastreio-tracker\n") {
			t.Errorf("staged ExecStart lines:\n%s", got)
		}
		g.sh(t, "test -x /tmp/stage/opt/rastreio/bin/rastreio-bot")
		if s := g.prop(t, tracker, "RestartUSec"); s != "3s" {
			t.Errorf("tracker RestartUSec=%s after the drop-in, want 3s", s)
		}
		return ""
	})

	check(t, "a bad token: the bot ends failed with status 78, no restart loop", func(t *testing.T) string {
		g.write(t, "/etc/credstore/rastreio.telegram-bot-token", "0600", badToken+"\n")
		g.run(60*time.Second, nil, "systemctl start "+bot)
		if !waitFor(30*time.Second, func() bool { return g.prop(t, bot, "ActiveState") == "failed" }) {
			t.Fatalf("ActiveState=%s, want failed", g.prop(t, bot, "ActiveState"))
		}
		time.Sleep(3 * time.Second) // 3× the test's RestartSec
		if s := g.prop(t, bot, "ActiveState"); s != "failed" {
			t.Errorf("ActiveState=%s after 3 s, want failed", s)
		}
		if s := g.prop(t, bot, "ExecMainStatus"); s != "78" {
			t.Errorf("ExecMainStatus=%s, want 78", s)
		}
		if s := g.prop(t, bot, "NRestarts"); s != "0" {
			t.Errorf("NRestarts=%s, want 0", s)
		}
		if out := g.sh(t, "systemctl --failed --no-legend"); !strings.Contains(out, bot) {
			t.Errorf("systemctl --failed:\n%s", out)
		}
		// systemctl status says why (STATUS= sent before exiting).
		st := g.prop(t, bot, "StatusText")
		if !strings.Contains(st, "TELEGRAM_BOT_TOKEN") {
			t.Errorf("StatusText=%q, want the reason naming TELEGRAM_BOT_TOKEN", st)
		}
		return "StatusText=" + strconv.Quote(st)
	})

	check(t, "no provider credentials: the tracker ends failed with status 78", func(t *testing.T) string {
		g.run(30*time.Second, nil, "systemctl start "+tracker)
		if !waitFor(20*time.Second, func() bool { return g.prop(t, tracker, "ActiveState") == "failed" }) {
			t.Fatalf("ActiveState=%s, want failed", g.prop(t, tracker, "ActiveState"))
		}
		time.Sleep(restartSec + time.Second)
		if s := g.prop(t, tracker, "ActiveState"); s != "failed" {
			t.Errorf("ActiveState=%s after RestartSec, want failed", s)
		}
		if s := g.prop(t, tracker, "ExecMainStatus"); s != "78" {
			t.Errorf("ExecMainStatus=%s, want 78", s)
		}
		if s := g.prop(t, tracker, "NRestarts"); s != "0" {
			t.Errorf("NRestarts=%s, want 0", s)
		}
		st := g.prop(t, tracker, "StatusText")
		if !strings.Contains(st, "CORREIOS_USER") {
			t.Errorf("StatusText=%q, want the reason naming CORREIOS_USER", st)
		}
		return "StatusText=" + strconv.Quote(st)
	})

	// From here on the configuration is good.
	g.write(t, "/etc/credstore/rastreio.telegram-bot-token", "0600", token+"\n")
	g.write(t, "/etc/credstore/rastreio.correios-user", "0600", corUser+"\n")
	g.write(t, "/etc/credstore/rastreio.correios-access-code", "0600", corAccess+"\n")
	g.write(t, "/etc/credstore/rastreio.siterastreio-api-key", "0600", srKey+"\n")
	g.write(t, "/etc/credstore/rastreio.pacotevicio-api-key", "0600", pvKey+"\n")
	g.write(t, "/etc/credstore/rastreio.track17-api-key", "0600", t17Key+"\n")
	g.sh(t, "systemctl reset-failed "+bot+" "+tracker)
	since := "--since=@" + strconv.FormatInt(time.Now().Unix(), 10)

	botUp := check(t, "install-units starts the bot, active only once ready (READY=1 after getMe)", func(t *testing.T) string {
		held, release := gt.holdNextGetMe()
		defer release()
		inst := g.background(120*time.Second, "cd /root/rel && make install-units 2>&1")
		select {
		case <-held:
		case r := <-inst:
			t.Fatalf("install-units ended before the bot asked getMe: %v\n%s", r.err, r.out)
		case <-time.After(30 * time.Second):
			t.Fatal("the bot never called getMe")
		}
		for range 5 {
			if s := g.prop(t, bot, "ActiveState"); s != "activating" {
				t.Fatalf("ActiveState=%s while getMe is unanswered, want activating", s)
			}
			time.Sleep(200 * time.Millisecond)
		}
		release()
		r := <-inst
		if r.err != nil {
			t.Fatalf("install-units: %v\n%s", r.err, r.out)
		}
		if s := g.prop(t, bot, "ActiveState"); s != "active" {
			t.Fatalf("ActiveState=%s after install-units, want active\n%s", s, r.out)
		}
		if s := g.prop(t, tracker, "ActiveState"); s == "failed" {
			t.Errorf("tracker ActiveState=%s", s)
		}
		st := g.prop(t, bot, "StatusText")
		if !strings.HasPrefix(st, "polling") {
			t.Errorf("StatusText=%q, want the bot's polling status", st)
		}
		return "StatusText=" + strconv.Quote(st)
	})

	check(t, "the bot answers /start", func(t *testing.T) string {
		if !botUp {
			t.Fatal("the bot is not up")
		}
		n := len(tg.Messages(chat))
		tg.PushMessage(chat, chat, "/start")
		tg.WaitMessages(t, chat, n+1)
		return ""
	})

	check(t, "both units share one database: a code sent to the bot is notified by the tracker", func(t *testing.T) string {
		n := len(tg.Messages(chat))
		tg.PushMessage(chat, chat, code+" tênis")
		ms := tg.WaitMessages(t, chat, n+1)
		if !strings.Contains(ms[n].Text, code) {
			t.Fatalf("the bot's answer does not name %s: %q", code, ms[n].Text)
		}
		ok := waitFor(60*time.Second, func() bool {
			for _, m := range tg.Messages(chat)[n+1:] {
				if strings.Contains(m.Text, code) {
					return true
				}
			}
			return false
		})
		if !ok {
			t.Fatalf("no notification for %s from the tracker (Correios requests: %d)", code, len(cor.Requests()))
		}
		asked := false
		for _, r := range cor.Requests() {
			for _, c := range r.Codes {
				asked = asked || c == code
			}
		}
		if !asked {
			t.Errorf("the tracker never asked Correios for %s", code)
		}
		dbs := strings.Fields(g.sh(t, "ls /var/lib/private/rastreio/"))
		return "state directory: " + strings.Join(dbs, " ")
	})

	check(t, "fields filter: a blocked chat's line under journalctl -u rastreio-tracker CODE=…", func(t *testing.T) string {
		// The tracker logs a line with chat_id and code when Telegram refuses
		// a notification (403): find it by its fields.
		const chat2, code2 = int64(515151), "QH991577104BR"
		cor.SetObject(code2, correiostest.Object(code2, 2, time.Now().Add(-24*time.Hour)))
		n := len(tg.Messages(chat2))
		tg.PushMessage(chat2, chat2, code2+" livro")
		tg.WaitMessages(t, chat2, n+1)
		tg.Block(chat2)
		e, ok := g.waitJournal(t, 40*time.Second, "-u "+tracker+" CODE="+code2, func(e entry) bool { return true })
		if !ok {
			t.Fatalf("journalctl -u %s CODE=%s: no entries", tracker, code2)
		}
		if e["CHAT_ID"] != strconv.FormatInt(chat2, 10) || e["_SYSTEMD_UNIT"] != tracker {
			t.Errorf("entry CHAT_ID=%q _SYSTEMD_UNIT=%q, want %d and %s", e["CHAT_ID"], e["_SYSTEMD_UNIT"], chat2, tracker)
		}
		chats := g.journal(t, "-u "+bot+" CHAT_ID="+strconv.FormatInt(chat, 10))
		return fmt.Sprintf("PRIORITY=%s %q; %d bot entries with CHAT_ID=%d", e["PRIORITY"], e["MESSAGE"], len(chats), chat)
	})

	check(t, "kill -9 of the bot's main process brings a new one", func(t *testing.T) string {
		if g.prop(t, bot, "ActiveState") != "active" {
			t.Fatal("the bot is not active")
		}
		pid := g.prop(t, bot, "MainPID")
		nr, _ := strconv.Atoi(g.prop(t, bot, "NRestarts"))
		if pid == "0" || pid == "" {
			t.Fatal("the bot is not running")
		}
		start := time.Now()
		g.sh(t, "kill -9 "+pid)
		if !waitFor(30*time.Second, func() bool {
			p := g.prop(t, bot, "MainPID")
			return p != pid && p != "0" && g.prop(t, bot, "ActiveState") == "active"
		}) {
			t.Fatalf("no new main process: ActiveState=%s MainPID=%s", g.prop(t, bot, "ActiveState"), g.prop(t, bot, "MainPID"))
		}
		took := time.Since(start)
		if got, _ := strconv.Atoi(g.prop(t, bot, "NRestarts")); got != nr+1 {
			t.Errorf("NRestarts=%d, want %d", got, nr+1)
		}
		n := len(tg.Messages(chat))
		tg.PushMessage(chat, chat, "/start")
		tg.WaitMessages(t, chat, n+1)
		return fmt.Sprintf("active again after %.1fs", took.Seconds())
	})

	check(t, "a hung update loop: the watchdog restarts the bot", func(t *testing.T) string {
		if os.Getenv("RASTREIO_SKIP_WATCHDOG") != "" { // only while working on the other checks
			t.Fatal("skipped by RASTREIO_SKIP_WATCHDOG")
		}
		if g.prop(t, bot, "ActiveState") != "active" {
			t.Fatal("the bot is not active")
		}
		pid := g.prop(t, bot, "MainPID")
		nr, _ := strconv.Atoi(g.prop(t, bot, "NRestarts"))
		start := time.Now()
		gt.hangGetUpdates()
		defer gt.unhang()
		// Telegram's long poll is 50 s and the client gives up 15 s later; the
		// bot stops pinging once Telegram has not answered for that long.
		if !waitFor(180*time.Second, func() bool {
			n, _ := strconv.Atoi(g.prop(t, bot, "NRestarts"))
			return n > nr
		}) {
			t.Fatalf("no restart within 180 s (getUpdates calls left hanging: %d)", gt.hungCalls.Load())
		}
		took := time.Since(start)
		if _, ok := g.waitJournal(t, 10*time.Second, "-u "+bot+" "+since, func(e entry) bool {
			return strings.Contains(e["MESSAGE"], "Watchdog timeout")
		}); !ok {
			t.Errorf("no \"Watchdog timeout\" in journalctl -u %s", bot)
		}
		if r := g.prop(t, bot, "MainPID"); r == pid {
			t.Errorf("MainPID still %s", r)
		}
		gt.unhang()
		if !waitFor(30*time.Second, func() bool { return g.prop(t, bot, "ActiveState") == "active" }) {
			t.Fatalf("ActiveState=%s after the watchdog restart", g.prop(t, bot, "ActiveState"))
		}
		n := len(tg.Messages(chat))
		tg.PushMessage(chat, chat, "/start")
		tg.WaitMessages(t, chat, n+1)
		return fmt.Sprintf("restarted %.0fs after getUpdates hung (WatchdogSec=%s)", took.Seconds(), watchdog)
	})

	check(t, "the tracker runs repeatedly, ≥ RestartSec apart, never two at once", func(t *testing.T) string {
		var runs []run
		waitFor(40*time.Second, func() bool { runs = trackerRuns(t, g, since); return len(runs) >= 4 })
		if len(runs) < 4 {
			t.Fatalf("%d completed passes, want at least 4", len(runs))
		}
		minGap := time.Hour
		for i := 1; i < len(runs); i++ {
			gap := runs[i].start.Sub(runs[i-1].end)
			if gap < restartSec {
				t.Errorf("pass %d started %v after pass %d ended, want ≥ %v", i+1, gap, i, restartSec)
			}
			minGap = min(minGap, gap)
		}
		// Process lifetimes (first to last line of each PID) never overlap.
		lives := programLives(t, g, since)
		for i := 1; i < len(lives); i++ {
			if !lives[i].first.After(lives[i-1].last) {
				t.Errorf("tracker processes %s and %s overlap", lives[i-1].pid, lives[i].pid)
			}
		}
		st := g.prop(t, tracker, "StatusText")
		if !strings.HasPrefix(st, "pass ") {
			t.Errorf("tracker StatusText=%q, want the last pass's summary", st)
		}
		return fmt.Sprintf("%d passes, smallest gap %.2fs; StatusText=%q", len(runs), minGap.Seconds(), st)
	})

	check(t, "every tracker pass leaves its summary as its last line under journalctl -u", func(t *testing.T) string {
		runs := trackerRuns(t, g, since)
		lives := programLives(t, g, since)
		var complete []life
		for _, l := range lives {
			if len(runs) > 0 && !l.last.After(runs[len(runs)-1].end) {
				complete = append(complete, l)
			}
		}
		if len(complete) != len(runs) {
			t.Errorf("%d completed passes but %d tracker processes logged under the unit", len(runs), len(complete))
		}
		transports := map[string]int{}
		for _, l := range complete {
			transports[l.lastEntry["_TRANSPORT"]]++
			if !summaryRE.MatchString(l.lastEntry["MESSAGE"]) {
				t.Errorf("pass PID %s: last line %q is not the summary", l.pid, l.lastEntry["MESSAGE"])
			}
		}
		return fmt.Sprintf("%d passes, last lines by transport %v", len(complete), transports)
	})

	check(t, "issue 2913: a process's last line before exit is under journalctl -u", func(t *testing.T) string {
		// journald attributes a native entry to a unit when it reads it, from
		// the sender's /proc entry. Stopping journald while short-lived
		// programs log and exit makes the race certain: entries read after
		// their sender is gone belong to no unit. Through systemd.NewLogger
		// each log call waits (up to 500 ms) until journald has read it, so
		// it must keep every line when journald is back within that time.
		//
		// One program per pause: journald's socket queues only 10 datagrams
		// (net.unix.max_dgram_qlen), after which senders block until it reads.
		const runs = 5
		count := func(mode string) int {
			script := fmt.Sprintf(`J=$(pidof systemd-journald) || exit 1
trap 'kill -CONT $J' EXIT
state() { systemctl show -p ActiveState --value logexit-%[2]s-$i; }
for i in $(seq 1 %[1]d); do
	kill -STOP $J
	systemd-run --quiet --no-block -p Type=exec -p DynamicUser=yes --unit=logexit-%[2]s-$i \
		-E RASTREIO_LOGEXIT=%[2]s -E RASTREIO_LOGEXIT_N=$i %[3]s/systemdtest.test || exit 1
	# raw: until the program has exited; barrier: until it runs (it then
	# waits for journald), at most 0.3 s.
	for n in $(seq 1 %[4]d); do
		s=$(state)
		if [ %[2]s = raw ]; then [ "$s" = inactive ] || [ "$s" = failed ] && break
		else [ "$s" = active ] && break; fi
		sleep 0.02
	done
	kill -CONT $J
	for n in $(seq 1 250); do s=$(state); [ "$s" = inactive ] || [ "$s" = failed ] && break; sleep 0.02; done
done
journalctl --sync`, runs, mode, share, map[string]int{"raw": 250, "barrier": 15}[mode])
			if out, err := g.run(60*time.Second, nil, script); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			n := 0
			for _, e := range g.journal(t, fmt.Sprintf("-u 'logexit-%s-*'", mode)) {
				if strings.HasPrefix(e["MESSAGE"], "last line") {
					n++
				}
			}
			return n
		}
		raw := count("raw")
		if raw == runs {
			t.Errorf("plain journal.Send kept all %d last lines: the race was not reproduced, the check proves nothing", runs)
		}
		withBarrier := count("barrier")
		if withBarrier != runs {
			t.Errorf("systemd.NewLogger: %d of %d last lines under journalctl -u, want all", withBarrier, runs)
		}
		cost := "?"
		if out, err := g.run(60*time.Second, nil, "systemd-run --quiet --wait -p Type=exec -p DynamicUser=yes --unit=logexit-cost -E RASTREIO_LOGEXIT=cost "+share+"/systemdtest.test"); err != nil {
			t.Errorf("%v\n%s", err, out)
		}
		for _, e := range g.journal(t, "-u logexit-cost -g 'cost done'") {
			cost = e["PER_LINE_US"] + " µs"
		}
		return fmt.Sprintf("journald paused: last lines under -u: %d/%d with plain journal.Send, %d/%d with systemd.NewLogger; a logged line costs %s", raw, runs, withBarrier, runs, cost)
	})

	check(t, "no token or provider key in systemctl show, systemctl status, the journal or /proc/PID/environ", func(t *testing.T) string {
		secrets := []string{token, strings.SplitN(token, ":", 2)[1], badToken, strings.SplitN(badToken, ":", 2)[1], corAccess, srKey, pvKey, t17Key}
		where := map[string]string{
			"systemctl show":   g.sh(t, "systemctl show "+bot+" "+tracker+"; systemctl show"),
			"systemctl status": g.sh(t, "systemctl status --no-pager -l -n 50 "+bot+" "+tracker+" || true"),
			"journal":          g.sh(t, "journalctl --no-pager -o export"),
			"environment":      g.sh(t, "for p in $(pgrep -f rastreio-); do cat /proc/$p/environ; echo; done"),
		}
		for name, text := range where {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("%s contains a secret (%.6s…)", name, s)
				}
			}
		}
		return fmt.Sprintf("journal: %d bytes searched", len(where["journal"]))
	})

	check(t, "operations.md backup recipe works while both run", func(t *testing.T) string {
		// test -s first: sqlite3 would create a missing database (as root).
		out := g.sh(t, `test -s /var/lib/rastreio/rastreio.db && sqlite3 /var/lib/rastreio/rastreio.db ".backup /root/rastreio-backup.db" &&
sqlite3 /root/rastreio-backup.db "PRAGMA integrity_check; SELECT count(*) FROM tracked;"`)
		lines := strings.Fields(out)
		if len(lines) != 2 || lines[0] != "ok" || lines[1] == "0" {
			t.Fatalf("backup check: %q", out)
		}
		return ""
	})

	check(t, "systemctl stop: each program exits 0 promptly (SIGTERM)", func(t *testing.T) string {
		stop := func(u string) time.Duration {
			start := time.Now()
			if out, err := g.run(60*time.Second, nil, "systemctl stop "+u); err != nil {
				t.Errorf("stop %s: %v %s", u, err, out)
			}
			took := time.Since(start)
			if took > 5*time.Second {
				t.Errorf("%s took %v to stop, want ≤ 5 s", u, took)
			}
			if r := g.prop(t, u, "Result"); r != "success" {
				t.Errorf("%s Result=%s, want success", u, r)
			}
			// ExecMainCode 1 is CLD_EXITED: the program returned, rather
			// than being killed by the signal (2, CLD_KILLED, status 15).
			code, status := g.prop(t, u, "ExecMainCode"), g.prop(t, u, "ExecMainStatus")
			if code != "1" || status != "0" {
				t.Errorf("%s ExecMainCode=%s ExecMainStatus=%s, want 1 (exited) and 0", u, code, status)
			}
			return took
		}
		tookBot := stop(bot)

		// The tracker is stopped in the middle of a pass, waiting on a
		// Correios that does not answer. Between passes (RestartSec) it has
		// no process to signal, and in the first milliseconds of a process,
		// before Go has installed its handler, SIGTERM kills it outright
		// (systemd counts that as a clean stop too); neither tests the
		// program's own shutdown.
		cor.FailAll(correiostest.FaultHang)
		defer cor.ClearFaults()
		before := cor.Stats().TrackRequests
		if !waitFor(30*time.Second, func() bool { return cor.Stats().TrackRequests > before }) {
			t.Fatalf("no tracker pass asked Correios within 30 s")
		}
		pid := g.prop(t, tracker, "MainPID")
		tookTracker := stop(tracker)
		if pid == "" || pid == "0" {
			t.Fatalf("tracker MainPID=%q while a pass waited on Correios", pid)
		}
		var last entry
		for _, e := range g.journal(t, "-u "+tracker+" _PID="+pid) {
			last = e
		}
		if !summaryRE.MatchString(last["MESSAGE"]) || last["STOPPED"] != "signal" {
			t.Errorf("last line of the stopped pass (PID %s): %q STOPPED=%q, want the summary with STOPPED=signal", pid, last["MESSAGE"], last["STOPPED"])
		}
		g.sh(t, "systemctl start "+bot+" "+tracker)
		return fmt.Sprintf("rastreio-bot %.1fs, rastreio-tracker mid-pass %.1fs", tookBot.Seconds(), tookTracker.Seconds())
	})

	check(t, "uninstall-units stops and removes the units, keeps the database", func(t *testing.T) string {
		out := g.sh(t, "cd /root/rel && make uninstall-units 2>&1")
		for _, u := range []string{bot, tracker} {
			if s := g.prop(t, u, "LoadState"); s != "not-found" {
				t.Errorf("%s LoadState=%s, want not-found\n%s", u, s, out)
			}
			if s := g.prop(t, u, "ActiveState"); s != "inactive" {
				t.Errorf("%s ActiveState=%s, want inactive", u, s)
			}
		}
		if out, err := g.run(10*time.Second, nil, "pgrep -x rastreio-bot; pgrep -x rastreio-tracke"); err == nil {
			t.Errorf("processes left: %s", out)
		}
		n := strings.TrimSpace(g.sh(t, `db=/var/lib/private/rastreio/rastreio.db; test -s $db && sqlite3 $db "SELECT count(*) FROM tracked"`))
		if n == "0" || n == "" {
			t.Errorf("tracked rows after uninstall: %q", n)
		}
		return "tracked rows kept: " + n
	})
}

type run struct{ start, end time.Time }

// trackerRuns returns the tracker's completed runs since the cut, from
// systemd's own entries: job "start" done, then the unit deactivated or
// failed.
func trackerRuns(t *testing.T, g guest, since string) []run {
	// A start job logs "Starting" before it forks; "Started" can come after
	// the end of a pass that takes a few milliseconds, so it is not used.
	const (
		unitStarting = "7d4958e842da4a758f6c1cdc7b36dcc5"
		unitSuccess  = "7ad2d189f7e94e70a38c781354912448"
		unitFailed   = "d9b373ed55a64feb8242e02dbe79a49c"
	)
	var runs []run
	var open *run
	es := g.journal(t, "-u "+tracker+" "+since)
	for _, e := range es {
		switch e["MESSAGE_ID"] {
		case unitStarting:
			if open != nil {
				t.Errorf("two starts without an end in between (%v, %v)", open.start, e.time())
				for _, e := range es {
					if e["_PID"] == "1" && e.time().Sub(open.start).Abs() < 10*time.Second {
						t.Logf("%s %s %s %s", e.time().Format("15:04:05.000000"), e["MESSAGE_ID"], e["JOB_TYPE"], e["MESSAGE"])
					}
				}
			}
			open = &run{start: e.time()}
		case unitSuccess, unitFailed:
			if open == nil {
				continue // the end of a run started before the cut
			}
			open.end = e.time()
			runs = append(runs, *open)
			open = nil
		}
	}
	return runs
}

type life struct {
	pid         string
	first, last time.Time
	lastEntry   entry
}

// programLives groups the tracker program's own entries by PID.
func programLives(t *testing.T, g guest, since string) []life {
	m := map[string]*life{}
	for _, e := range g.journal(t, "-u "+tracker+" "+since) {
		if e["SYSLOG_IDENTIFIER"] == "systemd" || e["_PID"] == "1" {
			continue
		}
		l := m[e["_PID"]]
		if l == nil {
			l = &life{pid: e["_PID"], first: e.time()}
			m[e["_PID"]] = l
		}
		if !e.time().Before(l.last) {
			l.last, l.lastEntry = e.time(), e
		}
	}
	var ls []life
	for _, l := range m {
		ls = append(ls, *l)
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].first.Before(ls[j].first) })
	return ls
}
