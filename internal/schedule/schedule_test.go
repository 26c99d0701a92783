package schedule

import (
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/tracking"
)

// brt is a time in Brasília.
func brt(day, hour, min int) time.Time {
	return time.Date(2024, 3, day, hour, min, 0, 0, brasilia.Zone)
}

func TestNext(t *testing.T) {
	none := Policy{}
	fresh := Policy{Freshness: map[string]time.Duration{"track17": 6 * time.Hour}}
	for _, tc := range []struct {
		name string
		f    Facts
		now  time.Time
		p    Policy
		want time.Time
	}{
		{"new: at once", Facts{State: StateNew}, brt(11, 10, 0), none, brt(11, 10, 0)},
		{"not found: 5 min first", Facts{State: StateNotFound, Misses: 1}, brt(11, 10, 0), none, brt(11, 10, 5)},
		{"not found: doubles", Facts{State: StateNotFound, Misses: 4}, brt(11, 10, 0), none, brt(11, 10, 40)},
		{"not found: capped", Facts{State: StateNotFound, Misses: 30}, brt(11, 10, 0), none, brt(11, 16, 0)},
		{"out for delivery: 15 min", Facts{State: StateActive, Kind: tracking.KindOutForDelivery, LastMoved: brt(15, 9, 19)},
			brt(15, 9, 20), none, brt(15, 9, 35)},
		{"transit, morning: 30 min", Facts{State: StateActive, Kind: tracking.KindTransit, LastMoved: brt(14, 7, 58)},
			brt(14, 8, 0), none, brt(14, 8, 30)},
		{"transit, afternoon: 90 min", Facts{State: StateActive, Kind: tracking.KindTransit, LastMoved: brt(14, 7, 58)},
			brt(14, 14, 0), none, brt(14, 15, 30)},
		{"transit at night: next morning", Facts{State: StateActive, Kind: tracking.KindTransit, LastMoved: brt(14, 7, 58)},
			brt(14, 21, 30), none, brt(15, 7, 0)},
		{"stalled 4 days: ×4", Facts{State: StateActive, Kind: tracking.KindTransit, LastMoved: brt(10, 10, 0)},
			brt(14, 14, 0), none, brt(14, 20, 0)},
		{"awaiting pickup: 3 h", Facts{State: StateActive, Kind: tracking.KindAwaitingPickup, LastMoved: brt(14, 10, 0)},
			brt(14, 10, 5), none, brt(14, 13, 5)},
		{"final: 6 h after", Facts{State: StateFinal, Kind: tracking.KindDelivered, Since: brt(15, 14, 20)},
			brt(15, 14, 20), none, brt(15, 20, 20)},
		{"final, rechecks done: expiry", Facts{State: StateFinal, Kind: tracking.KindDelivered, Since: brt(1, 14, 0)},
			brt(5, 14, 0), none, brt(1, 14, 0).Add(FinalAfter)},
		{"pinned provider", Facts{State: StateActive, Kind: tracking.KindOutForDelivery, Provider: "siterastreio"},
			brt(15, 9, 20), Policy{Pinned: map[string]time.Duration{"siterastreio": 2 * time.Hour}}, brt(15, 11, 20)},
		{"freshness floor (17TRACK)", Facts{State: StateActive, Kind: tracking.KindOutForDelivery, Provider: "track17"},
			brt(15, 9, 20), fresh, brt(15, 15, 20)},
		{"17TRACK synced 2 h ago: 10 min after its next refresh", Facts{State: StateActive, Kind: tracking.KindOutForDelivery,
			Provider: "track17", Synced: brt(15, 7, 20)}, brt(15, 9, 20), fresh, brt(15, 13, 30)},
		{"17TRACK refresh late: an hour later", Facts{State: StateActive, Kind: tracking.KindOutForDelivery,
			Provider: "track17", Synced: brt(15, 7, 20)}, brt(15, 13, 30), fresh, brt(15, 14, 30)},
		{"17TRACK refresh late: still late", Facts{State: StateActive, Kind: tracking.KindOutForDelivery,
			Provider: "track17", Synced: brt(15, 7, 20)}, brt(15, 18, 30), fresh, brt(15, 19, 30)},
		{"17TRACK refresh late, in transit: the schedule's 90 min", Facts{State: StateActive, Kind: tracking.KindTransit,
			Provider: "track17", Synced: brt(15, 7, 20)}, brt(15, 13, 30), fresh, brt(15, 15, 0)},
		{"17TRACK silent past 12 h: a refresh from now", Facts{State: StateActive, Kind: tracking.KindTransit,
			Provider: "track17", Synced: brt(15, 7, 20)}, brt(15, 19, 30), fresh, brt(16, 1, 30)},
		{"17TRACK synced, the schedule waits longer: the schedule", Facts{State: StateFinal, Kind: tracking.KindDelivered,
			Provider: "track17", Synced: brt(15, 14, 0), Since: brt(15, 14, 20)}, brt(15, 14, 20), fresh, brt(15, 20, 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Next(tc.f, tc.now, tc.p); !got.Equal(tc.want) {
				t.Fatalf("Next = %v, want %v", got.In(brasilia.Zone), tc.want)
			}
		})
	}
}

func TestPriorityFavoursActionable(t *testing.T) {
	order := []int{
		Priority(StateActive, tracking.KindOutForDelivery),
		Priority(StateActive, tracking.KindDeliveryFailed),
		Priority(StateNew, ""),
		Priority(StateActive, tracking.KindTaxDue),
		Priority(StateActive, tracking.KindTransit),
		Priority(StateNotFound, ""),
		Priority(StateFinal, tracking.KindDelivered),
	}
	for i := 1; i < len(order); i++ {
		if order[i] >= order[i-1] {
			t.Fatalf("priorities %v not strictly decreasing", order)
		}
	}
}
