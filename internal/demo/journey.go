package demo

import (
	"embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"
)

// journeyFiles are real answers of the official Correios API (copies of
// internal/correios/testdata), replayed by Replay.
//
//go:embed journeys/*.json
var journeyFiles embed.FS

// brasilia is the zone the official API writes its naive times in.
var brasilia = time.FixedZone("BRT", -3*60*60)

const apiTime = "2006-01-02T15:04:05"

// Journey is one parcel's real history, to be replayed in accelerated
// time: events oldest first, each with the moment (since the replay
// began) it becomes visible.
type Journey struct {
	Code   string
	object map[string]json.RawMessage // the object without its events
	events []map[string]json.RawMessage
	at     []time.Duration
	// Final is the newest event's codigo (BDE: delivered).
	Final string
}

// LoadJourneys reads every object with events from the tracking answers
// (official shape) in fsys, and spaces each journey over span.
func LoadJourneys(fsys fs.FS, span time.Duration) ([]*Journey, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	var out []*Journey
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var resp struct {
			Objetos []map[string]json.RawMessage `json:"objetos"`
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			return nil, fmt.Errorf("journey %s: %w", name, err)
		}
		for _, o := range resp.Objetos {
			j, err := newJourney(o, span)
			if err != nil {
				return nil, fmt.Errorf("journey %s: %w", name, err)
			}
			if j != nil {
				out = append(out, j)
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Code < out[b].Code })
	return out, nil
}

// DefaultJourneys are the embedded journeys.
func DefaultJourneys(span time.Duration) ([]*Journey, error) {
	sub, err := fs.Sub(journeyFiles, "journeys")
	if err != nil {
		return nil, err
	}
	return LoadJourneys(sub, span)
}

func newJourney(o map[string]json.RawMessage, span time.Duration) (*Journey, error) {
	var code string
	if err := json.Unmarshal(o["codObjeto"], &code); err != nil || code == "" {
		return nil, fmt.Errorf("an object without codObjeto")
	}
	var evs []map[string]json.RawMessage
	if raw, ok := o["eventos"]; ok {
		if err := json.Unmarshal(raw, &evs); err != nil {
			return nil, fmt.Errorf("%s: eventos: %w", code, err)
		}
	}
	if len(evs) == 0 {
		return nil, nil // a message (SRO-020, SRO-009): nothing to replay
	}
	// Newest first in the API: oldest first here. Equal times keep the
	// API's order (the later in the list is the older).
	for a, b := 0, len(evs)-1; a < b; a, b = a+1, b-1 {
		evs[a], evs[b] = evs[b], evs[a]
	}
	times := make([]time.Time, len(evs))
	for i, e := range evs {
		var s string
		if err := json.Unmarshal(e["dtHrCriado"], &s); err != nil {
			return nil, fmt.Errorf("%s: event %d: dtHrCriado: %w", code, i, err)
		}
		t, err := time.ParseInLocation(apiTime, s, brasilia)
		if err != nil {
			return nil, fmt.Errorf("%s: event %d: %w", code, i, err)
		}
		times[i] = t
	}
	j := &Journey{Code: code, object: map[string]json.RawMessage{}, events: evs, at: Spacing(times, span)}
	for k, v := range o {
		if k != "eventos" {
			j.object[k] = v
		}
	}
	json.Unmarshal(evs[len(evs)-1]["codigo"], &j.Final)
	return j, nil
}

// Spacing maps a journey's real event times (oldest first) onto [0, span]:
// half by the real proportions, half evenly, so the days between events
// shrink to seconds while two events that were minutes apart still come
// span/(2(n-1)) apart (a person sees each one arrive).
func Spacing(times []time.Time, span time.Duration) []time.Duration {
	n := len(times)
	at := make([]time.Duration, n)
	if n < 2 {
		return at
	}
	total := times[n-1].Sub(times[0])
	for i := range times {
		even := float64(i) / float64(n-1)
		prop := even
		if total > 0 {
			prop = float64(times[i].Sub(times[0])) / float64(total)
		}
		at[i] = time.Duration((even + prop) / 2 * float64(span))
	}
	return at
}

// Span is the time from a journey's first event to its last.
func (j *Journey) Span() time.Duration { return j.at[len(j.at)-1] }

// Len is the number of events.
func (j *Journey) Len() int { return len(j.events) }

// Object is the official API's object for code after elapsed of a
// replay that began at start: the events visible by then, newest first,
// each dated when it became visible (Brasília, as the API writes).
func (j *Journey) Object(code string, start time.Time, elapsed time.Duration) []byte {
	o := make(map[string]any, len(j.object)+1)
	for k, v := range j.object {
		o[k] = v
	}
	o["codObjeto"] = code
	if _, ok := j.object["dtPrevista"]; ok {
		end := start.Add(j.Span()).In(brasilia)
		o["dtPrevista"] = time.Date(end.Year(), end.Month(), end.Day(), 23, 59, 59, 0, brasilia).Format(apiTime)
	}
	evs := []map[string]any{}
	for i := len(j.events) - 1; i >= 0; i-- {
		if j.at[i] > elapsed {
			continue
		}
		e := make(map[string]any, len(j.events[i]))
		for k, v := range j.events[i] {
			e[k] = v
		}
		e["dtHrCriado"] = start.Add(j.at[i]).In(brasilia).Format(apiTime)
		evs = append(evs, e)
	}
	o["eventos"] = evs
	b, _ := json.Marshal(o)
	return b
}

// Replay answers the fake Correios API's lookups: a journey's code
// replays it from the first time it is asked; any other code is not
// found for NotFoundFor, then replays a journey of its own (one of the
// delivered ones, picked by the code).
type Replay struct {
	NotFoundFor time.Duration
	Now         func() time.Time

	mu        sync.Mutex
	journeys  map[string]*Journey
	templates []*Journey
	first     map[string]time.Time
}

// NewReplay replays journeys; codes not among them borrow a delivered
// journey (or any, when none was delivered).
func NewReplay(journeys []*Journey, notFoundFor time.Duration) *Replay {
	r := &Replay{NotFoundFor: notFoundFor, Now: time.Now, journeys: map[string]*Journey{}, first: map[string]time.Time{}}
	for _, j := range journeys {
		r.journeys[j.Code] = j
		if j.Final == "BDE" {
			r.templates = append(r.templates, j)
		}
	}
	if len(r.templates) == 0 {
		r.templates = journeys
	}
	return r
}

// Lookup is correiostest.Options.Lookup: the object for code now, or nil
// for "not found" (SRO-020).
func (r *Replay) Lookup(code string) []byte {
	code = strings.ToUpper(code)
	now := r.Now()
	r.mu.Lock()
	first, seen := r.first[code]
	if !seen {
		first = now
		r.first[code] = now
	}
	j, known := r.journeys[code]
	r.mu.Unlock()
	start := first
	if !known {
		if len(r.templates) == 0 {
			return nil
		}
		start = first.Add(r.NotFoundFor)
		if now.Before(start) {
			return nil
		}
		h := fnv.New32a()
		h.Write([]byte(code))
		j = r.templates[int(h.Sum32()%uint32(len(r.templates)))]
	}
	return j.Object(code, start, now.Sub(start))
}
