// Command rastreio-tracker runs one tracking pass and exits: systemd
// restarts it (Restart=always) and RestartSec= spaces the passes.
//
// Exit codes: 0 the pass ran (also when another pass was already running:
// this one then does nothing and says so); 78 (EX_CONFIG) for a missing or
// malformed setting and for credentials a provider or Telegram rejected;
// 1 when the pass could not do its work (database unreachable).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rastreio/rastreio/internal/config"
	"github.com/rastreio/rastreio/internal/delivery"
	"github.com/rastreio/rastreio/internal/pass"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/systemd"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/tracking"
)

var version = "dev"

const program = "rastreio-tracker"

// memoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT is
// set: a pass over 100k codes lives in ~10 MB of Go heap, and the limit keeps
// a slow, CPU-starved GC from letting the heap balloon (the tracker aims at
// a peak RSS under 64 MiB).
const memoryLimit = 32 << 20

// setMemoryLimit applies memoryLimit unless GOMEMLIMIT says otherwise.
func setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

func main() {
	setMemoryLimit(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(systemd.Exit(program, err, os.Stderr))
}

// errLogged ends the process with status 1 for a failure run has logged.
var errLogged = &systemd.ExitError{Code: systemd.ExitFailure}

// run is the whole program: settings, the lock, the database, the
// providers, one pass, its summary. Its error says how the process exits
// (systemd.Exit): 78 for a setting or credential to fix, 1 for a pass that
// could not do its work.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// Files this process creates (the database, its -wal and -shm, which
	// hold the provider token) are for its own user only, whatever umask
	// it was started with (make run, a pass by hand).
	syscall.Umask(0o077)
	if isVersion(args) {
		_, err := fmt.Fprintln(stdout, program, version)
		return err
	}
	if len(args) > 1 && args[1] == "simulate" {
		return simulate(ctx, args[2:], stdout, stderr)
	}
	cfg, err := config.LoadTracker(getenv)
	if err != nil {
		if config.IsConfigError(err) {
			return systemd.ConfigError(fmt.Sprintf("configuration error: %v", err), err)
		}
		return err
	}
	log := systemd.NewLogger(program, cfg.LogLevel, stderr)
	if cfg.Warning != "" {
		log.Warn(cfg.Warning)
	}

	// One pass at a time: the lock is taken before the database is
	// opened, and the kernel drops it when the process dies.
	lockPath := cfg.DBPath + ".lock"
	lock, err := acquireLock(lockPath)
	if errors.Is(err, errLocked) {
		log.Info("another tracker pass is running; nothing to do", slog.String("lock", lockPath))
		return nil
	}
	if err != nil {
		log.Error("cannot take the tracker lock next to the database", slog.String("lock", lockPath), slog.Any("error", err))
		return errLogged
	}
	defer lock.Close()

	st, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		log.Error("cannot open the database", slog.String("db", cfg.DBPath), slog.Any("error", err))
		return errLogged
	}
	defer st.Close()

	w, err := newWork(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	sum, err := w.pass.Run(ctx)
	return w.done(ctx, log, sum, err)
}

// isVersion reports whether the command line asks for the version
// (-version or --version): it is answered before any setting is read.
// Other arguments are ignored, as they always were.
func isVersion(args []string) bool {
	return len(args) > 1 && (args[1] == "-version" || args[1] == "--version")
}

// work is one pass ready to run, with what its summary reports.
type work struct {
	pass    *pass.Pass
	st      *store.Store
	provs   *providers
	budgets string // the free-tier budgets applied by default, "" for none
}

