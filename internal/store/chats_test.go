package store

import (
	"errors"
	"testing"
)

func TestTouchAndPauseChat(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	if err := s.TouchChat(ctx, ChatRef{ID: 5, Kind: "private", Title: "Ana"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetChat(ctx, 5)
	if err != nil || c.Kind != "private" || c.Title != "Ana" || !c.PausedAt.IsZero() {
		t.Fatalf("chat = %+v, %v", c, err)
	}
	if err := s.PauseChat(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetChat(ctx, 5); c.PausedAt.IsZero() {
		t.Fatal("not paused")
	}
	if err := s.TouchChat(ctx, ChatRef{ID: 5, Kind: "private", Title: "Ana"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetChat(ctx, 5); !c.PausedAt.IsZero() {
		t.Fatal("writing again did not un-pause")
	}
	// Adding codes un-pauses too.
	s.PauseChat(ctx, 5)
	s.AddPackages(ctx, ChatRef{ID: 5}, items("QQ850419295BR", ""), 10)
	if c, _ := s.GetChat(ctx, 5); !c.PausedAt.IsZero() {
		t.Fatal("adding a code did not un-pause")
	}
	if _, err := s.GetChat(ctx, 6); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown chat: %v", err)
	}
}

func TestMigrateChat(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	const from, to = -100, -1001234567890
	s.AddPackages(ctx, ChatRef{ID: from, Kind: "group", Title: "Família"}, items("QQ850419295BR", "velho", "QH991577104BR", "presente"), 100)
	if _, err := s.db.Exec("INSERT INTO outbox (chat_id, code, body, created_at) VALUES (?, 'QQ850419295BR', 'x', 0)", from); err != nil {
		t.Fatal(err)
	}
	// The supergroup already tracks one code with its own description.
	s.AddPackages(ctx, ChatRef{ID: to, Kind: "supergroup", Title: "Família"}, items("QQ850419295BR", "novo"), 100)

	if err := s.MigrateChat(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	if err := s.MigrateChat(ctx, from, to); err != nil { // the second service message
		t.Fatal(err)
	}
	if _, err := s.GetChat(ctx, from); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old chat still there: %v", err)
	}
	ps, _ := s.Packages(ctx, to)
	got := map[string]string{}
	for _, p := range ps {
		got[p.Code] = p.Description
	}
	if len(got) != 2 || got["QQ850419295BR"] != "novo" || got["QH991577104BR"] != "presente" {
		t.Fatalf("merged = %v", got)
	}
	var n int
	s.db.QueryRow("SELECT count(*) FROM outbox WHERE chat_id = ?", to).Scan(&n)
	if n != 1 {
		t.Fatalf("outbox rows moved = %d, want 1", n)
	}
	// Plain move into a new id.
	s.AddPackages(ctx, ChatRef{ID: -7, Kind: "group"}, items("LE449872154SE", "x"), 100)
	if err := s.MigrateChat(ctx, -7, -1007); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetChat(ctx, -1007)
	if err != nil || c.Kind != "supergroup" {
		t.Fatalf("new chat = %+v, %v", c, err)
	}
	if ps, _ := s.Packages(ctx, -1007); len(ps) != 1 || ps[0].Description != "x" {
		t.Fatalf("moved = %+v", ps)
	}
}

func TestDeleteChatData(t *testing.T) {
	s := mustOpen(t, "")
	ctx := t.Context()
	s.AddPackages(ctx, ChatRef{ID: 1}, items("QQ850419295BR", "só meu", "QH991577104BR", "nosso"), 100)
	s.AddPackages(ctx, ChatRef{ID: 2}, items("QH991577104BR", "do outro"), 100)
	db := s.db
	db.Exec("INSERT INTO events (code, event_key, happened_at, created_at) VALUES ('QQ850419295BR', 'k', 0, 0), ('QH991577104BR', 'k', 0, 0)")
	db.Exec("INSERT INTO outbox (chat_id, body, created_at) VALUES (1, 'x', 0), (2, 'y', 0)")

	n, err := s.DeleteChatData(ctx, 1)
	if err != nil || n != 2 {
		t.Fatalf("DeleteChatData = %d, %v", n, err)
	}
	count := func(q string) int {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for q, want := range map[string]int{
		"SELECT count(*) FROM chats WHERE id = 1":                   0,
		"SELECT count(*) FROM tracked WHERE chat_id = 1":            0,
		"SELECT count(*) FROM outbox WHERE chat_id = 1":             0,
		"SELECT count(*) FROM parcels WHERE code = 'QQ850419295BR'": 0,
		"SELECT count(*) FROM events WHERE code = 'QQ850419295BR'":  0,
		"SELECT count(*) FROM parcels WHERE code = 'QH991577104BR'": 1,
		"SELECT count(*) FROM events WHERE code = 'QH991577104BR'":  1,
		"SELECT count(*) FROM tracked WHERE chat_id = 2":            1,
		"SELECT count(*) FROM outbox WHERE chat_id = 2":             1,
	} {
		if got := count(q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
}

func TestManualCheckpoint(t *testing.T) {
	path := t.TempDir() + "/m.db"
	s, err := Open(t.Context(), path, ManualCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.db.QueryRow("PRAGMA wal_autocheckpoint").Scan(&n); err != nil || n != 0 {
		t.Fatalf("wal_autocheckpoint = %d, %v; want 0", n, err)
	}
	for i := 0; i < 50; i++ {
		s.AddPackages(t.Context(), ChatRef{ID: int64(i + 1)}, items("QQ850419295BR", "x"), 10)
	}
	var busy, logFrames, done int
	if err := s.db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done); err != nil || logFrames == 0 || done != logFrames {
		t.Fatalf("checkpoint: busy %d, frames %d, checkpointed %d, %v", busy, logFrames, done, err)
	}
	if err := s.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	plain := mustOpen(t, "")
	if err := plain.db.QueryRow("PRAGMA wal_autocheckpoint").Scan(&n); err != nil || n != 1000 {
		t.Fatalf("default wal_autocheckpoint = %d, want 1000", n)
	}
}
