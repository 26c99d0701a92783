// Package demo runs rastreio without Telegram, a provider key or the
// network: a local Bot API (telegramtest) and official Correios API
// (correiostest) replaying real journeys in accelerated time, the real
// rastreio-bot and rastreio-tracker programs pointed at them, and a web
// page that looks and behaves like a Telegram chat with the bot.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rastreio/rastreio/internal/correios/correiostest"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

// Config is the demo's settings.
type Config struct {
	Addr         string        // the page's address (DEMO_ADDR)
	PassInterval time.Duration // between tracker runs (DEMO_PASS_INTERVAL)
	Dir          string        // data directory, kept (DEMO_DIR); empty: a temporary one, removed
	BotPath      string        // rastreio-bot
	TrackerPath  string        // rastreio-tracker
	// Span is how long a journey takes from its first event to its last.
	Span time.Duration
	// NotFoundFor is how long a code without a journey of its own is
	// "not found" before one begins.
	NotFoundFor time.Duration
	// Grace is how long a child has after SIGTERM before SIGKILL.
	Grace time.Duration
	// ReadyTimeout bounds the wait for the bot to poll.
	ReadyTimeout time.Duration

	Stdout   io.Writer // the address line
	ChildOut io.Writer // the children's logs, each line prefixed
	Log      *slog.Logger
	// ChildLogLevel is the children's LOG_LEVEL.
	ChildLogLevel string
}

// Defaults.
const (
	DefaultAddr         = "127.0.0.1:8080"
	DefaultPassInterval = 5 * time.Second
	DefaultSpan         = 75 * time.Second
	DefaultNotFoundFor  = 15 * time.Second
)

// ConfigError is a malformed setting (the program exits 78).
type ConfigError struct{ Var, Msg string }

func (e *ConfigError) Error() string { return e.Var + ": " + e.Msg }

// ConfigFromEnv reads DEMO_ADDR, DEMO_PASS_INTERVAL, DEMO_DIR and
// LOG_LEVEL; the binaries are looked for beside exe.
func ConfigFromEnv(getenv func(string) string, exe string) (Config, error) {
	c := Config{
		Addr: DefaultAddr, PassInterval: DefaultPassInterval, Dir: getenv("DEMO_DIR"),
		Span: DefaultSpan, NotFoundFor: DefaultNotFoundFor, Grace: 3 * time.Second, ReadyTimeout: 8 * time.Second,
		BotPath:     filepath.Join(filepath.Dir(exe), "rastreio-bot"),
		TrackerPath: filepath.Join(filepath.Dir(exe), "rastreio-tracker"),
	}
	if v := getenv("DEMO_ADDR"); v != "" {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return c, &ConfigError{"DEMO_ADDR", fmt.Sprintf("%q is not host:port (e.g. 127.0.0.1:8080)", v)}
		}
		c.Addr = v
	}
	if v := getenv("DEMO_PASS_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Hour {
			return c, &ConfigError{"DEMO_PASS_INTERVAL", fmt.Sprintf("%q is not a duration between 0s and 1h (e.g. 5s)", v)}
		}
		c.PassInterval = d
	}
	c.ChildLogLevel = "warn"
	if v := getenv("LOG_LEVEL"); v != "" {
		c.ChildLogLevel = v
	}
	return c, nil
}

// demoToken is the fake bot's token.
const demoToken = "424242:DEMO-local-fake-token-not-telegram"

// Demo credentials for the fake Correios API.
const demoUser, demoAccessCode = "demo", "demo-access-code"

// Codes to try: journeys of the embedded fixtures.
var tryCodes = []Try{
	{Code: "QQ850419295BR", Note: "tênis", Hint: "entregue"},
	{Code: "DG049186226BR", Note: "livros", Hint: "entregue"},
	{Code: "LE449872154SE", Note: "presente", Hint: "taxa a pagar"},
	{Code: "QH991577104BR", Note: "", Hint: "em trânsito"},
}

