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

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUnavailable = 69 // EX_UNAVAILABLE: Telegram unreachable at start
	exitConfig      = 78 // EX_CONFIG: systemd does not restart on it
)

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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args, os.Getenv, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := config.LoadBot(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "rastreio-bot: %v\n", err)
		if config.IsConfigError(err) {
			systemd.Status("configuration error: %v", err)
			return exitConfig
		}
		return exitFailure
	}
	log := systemd.NewLogger("rastreio-bot", cfg.LogLevel, stderr)
	token := cfg.Token.Reveal()
	// The library logs on its own in a few paths; its lines may carry the
	// token in a URL.
	tgbotapi.SetLogger(telegram.LibraryLogger(log, func(s string) string { return telegram.Redact(s, token) }))

	self, err := checkToken(ctx, token, cfg.Endpoint, log)
	if err != nil {
		switch {
		case telegram.ClassOf(err) == telegram.Unauthorized:
			fmt.Fprintln(stderr, "rastreio-bot: TELEGRAM_BOT_TOKEN was rejected by Telegram (getMe: 401 Unauthorized); put the token @BotFather gave in TELEGRAM_BOT_TOKEN")
			systemd.Status("configuration error: TELEGRAM_BOT_TOKEN rejected by Telegram (401)")
			return exitConfig
		case telegram.ClassOf(err) == telegram.BadRequest:
			// 404 and the like: the URL built from the token and the
			// endpoint does not exist; retrying will not help.
			fmt.Fprintf(stderr, "rastreio-bot: Telegram refused getMe (%s): check TELEGRAM_BOT_TOKEN and TELEGRAM_API_ENDPOINT\n", telegram.Redact(errorText(err), token))
			systemd.Status("configuration error: Telegram refused getMe: check TELEGRAM_BOT_TOKEN and TELEGRAM_API_ENDPOINT")
			return exitConfig
		case ctx.Err() != nil:
			return exitOK // stopped while starting
		}
		fmt.Fprintf(stderr, "rastreio-bot: cannot reach Telegram at TELEGRAM_API_ENDPOINT: %s\n", telegram.Redact(err.Error(), token))
		return exitUnavailable
	}

	st, err := store.Open(ctx, cfg.DBPath, store.ManualCheckpoint())
	if err != nil {
		fmt.Fprintf(stderr, "rastreio-bot: database %s (RASTREIO_DB): %v\n", cfg.DBPath, err)
		return exitFailure
	}
	defer st.Close()

	api, err := telegram.New(ctx, token, cfg.Endpoint, telegram.Options{SkipGetMe: true, HTTPClient: bot.NewHTTPClient()})
	if err != nil {
		fmt.Fprintf(stderr, "rastreio-bot: %s\n", telegram.Redact(err.Error(), token))
		return exitFailure
	}
	// The final getUpdates that confirms the offset runs after SIGTERM:
	// its client is not bound to the cancelled context.
	confirm, err := telegram.New(context.WithoutCancel(ctx), token, cfg.Endpoint, telegram.Options{
		SkipGetMe: true, HTTPClient: &http.Client{Timeout: confirmTimeout},
	})
	if err != nil {
		fmt.Fprintf(stderr, "rastreio-bot: %s\n", telegram.Redact(err.Error(), token))
		return exitFailure
	}

	b := bot.New(bot.Config{
		Store:           st,
		API:             api,
		Confirm:         confirm,
		BotID:           self.ID,
		UserName:        self.UserName,
		MaxCodesPerChat: cfg.MaxCodesPerChat,
		Providers:       cfg.Providers,
		Log:             log,
	})
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
			fmt.Fprintln(stderr, "rastreio-bot: TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized); was the token revoked?")
			systemd.Status("configuration error: TELEGRAM_BOT_TOKEN rejected by Telegram (401); revoked?")
			return exitConfig
		}
		log.Error("update loop failed", slog.Any("error", runErr))
		return exitFailure
	}
	log.Info("rastreio-bot stopped", slog.Int64("updates", b.Handled()))
	return exitOK
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
