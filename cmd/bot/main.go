// Command rastreio-bot answers people on Telegram from the SQLite
// database. It never calls Correios or any tracking provider.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/bot"
	"github.com/rastreio/rastreio/internal/config"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/systemd"
	"github.com/rastreio/rastreio/internal/telegram"
)

var version = "dev"

// Start-up bounds: getMe is tried a few times, each bounded, and the
// whole start gives up well inside 30 s.
var (
	startTimeout    = 25 * time.Second
	getMeTimeout    = 7 * time.Second
	getMeAttempts   = 3
	getMeRetryDelay = time.Second
	statusInterval  = time.Minute
	confirmTimeout  = 1500 * time.Millisecond // after telegram.StopGrace: a stop stays under 5 s
)

const program = "rastreio-bot"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(systemd.Exit(program, err, os.Stderr))
}

// run is the whole program: settings, the token check, the database, then
// the update loop until ctx ends. Its error says how the process exits
// (systemd.Exit): 78 for a setting or token to fix, 69 when Telegram cannot
// be reached at start, 1 otherwise.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// Files this process creates (the database, its -wal and -shm, which
	// hold the provider token) are for its own user only, whatever umask
	// it was started with (make run, a pass by hand).
	syscall.Umask(0o077)
	if isVersion(args) {
		_, err := fmt.Fprintln(stdout, program, version)
		return err
	}
	cfg, err := config.LoadBot(getenv)
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
	token := cfg.Token.Reveal()
	// The library logs on its own in a few paths; its lines may carry the
	// token in a URL.
	tgbotapi.SetLogger(telegram.LibraryLogger(log, func(s string) string { return telegram.Redact(s, token) }))

	self, err := checkToken(ctx, token, cfg.Endpoint, log)
	if err != nil {
		return startError(ctx, err, token)
	}
	// WAL checkpoints run off the update path. Commits are made durable
	// before a reply goes out by store.SyncWAL (one fsync shared by the
	// replies in flight) rather than synchronous=FULL's fsync per commit:
	// see BenchmarkBotDurability.
	st, err := store.Open(ctx, cfg.DBPath, store.ManualCheckpoint())
	if err != nil {
		return fmt.Errorf("database %s (RASTREIO_DB): %w", cfg.DBPath, err)
	}
	defer st.Close()
	b, err := newBot(ctx, cfg, token, self, st, log)
	if err != nil {
		return err
	}
	b.Setup(ctx)
	systemd.Ready(statusLine(ctx, st))
	log.Info("rastreio-bot started", slog.String("bot", self.UserName), slog.String("version", version), slog.String("db", cfg.DBPath))

	auxCtx, stopAux := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { housekeeping(auxCtx, b, st) })
	runErr := b.Run(ctx)
	systemd.Stopping()
	stopAux()
	wg.Wait()
	if runErr != nil {
		if telegram.ClassOf(runErr) == telegram.Unauthorized {
			return systemd.ConfigError("configuration error: TELEGRAM_BOT_TOKEN rejected by Telegram (401); revoked?",
				errors.New("TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized); was the token revoked?"))
		}
		log.Error("update loop failed", slog.Any("error", runErr))
		return &systemd.ExitError{Code: systemd.ExitFailure} // logged
	}
	log.Info("rastreio-bot stopped", slog.Int64("updates", b.Handled()))
	return nil
}

// isVersion reports whether the command line asks for the version
// (-version or --version): it is answered before any setting is read.
// Other arguments are ignored, as they always were.
func isVersion(args []string) bool {
	return len(args) > 1 && (args[1] == "-version" || args[1] == "--version")
}

