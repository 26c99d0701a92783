package tracking

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakeProvider answers from a table; codes absent from it get no answer.
type fakeProvider struct {
	name    string
	max     int
	answers map[string]Status
	err     error // whole-call failure
	mu      sync.Mutex
	calls   [][]string
}

func (f *fakeProvider) Name() string  { return f.name }
func (f *fakeProvider) MaxBatch() int { return f.max }
func (f *fakeProvider) Track(ctx context.Context, codes []string) (map[string]Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, append([]string(nil), codes...))
	f.mu.Unlock()
	if len(codes) > f.max {
		return nil, fmt.Errorf("%s: %d codes over MaxBatch %d", f.name, len(codes), f.max)
	}
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]Result{}
	for _, c := range codes {
		if st, ok := f.answers[c]; ok {
			r := Result{Status: st, Provider: "should be overwritten"}
			if st == Found {
				r.Events = []Event{{Key: f.name + "|" + c, Kind: KindTransit}}
			}
			out[c] = r
		}
	}
	return out, nil
}

func (f *fakeProvider) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []string
	for _, c := range f.calls {
		all = append(all, c...)
	}
	sort.Strings(all)
	return all
}

func TestChain(t *testing.T) {
	type want struct {
		status   Status
		provider string
	}
	tests := []struct {
		name      string
		a, b, c   *fakeProvider
		reqs      []Request
		want      map[string]want
		askedA    []string
		askedB    []string
		askedC    []string
		wantErrIs error
	}{
		{
			name:   "found by first, not yet does not fall through",
			a:      &fakeProvider{answers: map[string]Status{"X1": Found, "X2": NotYet}},
			b:      &fakeProvider{answers: map[string]Status{"X1": Found, "X2": Found}},
			c:      &fakeProvider{},
			reqs:   []Request{{Code: "X1"}, {Code: "X2"}},
			want:   map[string]want{"X1": {Found, "a"}, "X2": {NotYet, "a"}},
			askedA: []string{"X1", "X2"},
		},
		{
			name:   "not ours and unsupported fall through",
			a:      &fakeProvider{answers: map[string]Status{"X1": NotOurs, "X2": Unsupported, "X3": Invalid}},
			b:      &fakeProvider{answers: map[string]Status{"X1": Found, "X2": NotOurs}},
			c:      &fakeProvider{answers: map[string]Status{"X2": NotYet}},
			reqs:   []Request{{Code: "X1"}, {Code: "X2"}, {Code: "X3"}},
			want:   map[string]want{"X1": {Found, "b"}, "X2": {NotYet, "c"}, "X3": {Invalid, "a"}},
			askedA: []string{"X1", "X2", "X3"}, askedB: []string{"X1", "X2"}, askedC: []string{"X2"},
		},
		{
			name:   "nobody tracks it: last verdict kept",
			a:      &fakeProvider{answers: map[string]Status{"X1": NotOurs}},
			b:      &fakeProvider{answers: map[string]Status{"X1": Unsupported}},
			c:      &fakeProvider{answers: map[string]Status{"X1": NotOurs}},
			reqs:   []Request{{Code: "X1"}},
			want:   map[string]want{"X1": {NotOurs, "c"}},
			askedA: []string{"X1"}, askedB: []string{"X1"}, askedC: []string{"X1"},
		},
		{
			name:   "quota falls through, pinned codes stay",
			a:      &fakeProvider{err: fmt.Errorf("a: out of credit: %w", ErrQuota)},
			b:      &fakeProvider{answers: map[string]Status{"X1": Found, "P": Found}},
			c:      &fakeProvider{},
			reqs:   []Request{{Code: "X1"}, {Code: "P", Pinned: "a"}},
			want:   map[string]want{"X1": {Found, "b"}},
			askedA: []string{"P", "X1"}, askedB: []string{"X1"},
			wantErrIs: ErrQuota,
		},
		{
			name:      "unavailable does not fall through",
			a:         &fakeProvider{err: fmt.Errorf("a: down: %w", ErrUnavailable)},
			b:         &fakeProvider{answers: map[string]Status{"X1": Found}},
			c:         &fakeProvider{},
			reqs:      []Request{{Code: "X1"}},
			want:      map[string]want{},
			askedA:    []string{"X1"},
			wantErrIs: ErrUnavailable,
		},
		{
			name:   "a later failure erases an earlier not-ours",
			a:      &fakeProvider{answers: map[string]Status{"X1": NotOurs, "X2": NotOurs}},
			b:      &fakeProvider{err: fmt.Errorf("b: %w", ErrAuth)},
			c:      &fakeProvider{answers: map[string]Status{"X2": Found}},
			reqs:   []Request{{Code: "X1"}, {Code: "X2", Pinned: "c"}},
			want:   map[string]want{"X2": {Found, "c"}},
			askedA: []string{"X1"}, askedB: []string{"X1"}, askedC: []string{"X2"},
			wantErrIs: ErrAuth,
		},
		{
			name:   "pinned code asked only of its provider, even if it says not ours",
			a:      &fakeProvider{answers: map[string]Status{"X1": Found}},
			b:      &fakeProvider{answers: map[string]Status{"X1": NotOurs}},
			c:      &fakeProvider{answers: map[string]Status{"X1": Found}},
			reqs:   []Request{{Code: "X1", Pinned: "b"}},
			want:   map[string]want{"X1": {NotOurs, "b"}},
			askedB: []string{"X1"},
		},
		{
			name:   "pin to a provider no longer configured: asked as new",
			a:      &fakeProvider{answers: map[string]Status{"X1": Found}},
			b:      &fakeProvider{},
			c:      &fakeProvider{},
			reqs:   []Request{{Code: "X1", Pinned: "gone"}, {Code: "X1", Pinned: "gone"}},
			want:   map[string]want{"X1": {Found, "a"}},
			askedA: []string{"X1"},
		},
		{
			name:   "no answer for a code: left out",
			a:      &fakeProvider{answers: map[string]Status{}},
			b:      &fakeProvider{},
			c:      &fakeProvider{},
			reqs:   []Request{{Code: "X1"}},
			want:   map[string]want{},
			askedA: []string{"X1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.a.name, tc.b.name, tc.c.name = "a", "b", "c"
			for _, p := range []*fakeProvider{tc.a, tc.b, tc.c} {
				if p.max == 0 {
					p.max = 2
				}
			}
			ch := NewChain(tc.a, tc.b, tc.c)
			got, err := ch.Track(t.Context(), tc.reqs)
			if tc.wantErrIs == nil && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErrIs != nil && !errors.Is(err, tc.wantErrIs) {
				t.Fatalf("err = %v, want %v", err, tc.wantErrIs)
			}
			gotW := map[string]want{}
			for code, r := range got {
				gotW[code] = want{r.Status, r.Provider}
			}
			if !reflect.DeepEqual(gotW, tc.want) {
				t.Errorf("results %v, want %v", gotW, tc.want)
			}
			for _, x := range []struct {
				p    *fakeProvider
				want []string
			}{{tc.a, tc.askedA}, {tc.b, tc.askedB}, {tc.c, tc.askedC}} {
				if got := x.p.asked(); !reflect.DeepEqual(got, x.want) {
					t.Errorf("%s asked %v, want %v", x.p.name, got, x.want)
				}
			}
		})
	}
}

