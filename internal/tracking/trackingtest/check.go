// Package trackingtest holds checks the providers' tests share.
package trackingtest

import (
	"fmt"

	"github.com/rastreio/rastreio/internal/tracking"
)

// CheckResult reports what is wrong with a parsed result: a status
// outside Found, NotYet, Invalid and NotOurs; Found without events; an
// event with an empty or repeated key or an empty kind; events not oldest
// first. Every provider's parser must only ever return results it passes.
func CheckResult(r tracking.Result) error {
	switch r.Status {
	case tracking.Found:
		if len(r.Events) == 0 {
			return fmt.Errorf("status Found without events")
		}
	case tracking.NotYet, tracking.Invalid, tracking.NotOurs:
	default:
		return fmt.Errorf("status %v", r.Status)
	}
	keys := map[string]bool{}
	for i, e := range r.Events {
		if e.Key == "" || keys[e.Key] {
			return fmt.Errorf("empty or duplicate key %q", e.Key)
		}
		keys[e.Key] = true
		if i > 0 && e.At.Before(r.Events[i-1].At) {
			return fmt.Errorf("events not oldest first: %v after %v", e.At, r.Events[i-1].At)
		}
		if e.Kind == "" {
			return fmt.Errorf("event %q has an empty kind", e.Key)
		}
	}
	return nil
}
