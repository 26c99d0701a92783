// Package providerhttptest is what the provider fakes (correiostest,
// siterastreiotest, pacoteviciotest, track17test) share: an HTTP server
// with injected faults, latency and hangs, and a gateway token bucket.
package providerhttptest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Base is what every provider fake embeds: the HTTP server, a Close that also
// releases hanging requests, added latency, and injected faults of the
// fake's own type F, whose zero value means "no fault". Embed it and call
// Start.
type Base[F comparable] struct {
	*httptest.Server
	latency   time.Duration
	done      chan struct{}
	closeOnce sync.Once

	fmu    sync.Mutex
	faults []F // for the next requests, one each
	always F   // for every request (FailAll)
}

// Start serves h, holding every answer latency first (see Delay).
func (b *Base[F]) Start(h http.Handler, latency time.Duration) {
	b.done = make(chan struct{})
	b.latency = latency
	b.Server = httptest.NewServer(h)
}

// Close releases hanging requests and stops the server; it may be called
// more than once.
func (b *Base[F]) Close() {
	b.closeOnce.Do(func() {
		close(b.done)
		b.CloseClientConnections()
		b.Server.Close()
	})
}

// Fail queues faults for the next requests, one each.
func (b *Base[F]) Fail(faults ...F) {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	b.faults = append(b.faults, faults...)
}

// FailAll makes every request fail with f (the zero fault heals), ahead
// of any queued fault.
func (b *Base[F]) FailAll(f F) {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	b.always = f
}

// ClearFaults drops the queued faults and FailAll's.
func (b *Base[F]) ClearFaults() {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	var none F
	b.faults, b.always = nil, none
}

// NextFault is the fault for the request in hand: FailAll's, else the
// next queued one, else none.
func (b *Base[F]) NextFault() F {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	var none F
	if b.always != none || len(b.faults) == 0 {
		return b.always
	}
	f := b.faults[0]
	b.faults = b.faults[1:]
	return f
}

// Delay holds the request in hand for the latency (less if the server
// closes meanwhile).
func (b *Base[F]) Delay() {
	if b.latency <= 0 {
		return
	}
	t := time.NewTimer(b.latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.done:
	}
}

// Hang holds r until its client gives up or the server closes.
func (b *Base[F]) Hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-b.done:
	}
}
