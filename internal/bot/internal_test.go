package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct{ in, cmd, target, args string }{
		{"/start", "start", "", ""},
		{"/Start@RastreioBot QQ850419295BR", "start", "RastreioBot", "QQ850419295BR"},
		{"/add\nQQ850419295BR tênis", "add", "", "QQ850419295BR tênis"},
		{"/add  QQ850419295BR  tênis ", "add", "", "QQ850419295BR  tênis"},
		{"/", "", "", ""},
		{"/@", "", "", ""},
		{"/apagar_meus_dados@bot", "apagar_meus_dados", "bot", ""},
	} {
		cmd, target, args := parseCommand(tc.in)
		if cmd != tc.cmd || target != tc.target || args != tc.args {
			t.Errorf("parseCommand(%q) = %q, %q, %q; want %q, %q, %q", tc.in, cmd, target, args, tc.cmd, tc.target, tc.args)
		}
	}
}

func TestFloodGate(t *testing.T) {
	f := newFloodGate(30, time.Minute)
	t0 := time.Unix(1_000_000, 0)
	// 30 in a minute pass, the 31st is refused with one warning, then silence.
	for i := 0; i < 30; i++ {
		if ok, _ := f.allow(1, t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("message %d refused", i)
		}
	}
	ok, warn := f.allow(1, t0.Add(30*time.Second))
	if ok || !warn {
		t.Fatalf("31st: ok %v warn %v; want refused with a warning", ok, warn)
	}
	if ok, warn := f.allow(1, t0.Add(31*time.Second)); ok || warn {
		t.Fatal("32nd warned again")
	}
	if ok, _ := f.allow(2, t0.Add(31*time.Second)); !ok {
		t.Fatal("another chat refused")
	}
	// A minute after the first, room again.
	if ok, _ := f.allow(1, t0.Add(61*time.Second)); !ok {
		t.Fatal("still refused after the window moved")
	}
	// A steady 20 a minute is never refused.
	g := newFloodGate(DefaultFloodPerMinute, time.Minute)
	for i := 0; i < 200; i++ {
		if ok, _ := g.allow(3, t0.Add(time.Duration(i)*3*time.Second)); !ok {
			t.Fatalf("20/min refused at message %d", i)
		}
	}
	// Idle chats are forgotten.
	for i := 0; i < 5000; i++ {
		g.allow(int64(100+i), t0.Add(time.Hour))
	}
	for i := 0; i < 4096; i++ { // eviction runs every 4096 messages
		g.allow(1, t0.Add(3*time.Hour))
	}
	if len(g.chats) > 10 {
		t.Fatalf("%d chats remembered", len(g.chats))
	}
}

func TestJoinBlocksAndCut(t *testing.T) {
	var blocks []string
	for i := 0; i < 300; i++ {
		blocks = append(blocks, fmt.Sprintf("• <code>X%03d</code> — descrição &amp; mais", i))
	}
	msgs := joinBlocks(blocks, "\n")
	all := strings.Join(msgs, "\n")
	for i := 0; i < 300; i++ {
		if !strings.Contains(all, fmt.Sprintf("X%03d", i)) {
			t.Fatalf("block %d lost", i)
		}
	}
	for _, m := range msgs {
		if telegram.TextLen(m) > telegram.MaxTextLen {
			t.Fatalf("message of %d", telegram.TextLen(m))
		}
		if _, err := telegramtest.ParseHTML(m); err != nil {
			t.Fatalf("split produced bad HTML: %v", err)
		}
	}
	long := strings.Repeat("a &amp; ", 2000)
	cut := joinBlocks([]string{long}, "\n")
	if len(cut) != 1 || telegram.TextLen(cut[0]) > telegram.MaxTextLen {
		t.Fatalf("a long block: %d messages", len(cut))
	}
	if _, err := telegramtest.ParseHTML(cut[0]); err != nil {
		t.Fatalf("cut left half an entity: %v", err)
	}
}

func TestRenderListPages(t *testing.T) {
	var ps []store.Package
	for i := 0; i < 23; i++ {
		ps = append(ps, store.Package{Code: fmt.Sprintf("QQ%09dBR", i), Description: strings.Repeat("<é>", 33), State: "new"})
	}
	pages := renderList(ps, 100, false, time.Now(), false)
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3", len(pages))
	}
	n := 0
	for _, p := range pages {
		n += len(p.markup.InlineKeyboard)
		if telegram.TextLen(p.text) > telegram.MaxTextLen {
			t.Fatalf("page of %d", telegram.TextLen(p.text))
		}
		shown, err := telegramtest.ParseHTML(p.text)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(shown, strings.Repeat("<é>", 33)) {
			t.Fatal("description not shown as typed")
		}
		for _, row := range p.markup.InlineKeyboard {
			for _, b := range row {
				if len(*b.CallbackData) > 64 {
					t.Fatalf("callback data %q too long", *b.CallbackData)
				}
			}
		}
	}
	if n != 23 {
		t.Fatalf("%d button rows, want 23", n)
	}
	if strings.Contains(pages[0].text, "de no máximo") {
		t.Fatal("the cap is shown although far")
	}
	if near := renderList(ps, 25, false, time.Now(), false); !strings.Contains(near[0].text, "23 de no máximo 25") {
		t.Fatal("the cap is not shown when near")
	}
}

func TestShardSpreadsChats(t *testing.T) {
	seen := map[int]int{}
	for i := int64(0); i < 8000; i++ {
		seen[shard(i)]++
		seen[shard(-1000000000000-i)]++
	}
	for i := 0; i < senderShards; i++ {
		if seen[i] < 1000 {
			t.Fatalf("shard %d got %d of 16000 chats", i, seen[i])
		}
	}
}

// A block cut to fit is cut between tags and entities, never inside one,
// and its open tags are closed: Telegram accepts it.
func TestCutHTMLNeverInsideATag(t *testing.T) {
	block := strings.Repeat("<b>negrito &amp; ação</b> <code>QQ850419295BR</code> 🎧 ", 200)
	for max := 1; max < 600; max += 7 {
		out := cutHTML(block, max)
		if n := len(utf16.Encode([]rune(out))); n > max {
			t.Fatalf("max %d: %d units", max, n)
		}
		if _, err := telegramtest.ParseHTML(out); err != nil {
			t.Fatalf("max %d: %q does not parse: %v", max, out, err)
		}
	}
}