// startError says why the start failed: a token or endpoint Telegram
// refuses is a setting to fix (78), an unreachable Telegram is 69, a stop
// while starting is no error.
func startError(ctx context.Context, err error, token string) error {
	switch {
	case telegram.ClassOf(err) == telegram.Unauthorized:
		return systemd.ConfigError("configuration error: TELEGRAM_BOT_TOKEN rejected by Telegram (401)",
			errors.New("TELEGRAM_BOT_TOKEN was rejected by Telegram (getMe: 401 Unauthorized); put the token @BotFather gave in TELEGRAM_BOT_TOKEN"))
	case telegram.ClassOf(err) == telegram.BadRequest:
		// 404 and the like: the URL built from the token and the
		// endpoint does not exist; retrying will not help.
		//lint:ignore ST1005 the operator's whole stderr line, starting with a name
		refused := fmt.Errorf("Telegram refused getMe (%s): check TELEGRAM_BOT_TOKEN and TELEGRAM_API_ENDPOINT", telegram.Redact(errorText(err), token))
		return systemd.ConfigError("configuration error: Telegram refused getMe: check TELEGRAM_BOT_TOKEN and TELEGRAM_API_ENDPOINT", refused)
	case ctx.Err() != nil:
		return nil // stopped while starting
	}
	return &systemd.ExitError{Code: systemd.ExitUnavailable,
		Err: fmt.Errorf("cannot reach Telegram at TELEGRAM_API_ENDPOINT: %s", telegram.Redact(err.Error(), token))}
}

// newBot builds the bot with its two Telegram clients: one for the update
// loop and replies, bound to ctx, and one for the final getUpdates that
// confirms the offset after SIGTERM, which is not.
func newBot(ctx context.Context, cfg config.Bot, token string, self tgbotapi.User, st *store.Store, log *slog.Logger) (*bot.Bot, error) {
	api, err := telegram.New(ctx, token, cfg.Endpoint, telegram.Options{SkipGetMe: true, HTTPClient: bot.NewHTTPClient(), Logger: log})
	if err != nil {
		return nil, errors.New(telegram.Redact(err.Error(), token))
	}
	confirm, err := telegram.New(context.WithoutCancel(ctx), token, cfg.Endpoint, telegram.Options{
		SkipGetMe: true, HTTPClient: &http.Client{Timeout: confirmTimeout},
	})
	if err != nil {
		return nil, errors.New(telegram.Redact(err.Error(), token))
	}
	return bot.New(bot.Config{
		Store:             st,
		API:               api,
		Confirm:           confirm,
		BotID:             self.ID,
		UserName:          self.UserName,
		MaxCodesPerChat:   cfg.MaxCodesPerChat,
		MaxCodesPerPerson: cfg.MaxCodesPerPerson,
		PassInterval:      cfg.PassInterval,
		Providers:         cfg.Providers,
		Log:               log,
	}), nil
}

// checkToken calls getMe a few times at most, each call bounded, and
// returns the bot's username. A rejected token is not retried.
func checkToken(ctx context.Context, token, endpoint string, log *slog.Logger) (tgbotapi.User, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	hc := &http.Client{Timeout: getMeTimeout}
	var err error
	delay := getMeRetryDelay
	for attempt := 1; ; attempt++ {
		var c *telegram.Client
		c, err = telegram.New(ctx, token, endpoint, telegram.Options{HTTPClient: hc})
		if err == nil {
			return c.Self(), nil
		}
		if c := telegram.ClassOf(err); c == telegram.Unauthorized || c == telegram.BadRequest || attempt >= getMeAttempts {
			return tgbotapi.User{}, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay+getMeTimeout {
			return tgbotapi.User{}, err
		}
		log.Debug("getMe failed, retrying", slog.Any("error", err), slog.Int("attempt", attempt))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return tgbotapi.User{}, errors.Join(err, ctx.Err())
		}
		delay *= 2
	}
}

// errorText is a Bot API error's code and description, else the error.
func errorText(err error) string {
	if e, ok := telegram.AsError(err); ok && e.Code != 0 {
		return fmt.Sprintf("%d %s", e.Code, e.Description)
	}
	return err.Error()
}

func statusLine(ctx context.Context, st *store.Store) string {
	chats, codes, err := st.Counts(ctx)
	if err != nil {
		return "polling"
	}
	return fmt.Sprintf("polling, %d chats, %d codes", chats, codes)
}

// housekeeping pings the watchdog while the update loop makes progress
// and refreshes the status line.
func housekeeping(ctx context.Context, b *bot.Bot, st *store.Store) {
	wd := systemd.WatchdogInterval()
	var wdC <-chan time.Time
	if wd > 0 {
		t := time.NewTicker(wd)
		defer t.Stop()
		wdC = t.C
	}
	status := time.NewTicker(statusInterval)
	defer status.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wdC:
			if b.Healthy() {
				systemd.WatchdogPing()
			}
		case <-status.C:
			systemd.Status("%s", statusLine(ctx, st))
		}
	}
}
