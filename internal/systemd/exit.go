package systemd

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Exit statuses (sysexits.h) the units act on: both carry
// RestartPreventExitStatus=78, so a configuration error stops the unit and
// shows in `systemctl --failed` instead of restarting in a loop.
const (
	ExitFailure     = 1  // the run could not do its work (database unreachable, …)
	ExitUnavailable = 69 // EX_UNAVAILABLE: a service it needs cannot be reached
	ExitConfig      = 78 // EX_CONFIG: a missing or malformed setting, a rejected credential
)

// ExitError ends a program with an exit status other than 0. A program's
// run returns it and main hands it to Exit, the one place that turns an
// error into the process's exit status.
type ExitError struct {
	Code   int    // exit status: ExitFailure, ExitUnavailable, ExitConfig
	Status string // STATUS= line systemctl shows after the exit; "" sets none
	Err    error  // printed on stderr by Exit; nil when run has logged it already
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return "exit status " + strconv.Itoa(e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ConfigError is an ExitConfig error: err is printed, status goes to
// systemctl status.
func ConfigError(status string, err error) *ExitError {
	return &ExitError{Code: ExitConfig, Status: status, Err: err}
}

// Exit maps the error a program's run returned to its exit status: nil is
// 0; an *ExitError is its Code, after its Status is set and its Err printed;
// any other error is printed and is ExitFailure. A printed error is one line
// on stderr, prefixed with the program's name.
func Exit(program string, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return ExitFailure
	}
	if ee.Err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, ee.Err)
	}
	if ee.Status != "" {
		Status("%s", ee.Status)
	}
	if ee.Code == 0 {
		return ExitFailure // an ExitError is never success
	}
	return ee.Code
}
