package storetest_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/store/storetest"
)

// What storetest writes, the store reads back the same way, and the other
// way round.
func TestAgreesWithStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := storetest.Open(t, path)
	added := time.Unix(1_700_000_000, 0)
	db.Track(
		storetest.Tracked{Chat: 1, Code: "AA100000000BR", Description: "tênis", Added: added},
		storetest.Tracked{Chat: -100, Kind: "group", Code: "AA100000000BR", Description: "do grupo"},
	)
	ps, err := st.Packages(t.Context(), 1)
	if err != nil || len(ps) != 1 || ps[0].Code != "AA100000000BR" || ps[0].Description != "tênis" ||
		!ps[0].AddedAt.Equal(added) || ps[0].State != "new" {
		t.Fatalf("store sees %+v, %v", ps, err)
	}
	if c, err := st.GetChat(t.Context(), -100); err != nil || c.Kind != "group" {
		t.Fatalf("group chat %+v, %v", c, err)
	}
	if got := db.Tracked(); len(got) != 2 || got[0].Chat != -100 || !got[0].Added.IsZero() || got[1].Description != "tênis" || !got[1].Added.Equal(added) {
		t.Fatalf("Tracked() = %+v", got)
	}

	checked := time.Unix(1_700_000_600, 0)
	db.SetChecked(storetest.Parcel{Code: "AA100000000BR", State: "final", LastKind: "delivered", LastStatus: "Objeto entregue",
		LastEventAt: added, CheckedAt: checked, CheckedBy: "correios"})
	ps, _ = st.Packages(t.Context(), 1)
	if p := ps[0]; p.State != "final" || p.LastKind != "delivered" || p.LastStatus != "Objeto entregue" ||
		!p.LastEventAt.Equal(added) || !p.CheckedAt.Equal(checked) || p.CheckedBy != "correios" {
		t.Fatalf("store sees %+v after SetChecked", p)
	}
	if p, ok := db.Parcel("AA100000000BR"); !ok || p.State != "final" || p.CheckedBy != "correios" || !p.CheckedAt.Equal(checked) {
		t.Fatalf("Parcel() = %+v, %v", p, ok)
	}
	if _, ok := db.Parcel("ZZ000000000BR"); ok {
		t.Fatal("Parcel() found a code nobody tracks")
	}
	if n, m := db.ParcelsIn("final"), db.ParcelsIn("new"); n != 1 || m != 0 {
		t.Fatalf("ParcelsIn: final %d, new %d", n, m)
	}

	db.AddEvents(storetest.Event{Code: "AA100000000BR", Key: "k1", Kind: "posted", Description: "Objeto postado", Location: "CURITIBA/PR", At: added})
	if evs, err := st.Events(t.Context(), "AA100000000BR"); err != nil || len(evs) != 1 || evs[0].Kind != "posted" ||
		evs[0].Description != "Objeto postado" || evs[0].Location != "CURITIBA/PR" || !evs[0].At.Equal(added) {
		t.Fatalf("store sees events %+v, %v", evs, err)
	}

	later := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := st.QueueMessage(t.Context(), 1, "olá", later); err != nil {
		t.Fatal(err)
	}
	if err := st.PauseChat(t.Context(), -100); err != nil {
		t.Fatal(err)
	}
	q := db.Outbox()
	if len(q) != 1 || q[0].Chat != 1 || q[0].Body != "olá" || !q[0].NotBefore.Equal(later) {
		t.Fatalf("Outbox() = %+v", q)
	}
	if due, _ := st.PendingOutbox(t.Context(), 0, 10); len(due) != 0 {
		t.Fatalf("due before OutboxDueNow: %+v", due)
	}
	db.OutboxDueNow()
	if due, _ := st.PendingOutbox(t.Context(), 0, 10); len(due) != 1 {
		t.Fatalf("due after OutboxDueNow: %+v", due)
	}
	db.ClearOutbox()
	if n, _ := st.OutboxLen(t.Context()); n != 0 || len(db.Outbox()) != 0 {
		t.Fatalf("outbox has %d after ClearOutbox", n)
	}
	db.Queue(storetest.Queued{Chat: 7, Code: "BB200000000BR", Body: "um"}, storetest.Queued{Chat: 1, Body: "dois", NotBefore: later})
	if due, _ := st.PendingOutbox(t.Context(), 0, 10); len(due) != 1 || due[0].ChatID != 7 || due[0].Code != "BB200000000BR" || due[0].Body != "um" {
		t.Fatalf("due after Queue: %+v", due)
	}
	if c, err := st.GetChat(t.Context(), 7); err != nil || c.Kind != "private" {
		t.Fatalf("Queue made chat 7 %+v, %v", c, err)
	}
	db.ClearOutbox()

	if cs := db.Chats(); len(cs) != 3 || cs[0].ID != -100 || !cs[0].Paused || cs[1].Paused || cs[1].Kind != "private" {
		t.Fatalf("Chats() = %+v", cs)
	}
	db.Unpause(-100)
	if c, _ := st.GetChat(t.Context(), -100); !c.PausedAt.IsZero() {
		t.Fatalf("still paused: %+v", c)
	}
}