// newWork sets up the pass: the provider chain, the Telegram client, how
// long codes wait between queries (the adaptive schedule unless
// RASTREIO_RECHECK_INTERVAL is set).
func newWork(ctx context.Context, cfg config.Tracker, st *store.Store, log *slog.Logger) (*work, error) {
	limits := cfg.Limits
	provs, err := buildChain(ctx, cfg, limits, st, log)
	if err != nil {
		log.Error("cannot set up the tracking providers", slog.Any("error", err))
		if config.IsConfigError(err) || errors.Is(err, tracking.ErrAuth) {
			return nil, &systemd.ExitError{Code: systemd.ExitConfig, Status: fmt.Sprintf("configuration error: tracking providers: %v", err)}
		}
		return nil, errLogged
	}
	var spacing time.Duration
	if last, err := st.LastPassAt(ctx); err == nil && !last.IsZero() {
		spacing = time.Since(last)
	}
	tg, err := telegram.New(context.WithoutCancel(ctx), cfg.Token.Reveal(), cfg.Endpoint, telegram.Options{SkipGetMe: true})
	if err != nil {
		log.Error("cannot set up the Telegram client", slog.Any("error", err))
		return nil, &systemd.ExitError{Code: systemd.ExitConfig, Status: "configuration error: Telegram client: " + telegram.Redact(err.Error(), cfg.Token.Reveal())}
	}
	budgets := provs.defaultBudgets(limits)
	if budgets != "" {
		log.Info("budget on by default: the free tier; set <NAME>_MONTHLY_BUDGET=unlimited to lift it",
			slog.String("budgets", budgets))
	}
	systemd.Status("pass running")
	opt := pass.Options{
		PassMax:    cfg.PassMax,
		Recheck:    cfg.RecheckInterval,
		RecheckFor: provs.recheck(cfg, limits, spacing),
		SendRate:   cfg.SendRate,
		Logger:     log,
		Progress:   func(st string) { systemd.Status("%s", st) },
	}
	if !cfg.RecheckSet {
		opt.Adaptive = true
		opt.Allowance = provs.allowance(time.Now())
		opt.FirstProvider = cfg.Providers[0]
		st.SetSchedule(schedulePolicy(limits).Next)
	}
	return &work{pass: pass.New(st, provs.chain, delivery.TelegramSender(tg), opt), st: st, provs: provs, budgets: budgets}, nil
}

// done logs the pass's summary, its last log line, and says how the
// process exits: a credential a provider or Telegram rejected is a
// configuration error (78), any other failure 1.
func (w *work) done(ctx context.Context, log *slog.Logger, sum pass.Summary, err error) error {
	var exit error
	switch {
	case errors.Is(err, tracking.ErrAuth):
		log.Error("tracking provider rejected the credentials: fix "+authVars(err)+" and restart",
			slog.Any("error", err))
		exit = &systemd.ExitError{Code: systemd.ExitConfig, Status: "configuration error: a tracking provider rejected the credentials: fix " + authVars(err)}
	case errors.Is(err, delivery.ErrTelegramAuth):
		log.Error("Telegram rejected the bot token: fix TELEGRAM_BOT_TOKEN and restart")
		exit = &systemd.ExitError{Code: systemd.ExitConfig, Status: "configuration error: TELEGRAM_BOT_TOKEN rejected by Telegram (401)"}
	case err != nil:
		log.Error("pass failed", slog.Any("error", err))
		exit = errLogged
	}
	// The bot's /pacotes says when a budget slows checks.
	if slowed := w.provs.slowed(time.Now(), sum.Slowed); len(slowed) > 0 {
		if err := w.st.RecordSlowed(context.WithoutCancel(ctx), slowed); err != nil {
			log.Warn("noting the slowed providers for the bot failed", slog.Any("error", err))
		}
	}
	usage := w.provs.usage()
	attrs := append(sum.Attrs(), usage, slog.String("version", version))
	// The summary is the pass's last log line.
	log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "pass done", attrs...)
	status := fmt.Sprintf("%s; usage %s", sum.Status(), usage.Value.String())
	if w.budgets != "" {
		status += "; default budgets " + w.budgets
	}
	systemd.Status("%s", status)
	return exit
}
