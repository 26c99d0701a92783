package track17

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/track17/track17test"
	"github.com/rastreio/rastreio/internal/tracking"
)

func TestTimeRawLatestStatusAndStageFallback(t *testing.T) {
	body := `{"number":"QQ850419295BR","track_info":{"latest_status":{"status":"Delivered","sub_status":"Delivered_Other"},
	"tracking":{"providers":[{"events":[
	{"time_raw":{"date":"2026-03-04","time":"14:35:00","timezone":null},"description":"Objeto saiu para entrega ao destinatário","stage":"OutForDelivery","sub_status":"OutForDelivery_Other"},
	{"time_raw":{"date":"2026-03-03","time":"08:01","timezone":"-03:00"},"description":"Objeto em trânsito","stage":"InTransit","sub_status":"InTransit_SomethingNew"}]}]}}}`
	var a accepted
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	r, ok := a.result()
	if !ok || r.Status != tracking.Found || len(r.Events) != 2 {
		t.Fatalf("events with only time_raw dropped: %+v", r)
	}
	if want := time.Date(2026, 3, 4, 17, 35, 0, 0, time.UTC); !r.Events[1].At.Equal(want) {
		t.Errorf("time_raw read as %s, want %s (Brasília)", r.Events[1].At, want)
	}
	if r.Events[0].Kind != tracking.KindTransit {
		t.Errorf("unknown sub_status gave %s, want the stage's transit", r.Events[0].Kind)
	}
	if r.Events[1].Kind != tracking.KindDelivered {
		t.Errorf("latest_status Delivered not applied: newest is %s", r.Events[1].Kind)
	}
}

// A 15,000-event history keeps its newest tracking.MaxEvents events and
// the posting event.
func TestResultKeepsNewestEvents(t *testing.T) {
	const n = 15000
	start := time.Date(2020, 1, 2, 12, 0, 0, 0, time.UTC)
	var a accepted
	if err := json.Unmarshal([]byte(`{"number":"QQ850419295BR","track_info":`+string(track17test.TrackInfo(n, start))+`}`), &a); err != nil {
		t.Fatal(err)
	}
	r, ok := a.result()
	if !ok || r.Status != tracking.Found || len(r.Events) != tracking.MaxEvents {
		t.Fatalf("ok %v, status %v with %d events, want found with %d", ok, r.Status, len(r.Events), tracking.MaxEvents)
	}
	if first, last := r.Events[0], r.Events[len(r.Events)-1]; first.Kind != tracking.KindPosted || !first.At.Equal(start) ||
		!last.At.Equal(start.Add((n-1)*6*time.Hour)) {
		t.Fatalf("kept %s at %v … %v: want the posting event and the newest", first.Kind, first.At, last.At)
	}
}
