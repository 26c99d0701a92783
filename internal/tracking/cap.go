package tracking

// MaxEvents is the most events of one code kept from one answer. Real
// histories are far shorter: the longest in the repository's fixtures and
// journeys has 12 events, and an import that crosses several countries and
// sorting centres rarely passes 60. A provider that sends thousands (a bug,
// or a hostile endpoint: 8 MB of JSON holds tens of thousands) would
// otherwise make one code cost seconds in every save, message and history
// view. 200 is over three times the longest real journey, and bounds one
// code's answer to about 70 KB of JSON and one save to a few milliseconds.
const MaxEvents = 200

// KeepNewest bounds events (oldest first, as in Result.Events) to
// MaxEvents: the newest, and, when it would fall outside them, the oldest
// posting event in place of the oldest kept one, so the history still says
// where and when the parcel was posted. What is kept does not change from
// one answer to the next unless the history grows, so no event is dropped
// and stored again as new. Events within the bound come back unchanged;
// otherwise the result is a new slice (the long one can be freed).
func KeepNewest(events []Event) []Event {
	if len(events) <= MaxEvents {
		return events
	}
	tail := events[len(events)-MaxEvents:]
	out := make([]Event, 0, MaxEvents)
	for _, e := range events[:len(events)-MaxEvents] {
		if e.Kind == KindPosted {
			out = append(out, e)
			tail = tail[1:]
			break
		}
	}
	return append(out, tail...)
}
