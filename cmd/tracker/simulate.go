package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rastreio/rastreio/internal/provider"
	sim "github.com/rastreio/rastreio/internal/simulate"
	"github.com/rastreio/rastreio/internal/systemd"
)

// simulate is `rastreio-tracker simulate -journeys FILE [-providers a,b]
// [-budget NAME=N]…`: it replays the journeys through the real schedule,
// store, pass and delivery on a virtual clock (no settings, no network)
// and prints a table, then the report as its last stdout line (one JSON
// object). A malformed file or option: exit 78, one line.
func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	journeys := fs.String("journeys", "", "JSON array of journeys: {\"code\", \"added_at\" (optional), \"events\": [official-API events, newest first]}")
	providers := fs.String("providers", strings.Join(provider.Names(), ","), "providers to replay, comma-separated")
	budgets := budgetFlag{}
	fs.Var(budgets, "budget", "NAME=N: a monthly budget of N billed units for a provider (repeatable; default none)")
	fail := func(format string, a ...any) error {
		return &systemd.ExitError{Code: systemd.ExitConfig, Err: fmt.Errorf("simulate: "+format, a...)}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return nil
		}
		return fail("%v", err)
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if *journeys == "" {
		return fail("-journeys FILE is required")
	}
	var opt sim.Options
	for _, p := range strings.Split(*providers, ",") {
		p = strings.TrimSpace(p)
		if _, ok := provider.Lookup(p); !ok {
			return fail("-providers: unknown provider %q (known: %s)", p, strings.Join(provider.Names(), ", "))
		}
		opt.Providers = append(opt.Providers, p)
	}
	opt.Budgets = budgets
	js, err := sim.LoadFile(*journeys)
	if err != nil {
		return fail("%v", err)
	}
	rep, err := sim.Run(ctx, js, opt)
	if err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	return rep.WriteJSON(stdout)
}

// budgetFlag collects -budget NAME=N.
type budgetFlag map[string]int64

func (b budgetFlag) String() string { return "" }

func (b budgetFlag) Set(s string) error {
	name, n, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=N, got %q", s)
	}
	if _, known := provider.Lookup(name); !known {
		return fmt.Errorf("unknown provider %q", name)
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil || v <= 0 {
		return fmt.Errorf("%s: budget %q is not a positive number", name, n)
	}
	b[name] = v
	return nil
}
