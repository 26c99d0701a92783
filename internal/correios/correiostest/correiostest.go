// Package correiostest is a fake of the official Correios API for tests
// and benchmarks: tokens (/token/v1/autentica[/cartaopostagem]) and
// tracking (/srorastro/v1/objetos), with the real API's quirks (naive
// Brasília times, per-object SRO messages inside a 200, 400 SRO-018
// without Accept-Language, 401 GTW-008 for a token it does not know,
// 429 with an empty body) and injectable faults. It can enforce the
// gateway's token bucket and count the requests that would have tripped it.
package correiostest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rastreio/rastreio/internal/providerhttp/providerhttptest"
)

// Fault is an injected failure for the next tracking request(s).
type Fault int

// Faults.
const (
	FaultNone         Fault = iota
	Fault5xx                // 503 with an HTML body
	FaultHang               // never answers (until the client gives up)
	FaultGarbage            // 200 with a body that is not JSON
	FaultTruncated          // 200 with JSON cut in the middle
	FaultUnauthorized       // 401 GTW-008, as for an expired token
	Fault429                // 429, empty body, gateway headers
	FaultEmptyObjects       // 200 {"objetos": []}: nothing usable for any code
)

// Options configures the fake. The zero value accepts any credentials,
// enforces no rate and answers SRO-020 for codes it does not know.
type Options struct {
	User, AccessCode string  // accepted credentials; empty: any
	Rate             float64 // gateway bucket refill, requests/s; 0: no limit
	Burst            int     // bucket capacity (default: Rate)
	TokenTTL         time.Duration
	// Lookup answers codes not set with SetObject: the object JSON (official
	// shape) or nil for "SRO-020 not found".
	Lookup func(code string) []byte
	// Latency is added to every answer.
	Latency time.Duration
	Now     func() time.Time
}

// Request is what the fake saw of one request.
type Request struct {
	Method, Path   string
	Codes          []string
	AcceptLanguage string
	Accept         string
	UserAgent      string
	Auth           string // "basic", "bearer" or ""
	Status         int
	At             time.Time
}

// Server is a running fake Correios API.
type Server struct {
	providerhttptest.Base[Fault] // the server, Close, Fail, FailAll, ClearFaults (tracking requests only)
	opts                         Options

	mu         sync.Mutex
	objects    map[string][]byte
	tokens     map[string]bool
	nextTok    int
	log        []Request
	tokenReqs  int
	trackReqs  int
	violations int
	maxCodes   int
	bucket     *providerhttptest.Bucket
}

