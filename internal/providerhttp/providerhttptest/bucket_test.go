package providerhttptest

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := NewBucket(50, 55, t0)
	for i := 0; i < 55; i++ {
		if !b.Take(t0) {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if b.Take(t0) {
		t.Fatal("request 56 at the same instant allowed, want a violation")
	}
	if !b.Take(t0.Add(20 * time.Millisecond)) { // 50/s refills one token in 20 ms
		t.Fatal("refilled token refused")
	}
	if b.Take(t0.Add(25 * time.Millisecond)) {
		t.Fatal("a second token 5 ms later allowed")
	}
	if !b.Take(t0.Add(time.Hour)) || b.tokens != 54 {
		t.Fatalf("after an hour: tokens=%v, want capped at 55 then 54", b.tokens)
	}
	none := NewBucket(0, 0, t0)
	if none != nil || !none.Take(t0) {
		t.Fatal("rate 0 must enforce nothing")
	}
}
