package bot

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/trackcode"
	"github.com/rastreio/rastreio/internal/tracking"
)

// TestGIFScenesShowTheBotTexts keeps the tutorial animations true: every
// text and button the scenes in gifs/gen.go draw is rendered here by the
// bot's own code and must appear in gen.go (its *bold* and _italic_
// marks aside). When a text changes, change the scene and run
// `go generate ./internal/bot/gifs`.
func TestGIFScenesShowTheBotTexts(t *testing.T) {
	src, err := os.ReadFile("gifs/gen.go")
	if err != nil {
		t.Fatal(err)
	}
	scenes := strings.NewReplacer("*", "", "_", "").Replace(string(src))
	shown := func(html string) []string {
		t.Helper()
		plain, err := telegramtest.ParseHTML(html)
		if err != nil {
			t.Fatalf("%q: %v", html, err)
		}
		var lines []string
		for _, l := range strings.Split(plain, "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		return lines
	}
	var want []string
	// adicionar.gif: the confirmation, then a notification.
	one := store.AddResult{Added: []store.PackageItem{{Code: "QQ850419295BR", Description: "tênis"}}}
	for _, m := range renderAdded(one, trackcode.Findings{}, 100, 200, false, firstCheck{Within: 3 * time.Minute}) {
		want = append(want, shown(m)...)
	}
	want = append(want, shown(message.Header("📦", "QQ850419295BR", "tênis"))...)
	out := message.Info(tracking.KindOutForDelivery)
	want = append(want, out.Emoji+" "+out.Label, "hoje às 08:01")
	for _, b := range message.ParcelButtons("QQ850419295BR").InlineKeyboard[0] {
		want = append(want, b.Text)
	}
	// pacotes.gif: the list, removing its second parcel.
	now := time.Date(2025, 3, 5, 11, 50, 0, 0, brasilia.Zone)
	delivered := message.Info(tracking.KindDelivered)
	ps := []store.Package{
		{Code: "QQ850419295BR", Description: "tênis", LastKind: string(tracking.KindOutForDelivery), LastEventAt: now.Add(-50 * time.Minute), CheckedAt: now},
		{Code: "AM101610575BR", Description: "livro", LastKind: string(tracking.KindDelivered), LastEventAt: now.Add(-21*time.Hour - 15*time.Minute), CheckedAt: now.Add(-20*time.Hour - 48*time.Minute)},
	}
	pages := renderList(ps, 100, false, now, false)
	if len(pages) != 1 || !strings.Contains(pages[0].text, delivered.Label) {
		t.Fatalf("list: %+v", pages)
	}
	want = append(want, shown(pages[0].text)...)
	for _, row := range pages[0].markup.InlineKeyboard {
		for _, b := range row {
			want = append(want, b.Text)
		}
	}
	want = append(want, shown(removedUndoText("AM101610575BR", "livro"))...)
	want = append(want, undoButton)
	for _, w := range want {
		// A long text is one string in gen.go, wrapped when drawn.
		if !strings.Contains(scenes, w) {
			t.Errorf("the tutorial GIFs do not show %q", w)
		}
	}
}
