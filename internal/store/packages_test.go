package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func items(codes ...string) []PackageItem {
	var out []PackageItem
	for i := 0; i+1 < len(codes); i += 2 {
		out = append(out, PackageItem{Code: codes[i], Description: codes[i+1]})
	}
	return out
}

func codesOf(it []PackageItem) []string {
	var out []string
	for _, i := range it {
		out = append(out, i.Code+"="+i.Description)
	}
	return out
}

func eq(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAddPackagesAddRenameKeepCap(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	chat := ChatRef{ID: 10, Kind: "private", Title: "Ana"}

	res, err := s.AddPackages(ctx, chat, items("QQ850419295BR", "tênis", "QH991577104BR", "<b>&"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := codesOf(res.Added); !eq(got, []string{"QQ850419295BR=tênis", "QH991577104BR=<b>&"}) {
		t.Fatalf("Added = %v", got)
	}

	res, err = s.AddPackages(ctx, chat, items("QQ850419295BR", "tênis azul", "QH991577104BR", "", "LE449872154SE", "", "DG049186226BR", "x"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if !eq(codesOf(res.Renamed), []string{"QQ850419295BR=tênis azul"}) ||
		!eq(codesOf(res.Kept), []string{"QH991577104BR=<b>&"}) ||
		!eq(codesOf(res.Added), []string{"LE449872154SE="}) ||
		!eq(res.OverCap, []string{"DG049186226BR"}) {
		t.Fatalf("second add = %+v", res)
	}
	if n := len(res.Accepted()); n != 3 {
		t.Fatalf("Accepted = %d, want 3", n)
	}

	ps, err := s.Packages(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Code+"="+p.Description+"/"+p.State)
		if !p.CheckedAt.IsZero() || !p.LastEventAt.IsZero() {
			t.Fatalf("new parcel has times: %+v", p)
		}
	}
	want := []string{"QQ850419295BR=tênis azul/new", "QH991577104BR=<b>&/new", "LE449872154SE=/new"}
	if !eq(got, want) {
		t.Fatalf("Packages = %v, want %v (in the order added)", got, want)
	}

	// A forwarded message keeps a name already given, names a code that
	// has none, and adds new codes with its text.
	res, err = s.AddPackages(ctx, chat, []PackageItem{
		{Code: "QQ850419295BR", Description: "Segue o pedido", KeepName: true},
		{Code: "LE449872154SE", Description: "Segue o pedido", KeepName: true},
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !eq(codesOf(res.Kept), []string{"QQ850419295BR=tênis azul"}) || !eq(codesOf(res.Renamed), []string{"LE449872154SE=Segue o pedido"}) || len(res.Added) != 0 {
		t.Fatalf("forwarded add = %+v", res)
	}
}

func TestPackagesApartAndRemove(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	if _, err := s.AddPackages(ctx, ChatRef{ID: 1}, items("QQ850419295BR", "meu"), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddPackages(ctx, ChatRef{ID: -2, Kind: "group", Title: "G"}, items("QQ850419295BR", "do grupo", "QH991577104BR", ""), 100); err != nil {
		t.Fatal(err)
	}
	p1, _ := s.Packages(ctx, 1)
	p2, _ := s.Packages(ctx, -2)
	if len(p1) != 1 || p1[0].Description != "meu" || len(p2) != 2 {
		t.Fatalf("chat 1 %+v, chat -2 %+v", p1, p2)
	}
	ok, err := s.RemovePackage(ctx, 1, "QQ850419295BR")
	if err != nil || !ok {
		t.Fatalf("remove = %v, %v", ok, err)
	}
	ok, _ = s.RemovePackage(ctx, 1, "QQ850419295BR")
	if ok {
		t.Fatal("removed twice")
	}
	if p, err := s.TrackedPackage(ctx, -2, "QQ850419295BR"); err != nil || p.Description != "do grupo" {
		t.Fatalf("group lost its code: %+v %v", p, err)
	}
	if _, err := s.TrackedPackage(ctx, 1, "QQ850419295BR"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TrackedPackage after remove: %v", err)
	}
	chats, codes, err := s.Counts(ctx)
	if err != nil || chats != 2 || codes != 2 {
		t.Fatalf("Counts = %d, %d, %v", chats, codes, err)
	}
}

func TestPackagesShowTrackerDataAndHistory(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	if _, err := s.AddPackages(ctx, ChatRef{ID: 1}, items("QQ850419295BR", "tênis"), 100); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 5, 17, 32, 0, 0, time.UTC)
	checked := at.Add(time.Hour)
	db := s.db
	if _, err := db.Exec(`UPDATE parcels SET state='final', last_kind='delivered', last_status='Objeto entregue ao destinatário',
		last_event_at=?, checked_at=?, checked_by='siterastreio' WHERE code='QQ850419295BR'`, at.Unix(), checked.Unix()); err != nil {
		t.Fatal(err)
	}
	for i, ev := range []struct {
		key, kind string
		at        time.Time
	}{{"b", "delivered", at}, {"a", "posted", at.Add(-48 * time.Hour)}, {"c", "out_for_delivery", at.Add(-time.Hour)}} {
		if _, err := db.Exec(`INSERT INTO events (code, event_key, kind, description, detail, location, happened_at, created_at)
			VALUES ('QQ850419295BR', ?, ?, ?, '', 'SÃO PAULO/SP', ?, 0)`, ev.key, ev.kind, "ev"+ev.key, ev.at.Unix()); err != nil {
			t.Fatal(i, err)
		}
	}
	p, err := s.TrackedPackage(ctx, 1, "QQ850419295BR")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != "final" || p.LastKind != "delivered" || !p.LastEventAt.Equal(at) || !p.CheckedAt.Equal(checked) || p.CheckedBy != "siterastreio" {
		t.Fatalf("package = %+v", p)
	}
	h, err := s.Events(ctx, "QQ850419295BR")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Description != "eva" || h[1].Description != "evc" || h[2].Description != "evb" || h[2].Location != "SÃO PAULO/SP" {
		t.Fatalf("history not oldest first: %+v", h)
	}
}

func TestAddRevivesExpiredParcel(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	if _, err := s.AddPackages(ctx, ChatRef{ID: 1}, items("QQ850419295BR", ""), 100); err != nil {
		t.Fatal(err)
	}
	s.db.Exec("UPDATE parcels SET state='expired', next_pass=9, misses=4")
	s.RemovePackage(ctx, 1, "QQ850419295BR")
	if _, err := s.AddPackages(ctx, ChatRef{ID: 2}, items("QQ850419295BR", ""), 100); err != nil {
		t.Fatal(err)
	}
	var state string
	var next, misses int
	s.db.QueryRow("SELECT state, next_pass, misses FROM parcels").Scan(&state, &next, &misses)
	if state != "new" || next != 0 || misses != 0 {
		t.Fatalf("re-added expired parcel: %s %d %d", state, next, misses)
	}
	// An active parcel keeps its state when another chat adds it.
	s.db.Exec("UPDATE parcels SET state='active', misses=2")
	s.AddPackages(ctx, ChatRef{ID: 3}, items("QQ850419295BR", ""), 100)
	s.db.QueryRow("SELECT state, misses FROM parcels").Scan(&state, &misses)
	if state != "active" || misses != 2 {
		t.Fatalf("active parcel reset: %s %d", state, misses)
	}
}

// Removing a code drops the notifications queued for it in that chat only.
func TestRemovePackageDropsItsQueuedNotifications(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	for _, c := range []ChatRef{{ID: 1}, {ID: 2}} {
		if _, err := s.AddPackages(ctx, c, items("QQ850419295BR", "x", "QH991577104BR", "y"), 100); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range [][2]any{{1, "QQ850419295BR"}, {1, "QH991577104BR"}, {2, "QQ850419295BR"}} {
		if _, err := s.db.Exec("INSERT INTO outbox (chat_id, code, body, created_at) VALUES (?, ?, 'oi', 0)", r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RemovePackage(ctx, 1, "QQ850419295BR"); err != nil {
		t.Fatal(err)
	}
	var left []string
	rows, err := s.db.Query("SELECT chat_id || ':' || code FROM outbox ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		rows.Scan(&v)
		left = append(left, v)
	}
	if strings.Join(left, ",") != "1:QH991577104BR,2:QQ850419295BR" {
		t.Fatalf("outbox after remove = %v", left)
	}
}

// Who added a code is stored as the sender's user id only; the per-person
// cap counts that id's codes across chats, apart from each chat's cap, and
// a group keeps the id through its move to a supergroup.
func TestAddPackagesAsPersonCapAndAddedBy(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	const ana, bia = 501, 502
	o := AddOptions{By: ana, MaxPerChat: 10, MaxPerPerson: 3}
	if _, err := s.AddPackagesAs(ctx, ChatRef{ID: ana, Kind: "private"}, items("QQ850419295BR", "", "QH991577104BR", ""), o); err != nil {
		t.Fatal(err)
	}
	group := ChatRef{ID: -9, Kind: "group", Title: "Casa"}
	res, err := s.AddPackagesAs(ctx, group, items("LE449872154SE", "a", "DG049186226BR", "b", "QQ850419295BR", "c"), o)
	if err != nil {
		t.Fatal(err)
	}
	if !eq(codesOf(res.Added), []string{"LE449872154SE=a"}) || !eq(res.OverPersonCap, []string{"DG049186226BR", "QQ850419295BR"}) || len(res.OverCap) != 0 {
		t.Fatalf("third code of a capped person: %+v", res)
	}
	// Renaming is never refused; another person, and nobody (a message
	// sent as the group), are not counted against ana.
	res, err = s.AddPackagesAs(ctx, ChatRef{ID: ana, Kind: "private"}, items("QQ850419295BR", "novo"), o)
	if err != nil || len(res.Renamed) != 1 {
		t.Fatalf("rename by a capped person = %+v, %v", res, err)
	}
	res, err = s.AddPackagesAs(ctx, group, items("DG049186226BR", "b"), AddOptions{By: bia, MaxPerChat: 10, MaxPerPerson: 3})
	if err != nil || len(res.Added) != 1 {
		t.Fatalf("another person = %+v, %v", res, err)
	}
	res, err = s.AddPackagesAs(ctx, group, items("QQ850419295BR", "c"), AddOptions{MaxPerChat: 10, MaxPerPerson: 3})
	if err != nil || len(res.Added) != 1 {
		t.Fatalf("nobody to name = %+v, %v", res, err)
	}
	if err := s.MigrateChat(ctx, -9, -1000000000009); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"LE449872154SE": ana, "DG049186226BR": bia, "QQ850419295BR": 0}
	ps, err := s.Packages(ctx, -1000000000009)
	if err != nil || len(ps) != 3 {
		t.Fatalf("packages = %v, %v", ps, err)
	}
	for _, p := range ps {
		if p.AddedBy != want[p.Code] {
			t.Errorf("%s added by %d, want %d", p.Code, p.AddedBy, want[p.Code])
		}
	}
	// Only the id: the column is an integer, nothing else about the person.
	var typ string
	if err := s.db.QueryRow("SELECT typeof(added_by) FROM tracked WHERE code = 'LE449872154SE'").Scan(&typ); err != nil || typ != "integer" {
		t.Fatalf("added_by stored as %q, %v", typ, err)
	}
	// Removing frees a place under the person's cap.
	if _, err := s.RemovePackage(ctx, ana, "QH991577104BR"); err != nil {
		t.Fatal(err)
	}
	res, err = s.AddPackagesAs(ctx, ChatRef{ID: ana, Kind: "private"}, items("DG049186226BR", ""), o)
	if err != nil || len(res.Added) != 1 {
		t.Fatalf("after a removal = %+v, %v", res, err)
	}
}