// New starts a fake. Close it (NewTB does that for you).
func New(opts Options) *Server {
	if opts.Burst <= 0 {
		opts.Burst = int(opts.Rate)
		if opts.Burst < 1 {
			opts.Burst = 1
		}
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:    opts,
		objects: map[string][]byte{},
		tokens:  map[string]bool{},
		bucket:  providerhttptest.NewBucket(opts.Rate, opts.Burst, opts.Now()),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token/v1/autentica", s.handleToken)
	mux.HandleFunc("POST /token/v1/autentica/cartaopostagem", s.handleToken)
	mux.HandleFunc("POST /token/v1/autentica/contrato", s.handleToken)
	mux.HandleFunc("GET /srorastro/v1/objetos", s.handleTrack)
	mux.HandleFunc("GET /srorastro/v1/objetos/{code}", s.handleTrack)
	s.Start(mux, opts.Latency)
	return s
}

// TB is the part of testing.TB NewTB uses: the package does not import
// "testing", so the demo (cmd/demo) links it as its Correios API.
type TB interface {
	Helper()
	Cleanup(func())
}

// NewTB starts a fake closed at the end of the test.
func NewTB(tb TB, opts Options) *Server {
	tb.Helper()
	s := New(opts)
	tb.Cleanup(s.Close)
	return s
}

// SetObject sets the object answered for code (official shape, e.g. one
// element of a fixture's "objetos"). Later calls replace it, so tests can
// add events between passes.
func (s *Server) SetObject(code string, object []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[strings.ToUpper(code)] = append([]byte(nil), object...)
}

// SetMessage makes code answer a per-object message ("SRO-009: Objeto não
// pertence ao contrato").
func (s *Server) SetMessage(code, msg string) {
	b, _ := json.Marshal(map[string]string{"codObjeto": code, "mensagem": msg})
	s.SetObject(code, b)
}

// AddResponse sets every object of a tracking response body (a fixture).
func (s *Server) AddResponse(body []byte) error {
	var r struct {
		Objetos []json.RawMessage `json:"objetos"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("correiostest: %w", err)
	}
	for _, o := range r.Objetos {
		var id struct {
			CodObjeto string `json:"codObjeto"`
		}
		if err := json.Unmarshal(o, &id); err != nil {
			return fmt.Errorf("correiostest: %w", err)
		}
		s.SetObject(id.CodObjeto, o)
	}
	return nil
}

// ExpireTokens forgets every token issued: the next tracking request
// gets 401 GTW-008 (a token expiring mid-pass).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// IssueToken returns a token the fake accepts, as if issued earlier (to
// seed a token cache).
func (s *Server) IssueToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newTokenLocked()
}

func (s *Server) newTokenLocked() string {
	s.nextTok++
	t := fmt.Sprintf("fake-token-%d", s.nextTok)
	s.tokens[t] = true
	return t
}

// Stats are the fake's counters.
type Stats struct {
	TokenRequests int // requests to /token/…
	TrackRequests int // requests to /srorastro/…
	Violations    int // requests over the enforced bucket (answered 429)
	MaxCodes      int // most codes in one tracking request
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{TokenRequests: s.tokenReqs, TrackRequests: s.trackReqs, Violations: s.violations, MaxCodes: s.maxCodes}
}

// Requests returns every request seen, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// takeLocked spends one token of the enforced bucket; false is a violation.
func (s *Server) takeLocked() bool {
	if s.bucket.Take(s.opts.Now()) {
		return true
	}
	s.violations++
	return false
}

func (s *Server) record(r *http.Request, codes []string, status int) {
	auth := ""
	if a := r.Header.Get("Authorization"); a != "" {
		auth, _, _ = strings.Cut(strings.ToLower(a), " ")
	}
	s.log = append(s.log, Request{
		Method: r.Method, Path: r.URL.Path, Codes: codes,
		AcceptLanguage: r.Header.Get("Accept-Language"), Accept: r.Header.Get("Accept"),
		UserAgent: r.Header.Get("User-Agent"), Auth: auth, Status: status, At: s.opts.Now(),
	})
}

func gatewayError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"msgs":   []string{msg},
		"date":   time.Now().In(brasilia).Format("2006-01-02T15:04:05"),
		"method": r.Method,
		"path":   r.URL.Path,
	})
}

var brasilia = time.FixedZone("BRT", -3*60*60)

func tooMany(w http.ResponseWriter, rate float64, burst int) {
	w.Header().Set("X-RateLimit-Remaining", "0")
	w.Header().Set("X-RateLimit-Replenish-Rate", fmt.Sprint(rate))
	w.Header().Set("X-RateLimit-Burst-Capacity", fmt.Sprint(burst))
	w.Header().Set("X-RateLimit-Requested-Tokens", "1")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusTooManyRequests)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.Delay()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenReqs++
	if !s.takeLocked() {
		s.record(r, nil, 429)
		tooMany(w, s.opts.Rate, s.opts.Burst)
		return
	}
	user, pass, ok := basicAuth(r)
	if !ok || pass == "" {
		s.record(r, nil, 401)
		gatewayError(w, r, http.StatusUnauthorized, "Senha não foi informada")
		return
	}
	if (s.opts.User != "" && user != s.opts.User) || (s.opts.AccessCode != "" && pass != s.opts.AccessCode) {
		s.record(r, nil, 401)
		gatewayError(w, r, http.StatusUnauthorized, "Usuário ou senha inválidos")
		return
	}
	numero := ""
	if strings.HasSuffix(r.URL.Path, "/cartaopostagem") {
		var body struct {
			Numero string `json:"numero"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Numero == "" {
			s.record(r, nil, 400)
			gatewayError(w, r, http.StatusBadRequest, "Cartão de postagem não informado")
			return
		}
		numero = body.Numero
	}
	tok := s.newTokenLocked()
	now := s.opts.Now().In(brasilia)
	exp := now.Add(s.opts.TokenTTL)
	s.record(r, nil, 201)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	reply := map[string]any{
		"ambiente": "PRODUCAO", "id": user, "perfil": "PJ", "cnpj": "11222333000181",
		"emissao":  now.Format("2006-01-02T15:04:05"),
		"expiraEm": exp.Format("2006-01-02T15:04:05"), "zoneOffset": "-03:00",
		"token": tok,
	}
	if numero != "" {
		reply["cartaoPostagem"] = map[string]any{"numero": numero, "contrato": "9912345678", "dr": 10}
	}
	json.NewEncoder(w).Encode(reply)
}

func basicAuth(r *http.Request) (user, pass string, ok bool) {
	a := r.Header.Get("Authorization")
	if !strings.HasPrefix(a, "Basic ") {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "Basic "))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(b), ":")
	return user, pass, ok
}

