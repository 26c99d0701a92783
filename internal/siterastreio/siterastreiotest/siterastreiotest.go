// Package siterastreiotest is a fake Site Rastreio / Wonca Labs API for
// tests and benchmarks: POST /wonca.labs.v1.LabsService/Track with an
// Apikey, replies wrapping the Correios website object as a JSON string,
// Connect-RPC errors (unauthenticated, failed_precondition when credit
// runs out), injectable faults, and an optional enforced token bucket
// that counts violations.
package siterastreiotest

import (
	"encoding/json"
	"github.com/rastreio/rastreio/internal/providerhttp/providerhttptest"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is an injected failure for the next request(s).
type Fault int

// Faults.
const (
	FaultNone     Fault = iota
	Fault5xx            // 503
	FaultHang           // no answer until the client gives up
	FaultGarbage        // 200, not JSON
	FaultBadInner       // 200, "json" holds something that is not JSON
	Fault429            // 429 with an empty body
)

// Options configures the fake. Zero value: any key, unlimited credit, no
// rate limit, unknown codes "not found".
type Options struct {
	APIKey  string  // accepted key; empty: any non-empty key
	Credits int     // requests allowed before failed_precondition; 0: unlimited
	Rate    float64 // enforced bucket refill, requests/s; 0: none
	Burst   int
	Latency time.Duration
	// Lookup answers codes not set with SetObject: the website object JSON,
	// or nil for "not found".
	Lookup func(code string) []byte
}

// Stats are the fake's counters.
type Stats struct {
	Requests   int
	Billed     int // requests answered 200 (what the credit pays for)
	Violations int // requests over the enforced bucket
}

// Server is a running fake.
type Server struct {
	providerhttptest.Base[Fault] // the server, Close, Fail, FailAll, ClearFaults
	opts                         Options

	mu      sync.Mutex
	objects map[string][]byte
	stats   Stats
	bucket  *providerhttptest.Bucket
	codes   []string
}

// New starts a fake; NewTB closes it when the test ends.
func New(opts Options) *Server {
	if opts.Rate > 0 && opts.Burst <= 0 {
		opts.Burst = max(1, int(opts.Rate))
	}
	s := &Server{opts: opts, objects: map[string][]byte{},
		bucket: providerhttptest.NewBucket(opts.Rate, opts.Burst, time.Now())}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /wonca.labs.v1.LabsService/Track", s.handle)
	s.Start(mux, opts.Latency)
	return s
}

// NewTB starts a fake closed at the end of the test.
func NewTB(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := New(opts)
	tb.Cleanup(s.Close)
	return s
}

// SetObject sets the website-shaped object answered for code (the inner
// JSON, not the wrapper).
func (s *Server) SetObject(code string, object []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[strings.ToUpper(code)] = append([]byte(nil), object...)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Codes returns every code asked, in order.
func (s *Server) Codes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.codes...)
}

func (s *Server) takeLocked() bool {
	if s.bucket.Take(time.Now()) {
		return true
	}
	s.stats.Violations++
	return false
}

func connectErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.Delay()
	var req struct {
		Code string `json:"code"`
	}
	bodyErr := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req)
	s.mu.Lock()
	s.stats.Requests++
	s.codes = append(s.codes, req.Code)
	if !s.takeLocked() {
		s.mu.Unlock()
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	s.mu.Unlock()
	fault := s.NextFault()

	switch fault {
	case Fault5xx:
		connectErr(w, http.StatusServiceUnavailable, "unavailable", "upstream unavailable")
		return
	case FaultHang:
		s.Hang(r)
		return
	case Fault429:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Apikey ")
	if !ok || key == "" || (s.opts.APIKey != "" && key != s.opts.APIKey) {
		connectErr(w, http.StatusUnauthorized, "unauthenticated", "invalid api key")
		return
	}
	if bodyErr != nil || req.Code == "" {
		connectErr(w, http.StatusBadRequest, "invalid_argument", "code is required")
		return
	}
	s.mu.Lock()
	if s.opts.Credits > 0 && s.stats.Billed >= s.opts.Credits {
		s.mu.Unlock()
		connectErr(w, http.StatusBadRequest, "failed_precondition", "insufficient credit balance")
		return
	}
	s.stats.Billed++
	obj, found := s.objects[strings.ToUpper(req.Code)]
	s.mu.Unlock()
	if !found && s.opts.Lookup != nil {
		obj = s.opts.Lookup(req.Code)
		found = obj != nil
	}
	inner := string(obj)
	if !found {
		inner = `{"erro":true,"mensagem":"Objeto não encontrado na base de dados dos Correios."}`
	}
	switch fault {
	case FaultGarbage:
		w.Write([]byte("<html>oops</html>"))
		return
	case FaultBadInner:
		inner = "{not json"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"carrier": "CARRIER_CORREIOS", "json": inner})
}

// Wrap returns a Track reply body for an inner object (for handlers
// written by hand).
func Wrap(inner []byte) []byte {
	b, _ := json.Marshal(map[string]string{"carrier": "CARRIER_CORREIOS", "json": string(inner)})
	return b
}
