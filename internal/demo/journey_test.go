package demo

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/correios"
)

func TestSpacing(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2024, 3, 11, 14, 39, 0, 0, brasilia)
	// Days apart, then minutes apart, then the same second.
	times := []time.Time{t0, t0.Add(day), t0.Add(3 * day), t0.Add(3*day + 5*time.Minute), t0.Add(3*day + 5*time.Minute)}
	span := 80 * time.Second
	at := Spacing(times, span)
	if at[0] != 0 || at[len(at)-1] != span {
		t.Fatalf("Spacing = %v, want from 0 to %v", at, span)
	}
	minGap := span / time.Duration(2*(len(times)-1))
	for i := 1; i < len(at); i++ {
		if gap := at[i] - at[i-1]; gap < minGap-time.Millisecond {
			t.Errorf("events %d and %d come %v apart, want at least %v (all: %v)", i-1, i, gap, minGap, at)
		}
	}
	// The long real gap stays longer than the short one.
	if at[2]-at[1] <= at[3]-at[2] {
		t.Errorf("two real days shrank below five minutes: %v", at)
	}
	if got := Spacing(times[:1], span); len(got) != 1 || got[0] != 0 {
		t.Errorf("one event: %v", got)
	}
}

// parse reads an object the way the tracker does (the real client's parser).
func parse(t *testing.T, code string, object []byte) (codigos []string, times []time.Time) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"objetos": []json.RawMessage{object}})
	res, err := correios.ParseResponse(body, []string{code})
	if err != nil {
		t.Fatalf("ParseResponse: %v\n%s", err, object)
	}
	r, ok := res[code]
	if !ok {
		t.Fatalf("no result for %s in %s", code, object)
	}
	for _, e := range r.Events {
		codigos = append(codigos, e.Codigo)
		times = append(times, e.At)
	}
	return codigos, times
}

func TestReplayJourneyInAcceleratedTime(t *testing.T) {
	js, err := DefaultJourneys(DefaultSpan)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]*Journey{}
	for _, j := range js {
		byCode[j.Code] = j
	}
	for _, try := range tryCodes {
		if byCode[try.Code] == nil {
			t.Errorf("code to try %s has no journey", try.Code)
		}
	}
	j := byCode["QQ850419295BR"]
	if j == nil || j.Final != "BDE" || j.Len() != 6 || j.Span() != DefaultSpan {
		t.Fatalf("QQ850419295BR journey = %+v", j)
	}

	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	r := NewReplay(js, 15*time.Second)
	r.Now = func() time.Time { return now }
	start := now
	var seen int
	for step := time.Duration(0); step <= DefaultSpan+5*time.Second; step += 5 * time.Second {
		now = start.Add(step)
		codigos, times := parse(t, "QQ850419295BR", r.Lookup("QQ850419295BR"))
		if len(codigos) < seen || len(codigos) == 0 {
			t.Fatalf("at +%v: %d events after %d", step, len(codigos), seen)
		}
		seen = len(codigos)
		if codigos[0] != "PO" {
			t.Fatalf("at +%v the first event is %s, want PO", step, codigos[0])
		}
		for i, at := range times {
			if at.After(now) || at.Before(start.Add(-time.Second)) {
				t.Fatalf("at +%v event %d is dated %v: outside the replay", step, i, at)
			}
		}
	}
	if seen != 6 {
		t.Fatalf("after the span %d events, want all 6", seen)
	}
	codigos, _ := parse(t, "QQ850419295BR", r.Lookup("QQ850419295BR"))
	if codigos[len(codigos)-1] != "BDE" {
		t.Fatalf("the journey ends with %v, want BDE (delivered)", codigos)
	}
}

func TestReplayOtherCodeNotFoundThenAJourney(t *testing.T) {
	js, err := DefaultJourneys(DefaultSpan)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	r := NewReplay(js, 15*time.Second)
	r.Now = func() time.Time { return now }
	const code = "OC063908579BR"
	if b := r.Lookup(code); b != nil {
		t.Fatalf("first lookup answered %s, want not found", b)
	}
	now = now.Add(14 * time.Second)
	if b := r.Lookup(code); b != nil {
		t.Fatalf("at +14s answered %s, want still not found", b)
	}
	now = now.Add(time.Second)
	codigos, _ := parse(t, code, r.Lookup(code))
	if len(codigos) != 1 || codigos[0] != "PO" {
		t.Fatalf("at +15s events %v, want the first one (PO)", codigos)
	}
	now = now.Add(DefaultSpan)
	codigos, _ = parse(t, code, r.Lookup(code))
	if codigos[len(codigos)-1] != "BDE" {
		t.Fatalf("after the span events %v, want delivered", codigos)
	}
	var o struct {
		CodObjeto string `json:"codObjeto"`
	}
	json.Unmarshal(r.Lookup(code), &o)
	if o.CodObjeto != code {
		t.Fatalf("codObjeto %q, want %q", o.CodObjeto, code)
	}
}
