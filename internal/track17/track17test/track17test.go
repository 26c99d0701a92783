// Package track17test is a fake 17TRACK v2.2 API for tests and
// benchmarks: register and gettrackinfo with the `17token` header, the
// {"code","data":{accepted,rejected,errors}} envelope and its error codes,
// a registration quota, injectable faults, and an optional enforced token
// bucket (17TRACK allows 3 requests/s per key) that counts violations.
package track17test

import (
	"encoding/json"
	"github.com/rastreio/rastreio/internal/providerhttp/providerhttptest"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is an injected failure for the next request(s).
type Fault int

// Faults.
const (
	FaultNone    Fault = iota
	Fault5xx           // 503
	FaultHang          // no answer until the client gives up
	FaultGarbage       // 200, not JSON
	Fault429           // HTTP 429 with the {"code":429} envelope
)

// Options configures the fake. Zero value: any key, unlimited quota, no
// rate limit.
type Options struct {
	APIKey  string
	Quota   int     // registrations allowed; 0: unlimited
	Rate    float64 // enforced bucket, requests/s; 0: none
	Burst   int
	Latency time.Duration
	// Lookup gives track_info for registered numbers without SetTrackInfo
	// (nil: 17TRACK has no data yet).
	Lookup func(number string) []byte
}

// Stats are the fake's counters.
type Stats struct {
	Requests      int
	Registrations int // numbers registered (quota used)
	Violations    int
	MaxNumbers    int
}

// Server is a running fake.
type Server struct {
	providerhttptest.Base[Fault] // the server, Close, Fail, FailAll, ClearFaults
	opts                         Options

	mu         sync.Mutex
	registered map[string]bool
	info       map[string][]byte
	stopped    map[string]bool
	stats      Stats
	bucket     *providerhttptest.Bucket
}

// New starts a fake; NewTB closes it when the test ends.
func New(opts Options) *Server {
	if opts.Rate > 0 && opts.Burst <= 0 {
		opts.Burst = 1
	}
	s := &Server{opts: opts, registered: map[string]bool{}, info: map[string][]byte{}, stopped: map[string]bool{},
		bucket: providerhttptest.NewBucket(opts.Rate, opts.Burst, time.Now())}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /track/v2.2/register", s.handle(s.register))
	mux.HandleFunc("POST /track/v2.2/gettrackinfo", s.handle(s.getTrackInfo))
	mux.HandleFunc("POST /track/v2.2/stoptrack", s.handle(s.stopTrack))
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

// Register marks numbers as registered (as if done in an earlier pass).
func (s *Server) Register(numbers ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range numbers {
		s.registered[strings.ToUpper(n)] = true
	}
}

// SetTrackInfo sets the track_info object answered for number once it is
// registered.
func (s *Server) SetTrackInfo(number string, trackInfo []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.info[strings.ToUpper(number)] = append([]byte(nil), trackInfo...)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

type item struct {
	Number  string `json:"number"`
	Carrier int    `json:"carrier"`
}

type rejected struct {
	Number string         `json:"number"`
	Error  map[string]any `json:"error"`
}

func reject(n string, code int, msg string) rejected {
	return rejected{Number: n, Error: map[string]any{"code": code, "message": msg}}
}

func envelope(w http.ResponseWriter, status, code int, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "data": data})
}

func errorEnvelope(w http.ResponseWriter, status, code int, msg string) {
	envelope(w, status, code, map[string]any{"errors": []map[string]any{{"code": code, "message": msg}}})
}

var numberRE = regexp.MustCompile(`^[A-Za-z0-9-]{5,50}$`)

func (s *Server) handle(fn func([]item) (accepted []any, rejected []rejected)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.Delay()
		s.mu.Lock()
		s.stats.Requests++
		ok := s.takeLocked()
		s.mu.Unlock()
		fault := s.NextFault()
		if !ok || fault == Fault429 {
			errorEnvelope(w, http.StatusTooManyRequests, 429, "Too many requests.")
			return
		}
		switch fault {
		case Fault5xx:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case FaultHang:
			s.Hang(r)
			return
		case FaultGarbage:
			w.Write([]byte("<html>gateway</html>"))
			return
		}
		if key := r.Header.Get("17token"); key == "" || (s.opts.APIKey != "" && key != s.opts.APIKey) {
			errorEnvelope(w, http.StatusUnauthorized, -18010002, "Invalid security key.")
			return
		}
		var items []item
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&items); err != nil {
			errorEnvelope(w, http.StatusOK, -18010013, "Invalid submitted data.")
			return
		}
		if len(items) > 40 {
			errorEnvelope(w, http.StatusOK, -18010014, "The submitted data exceeds the limit of 40.")
			return
		}
		s.mu.Lock()
		s.stats.MaxNumbers = max(s.stats.MaxNumbers, len(items))
		s.mu.Unlock()
		acc, rej := fn(items)
		if acc == nil {
			acc = []any{}
		}
		if rej == nil {
			rej = []rejected{}
		}
		envelope(w, http.StatusOK, 0, map[string]any{"accepted": acc, "rejected": rej})
	}
}

