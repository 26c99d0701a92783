package pacotevicio_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rastreio/rastreio/internal/pacotevicio"
	"github.com/rastreio/rastreio/internal/tracking"
	"github.com/rastreio/rastreio/internal/tracking/trackingtest"
)

// FuzzClassify: any status and body give a result or one of the typed
// errors, never a panic; Found histories are oldest first with unique
// keys; an error never carries the body past its 200-byte message cut.
func FuzzClassify(f *testing.F) {
	for _, c := range []struct {
		status int
		file   string
	}{{200, "correios-AM101610575BR.json"}, {200, "not-found.json"}, {404, "not-found.json"}, {400, "invalid-code.json"},
		{401, "invalid-key-401.json"}, {403, "not-subscribed-403.json"}, {429, "quota-429.json"}, {429, "rate-limit-429.json"}} {
		f.Add(c.status, string(fixture(f, c.file)))
	}
	f.Add(200, `{"eventos":[{"codigo":"BDE","tipo":1,"dtHrCriado":"2024-01-01 10:00:00","unidade":[]}]}`)
	f.Add(502, "<html>bad gateway</html>")
	f.Fuzz(func(t *testing.T, status int, body string) {
		r, ok, err := pacotevicio.Classify("AM101610575BR", status, []byte(body))
		if err != nil {
			var rl *tracking.RateLimitedError
			if !errors.Is(err, tracking.ErrAuth) && !errors.Is(err, tracking.ErrQuota) &&
				!errors.Is(err, tracking.ErrUnavailable) && !errors.As(err, &rl) {
				t.Fatalf("untyped error %v", err)
			}
			if len(body) > 300 && strings.Contains(err.Error(), body) {
				t.Fatal("error carries the whole body")
			}
			return
		}
		if !ok {
			return
		}
		if err := trackingtest.CheckResult(r); err != nil {
			t.Fatalf("%v: %+v", err, r)
		}
	})
}
