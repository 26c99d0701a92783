package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Proc is a child program in a process group of its own, so that Stop
// reaches everything it started, and so that a Ctrl-C meant for the demo
// reaches the child only through Stop (in order, with a deadline).
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done closes
}

// StartProc starts path with args and env (the whole environment),
// stdout and stderr to out.
func StartProc(name, path string, args, env []string, out io.Writer) (*Proc, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// Should the demo die without stopping it (SIGKILL), the
		// kernel sends the child SIGTERM.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id (also its process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the child has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the child ended (nil: exit 0); valid once Done is closed.
func (p *Proc) Err() error { return p.err }

// Stop sends SIGTERM to the child's process group, and SIGKILL after
// grace if it is still there; it returns once the child was reaped.
// The group is killed at the end in any case, so nothing the child
// started outlives it.
func (p *Proc) Stop(grace time.Duration) error {
	pgid := p.cmd.Process.Pid
	select {
	case <-p.done:
		syscall.Kill(-pgid, syscall.SIGKILL) // leftovers of an exited child
		return p.err
	default:
	}
	syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	return p.err
}

// Supervisor runs the demo's children: the bot kept running (restarted
// after a second if it exits, as Restart=always would), the tracker run
// again and again, Interval after each pass ends (RestartSec).
type Supervisor struct {
	Env     []string
	Out     io.Writer
	Log     *slog.Logger
	Grace   time.Duration // SIGTERM → SIGKILL
	Restart time.Duration // pause before restarting the bot
}

// RunLoop runs path until ctx ends: each run starts pause after the
// previous one exited (at once the first time). onExit, when set, sees
// each run's end. At ctx's end the running child gets Stop(Grace).
func (s *Supervisor) RunLoop(ctx context.Context, name, path string, args []string, pause time.Duration, onExit func(err error, took time.Duration)) {
	for first := true; ; first = false {
		if !first {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		began := time.Now()
		p, err := StartProc(name, path, args, s.Env, s.Out)
		if err != nil {
			s.Log.Error("cannot start", slog.String("program", name), slog.Any("error", err))
			if onExit != nil {
				onExit(err, 0)
			}
			continue
		}
		select {
		case <-ctx.Done():
			p.Stop(s.Grace)
			return
		case <-p.Done():
		}
		if onExit != nil {
			onExit(p.Err(), time.Since(began))
		}
	}
}

// ExitCode is err's exit status (0 for nil, -1 when not an exit).
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// ChildEnv is the environment for the children: the demo's own without
// anything that could point them at a real bot, provider or database
// (TELEGRAM_*, RASTREIO_*, provider keys and URLs, credentials), plus set.
func ChildEnv(environ []string, set map[string]string) []string {
	var env []string
	for _, kv := range environ {
		if isOurs(kv) {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

var dropPrefixes = []string{
	"TELEGRAM_", "RASTREIO_", "CORREIOS_", "SITERASTREIO_", "PACOTEVICIO_", "TRACK17_",
	"CREDENTIALS_DIRECTORY=", "STATE_DIRECTORY=", "NOTIFY_SOCKET=", "WATCHDOG_", "DEMO_",
}

func isOurs(kv string) bool {
	for _, p := range dropPrefixes {
		if strings.HasPrefix(kv, p) {
			return true
		}
	}
	k, _, _ := strings.Cut(kv, "=")
	return strings.HasSuffix(k, "_MONTHLY_BUDGET")
}