func (s *Server) handleTrack(w http.ResponseWriter, r *http.Request) {
	s.Delay()
	codes := r.URL.Query()["codigosObjetos"]
	if c := r.PathValue("code"); c != "" {
		codes = []string{c}
	}
	s.mu.Lock()
	s.trackReqs++
	if len(codes) > s.maxCodes {
		s.maxCodes = len(codes)
	}
	if !s.takeLocked() {
		s.record(r, codes, 429)
		s.mu.Unlock()
		tooMany(w, s.opts.Rate, s.opts.Burst)
		return
	}
	s.mu.Unlock()
	fault := s.NextFault()

	status := 200
	defer func() {
		s.mu.Lock()
		s.record(r, codes, status)
		s.mu.Unlock()
	}()
	switch fault {
	case Fault5xx:
		status = 503
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprint(w, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
		return
	case FaultHang:
		status = 0
		s.Hang(r)
		return
	case Fault429:
		status = 429
		tooMany(w, s.opts.Rate, s.opts.Burst)
		return
	case FaultUnauthorized:
		status = 401
		gatewayError(w, r, status, "GTW-008: Token não válido para este ambiente.")
		return
	}

	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	known := s.tokens[tok]
	s.mu.Unlock()
	if !known {
		status = 401
		gatewayError(w, r, status, "GTW-008: Token não válido para este ambiente.")
		return
	}
	switch r.Header.Get("Accept-Language") {
	case "pt-BR", "en", "es-ES":
	default:
		status = 400
		gatewayError(w, r, status, "SRO-018: Permitido apenas os valores pt-BR, en e es-ES para o idioma")
		return
	}
	if len(codes) == 0 || len(codes) > 50 {
		status = 400
		gatewayError(w, r, status, "SRO-015: Quantidade de objetos inválida")
		return
	}
	if r.URL.Query().Get("resultado") != "T" {
		status = 400
		gatewayError(w, r, status, "SRO-010: resultado deve ser T, U ou P")
		return
	}

	objs := make([]json.RawMessage, 0, len(codes))
	// Objects come back in no guaranteed order: reverse the request's.
	for i := len(codes) - 1; i >= 0; i-- {
		objs = append(objs, s.object(codes[i]))
	}
	body, _ := json.Marshal(map[string]any{
		"versao": "1.8.7", "quantidade": len(objs), "resultado": "Todos os Eventos", "objetos": objs,
	})
	switch fault {
	case FaultGarbage:
		body = []byte("<html>Bad Gateway</html>")
	case FaultTruncated:
		body = body[:len(body)/2]
	case FaultEmptyObjects:
		body = []byte(`{"versao":"1.8.7","quantidade":0,"objetos":[]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (s *Server) object(code string) json.RawMessage {
	s.mu.Lock()
	o, ok := s.objects[strings.ToUpper(code)]
	s.mu.Unlock()
	if ok {
		return o
	}
	if len(code) != 13 {
		b, _ := json.Marshal(map[string]string{"codObjeto": code, "mensagem": "SRO-019: Objeto inválido"})
		return b
	}
	if s.opts.Lookup != nil {
		if b := s.opts.Lookup(code); b != nil {
			return b
		}
	}
	b, _ := json.Marshal(map[string]string{"codObjeto": code, "mensagem": "SRO-020: Objeto não encontrado na base de dados dos Correios."})
	return b
}

// Object builds an official-shape object for code with n synthetic
// events (PO first, then RO…), newest first, for benchmarks and tests.
func Object(code string, n int, start time.Time) []byte {
	type unit struct {
		Tipo     string            `json:"tipo"`
		Endereco map[string]string `json:"endereco"`
	}
	type event struct {
		Codigo     string `json:"codigo"`
		Tipo       string `json:"tipo"`
		DtHrCriado string `json:"dtHrCriado"`
		Descricao  string `json:"descricao"`
		Unidade    unit   `json:"unidade"`
	}
	evs := make([]event, 0, n)
	for i := n - 1; i >= 0; i-- {
		e := event{Codigo: "RO", Tipo: "01", Descricao: "Objeto em transferência - por favor aguarde",
			DtHrCriado: start.Add(time.Duration(i) * 6 * time.Hour).In(brasilia).Format("2006-01-02T15:04:05"),
			Unidade:    unit{Tipo: "Unidade de Tratamento", Endereco: map[string]string{"cidade": "SAO PAULO", "uf": "SP"}}}
		if i == 0 {
			e.Codigo, e.Descricao = "PO", "Objeto postado"
		}
		evs = append(evs, e)
	}
	b, _ := json.Marshal(map[string]any{"codObjeto": code, "eventos": evs})
	return b
}

// WebsiteObject builds a Correios website object for code (the shape
// siterastreiotest wraps and pacoteviciotest serves) with n synthetic events
// (PO, then RO…), newest first, dtHrCriado in PHP's object form.
func WebsiteObject(code string, n int, start time.Time) []byte {
	brt := time.FixedZone("BRT", -3*3600)
	evs := make([]map[string]any, 0, n)
	for i := n - 1; i >= 0; i-- {
		cod, desc := "RO", "Objeto em transferência - por favor aguarde"
		if i == 0 {
			cod, desc = "PO", "Objeto postado"
		}
		evs = append(evs, map[string]any{
			"codigo": cod, "tipo": "01", "descricao": desc,
			"dtHrCriado": map[string]any{"date": start.Add(time.Duration(i) * 6 * time.Hour).In(brt).Format("2006-01-02 15:04:05.000000"),
				"timezone_type": 3, "timezone": "America/Sao_Paulo"},
			"unidade": map[string]any{"tipo": "Unidade de Tratamento", "endereco": map[string]string{"cidade": "Sao Paulo", "uf": "SP"}},
		})
	}
	b, _ := json.Marshal(map[string]any{"codObjeto": code, "eventos": evs, "situacao": "T"})
	return b
}
