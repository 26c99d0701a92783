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
	r := &run{cfg: cfg, log: cfg.Log, childOut: cfg.ChildOut}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if r.childOut == nil {
		r.childOut = os.Stderr
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

	r.dir = cfg.Dir
	if r.dir == "" {
		if r.dir, err = os.MkdirTemp("", "rastreio-demo-"); err != nil {
			return err
		}
		defer func() {
			if rmErr := os.RemoveAll(r.dir); rmErr != nil && err == nil {
				err = rmErr
			}
		}()
	} else if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("DEMO_ADDR %s: %w", cfg.Addr, err)
	}
	defer r.startServers(replay)()
	defer r.servePage(ln)()

	r.sup = &Supervisor{Env: r.childEnv(), Log: r.log, Grace: cfg.Grace}
	cctx, stop := context.WithCancel(ctx)
	defer func() {
		stop()
		r.children.Wait() // every child stopped and reaped
	}()
	botExits := r.startBot(cctx)
	r.trackerLoop(cctx)

	if ready, err := r.waitBot(ctx, botExits); !ready {
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(cfg.Stdout, "rastreio demo ready: open %s in a browser (Ctrl-C stops it; data in %s)\n", url, r.dir)
	<-ctx.Done()
	return nil
}

// run is one Run's state, shared by its steps.
type run struct {
	cfg      Config
	log      *slog.Logger
	childOut io.Writer
	dir      string // the data directory

	corr     *correiostest.Server
	fake     *telegramtest.Server
	hub      *Hub
	sup      *Supervisor
	children sync.WaitGroup
}

// startServers starts the fake Correios API, answering from replay, and
// the fake Bot API with its hub. The function it returns closes both.
func (r *run) startServers(replay *Replay) (closeAll func()) {
	r.corr = correiostest.New(correiostest.Options{User: demoUser, AccessCode: demoAccessCode, Lookup: replay.Lookup})
	r.fake = telegramtest.NewUnstarted(demoToken)
	r.hub = NewHub(r.fake)
	r.fake.Start()
	return func() {
		r.fake.Close()
		r.corr.Close()
	}
}

// servePage serves the chat page on ln. The function it returns ends the
// page's event streams and shuts the server down (closing it when
// requests are still running after a second).
func (r *run) servePage(ln net.Listener) (shutdown func()) {
	done := make(chan struct{})
	page := &Page{Hub: r.hub, Fake: r.fake, Try: tryCodes, Log: r.log, Done: done}
	srv := &http.Server{Handler: page.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() {
		close(done) // ends the event streams
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}
}

// childEnv is the children's environment: this process's, with the
// settings that point them at the fakes and the data directory.
func (r *run) childEnv() []string {
	return ChildEnv(os.Environ(), map[string]string{
		"TELEGRAM_BOT_TOKEN":        demoToken,
		"TELEGRAM_API_ENDPOINT":     r.fake.Endpoint(),
		"RASTREIO_DB":               filepath.Join(r.dir, "rastreio.db"),
		"RASTREIO_PROVIDERS":        "correios",
		"CORREIOS_API_URL":          r.corr.URL,
		"CORREIOS_USER":             demoUser,
		"CORREIOS_ACCESS_CODE":      demoAccessCode,
		"RASTREIO_RECHECK_INTERVAL": "0",
		// The bot's promise needs a positive interval; with
		// DEMO_PASS_INTERVAL=0 the passes run back to back.
		"RASTREIO_PASS_INTERVAL": max(r.cfg.PassInterval, time.Second).String(),
		"LOG_LEVEL":              r.cfg.ChildLogLevel,
	})
}

// startBot keeps rastreio-bot running until ctx ends, started again a
// second after it exits. The channel it returns gets an exit's error when
// nobody took the previous one yet.
func (r *run) startBot(ctx context.Context) <-chan error {
	botExits := make(chan error, 1)
	r.children.Go(func() {
		s := *r.sup
		s.Out = prefixWriter(r.childOut, "bot: ")
		s.RunLoop(ctx, "rastreio-bot", r.cfg.BotPath, nil, time.Second, func(err error, took time.Duration) {
			r.log.Warn("rastreio-bot exited; starting it again", slog.Int("exit", ExitCode(err)), slog.Duration("ran", took.Round(time.Millisecond)))
			select {
			case botExits <- err:
			default:
			}
		})
	})
	return botExits
}

// trackerLoop runs rastreio-tracker until ctx ends, one pass
// PassInterval after the previous one ended.
func (r *run) trackerLoop(ctx context.Context) {
	r.children.Go(func() {
		s := *r.sup
		s.Out = prefixWriter(r.childOut, "tracker: ")
		s.RunLoop(ctx, "rastreio-tracker", r.cfg.TrackerPath, nil, r.cfg.PassInterval, func(err error, took time.Duration) {
			if err != nil {
				r.log.Warn("a tracker pass failed", slog.Int("exit", ExitCode(err)), slog.Duration("took", took.Round(time.Millisecond)))
			}
		})
	})
}

// waitBot waits until the bot has started (it polls right after), or
// ReadyTimeout has passed (the page opens anyway). ready is false when
// the demo ends first: ctx ended (err nil), or the bot refused its
// settings (exit 78).
func (r *run) waitBot(ctx context.Context, botExits <-chan error) (ready bool, err error) {
	timeout := time.NewTimer(r.cfg.ReadyTimeout)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case <-r.hub.BotUp():
			return true, nil
		case err := <-botExits:
			if code := ExitCode(err); code == 78 {
				return false, fmt.Errorf("rastreio-bot refused its settings (exit 78): see its log above")
			}
		case <-timeout.C:
			r.log.Warn("the bot has not started yet; the page opens anyway", slog.Duration("waited", r.cfg.ReadyTimeout))
			return true, nil
		}
	}
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
