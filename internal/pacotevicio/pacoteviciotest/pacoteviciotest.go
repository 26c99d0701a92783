// Package pacoteviciotest is a fake PacoteVício API for tests and
// benchmarks: GET /correios?tracking_code=… with X-RapidAPI-Key, replies
// in the Correios website shape, RapidAPI's gateway errors (401 bad key,
// 429 for a short limit and for a spent monthly quota), injectable faults,
// and an optional enforced token bucket that counts violations.
package pacoteviciotest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/providerhttp/providerhttptest"
)

// Fault is an injected failure for the next request(s).
type Fault int

// Faults.
const (
	FaultNone    Fault = iota
	Fault5xx           // 502 from the gateway
	FaultHang          // no answer until the client gives up
	FaultGarbage       // 200, not JSON
	Fault429           // 429 "Too many requests" (a short limit)
)

// Gateway messages, RapidAPI's wording (see ../testdata/README.md).
const (
	MsgInvalidKey = "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info."
	MsgQuota      = "You have exceeded the MONTHLY quota for Requests on your current plan, BASIC. Upgrade your plan at https://rapidapi.com/pacotevicio-pacotevicio-default/api/correios-rastreamento-de-encomendas"
	MsgTooMany    = "Too many requests"
	NotFound      = `{"erro":true,"mensagem":"Objeto não encontrado na base de dados dos Correios."}`
)

// Options configures the fake. Zero value: any key, unlimited quota, no
// rate limit, unknown codes "not found".
type Options struct {
	APIKey  string  // accepted key; empty: any non-empty key
	Quota   int     // requests answered before the monthly quota 429; 0: unlimited
	Rate    float64 // enforced bucket refill, requests/s; 0: none
	Burst   int
	Latency time.Duration
	// Lookup answers codes not set with SetObject: the website object
	// JSON, or nil for "not found".
	Lookup func(code string) []byte
}

// Stats are the fake's counters.
type Stats struct {
	Requests   int
	Billed     int // requests that reached the API (what the plan counts)
	Violations int // requests over the enforced bucket
}

// Request is what one request asked.
type Request struct {
	Code, Confidence string
}

// Server is a running fake.
type Server struct {
	providerhttptest.Base[Fault] // the server, Close, Fail, FailAll, ClearFaults
	opts                         Options

	mu      sync.Mutex
	objects map[string][]byte
	stats   Stats
	bucket  *providerhttptest.Bucket
	reqs    []Request
}

// New starts a fake; NewTB closes it when the test ends.
func New(opts Options) *Server {
	if opts.Rate > 0 && opts.Burst <= 0 {
		opts.Burst = max(1, int(opts.Rate))
	}
	s := &Server{opts: opts, objects: map[string][]byte{},
		bucket: providerhttptest.NewBucket(opts.Rate, opts.Burst, time.Now())}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /correios", s.handle)
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

// SetObject sets the website object answered for code.
func (s *Server) SetObject(code string, object []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[strings.ToUpper(code)] = append([]byte(nil), object...)
}

// SetQuota sets how many more requests are answered before the monthly
// quota runs out (0: unlimited).
func (s *Server) SetQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Quota = s.stats.Billed + n
	if n == 0 {
		s.opts.Quota = 0
	}
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Requests returns every request, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func gatewayErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.Delay()
	q := r.URL.Query()
	code := q.Get("tracking_code")
	s.mu.Lock()
	s.stats.Requests++
	s.reqs = append(s.reqs, Request{Code: code, Confidence: q.Get("confidence_level")})
	if !s.bucket.Take(time.Now()) {
		s.stats.Violations++
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		gatewayErr(w, http.StatusTooManyRequests, MsgTooMany)
		return
	}
	s.mu.Unlock()
	fault := s.NextFault()

	switch fault {
	case Fault5xx:
		gatewayErr(w, http.StatusBadGateway, "The request to the API has failed")
		return
	case FaultHang:
		s.Hang(r)
		return
	case Fault429:
		gatewayErr(w, http.StatusTooManyRequests, MsgTooMany)
		return
	}
	key := r.Header.Get("X-RapidAPI-Key")
	if key == "" || (s.opts.APIKey != "" && key != s.opts.APIKey) {
		gatewayErr(w, http.StatusUnauthorized, MsgInvalidKey)
		return
	}
	s.mu.Lock()
	if s.opts.Quota > 0 && s.stats.Billed >= s.opts.Quota {
		s.mu.Unlock()
		w.Header().Set("X-RateLimit-Requests-Remaining", "0")
		gatewayErr(w, http.StatusTooManyRequests, MsgQuota)
		return
	}
	s.stats.Billed++
	obj, found := s.objects[strings.ToUpper(code)]
	s.mu.Unlock()
	if !found && s.opts.Lookup != nil {
		obj = s.opts.Lookup(code)
		found = obj != nil
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case fault == FaultGarbage:
		w.Write([]byte("<html>oops</html>"))
	case !found:
		w.Write([]byte(NotFound))
	default:
		w.Write(obj)
	}
}