func (s *Server) takeLocked() bool {
	if s.bucket.Take(time.Now()) {
		return true
	}
	s.stats.Violations++
	return false
}

func (s *Server) register(items []item) ([]any, []rejected) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var acc []any
	var rej []rejected
	for _, it := range items {
		n := strings.ToUpper(it.Number)
		switch {
		case !numberRE.MatchString(it.Number):
			rej = append(rej, reject(it.Number, -18010012, "The format of '"+it.Number+"' is invalid."))
		case s.registered[n]:
			rej = append(rej, reject(it.Number, -18019901, "The tracking number '"+it.Number+"' has been registered, don't need to repeat registration."))
		case s.opts.Quota > 0 && s.stats.Registrations >= s.opts.Quota:
			rej = append(rej, reject(it.Number, -18019908, "Quota exhausted."))
		default:
			s.registered[n] = true
			s.stats.Registrations++
			acc = append(acc, map[string]any{"origin": 2, "number": it.Number, "carrier": it.Carrier})
		}
	}
	return acc, rej
}

func (s *Server) getTrackInfo(items []item) ([]any, []rejected) {
	var acc []any
	var rej []rejected
	for _, it := range items {
		n := strings.ToUpper(it.Number)
		s.mu.Lock()
		reg, info := s.registered[n], s.info[n]
		s.mu.Unlock()
		if !numberRE.MatchString(it.Number) {
			rej = append(rej, reject(it.Number, -18010012, "The format of '"+it.Number+"' is invalid."))
			continue
		}
		if !reg {
			rej = append(rej, reject(it.Number, -18019902, "The tracking number '"+it.Number+"' does not register, please register first."))
			continue
		}
		if info == nil && s.opts.Lookup != nil {
			info = s.opts.Lookup(it.Number)
		}
		var ti any
		if info != nil {
			ti = json.RawMessage(info)
		} else {
			ti = map[string]any{
				"latest_status": map[string]any{"status": "NotFound", "sub_status": "NotFound_Other"},
				"tracking":      map[string]any{"providers_hash": 0, "providers": []any{}},
			}
		}
		acc = append(acc, map[string]any{"number": it.Number, "carrier": it.Carrier, "track_info": ti})
	}
	return acc, rej
}

func (s *Server) stopTrack(items []item) ([]any, []rejected) {
	var acc []any
	for _, it := range items {
		s.stopped[strings.ToUpper(it.Number)] = true
		acc = append(acc, map[string]any{"number": it.Number, "carrier": it.Carrier})
	}
	return acc, nil
}

// Stopped lists the numbers a stoptrack call named, sorted.
func (s *Server) Stopped() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.stopped {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TrackInfo builds a track_info object with n synthetic Correios events
// (newest first), for benchmarks.
func TrackInfo(n int, start time.Time) []byte {
	evs := make([]map[string]any, 0, n)
	for i := n - 1; i >= 0; i-- {
		stage, desc := "InTransit_Other", "Objeto em transferência - por favor aguarde"
		if i == 0 {
			stage, desc = "InTransit_PickedUp", "Objeto postado"
		}
		at := start.Add(time.Duration(i) * 6 * time.Hour).UTC()
		evs = append(evs, map[string]any{
			"time_iso": at.In(time.FixedZone("", -3*3600)).Format(time.RFC3339), "time_utc": at.Format(time.RFC3339),
			"description": desc, "location": "SAO PAULO/SP", "stage": stage,
		})
	}
	b, _ := json.Marshal(map[string]any{
		"latest_status": map[string]any{"status": "InTransit", "sub_status": "InTransit_Other"},
		"tracking": map[string]any{"providers": []any{map[string]any{
			"provider": map[string]any{"key": 2151, "name": "Correios"}, "events": evs}}},
	})
	return b
}
