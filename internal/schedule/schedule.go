// Package schedule decides when a tracked code is next due, from what is
// known of it (its state and newest event, how long since it last
// moved), the time of day in Brasília, and how fresh its provider's data
// can be. It is pure: no clock, no I/O. The numbers and what each rests
// on are in docs/tracker.md ("The schedule").
package schedule

import (
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/tracking"
)

// Parcel states, as the store names them.
const (
	StateNew      = "new"
	StateNotFound = "notfound"
	StateActive   = "active"
	StateFinal    = "final"
)

// Facts are what the schedule knows of a code after an answer.
type Facts struct {
	Code     string
	State    string
	Kind     tracking.Kind // the newest event's kind ("" before the first)
	Provider string        // the provider the code is pinned to
	// LastMoved is the newest event's time (zero: none yet).
	LastMoved time.Time
	// Since is when the code entered its state (added, found, final).
	Since time.Time
	// Misses counts the answers in a row with nothing new.
	Misses int
	// Synced is when the provider last refreshed the code from the
	// carrier, as it says (17TRACK); zero when unknown.
	Synced time.Time
}

// Policy is the operator's part of the schedule.
type Policy struct {
	// Freshness is, per provider, how often its data can change: a code
	// it answers for is never asked again sooner (17TRACK: its refresh,
	// 6 to 12 hours), counted from the provider's own last refresh of
	// the code when it says (Facts.Synced), else from the answer.
	Freshness map[string]time.Duration
	// Pinned is, per provider, a fixed interval between two checks of an
	// active code (RASTREIO_RECHECK_INTERVAL_<NAME>).
	Pinned map[string]time.Duration
}

// The schedule's numbers (docs/tracker.md says what each rests on).
const (
	// Waking hours, Brasília: events outside them are rare in the
	// journeys, and a person acts on them in the morning anyway.
	DayStart = 7  // 07:00
	DayEnd   = 22 // 22:00
	// Morning, when "saiu para entrega" is posted (07:54–11:26 in the
	// journeys): the last leg is watched closely then.
	MorningEnd = 12

	OutForDelivery = 15 * time.Minute // delivered 3–6 h after it: watched closely
	FailedMorning  = 20 * time.Minute // a new attempt follows, the next morning
	AwaitingPickup = 3 * time.Hour    // the person must act; the post office waits days
	TransitMorning = 30 * time.Minute // the last leg ends in a morning "saiu para entrega"
	TransitDay     = 90 * time.Minute
	// Stalls: a code that has not moved for a day is asked half as
	// often, for three days a quarter, for a week an eighth, never less
	// than every MaxTransit.
	MaxTransit = 8 * time.Hour
	// NotFoundFirst doubles with each miss up to NotFoundMax: a code
	// added before it was posted shows up within hours to days.
	NotFoundFirst = 5 * time.Minute
	NotFoundMax   = 6 * time.Hour
	// Final: a few re-checks over the following days (a correction may
	// follow), then left until expiry.
	FinalAfter = 30 * 24 * time.Hour
	// A provider that says when it last refreshed a code (Facts.Synced)
	// is asked SyncMargin after its next refresh is due (Synced plus its
	// freshness), then every SyncStep while that refresh is late, up to
	// twice the freshness after Synced (17TRACK: 6 to 12 hours); past
	// that, a freshness from now.
	SyncMargin = 10 * time.Minute
	SyncStep   = time.Hour
)

// finalRechecks are the re-checks of a final code, counted from when it
// became final.
var finalRechecks = []time.Duration{6 * time.Hour, 24 * time.Hour, 72 * time.Hour}

// Next returns when a code with facts f, answered at now, is next due.
func Next(f Facts, now time.Time, p Policy) time.Time {
	next := now.Add(interval(f, now, p))
	if f.State == StateFinal {
		next = finalNext(f, now)
	}
	if fr := p.Freshness[f.Provider]; fr > 0 {
		if floor := afterRefresh(f.Synced, now, fr); next.Before(floor) {
			next = floor
		}
	}
	return next
}

// afterRefresh is the earliest check of a code whose provider refreshes
// it every fr (at most 2×fr) and last did at synced: shortly after its
// next refresh is due, stepping while that refresh is late.
func afterRefresh(synced, now time.Time, fr time.Duration) time.Time {
	if synced.IsZero() || synced.After(now) {
		return now.Add(fr)
	}
	for at := synced.Add(fr + SyncMargin); !at.After(synced.Add(2*fr + SyncMargin)); at = at.Add(SyncStep) {
		if at.After(now) {
			return at
		}
	}
	return now.Add(fr)
}

// interval is the spacing for a code that is not final.
func interval(f Facts, now time.Time, p Policy) time.Duration {
	switch f.State {
	case StateNew:
		return 0
	case StateNotFound:
		d := NotFoundFirst
		for i := 1; i < f.Misses && d < NotFoundMax; i++ {
			d *= 2
		}
		return waking(now, min(d, NotFoundMax))
	}
	if d, ok := p.Pinned[f.Provider]; ok {
		return d
	}
	hour := now.In(brasilia.Zone).Hour()
	switch f.Kind {
	case tracking.KindOutForDelivery:
		return waking(now, OutForDelivery)
	case tracking.KindDeliveryFailed, tracking.KindReturning:
		if hour < MorningEnd {
			return waking(now, FailedMorning)
		}
		return waking(now, TransitDay)
	case tracking.KindAwaitingPickup, tracking.KindTaxDue:
		return waking(now, AwaitingPickup)
	}
	d := TransitDay
	if hour < MorningEnd {
		d = TransitMorning
	}
	if !f.LastMoved.IsZero() {
		switch stall := now.Sub(f.LastMoved); {
		case stall > 7*24*time.Hour:
			d *= 8
		case stall > 3*24*time.Hour:
			d *= 4
		case stall > 24*time.Hour:
			d *= 2
		}
	}
	return waking(now, min(d, MaxTransit))
}

// waking returns d, or longer so that now+d falls in waking hours: a
// check that would come at night comes at DayStart instead.
func waking(now time.Time, d time.Duration) time.Duration {
	at := now.Add(d).In(brasilia.Zone)
	if h := at.Hour(); h >= DayStart && h < DayEnd {
		return d
	}
	day := at
	if at.Hour() >= DayEnd {
		day = at.AddDate(0, 0, 1)
	}
	start := time.Date(day.Year(), day.Month(), day.Day(), DayStart, 0, 0, 0, brasilia.Zone)
	return start.Sub(now)
}

// finalNext is the next re-check of a final code: the first of
// finalRechecks still ahead, then expiry.
func finalNext(f Facts, now time.Time) time.Time {
	since := f.Since
	if since.IsZero() {
		since = now
	}
	for _, r := range finalRechecks {
		if at := since.Add(r); at.After(now) {
			return now.Add(waking(now, at.Sub(now)))
		}
	}
	return since.Add(FinalAfter)
}

// Priority orders codes by how likely a check finds news a person acts
// on: higher first. A budget that cannot cover every due code spends what
// it has on the highest.
func Priority(state string, kind tracking.Kind) int {
	switch state {
	case StateNew:
		return 5
	case StateNotFound:
		return 1
	case StateFinal:
		return 0
	}
	switch kind {
	case tracking.KindOutForDelivery:
		return 7
	case tracking.KindDeliveryFailed:
		return 6
	case tracking.KindAwaitingPickup, tracking.KindTaxDue:
		return 4
	case tracking.KindTransit, tracking.KindPosted, tracking.KindReturning:
		return 3
	}
	return 2
}
