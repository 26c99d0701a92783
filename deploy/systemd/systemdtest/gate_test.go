//go:build systemdtest

package systemdtest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// gate sits between the programs and the fake Telegram (telegramtest) and
// can hold calls: getMe until released (to see the bot is not active
// before it is ready), and every getUpdates for as long as the test wants
// (a hung update loop, for the watchdog).
type gate struct {
	upstream string // fake Telegram's base URL
	srv      *http.Server
	addr     string

	mu        sync.Mutex
	holdGetMe chan struct{} // non-nil: getMe waits until it is closed
	heldGetMe chan struct{} // closed when a getMe is being held
	hang      chan struct{} // closed: getUpdates never answers (replaced by unhang)
	unhung    chan struct{} // closed by unhang: hung calls go on
	client    *http.Client

	getUpdates atomic.Int64 // getUpdates calls seen
	hungCalls  atomic.Int64 // getUpdates calls left hanging
}

func newGate(t *testing.T, upstream string) *gate {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{upstream: upstream, addr: l.Addr().String(), client: &http.Client{}, hang: make(chan struct{})}
	g.srv = &http.Server{Handler: g}
	go g.srv.Serve(l)
	t.Cleanup(func() {
		g.release()
		g.srv.Close()
	})
	return g
}

// endpoint is the TELEGRAM_API_ENDPOINT for the programs.
func (g *gate) endpoint() string { return "http://" + g.addr + "/bot%s/%s" }

// holdNextGetMe makes getMe calls wait until the returned func is called;
// held is closed once one is waiting.
func (g *gate) holdNextGetMe() (held <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.holdGetMe = make(chan struct{})
	g.heldGetMe = make(chan struct{})
	hold := g.holdGetMe
	var once sync.Once
	return g.heldGetMe, func() {
		once.Do(func() {
			g.mu.Lock()
			if g.holdGetMe == hold {
				g.holdGetMe = nil
			}
			g.mu.Unlock()
			close(hold)
		})
	}
}

// hangGetUpdates makes every getUpdates, the one in flight included, hang
// until unhang.
func (g *gate) hangGetUpdates() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.hang:
	default:
		g.unhung = make(chan struct{})
		close(g.hang)
	}
}

// unhang ends the hang: calls left hanging are forwarded now.
func (g *gate) unhang() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.hang:
		g.hang = make(chan struct{})
		close(g.unhung)
	default:
	}
}

func (g *gate) release() {
	g.mu.Lock()
	h := g.holdGetMe
	g.holdGetMe = nil
	g.mu.Unlock()
	if h != nil {
		close(h)
	}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	g.mu.Lock()
	hold, held := g.holdGetMe, g.heldGetMe
	if method == "getMe" && hold != nil {
		select {
		case <-held:
		default:
			close(held)
		}
	}
	g.mu.Unlock()
	if method == "getMe" && hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if method == "getUpdates" {
		g.getUpdates.Add(1)
	}

	body, _ := io.ReadAll(r.Body)
	for {
		if g.forward(w, r, method, body) {
			return
		}
		// Hung: the upstream call was dropped; the client gets nothing
		// until it gives up or the test ends the hang.
		g.hungCalls.Add(1)
		g.mu.Lock()
		unhung := g.unhung
		g.mu.Unlock()
		select {
		case <-r.Context().Done():
			return
		case <-unhung:
		}
	}
}

// forward passes one call to the fake Telegram and its answer back; false
// when the call was left hanging instead.
func (g *gate) forward(w http.ResponseWriter, r *http.Request, method string, body []byte) bool {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, g.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return true
	}
	req.Header = r.Header.Clone()
	type answer struct {
		resp *http.Response
		body []byte
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := g.client.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{resp, b, err}
	}()

	var hang <-chan struct{} // nil for other methods: never hangs
	if method == "getUpdates" {
		g.mu.Lock()
		hang = g.hang
		g.mu.Unlock()
	}
	select {
	case a := <-done:
		if a.err != nil {
			http.Error(w, a.err.Error(), http.StatusBadGateway)
			return true
		}
		for k, v := range a.resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(a.resp.StatusCode)
		w.Write(a.body)
		return true
	case <-hang:
		cancel()
		<-done
		return false
	}
}