// Run runs the demo until ctx ends, then stops everything it started
// and removes its temporary directory.
func Run(ctx context.Context, cfg Config) (err error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	for _, p := range []string{cfg.BotPath, cfg.TrackerPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing (make demo builds it): %w", p, err)
		}
	}
	journeys, err := DefaultJourneys(cfg.Span)
	if err != nil {
		return err
	}
	replay := NewReplay(journeys, cfg.NotFoundFor)

	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "rastreio-demo-"); err != nil {
			return err
		}
		defer func() {
			if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
				err = rmErr
			}
		}()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("DEMO_ADDR %s: %w", cfg.Addr, err)
	}

	corr := correiostest.New(correiostest.Options{User: demoUser, AccessCode: demoAccessCode, Lookup: replay.Lookup})
	defer corr.Close()
	fake := telegramtest.NewUnstarted(demoToken)
	hub := NewHub(fake)
	fake.Start()
	defer fake.Close()

	done := make(chan struct{})
	page := &Page{Hub: hub, Fake: fake, Try: tryCodes, Log: log, Done: done}
	srv := &http.Server{Handler: page.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		close(done) // ends the event streams
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	env := ChildEnv(os.Environ(), map[string]string{
		"TELEGRAM_BOT_TOKEN":        demoToken,
		"TELEGRAM_API_ENDPOINT":     fake.Endpoint(),
		"RASTREIO_DB":               filepath.Join(dir, "rastreio.db"),
		"RASTREIO_PROVIDERS":        "correios",
		"CORREIOS_API_URL":          corr.URL,
		"CORREIOS_USER":             demoUser,
		"CORREIOS_ACCESS_CODE":      demoAccessCode,
		"RASTREIO_RECHECK_INTERVAL": "0",
		// The bot's promise needs a positive interval; with
		// DEMO_PASS_INTERVAL=0 the passes run back to back.
		"RASTREIO_PASS_INTERVAL": max(cfg.PassInterval, time.Second).String(),
		"LOG_LEVEL":              cfg.ChildLogLevel,
	})
	childOut := cfg.ChildOut
	if childOut == nil {
		childOut = os.Stderr
	}
	sup := &Supervisor{Env: env, Log: log, Grace: cfg.Grace}

	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait() // every child stopped and reaped
	}()
	botExits := make(chan error, 1)
	wg.Add(2)
	go func() {
		defer wg.Done()
		s := *sup
		s.Out = prefixWriter(childOut, "bot: ")
		s.RunLoop(cctx, "rastreio-bot", cfg.BotPath, nil, time.Second, func(err error, took time.Duration) {
			log.Warn("rastreio-bot exited; starting it again", slog.Int("exit", ExitCode(err)), slog.Duration("ran", took.Round(time.Millisecond)))
			select {
			case botExits <- err:
			default:
			}
		})
	}()
	go func() {
		defer wg.Done()
		s := *sup
		s.Out = prefixWriter(childOut, "tracker: ")
		s.RunLoop(cctx, "rastreio-tracker", cfg.TrackerPath, nil, cfg.PassInterval, func(err error, took time.Duration) {
			if err != nil {
				log.Warn("a tracker pass failed", slog.Int("exit", ExitCode(err)), slog.Duration("took", took.Round(time.Millisecond)))
			}
		})
	}()

	// Ready once the bot has started (it polls right after).
	ready := time.NewTimer(cfg.ReadyTimeout)
	defer ready.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hub.BotUp():
			break wait
		case err := <-botExits:
			if code := ExitCode(err); code == 78 {
				return fmt.Errorf("rastreio-bot refused its settings (exit 78): see its log above")
			}
		case <-ready.C:
			log.Warn("the bot has not started yet; the page opens anyway", slog.Duration("waited", cfg.ReadyTimeout))
			break wait
		}
	}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(cfg.Stdout, "rastreio demo ready: open %s in a browser (Ctrl-C stops it; data in %s)\n", url, dir)
	<-ctx.Done()
	return nil
}

// prefixWriter writes each line to w with prefix (whole lines only, so
// two children's lines never interleave mid-line).
func prefixWriter(w io.Writer, prefix string) io.Writer {
	return &linePrefixer{w: w, prefix: prefix}
}

type linePrefixer struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    bytes.Buffer
}

var writeMu sync.Mutex // shared by every linePrefixer

func (l *linePrefixer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			l.buf.Reset()
			l.buf.Write(line) // an incomplete line waits for its end
			return len(p), nil
		}
		writeMu.Lock()
		io.WriteString(l.w, l.prefix+strings.TrimRight(string(line), "\n")+"\n")
		writeMu.Unlock()
	}
}
