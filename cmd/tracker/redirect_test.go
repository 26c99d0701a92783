package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rastreio/rastreio/internal/correios"
	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/providerhttp"
	"github.com/rastreio/rastreio/internal/siterastreio"
	"github.com/rastreio/rastreio/internal/track17"
	"github.com/rastreio/rastreio/internal/tracking"
)

// A provider endpoint that answers with a redirect (302 or 307, to
// another host) never gets its key carried there: every client refuses
// the redirect, at once, with an error naming the provider and the
// redirect's host and never the key.
func TestProvidersRefuseRedirects(t *testing.T) {
	const secret = "s3cr3t-KEY-0123456789"
	var reached atomic.Int64
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, secret) || strings.Contains(v, "czNjcjN0") {
					leaked.Store(true)
				}
			}
		}
		w.Write([]byte(`{}`))
	}))
	defer elsewhere.Close()
	// The same loopback address under another name: another host.
	other, _ := url.Parse(elsewhere.URL)
	other.Host = strings.Replace(other.Host, "127.0.0.1", "localhost", 1)

	build := map[string]func(base string) (tracking.Provider, error){
		"siterastreio": func(base string) (tracking.Provider, error) {
			return siterastreio.New(siterastreio.Config{BaseURL: base, APIKey: secret})
		},
		"pacotevicio": func(base string) (tracking.Provider, error) {
			return pacotevicio.New(pacotevicio.Config{BaseURL: base, APIKey: secret})
		},
		"track17": func(base string) (tracking.Provider, error) {
			return track17.New(track17.Config{BaseURL: base, APIKey: secret})
		},
		"correios": func(base string) (tracking.Provider, error) {
			return correios.New(correios.Config{BaseURL: base, User: "loja", AccessCode: secret})
		},
	}
	for name, newProvider := range build {
		for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(name+"/"+http.StatusText(status), func(t *testing.T) {
				var asked atomic.Int64
				api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					asked.Add(1)
					http.Redirect(w, r, other.String()+r.URL.RequestURI(), status)
				}))
				defer api.Close()
				p, err := newProvider(api.URL)
				if err != nil {
					t.Fatal(err)
				}
				_, err = p.Track(context.Background(), []string{"QQ850419295BR"})
				if err == nil {
					t.Fatal("Track through a redirect succeeded")
				}
				if reached.Load() != 0 || leaked.Load() {
					t.Fatalf("the redirect was followed (%d requests reached the other host)", reached.Load())
				}
				msg := err.Error()
				if !strings.Contains(msg, name) || !strings.Contains(msg, other.Host) || !strings.Contains(msg, "redirect") {
					t.Errorf("error %q does not name the provider and %s", msg, other.Host)
				}
				if strings.Contains(msg, secret) {
					t.Errorf("error carries the key: %q", msg)
				}
				if !errors.Is(err, providerhttp.ErrRedirect) {
					t.Errorf("error %v is not ErrRedirect", err)
				}
				if n := asked.Load(); n != 1 {
					t.Errorf("the redirecting endpoint was asked %d times, want 1 (no retries)", n)
				}
			})
		}
	}
}
