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

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 78 // EX_CONFIG: systemd's RestartPreventExitStatus=78
)

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
	defer stop()
	os.Exit(run(ctx, os.Args, os.Getenv, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := config.LoadTracker(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "rastreio-tracker: %v\n", err)
		if config.IsConfigError(err) {
			systemd.Status("configuration error: %v", err)
			return exitConfig
		}
		return exitFail
	}
	limits := cfg.Limits
	log := systemd.NewLogger("rastreio-tracker", cfg.LogLevel, stderr)

	// One pass at a time: the lock is taken before the database is
	// opened, and the kernel drops it when the process dies.
	lockPath := cfg.DBPath + ".lock"
	lock, err := acquireLock(lockPath)
	if errors.Is(err, errLocked) {
		log.Info("another tracker pass is running; nothing to do", slog.String("lock", lockPath))
		return exitOK
	}
	if err != nil {
		log.Error("cannot take the tracker lock next to the database", slog.String("lock", lockPath), slog.Any("error", err))
		return exitFail
	}
	defer lock.Close()

	st, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		log.Error("cannot open the database", slog.String("db", cfg.DBPath), slog.Any("error", err))
		return exitFail
	}
	defer st.Close()

	provs, err := buildChain(ctx, cfg, limits, st, log)
	if err != nil {
		log.Error("cannot set up the tracking providers", slog.Any("error", err))
		if config.IsConfigError(err) || errors.Is(err, tracking.ErrAuth) {
			systemd.Status("configuration error: tracking providers: %v", err)
			return exitConfig
		}
		return exitFail
	}
	var spacing time.Duration
	if last, err := st.LastPassAt(ctx); err == nil && !last.IsZero() {
		spacing = time.Since(last)
	}
	tg, err := telegram.New(context.WithoutCancel(ctx), cfg.Token.Reveal(), cfg.Endpoint, telegram.Options{SkipGetMe: true})
	if err != nil {
		log.Error("cannot set up the Telegram client", slog.Any("error", err))
		systemd.Status("configuration error: Telegram client: %s", telegram.Redact(err.Error(), cfg.Token.Reveal()))
		return exitConfig
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
	p := pass.New(st, provs.chain, delivery.TelegramSender(tg), opt)
	sum, err := p.Run(ctx)

	code := exitOK
	why := "" // STATUS= after a rejected credential (exit 78)
	switch {
	case errors.Is(err, tracking.ErrAuth):
		why = "configuration error: a tracking provider rejected the credentials: fix " + authVars(err)
		log.Error("tracking provider rejected the credentials: fix "+authVars(err)+" and restart",
			slog.Any("error", err))
		code = exitConfig
	case errors.Is(err, delivery.ErrTelegramAuth):
		log.Error("Telegram rejected the bot token: fix TELEGRAM_BOT_TOKEN and restart")
		why = "configuration error: TELEGRAM_BOT_TOKEN rejected by Telegram (401)"
		code = exitConfig
	case err != nil:
		log.Error("pass failed", slog.Any("error", err))
		code = exitFail
	}
	usage := provs.usage()
	attrs := append(sum.Attrs(), usage, slog.String("version", version))
	// The summary is the pass's last log line.
	log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "pass done", attrs...)
	status := fmt.Sprintf("%s; usage %s", sum.Status(), usage.Value.String())
	if budgets != "" {
		status += "; default budgets " + budgets
	}
	systemd.Status("%s", status)
	if why != "" {
		systemd.Status("%s", why)
	}
	return code
}
