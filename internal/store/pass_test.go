package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/schedule"
	"github.com/rastreio/rastreio/internal/tracking"
)

// trtRender renders a notice as a line the tests can compare.
func trtRender(n Notice) string {
	var evs []string
	for _, e := range n.Events {
		evs = append(evs, e.Codigo)
	}
	return fmt.Sprintf("%d|%s|%s|appeared=%v|%s", n.Kind, n.Code, n.Description, n.Appeared, strings.Join(evs, ","))
}

func trtChat(tb testing.TB, s *Store, id int64) {
	tb.Helper()
	if _, err := s.db.Exec("INSERT INTO chats (id, created_at, updated_at) VALUES (?, 0, 0) ON CONFLICT DO NOTHING", id); err != nil {
		tb.Fatal(err)
	}
}

// trtTrack makes chat track code with desc, creating both if needed.
func trtTrack(tb testing.TB, s *Store, chat int64, code, desc string) {
	tb.Helper()
	trtChat(tb, s, chat)
	if _, err := s.db.Exec("INSERT INTO parcels (code, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING", code, s.unix()); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.db.Exec("INSERT INTO tracked (chat_id, code, description, added_at) VALUES (?, ?, ?, 0)", chat, code, desc); err != nil {
		tb.Fatal(err)
	}
}

func trtEv(codigo string, kind tracking.Kind, at time.Time) tracking.Event {
	return tracking.Event{Codigo: codigo, Tipo: "01", Kind: kind, Description: "desc " + codigo, Location: "SAO PAULO/SP", At: at}
}

func trtFound(code string, evs ...tracking.Event) Checked {
	return Checked{Code: code, Result: tracking.Result{Status: tracking.Found, Events: evs, Provider: "fake"}}
}

func trtStatus(code string, st tracking.Status) Checked {
	return Checked{Code: code, Result: tracking.Result{Status: st, Provider: "fake"}}
}

