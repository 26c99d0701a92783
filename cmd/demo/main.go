// Command rastreio-demo runs the bot without Telegram: a local Bot API and
// Correios API replaying real journeys, the real rastreio-bot and
// rastreio-tracker (found beside this program), and a chat page in the
// browser. `make demo` builds and starts it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/rastreio/rastreio/internal/demo"
)

func main() {
	os.Exit(run())
}

func run() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rastreio-demo: cannot find its own path:", err)
		return 1
	}
	cfg, err := demo.ConfigFromEnv(os.Getenv, exe)
	var ce *demo.ConfigError
	if errors.As(err, &ce) {
		fmt.Fprintln(os.Stderr, "rastreio-demo:", err)
		return 78
	}
	cfg.Stdout, cfg.Log = os.Stdout, log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "rastreio-demo:", err)
		return 1
	}
	return 0
}
