package demo

import (
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

//go:embed web
var webFiles embed.FS

var pageTmpl = template.Must(template.ParseFS(webFiles, "web/index.html"))

// Try is a code shown above the chat for the person to try.
type Try struct {
	Code, Note, Hint string
}

// Page serves the chat page and its API:
//
//	GET  /              the page (codes to try written in)
//	GET  /static/…      its CSS and JavaScript
//	GET  /events        server-sent events: a reset, then every change
//	POST /api/send      {"chat": id, "text": "…"}
//	POST /api/press     {"chat": id, "id": message_id, "data": "…"}
//	GET  /file/{id}     an animation the bot uploaded
type Page struct {
	Hub  *Hub
	Fake *telegramtest.Server
	Try  []Try
	Log  *slog.Logger
	// Done ends the event streams (the server's shutdown waits for them).
	Done <-chan struct{}
}

// Handler is the page's HTTP handler.
func (p *Page) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFiles, "web")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", p.index)
	mux.HandleFunc("GET /events", p.events)
	mux.HandleFunc("POST /api/send", p.send)
	mux.HandleFunc("POST /api/press", p.press)
	mux.HandleFunc("GET /file/{id}", p.file)
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func (p *Page) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTmpl.Execute(w, struct {
		Try     []Try
		Private int64
		Group   int64
	}{p.Try, PrivateID, GroupID}); err != nil {
		p.Log.Warn("rendering the page failed", slog.Any("error", err))
	}
}

func (p *Page) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	reset, ch := p.Hub.Subscribe()
	defer p.Hub.Unsubscribe(ch)
	write := func(e Event) bool {
		b, err := json.Marshal(e)
		if err != nil {
			return false
		}
		if _, err := w.Write([]byte("data: " + string(b) + "\n\n")); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	w.Write([]byte("retry: 1000\n\n"))
	if !write(reset) {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case e, ok := <-ch:
			if !ok || !write(e) {
				return
			}
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
			fl.Flush()
		case <-r.Context().Done():
			return
		case <-p.Done:
			return
		}
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func (p *Page) send(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Chat int64  `json:"chat"`
		Text string `json:"text"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	msg, err := p.Hub.Send(req.Chat, req.Text)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(msg)
}

func (p *Page) press(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Chat int64  `json:"chat"`
		ID   int    `json:"id"`
		Data string `json:"data"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if err := p.Hub.Press(req.Chat, req.ID, req.Data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *Page) file(w http.ResponseWriter, r *http.Request) {
	data, _, ok := p.Fake.FileData(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Write(data)
}