// trtOutbox returns the queued bodies per chat, in order, and empties the outbox.
func trtOutbox(tb testing.TB, s *Store) map[int64][]string {
	tb.Helper()
	ms, err := s.PendingOutbox(context.Background(), 0, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int64][]string{}
	for _, m := range ms {
		out[m.ChatID] = append(out[m.ChatID], m.Body)
		if err := s.DeleteOutbox(context.Background(), m.ID); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func trtDueCodes(tb testing.TB, s *Store, pass int64, recheck time.Duration) []string {
	tb.Helper()
	due, err := s.DueParcels(context.Background(), pass, recheck, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var codes []string
	for _, d := range due {
		codes = append(codes, d.Code)
	}
	return codes
}

func trtSave(tb testing.TB, s *Store, pass int64, cs ...Checked) SaveStats {
	tb.Helper()
	st, err := s.SaveResults(context.Background(), pass, cs, trtRender)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func TestBeginPassCounts(t *testing.T) {
	s := mustOpen(t, "")
	if at, err := s.LastPassAt(t.Context()); err != nil || !at.IsZero() {
		t.Fatalf("LastPassAt before any pass = %v, %v", at, err)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	for want := int64(1); want <= 3; want++ {
		n, err := s.BeginPass(t.Context())
		if err != nil || n != want {
			t.Fatalf("BeginPass = %d, %v; want %d", n, err, want)
		}
	}
	if at, err := s.LastPassAt(t.Context()); err != nil || !at.Equal(now) {
		t.Fatalf("LastPassAt = %v, %v; want %v", at, err, now)
	}
}

func TestDueParcelsSelection(t *testing.T) {
	s := mustOpen(t, "")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	trtTrack(t, s, 1, "OLD", "")
	trtTrack(t, s, 1, "RECENT", "")
	trtTrack(t, s, 1, "NEW", "")
	trtTrack(t, s, 2, "NEW", "also") // two chats, asked once
	trtTrack(t, s, 3, "PAUSED", "")  // only a paused chat tracks it
	trtTrack(t, s, 1, "BACKOFF", "")
	trtTrack(t, s, 1, "INVALID", "")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec("UPDATE parcels SET state='active', checked_at=? WHERE code='OLD'", now.Add(-time.Hour).Unix())
	exec("UPDATE parcels SET state='active', checked_at=? WHERE code='RECENT'", now.Add(-time.Minute).Unix())
	exec("UPDATE parcels SET state='notfound', checked_at=?, next_pass=5 WHERE code='BACKOFF'", now.Add(-2*time.Hour).Unix())
	exec("UPDATE parcels SET state='invalid' WHERE code='INVALID'")
	exec("UPDATE chats SET paused_at=1 WHERE id=3")

	if got, want := trtDueCodes(t, s, 1, 0), []string{"NEW", "OLD", "RECENT"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pass 1: due %v, want %v", got, want)
	}
	if got, want := trtDueCodes(t, s, 5, 0), []string{"NEW", "BACKOFF", "OLD", "RECENT"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pass 5: due %v, want %v", got, want)
	}
	// RASTREIO_RECHECK_INTERVAL=30m: the active code checked a minute ago waits.
	if got, want := trtDueCodes(t, s, 1, 30*time.Minute), []string{"NEW", "OLD"}; !reflect.DeepEqual(got, want) {
		t.Errorf("recheck 30m: due %v, want %v", got, want)
	}
	// A per-provider interval overrides the global one for codes pinned to it.
	exec("UPDATE parcels SET provider='slow' WHERE code='OLD'")
	due, err := s.DueParcels(t.Context(), 1, 0, map[string]time.Duration{"slow": 2 * time.Hour})
	if err != nil || len(due) != 2 || due[0].Code != "NEW" || due[1].Code != "RECENT" {
		t.Errorf("per-provider recheck: due %+v, %v; want NEW, RECENT", due, err)
	}
	exec("UPDATE chats SET paused_at=NULL WHERE id=3")
	if got := trtDueCodes(t, s, 1, 0); !reflect.DeepEqual(got, []string{"NEW", "PAUSED", "OLD", "RECENT"}) {
		t.Errorf("after resume: due %v, want PAUSED included after NEW", got)
	}
}

// A code not found is re-checked after 1, 2, 4, … passes, capped.
func TestBackoffNotFound(t *testing.T) {
	s := mustOpen(t, "")
	trtTrack(t, s, 1, "NF", "")
	var checked []int64
	for pass := int64(1); pass <= 200; pass++ {
		if len(trtDueCodes(t, s, pass, 0)) == 0 {
			continue
		}
		checked = append(checked, pass)
		trtSave(t, s, pass, trtStatus("NF", tracking.NotYet))
	}
	want := []int64{1, 2, 4, 8, 16, 32, 64, 96, 128, 160, 192}
	if !reflect.DeepEqual(checked, want) {
		t.Fatalf("checked in passes %v, want %v", checked, want)
	}
	if got := trtOutbox(t, s); len(got) != 0 {
		t.Fatalf("not found yet queued messages: %v", got)
	}
}

// Final codes are re-checked with the same growing spacing; news makes
// them active (due every pass) again.
func TestBackoffFinalAndReactivate(t *testing.T) {
	s := mustOpen(t, "")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	trtTrack(t, s, 1, "DL", "")
	del := trtFound("DL", trtEv("PO", tracking.KindPosted, t0), trtEv("BDE", tracking.KindDelivered, t0.Add(time.Hour)))
	trtSave(t, s, 1, del)
	var checked []int64
	for pass := int64(2); pass <= 40; pass++ {
		if len(trtDueCodes(t, s, pass, 0)) == 0 {
			continue
		}
		checked = append(checked, pass)
		trtSave(t, s, pass, del)
	}
	if want := []int64{2, 4, 8, 16}; !reflect.DeepEqual(checked[:4], want) {
		t.Fatalf("final code checked in passes %v, want it to start %v", checked, want)
	}
	// Correios corrects the delivery: the code is active again.
	trtSave(t, s, 41, trtFound("DL", append(del.Result.Events, trtEv("EST", tracking.KindCorrection, t0.Add(2*time.Hour)),
		trtEv("OEC", tracking.KindOutForDelivery, t0.Add(3*time.Hour)))...))
	for _, pass := range []int64{42, 43} {
		if got := trtDueCodes(t, s, pass, 0); len(got) != 1 {
			t.Fatalf("pass %d: reactivated code not due (%v)", pass, got)
		}
		trtSave(t, s, pass, trtStatus("DL", tracking.NotYet)) // a provider hiccup is a miss, state kept
	}
	var state string
	s.db.QueryRow("SELECT state FROM parcels WHERE code='DL'").Scan(&state)
	if state != "active" {
		t.Fatalf("state=%q, want active", state)
	}
}

func TestSaveResultsNotifiesOnceOldestFirst(t *testing.T) {
	s := mustOpen(t, "")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	trtTrack(t, s, 1, "AA", "fone")
	trtTrack(t, s, 2, "AA", "presente")
	po, ro := trtEv("PO", tracking.KindPosted, t0), trtEv("RO", tracking.KindTransit, t0.Add(time.Hour))

	st := trtSave(t, s, 1, trtFound("AA", ro, po)) // provider order does not matter
	if st.Found != 1 || st.NewEvents != 2 || st.Queued != 2 {
		t.Fatalf("first save stats %+v, want 1 found, 2 new events, 2 queued", st)
	}
	got := trtOutbox(t, s)
	want := map[int64][]string{
		1: {"1|AA|fone|appeared=false|RO"},
		2: {"1|AA|presente|appeared=false|RO"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("first result queued %v, want %v (current status only)", got, want)
	}
	// The same answer again: nothing new, nothing sent.
	if st := trtSave(t, s, 2, trtFound("AA", ro, po)); st.NewEvents != 0 || st.Queued != 0 {
		t.Fatalf("repeat stats %+v, want nothing", st)
	}
	// Two new events, given newest first: one message each chat, oldest first.
	do, oec := trtEv("DO", tracking.KindTransit, t0.Add(2*time.Hour)), trtEv("OEC", tracking.KindOutForDelivery, t0.Add(3*time.Hour))
	trtSave(t, s, 3, trtFound("AA", oec, do, ro, po))
	got = trtOutbox(t, s)
	want = map[int64][]string{
		1: {"2|AA|fone|appeared=false|DO,OEC"},
		2: {"2|AA|presente|appeared=false|DO,OEC"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("later events queued %v, want %v", got, want)
	}
	var n int
	s.db.QueryRow("SELECT COUNT(*) FROM events WHERE code='AA'").Scan(&n)
	if n != 4 {
		t.Fatalf("%d events stored, want 4 (deduplicated)", n)
	}
	// The parcel row shows the newest event and who answered.
	var state, kind, status, by, prov string
	var at int64
	s.db.QueryRow("SELECT state, last_kind, last_status, last_event_at, checked_by, provider FROM parcels WHERE code='AA'").
		Scan(&state, &kind, &status, &at, &by, &prov)
	if state != "active" || kind != "out_for_delivery" || status != "desc OEC" || at != oec.At.Unix() || by != "fake" || prov != "fake" {
		t.Fatalf("parcel row = %s %s %q %d %s %s", state, kind, status, at, by, prov)
	}
}

func TestLateChatGetsCurrentStatusNotHistory(t *testing.T) {
	s := mustOpen(t, "")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	trtTrack(t, s, 1, "AA", "")
	trtSave(t, s, 1, trtFound("AA", trtEv("PO", tracking.KindPosted, t0), trtEv("RO", tracking.KindTransit, t0.Add(time.Hour))))
	trtOutbox(t, s)

	trtTrack(t, s, 2, "AA", "late")
	n, err := s.CatchUp(t.Context(), trtRender)
	if err != nil || n != 1 {
		t.Fatalf("CatchUp = %d, %v; want 1", n, err)
	}
	if got, want := trtOutbox(t, s), map[int64][]string{2: {"1|AA|late|appeared=false|RO"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("catch-up queued %v, want %v", got, want)
	}
	if n, _ := s.CatchUp(t.Context(), trtRender); n != 0 {
		t.Fatalf("second CatchUp queued %d, want 0", n)
	}
	// Next event: both chats get just that one.
	trtSave(t, s, 2, trtFound("AA", trtEv("PO", tracking.KindPosted, t0), trtEv("RO", tracking.KindTransit, t0.Add(time.Hour)),
		trtEv("DO", tracking.KindTransit, t0.Add(2*time.Hour))))
	want := map[int64][]string{1: {"2|AA||appeared=false|DO"}, 2: {"2|AA|late|appeared=false|DO"}}
	if got := trtOutbox(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("next event queued %v, want %v", got, want)
	}
}

func TestPausedChatCatchesUpOnResume(t *testing.T) {
	s := mustOpen(t, "")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	trtTrack(t, s, 1, "AA", "")
	trtTrack(t, s, 2, "AA", "")
	evs := []tracking.Event{trtEv("PO", tracking.KindPosted, t0)}
	trtSave(t, s, 1, trtFound("AA", evs...))
	trtOutbox(t, s)
	if err := s.PauseChat(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	evs = append(evs, trtEv("RO", tracking.KindTransit, t0.Add(time.Hour)))
	trtSave(t, s, 2, trtFound("AA", evs...))
	evs = append(evs, trtEv("DO", tracking.KindTransit, t0.Add(2*time.Hour)))
	trtSave(t, s, 3, trtFound("AA", evs...))
	want := map[int64][]string{1: {"2|AA||appeared=false|RO", "2|AA||appeared=false|DO"}}
	if got := trtOutbox(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("while chat 2 paused queued %v, want %v", got, want)
	}
	s.db.Exec("UPDATE chats SET paused_at = NULL WHERE id = 2") // the person wrote again
	if n, err := s.CatchUp(t.Context(), trtRender); err != nil || n != 1 {
		t.Fatalf("CatchUp = %d, %v; want 1", n, err)
	}
	want = map[int64][]string{2: {"2|AA||appeared=false|RO,DO"}}
	if got := trtOutbox(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("after resume queued %v, want %v", got, want)
	}
}

func TestNotFoundThenAppears(t *testing.T) {
	s := mustOpen(t, "")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	trtTrack(t, s, 1, "AA", "x")
	if st := trtSave(t, s, 1, trtStatus("AA", tracking.NotYet)); st.NotFound != 1 || st.Queued != 0 {
		t.Fatalf("not yet: %+v", st)
	}
	trtSave(t, s, 2, trtFound("AA", trtEv("PO", tracking.KindPosted, t0)))
	if got, want := trtOutbox(t, s), map[int64][]string{1: {"1|AA|x|appeared=true|PO"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("queued %v, want %v", got, want)
	}
}

func TestInvalidStopsPolling(t *testing.T) {
	s := mustOpen(t, "")
	trtTrack(t, s, 1, "AAAA", "")
	if st := trtSave(t, s, 1, trtStatus("AAAA", tracking.Invalid)); st.Invalid != 1 || st.Queued != 1 {
		t.Fatalf("invalid stats %+v", st)
	}
	if got := trtOutbox(t, s); len(got[1]) != 1 || !strings.HasPrefix(got[1][0], fmt.Sprint(int(NoticeInvalid))+"|") {
		t.Fatalf("queued %v, want one invalid notice", got)
	}
	if due := trtDueCodes(t, s, 2, 0); len(due) != 0 {
		t.Fatalf("invalid code still due: %v", due)
	}
	// A later answer for it changes nothing and sends nothing.
	trtSave(t, s, 3, trtStatus("AAAA", tracking.Invalid))
	if got := trtOutbox(t, s); len(got) != 0 {
		t.Fatalf("queued again: %v", got)
	}
}

func TestExpireParcels(t *testing.T) {
	s := mustOpen(t, "")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now.Add(-31 * 24 * time.Hour) })
	trtTrack(t, s, 1, "NF", "")
	trtTrack(t, s, 1, "DL", "")
	trtTrack(t, s, 2, "DL", "")
	trtSave(t, s, 1, trtStatus("NF", tracking.NotYet), trtFound("DL", trtEv("BDE", tracking.KindDelivered, now.Add(-31*24*time.Hour))))
	s.SetClock(func() time.Time { return now.Add(-10 * 24 * time.Hour) })
	trtTrack(t, s, 1, "YOUNG", "")
	trtTrack(t, s, 1, "ACT", "")
	trtSave(t, s, 2, trtStatus("YOUNG", tracking.NotYet), trtFound("ACT", trtEv("RO", tracking.KindTransit, now.Add(-10*24*time.Hour))))
	trtOutbox(t, s)

	s.SetClock(func() time.Time { return now })
	exp, queued, err := s.ExpireParcels(t.Context(), trtRender)
	if err != nil || exp != 2 || queued != 3 {
		t.Fatalf("ExpireParcels = %d, %d, %v; want 2 expired, 3 messages", exp, queued, err)
	}
	got := trtOutbox(t, s)
	want := map[int64][]string{
		1: {fmt.Sprintf("%d|NF||appeared=false|", NoticeExpiredNotFound), fmt.Sprintf("%d|DL||appeared=false|", NoticeExpiredFinal)},
		2: {fmt.Sprintf("%d|DL||appeared=false|", NoticeExpiredFinal)},
	}
	for _, bodies := range got {
		sortStrings(bodies)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("expiry queued %v, want %v", got, want)
	}
	var left []string
	rows, _ := s.db.Query("SELECT code FROM parcels ORDER BY code")
	for rows.Next() {
		var c string
		rows.Scan(&c)
		left = append(left, c)
	}
	rows.Close()
	if !reflect.DeepEqual(left, []string{"ACT", "YOUNG"}) {
		t.Fatalf("parcels left %v, want [ACT YOUNG]", left)
	}
	if exp, _, _ := s.ExpireParcels(t.Context(), trtRender); exp != 0 {
		t.Fatalf("second expiry removed %d", exp)
	}
}

// A chat that adds an old not-found code gets the full 30 days.
func TestExpireCountsFromLatestAdd(t *testing.T) {
	s := mustOpen(t, "")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now.Add(-31 * 24 * time.Hour) })
	trtTrack(t, s, 1, "NF", "")
	trtSave(t, s, 1, trtStatus("NF", tracking.NotYet))
	s.SetClock(func() time.Time { return now })
	trtChat(t, s, 2)
	s.db.Exec("INSERT INTO tracked (chat_id, code, description, added_at) VALUES (2, 'NF', '', ?)", now.Add(-24*time.Hour).Unix())
	if exp, _, err := s.ExpireParcels(t.Context(), trtRender); err != nil || exp != 0 {
		t.Fatalf("expired %d (%v), want 0: chat 2 added it a day ago", exp, err)
	}
	s.SetClock(func() time.Time { return now.Add(30 * 24 * time.Hour) })
	if exp, _, err := s.ExpireParcels(t.Context(), trtRender); err != nil || exp != 1 {
		t.Fatalf("expired %d (%v), want 1 once chat 2 had it 30 days", exp, err)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestEventsDedupAndOrder(t *testing.T) {
	s := mustOpen(t, "")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	trtTrack(t, s, 1, "AA", "")
	a := trtEv("PO", tracking.KindPosted, t0)
	b := trtEv("PAR", tracking.KindTransit, t0) // same instant, other codigo: distinct
	b.Detail = "  detalhe \r\n"
	trtSave(t, s, 1, trtFound("AA", b, a))
	a.Description = "reworded" // wording changes do not make a new event
	trtSave(t, s, 2, trtFound("AA", a, b))
	evs, err := s.Events(t.Context(), "AA")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	if evs[0].Detail != "detalhe" && evs[1].Detail != "detalhe" {
		t.Fatalf("detail not trimmed: %+v", evs)
	}
	if !evs[0].At.Equal(t0) || evs[0].Provider != "fake" || evs[0].Kind == "" {
		t.Fatalf("event read back wrong: %+v", evs[0])
	}
}

func TestOutboxPendingPauseMigrate(t *testing.T) {
	s := mustOpen(t, "")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	for _, id := range []int64{1, -100, -200} {
		trtChat(t, s, id)
	}
	trtTrack(t, s, -100, "AA", "grupo")
	trtTrack(t, s, -200, "BB", "super")
	ins := func(chat int64, body string, notBefore int64) {
		if _, err := s.db.Exec("INSERT INTO outbox (chat_id, code, body, created_at, not_before) VALUES (?, 'AA', ?, 0, ?)", chat, body, notBefore); err != nil {
			t.Fatal(err)
		}
	}
	ins(1, "a", 0)
	ins(-100, "b", 0)
	ins(1, "later", now.Unix()+60)
	ms, err := s.PendingOutbox(t.Context(), 0, 10)
	if err != nil || len(ms) != 2 || ms[0].Body != "a" || ms[1].Body != "b" {
		t.Fatalf("pending = %+v, %v; want a, b", ms, err)
	}
	if n, err := s.DeferOutbox(t.Context(), ms[0].ID, now.Add(time.Minute), true); err != nil || n != 1 {
		t.Fatalf("DeferOutbox = %d, %v", n, err)
	}
	if err := s.PauseChat(t.Context(), -100); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.PendingOutbox(t.Context(), 0, 10); len(ms) != 0 {
		t.Fatalf("pending after defer+pause = %+v, want none", ms)
	}
	if l, _ := s.OutboxLen(t.Context()); l != 3 {
		t.Fatalf("OutboxLen=%d, want 3 (paused chat's messages kept)", l)
	}
	s.db.Exec("UPDATE chats SET paused_at = NULL")
	// -100 becomes supergroup -1001 (new id); then -200 migrates to the
	// same id, which exists: the two merge.
	if err := s.MigrateChat(t.Context(), -100, -1001); err != nil {
		t.Fatal(err)
	}
	var chat int64
	s.db.QueryRow("SELECT chat_id FROM tracked WHERE code='AA'").Scan(&chat)
	if chat != -1001 {
		t.Fatalf("tracked moved to %d, want -1001", chat)
	}
	if err := s.MigrateChat(t.Context(), -200, -1001); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRow("SELECT COUNT(*) FROM tracked WHERE chat_id = -1001").Scan(&n)
	if n != 2 {
		t.Fatalf("merged chat tracks %d codes, want 2", n)
	}
	s.db.QueryRow("SELECT COUNT(*) FROM chats WHERE id IN (-100, -200)").Scan(&n)
	if n != 0 {
		t.Fatalf("%d old chats left", n)
	}
	ms, _ = s.PendingOutbox(t.Context(), 0, 10)
	if len(ms) != 1 || ms[0].ChatID != -1001 || ms[0].Body != "b" {
		t.Fatalf("outbox after migrate = %+v, want b for -1001", ms)
	}
}

// A chat's messages go out in order: one waiting for its not_before
// holds back the chat's later ones, not other chats'.
func TestOutboxChatOrder(t *testing.T) {
	s := mustOpen(t, "")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	trtChat(t, s, 1)
	trtChat(t, s, 2)
	ins := func(chat int64, body string, notBefore time.Time) {
		if _, err := s.db.Exec("INSERT INTO outbox (chat_id, code, body, created_at, not_before) VALUES (?, 'AA', ?, 0, ?)", chat, body, notBefore.Unix()); err != nil {
			t.Fatal(err)
		}
	}
	ins(1, "em trânsito", now.Add(time.Minute)) // a send failed: retried in a minute
	ins(1, "entregue", now)
	ins(2, "postado", now)
	bodies := func(ms []OutboxMsg) (out []string) {
		for _, m := range ms {
			out = append(out, m.Body)
		}
		return out
	}
	ms, err := s.PendingOutbox(t.Context(), 0, 10)
	if got := bodies(ms); err != nil || len(got) != 1 || got[0] != "postado" {
		t.Fatalf("pending = %q, %v; want only chat 2's message while chat 1's first waits", got, err)
	}
	if ms, _ := s.PendingOutboxChat(t.Context(), 1, 0, 10); len(ms) != 0 {
		t.Fatalf("pending for chat 1 = %q, want none", bodies(ms))
	}
	now = now.Add(time.Minute)
	ms, _ = s.PendingOutboxChat(t.Context(), 1, 0, 10)
	if got := bodies(ms); len(got) != 2 || got[0] != "em trânsito" || got[1] != "entregue" {
		t.Fatalf("pending for chat 1 a minute later = %q, want both in order", got)
	}
}

// An active code with no movement for ExpireIdle leaves the list; an old
// code just added gets the full time from when it was found.
func TestExpireIdle(t *testing.T) {
	s := mustOpen(t, "")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-2 * 365 * 24 * time.Hour)
	s.SetClock(func() time.Time { return now.Add(-91 * 24 * time.Hour) })
	trtTrack(t, s, 1, "STALE", "")
	trtSave(t, s, 1, trtFound("STALE", trtEv("RO", tracking.KindTransit, now.Add(-91*24*time.Hour))))
	s.SetClock(func() time.Time { return now.Add(-time.Hour) })
	trtTrack(t, s, 1, "OLDCODE", "")
	trtSave(t, s, 2, trtFound("OLDCODE", trtEv("RO", tracking.KindTransit, old)))
	trtOutbox(t, s)
	s.SetClock(func() time.Time { return now })
	exp, queued, err := s.ExpireParcels(t.Context(), trtRender)
	if err != nil || exp != 1 || queued != 1 {
		t.Fatalf("ExpireParcels = %d, %d, %v; want 1, 1", exp, queued, err)
	}
	if got := trtOutbox(t, s); len(got[1]) != 1 || !strings.HasPrefix(got[1][0], fmt.Sprintf("%d|STALE|", NoticeExpiredIdle)) {
		t.Fatalf("queued %v, want the idle notice for STALE", got)
	}
}

// The provider's last refresh of a code (Result.Synced) is kept and
// handed to the schedule, also with answers that do not say it.
func TestSyncedReachesTheSchedule(t *testing.T) {
	s := mustOpen(t, t.TempDir()+"/db")
	ctx := t.Context()
	var got []time.Time
	s.SetSchedule(func(f schedule.Facts, now time.Time) time.Time {
		got = append(got, f.Synced)
		return now.Add(time.Hour)
	})
	trtTrack(t, s, 1, "QQ850419295BR", "")
	at := time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)
	synced := at.Add(-2 * time.Hour)
	c := trtFound("QQ850419295BR", trtEv("PO", tracking.KindPosted, at.Add(-3*time.Hour)))
	c.Result.Synced = synced
	if _, err := s.SaveResults(ctx, 1, []Checked{c}, trtRender); err != nil {
		t.Fatal(err)
	}
	c.Result.Synced = time.Time{}
	if _, err := s.SaveResults(ctx, 2, []Checked{c}, trtRender); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(synced) || !got[1].Equal(synced) {
		t.Fatalf("schedule saw Synced %v, want %v twice", got, synced)
	}
}

// An answer that repeats what is stored (read back with the parcel, not
// re-inserted) stores and queues nothing, even when a provider's event
// key holds the separator the keys are read with.
func TestRepeatedAnswerStoresNothing(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	trtTrack(t, s, 1, "QQ850419295BR", "")
	at := time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)
	odd := trtEv("RO", tracking.KindTransit, at.Add(time.Hour))
	odd.Key = "17track|" + keySep + "|odd"
	c := trtFound("QQ850419295BR", trtEv("PO", tracking.KindPosted, at), odd)
	st, err := s.SaveResults(ctx, 1, []Checked{c}, trtRender)
	if err != nil || st.NewEvents != 2 || st.Queued != 1 {
		t.Fatalf("first answer: %+v, %v", st, err)
	}
	trtOutbox(t, s)
	for pass := int64(2); pass <= 3; pass++ {
		st, err := s.SaveResults(ctx, pass, []Checked{c}, trtRender)
		if err != nil || st.NewEvents != 0 || st.Queued != 0 || st.Found != 1 {
			t.Fatalf("pass %d, the same answer: %+v, %v", pass, st, err)
		}
	}
	if evs, err := s.Events(ctx, "QQ850419295BR"); err != nil || len(evs) != 2 {
		t.Fatalf("%d events stored, %v", len(evs), err)
	}
	if got := trtOutbox(t, s); len(got) != 0 {
		t.Fatalf("queued %v", got)
	}
}