func TestChainRespectsMaxBatch(t *testing.T) {
	a := &fakeProvider{name: "a", max: 3, answers: map[string]Status{}}
	b := &fakeProvider{name: "b", max: 2, answers: map[string]Status{}}
	var reqs []Request
	for i := 0; i < 10; i++ {
		code := fmt.Sprintf("C%02d", i)
		a.answers[code] = NotOurs
		b.answers[code] = Found
		reqs = append(reqs, Request{Code: code})
	}
	got, err := NewChain(a, b).Track(t.Context(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("%d results", len(got))
	}
	for _, p := range []*fakeProvider{a, b} {
		for _, call := range p.calls {
			if len(call) > p.max {
				t.Errorf("%s got %d codes, max %d", p.name, len(call), p.max)
			}
		}
	}
	if len(a.calls) != 4 || len(b.calls) != 5 {
		t.Errorf("calls a=%d b=%d, want 4 and 5", len(a.calls), len(b.calls))
	}
}

func TestChainErrorsAndCancel(t *testing.T) {
	var rl *RateLimitedError
	a := &fakeProvider{name: "a", max: 1, err: fmt.Errorf("a: %w", &RateLimitedError{RetryAfter: 3})}
	ch := NewChain(a)
	_, err := ch.Track(t.Context(), []Request{{Code: "X"}})
	if !errors.As(err, &rl) || !strings.Contains(err.Error(), "a:") {
		t.Fatalf("err = %v", err)
	}
	var ce *ChainError
	if !errors.As(err, &ce) || ce.ProviderErr("a") == nil || ce.ProviderErr("b") != nil {
		t.Fatalf("ChainError %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b := &fakeProvider{name: "b", max: 1, answers: map[string]Status{"X": Found}}
	if _, err := NewChain(b).Track(ctx, []Request{{Code: "X"}}); !errors.Is(err, context.Canceled) || len(b.calls) != 0 {
		t.Fatalf("cancelled: err %v, calls %d", err, len(b.calls))
	}
	if _, err := NewChain().Track(t.Context(), []Request{{Code: "X"}}); err == nil {
		t.Fatal("empty chain: no error")
	}
	if names := NewChain(a, b).Names(); !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Fatalf("Names %v", names)
	}
}

func TestChainView(t *testing.T) {
	a := &fakeProvider{name: "a", max: 5, err: fmt.Errorf("a: %w", ErrQuota)}
	b := &fakeProvider{name: "b", max: 3, answers: map[string]Status{"X": Found}}
	ch := NewChain(a, b)
	var logged []string
	ch.OnError(func(p string, err error) { logged = append(logged, p) })

	v := ch.View("")
	if v.Name() != "chain" || v.MaxBatch() != 5 {
		t.Fatalf("view %s %d", v.Name(), v.MaxBatch())
	}
	got, err := v.Track(t.Context(), []string{"X", "Y"})
	if err != nil || got["X"].Provider != "b" || len(got) != 1 {
		t.Fatalf("unpinned view: %v %v", got, err)
	}
	if !reflect.DeepEqual(logged, []string{"a"}) {
		t.Errorf("OnError saw %v", logged)
	}
	// Pinned to a provider out of credit: no answer at all → the error.
	if _, err := ch.View("a").Track(t.Context(), []string{"P"}); !errors.Is(err, ErrQuota) {
		t.Errorf("pinned view: %v", err)
	}
	if vb := ch.View("b"); vb.Name() != "b" || vb.MaxBatch() != 3 {
		t.Errorf("view b %s %d", vb.Name(), vb.MaxBatch())
	}
	// ErrAuth always surfaces, even with other answers.
	c := &fakeProvider{name: "c", max: 5, err: fmt.Errorf("c: %w", ErrAuth)}
	ch2 := NewChain(b, c)
	b.answers["Z"] = NotOurs
	got, err = ch2.View("").Track(t.Context(), []string{"X", "Z"})
	if !errors.Is(err, ErrAuth) || got != nil {
		t.Errorf("auth: %v %v", got, err)
	}
}
