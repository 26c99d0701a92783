// Package tracking is what the tracker knows of a tracking provider: a
// Provider answers, per code, one Result (Found with events, NotYet,
// Invalid, NotOurs, Unsupported), or fails the whole call with a typed
// error. Events from every provider are normalised to one Event model.
package tracking

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind is what an event means for the person waiting for the parcel. It
// is decided from the provider's event code (Correios codigo+tipo), never
// from words in the text.
type Kind string

// Event kinds.
const (
	KindLabel          Kind = "label"            // label issued, not posted yet (FC/82)
	KindPosted         Kind = "posted"           // PO
	KindTransit        Kind = "transit"          // RO, DO, PAR/18 …
	KindArrivedBrazil  Kind = "arrived_brazil"   // PAR/16
	KindCustoms        Kind = "customs"          // PAR/21: under customs inspection
	KindTaxDue         Kind = "tax_due"          // PAR/17: the person must pay
	KindTaxPaid        Kind = "tax_paid"         // PAR/31: payment confirmed, delivery resumes
	KindCustomsCleared Kind = "customs_cleared"  // PAR/10: customs inspection finished
	KindOutForDelivery Kind = "out_for_delivery" // OEC/01, OEC/03
	KindDeliveryFailed Kind = "delivery_failed"  // BDE/20 …: a new attempt follows
	KindAwaitingPickup Kind = "awaiting_pickup"  // LDI
	KindDelivered      Kind = "delivered"        // BDE/01, BDI/01, BDR/01 (final)
	KindReturning      Kind = "returning"        // OEC/09, BDI/26: going back to the sender
	KindReturned       Kind = "returned"         // BDE/23 (final)
	KindLost           Kind = "lost"             // lost or stolen (final)
	KindSeized         Kind = "seized"           // BDE/43: seized by an authority (final)
	KindCorrection     Kind = "correction"       // EST: disregard the previous event
	KindOther          Kind = "other"            // unknown codes: shown as described
)

// Final reports whether no further movement is expected.
func (k Kind) Final() bool {
	switch k {
	case KindDelivered, KindReturned, KindLost, KindSeized:
		return true
	}
	return false
}

// Event is one movement of a parcel.
type Event struct {
	// Key identifies the event within its parcel, stable across passes and
	// across the wording changes Correios makes: codigo|tipo|instant|unit
	// where the provider has them.
	Key         string
	Codigo      string // Correios event code, "" when the provider has none
	Tipo        string // two-digit string ("01")
	Kind        Kind
	Description string // as the provider words it (descricao)
	Detail      string // detalhe, trimmed
	Location    string // "CIDADE/UF", or a foreign unit's name
	// Destination is where the parcel is headed ("CIDADE/UF" or a foreign
	// unit's name), for transfers that say so; "" otherwise.
	Destination string
	// Address is the unit's street address ("RUA X, 157 - BAIRRO"), when
	// the provider gives it (awaiting pickup, out for delivery).
	Address string
	At      time.Time
}

// Status is the per-code answer of a provider.
type Status int

// Result statuses.
const (
	Found       Status = iota + 1 // Events holds the history
	NotYet                        // the provider does not know the code yet; keep asking
	Invalid                       // the provider says the code is malformed; stop asking
	NotOurs                       // the code exists but this provider cannot track it (SRO-009)
	Unsupported                   // this provider does not handle this kind of code
)

func (s Status) String() string {
	switch s {
	case Found:
		return "found"
	case NotYet:
		return "not_yet"
	case Invalid:
		return "invalid"
	case NotOurs:
		return "not_ours"
	case Unsupported:
		return "unsupported"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Result is what a provider says of one code.
type Result struct {
	Status Status
	// Events, oldest first, when Status is Found.
	Events []Event
	// Message is the provider's own text for a non-Found status (for logs).
	Message string
	// Provider is the name of the provider that answered (set by the chain).
	Provider string
	// Synced is when the provider last refreshed the code from the
	// carrier (17TRACK's latest_sync_time); zero when it does not say or
	// reads the carrier on every request. The schedule times the next
	// check from it.
	Synced time.Time
}

// Provider tracks parcels.
type Provider interface {
	// Name is the provider's configuration name (siterastreio, track17, correios).
	Name() string
	// MaxBatch is the most codes one Track call takes.
	MaxBatch() int
	// Track asks for codes (at most MaxBatch). Codes missing from the map
	// had no answer this time (as if the call had failed for them). A
	// non-nil error fails the whole call: see ErrAuth, ErrQuota,
	// *RateLimitedError, ErrUnavailable.
	Track(ctx context.Context, codes []string) (map[string]Result, error)
}

// Whole-call failures. Providers wrap them with detail (%w).
var (
	// ErrAuth: credentials rejected even after a token refresh.
	ErrAuth = errors.New("credentials rejected")
	// ErrQuota: the account is out of credit or over its plan.
	ErrQuota = errors.New("quota exhausted")
	// ErrUnavailable: down, 5xx, timeouts, a body that cannot be used.
	ErrUnavailable = errors.New("provider unavailable")
)

// RateLimitedError is a 429 the client could not absorb.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited (retry after %s)", e.RetryAfter)
}
