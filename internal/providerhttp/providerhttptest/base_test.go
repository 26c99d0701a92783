package providerhttptest

import (
	"net/http"
	"testing"
	"time"
)

// fault stands for a fake's own fault type; its zero value is no fault.
type fault int

const (
	faultNone fault = iota
	fault5xx
	faultGarbage
	fault429
	faultHang
)

func TestBaseFaults(t *testing.T) {
	var b Base[fault]
	b.Start(http.NotFoundHandler(), 0)
	defer b.Close()
	b.Fail(fault5xx, faultGarbage)
	if f := b.NextFault(); f != fault5xx {
		t.Fatalf("first fault %v, want 5xx", f)
	}
	b.FailAll(fault429) // ahead of the queue
	if f := b.NextFault(); f != fault429 {
		t.Fatalf("fault %v under FailAll, want 429", f)
	}
	b.FailAll(faultNone) // heals; the queue resumes
	if f := b.NextFault(); f != faultGarbage {
		t.Fatalf("fault %v, want the queued garbage", f)
	}
	b.Fail(faultHang)
	b.ClearFaults()
	if f := b.NextFault(); f != faultNone {
		t.Fatalf("fault %v after ClearFaults, want none", f)
	}
}

// Close releases requests held by Hang and Delay, and may be called twice.
func TestBaseCloseReleases(t *testing.T) {
	var b Base[fault]
	held := make(chan struct{})
	b.Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(held)
		b.Hang(r)
	}), time.Hour)
	hung, delayed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(hung)
		if resp, err := http.Get(b.URL); err == nil {
			resp.Body.Close()
		}
	}()
	go func() {
		defer close(delayed)
		b.Delay() // an hour, unless Close ends it
	}()
	<-held
	b.Close()
	for name, ch := range map[string]chan struct{}{"Hang": hung, "Delay": delayed} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("Close did not release %s", name)
		}
	}
	b.Close()
}
