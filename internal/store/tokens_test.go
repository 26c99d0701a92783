package store

import (
	"errors"
	"testing"
	"time"
)

func TestTokenRoundTrip(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	if _, _, _, err := s.Token(ctx, "correios"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Token on empty db: err=%v, want ErrNotFound", err)
	}
	exp := time.Date(2024, 3, 12, 12, 5, 12, 0, time.UTC)
	if err := s.SaveToken(ctx, "correios", "u1@host", "tok-1", exp); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken(ctx, "correios", "u2@host", "tok-2", exp.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken(ctx, "other", "x", "tok-x", exp); err != nil {
		t.Fatal(err)
	}
	user, tok, got, err := s.Token(ctx, "correios")
	if err != nil {
		t.Fatal(err)
	}
	if user != "u2@host" || tok != "tok-2" || !got.Equal(exp.Add(time.Hour)) {
		t.Fatalf("Token = %q %q %v, want u2@host tok-2 %v", user, tok, got, exp.Add(time.Hour))
	}
}

func TestUsageAccumulates(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	for _, n := range []int64{3, 0, 4} {
		if err := s.AddUsage(ctx, "siterastreio", "2026-12", n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddUsage(ctx, "siterastreio", "2026-11", 100); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUsage(ctx, "track17", "2026-12", 9); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		provider, month string
		want            int64
	}{
		{"siterastreio", "2026-12", 7},
		{"siterastreio", "2026-11", 100},
		{"track17", "2026-12", 9},
		{"correios", "2026-12", 0},
	}
	for _, tc := range tests {
		got, err := s.Usage(ctx, tc.provider, tc.month)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("Usage(%s, %s) = %d, want %d", tc.provider, tc.month, got, tc.want)
		}
	}
}
