package tracking

import (
	"context"
	"errors"
	"sort"
	"strings"
)

// Request is one code the tracker wants checked, with the provider it is
// pinned to ("" for a code no provider has found yet).
type Request struct {
	Code   string
	Pinned string
}

// Chain asks an ordered list of providers. A code nobody has found yet
// goes to the first provider; NotOurs, Unsupported and a whole-call
// ErrQuota send it on to the next provider within the same call. NotYet
// does not fall through: the provider sees every parcel, the code is just
// not there yet. A pinned code is asked only of its provider. Every
// Result carries the name of the provider that gave it.
//
// A pinned provider that is no longer in the chain (the operator removed
// it) is ignored: the code is asked like a new one, and the Result names
// the provider that answered, so the caller can re-pin it.
//
// Chain is safe for concurrent use when its providers are.
type Chain struct {
	providers []Provider
	index     map[string]int
	onError   func(provider string, err error)
}

// NewChain builds a chain trying providers in the order given.
func NewChain(providers ...Provider) *Chain {
	c := &Chain{providers: providers, index: make(map[string]int, len(providers))}
	for i, p := range providers {
		if _, dup := c.index[p.Name()]; !dup {
			c.index[p.Name()] = i
		}
	}
	return c
}

// Providers returns the providers in the order tried.
func (c *Chain) Providers() []Provider { return c.providers }

// Names returns the providers' names in the order tried.
func (c *Chain) Names() []string {
	names := make([]string, len(c.providers))
	for i, p := range c.providers {
		names[i] = p.Name()
	}
	return names
}

// Track checks the codes, splitting them per provider in calls of at most
// that provider's MaxBatch. The results are valid even when err is not
// nil: err (a *ChainError) lists the whole-call failures per provider,
// and the codes those calls carried are missing from the map (no answer
// this time), unless they fell through to a provider that answered.
func (c *Chain) Track(ctx context.Context, reqs []Request) (map[string]Result, error) {
	out := make(map[string]Result, len(reqs))
	if len(c.providers) == 0 {
		return out, &ChainError{Errs: map[string]error{"": errors.New("tracking: no provider configured")}}
	}
	pending := make([][]string, len(c.providers))
	pinned := make(map[string]bool, len(reqs))
	seen := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		if r.Code == "" || seen[r.Code] {
			continue
		}
		seen[r.Code] = true
		i := 0
		if r.Pinned != "" {
			if j, ok := c.index[r.Pinned]; ok {
				i = j
				pinned[r.Code] = true
			}
		}
		pending[i] = append(pending[i], r.Code)
	}
	var cerr *ChainError
	for i, p := range c.providers {
		codes := pending[i]
		var next []string
		max := p.MaxBatch()
		if max < 1 {
			max = 1
		}
		for start := 0; start < len(codes); start += max {
			if ctx.Err() != nil {
				cerr = cerr.add(p.Name(), ctx.Err())
				return out, cerr
			}
			batch := codes[start:min(start+max, len(codes))]
			res, err := p.Track(ctx, batch)
			if err != nil {
				cerr = cerr.add(p.Name(), err)
				if c.onError != nil {
					c.onError(p.Name(), err)
				}
				quota := errors.Is(err, ErrQuota)
				for _, code := range batch {
					if quota && !pinned[code] && i+1 < len(c.providers) {
						next = append(next, code)
						continue
					}
					// An earlier provider's NotOurs is no verdict while
					// this one could not answer.
					delete(out, code)
				}
				continue
			}
			for _, code := range batch {
				r, ok := res[code]
				if !ok {
					delete(out, code)
					continue
				}
				r.Provider = p.Name()
				if (r.Status == NotOurs || r.Status == Unsupported) && !pinned[code] {
					// Kept in case no later provider answers better.
					out[code] = r
					next = append(next, code)
					continue
				}
				out[code] = r
			}
		}
		if i+1 < len(c.providers) {
			pending[i+1] = append(next, pending[i+1]...)
		}
	}
	if cerr != nil {
		return out, cerr
	}
	return out, nil
}

// ChainError holds the whole-call failures of a Chain.Track, per provider
// name (the first failure of each). errors.Is and errors.As see every one.
type ChainError struct {
	Errs map[string]error
}

func (e *ChainError) add(provider string, err error) *ChainError {
	if e == nil {
		e = &ChainError{Errs: map[string]error{}}
	}
	if _, ok := e.Errs[provider]; !ok {
		e.Errs[provider] = err
	}
	return e
}

func (e *ChainError) Error() string {
	names := make([]string, 0, len(e.Errs))
	for n := range e.Errs {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = e.Errs[n].Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap exposes every provider's error to errors.Is / errors.As.
func (e *ChainError) Unwrap() []error {
	errs := make([]error, 0, len(e.Errs))
	for _, err := range e.Errs {
		errs = append(errs, err)
	}
	return errs
}

// ProviderErr returns the failure of the named provider, or nil.
func (e *ChainError) ProviderErr(name string) error {
	if e == nil {
		return nil
	}
	return e.Errs[name]
}

// OnError sets a function told of every whole-call provider failure the
// chain absorbs (for logs), including quota errors that fell through.
// Set it before the chain is used.
func (c *Chain) OnError(fn func(provider string, err error)) { c.onError = fn }

// View returns the chain as a tracking.Provider for codes pinned to
// provider pinned ("" for codes not found yet), so a caller that groups
// its due codes by pin can use the chain like one provider. Its Name is
// pinned (or "chain"), its MaxBatch that of the provider asked first.
//
// A View's Track returns the answers it got with a nil error, even when
// some provider failed (those codes are just missing); it returns an
// error only when no code got an answer, or when a provider rejected its
// credentials (ErrAuth always surfaces). Results name their provider, so
// a code found by the chain can be pinned.
func (c *Chain) View(pinned string) Provider { return view{c, pinned} }

type view struct {
	c      *Chain
	pinned string
}

func (v view) Name() string {
	if v.pinned == "" {
		return "chain"
	}
	return v.pinned
}

func (v view) MaxBatch() int {
	i := 0
	if j, ok := v.c.index[v.pinned]; ok {
		i = j
	}
	if len(v.c.providers) == 0 {
		return 1
	}
	return max(1, v.c.providers[i].MaxBatch())
}

func (v view) Track(ctx context.Context, codes []string) (map[string]Result, error) {
	reqs := make([]Request, len(codes))
	for i, code := range codes {
		reqs[i] = Request{Code: code, Pinned: v.pinned}
	}
	out, err := v.c.Track(ctx, reqs)
	if err == nil {
		return out, nil
	}
	if errors.Is(err, ErrAuth) || len(out) == 0 {
		return nil, err
	}
	return out, nil
}
