package telegramtest_test

import (
	"bytes"
	"reflect"
	"sync"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

func TestParseHTMLEntities(t *testing.T) {
	type ent = tgbotapi.MessageEntity
	for _, tc := range []struct {
		in, plain string
		want      []ent
	}{
		{"sem nada", "sem nada", nil},
		// 📦 is two UTF-16 units: offsets count them as Telegram does.
		{"📦 <b>QQ<i>1</i></b> é", "📦 QQ1 é", []ent{{Type: "bold", Offset: 3, Length: 3}, {Type: "italic", Offset: 5, Length: 1}}},
		{`<a href="https://x.y/?a=1&amp;b=2">link</a>`, "link", []ent{{Type: "text_link", Offset: 0, Length: 4, URL: "https://x.y/?a=1&b=2"}}},
		{`<pre><code class="language-go">x := 1</code></pre>`, "x := 1", []ent{{Type: "pre", Offset: 0, Length: 6, Language: "go"}}},
		{"<code>a</code><u>b</u><s>c</s><tg-spoiler>d</tg-spoiler>", "abcd", []ent{
			{Type: "code", Offset: 0, Length: 1}, {Type: "underline", Offset: 1, Length: 1},
			{Type: "strikethrough", Offset: 2, Length: 1}, {Type: "spoiler", Offset: 3, Length: 1}}},
		{"<blockquote expandable>q</blockquote><b></b>&lt;", "q<", []ent{{Type: "expandable_blockquote", Offset: 0, Length: 1}}},
	} {
		plain, ents, err := telegramtest.ParseHTMLEntities(tc.in)
		if err != nil || plain != tc.plain || !reflect.DeepEqual(ents, tc.want) {
			t.Errorf("ParseHTMLEntities(%q) = %q, %+v, %v; want %q, %+v", tc.in, plain, ents, err, tc.plain, tc.want)
		}
	}
}

func TestPushFromUserPrivacyMode(t *testing.T) {
	fake := telegramtest.New(t)
	for _, tc := range []struct {
		chat      int64
		text      string
		delivered bool
	}{
		{7, "QQ850419295BR tênis", true},
		{7, "/start", true},
		{-100, "QQ850419295BR tênis", false},
		{-100, "/add QQ850419295BR tênis", true},
		{-100, "/pacotes@" + telegramtest.BotUserName, true},
		{-100, "/pacotes@OutroBot", false},
		{-100, "/", false},
	} {
		before := fake.Pending()
		m, ok := fake.PushFromUser(tc.chat, 7, tc.text)
		if ok != tc.delivered || m.Text != tc.text || m.Chat.ID != tc.chat || m.From.ID != 7 {
			t.Errorf("PushFromUser(%d, %q) = %+v, %v; want delivered %v", tc.chat, tc.text, m, ok, tc.delivered)
		}
		if got := fake.Pending() - before; (got == 1) != tc.delivered {
			t.Errorf("PushFromUser(%d, %q) queued %d updates", tc.chat, tc.text, got)
		}
	}
}

func TestObserverAndKeptFiles(t *testing.T) {
	fake := telegramtest.New(t)
	fake.KeepFiles(true)
	var mu sync.Mutex
	var seen []telegramtest.Call
	fake.SetObserver(func(c telegramtest.Call) {
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
	})
	c := newClient(t, fake)
	if _, err := c.SendHTML(5, "<b>oi</b>"); err != nil {
		t.Fatal(err)
	}
	gif := []byte("GIF89a bytes")
	a := tgbotapi.NewAnimation(5, tgbotapi.FileBytes{Name: "t.gif", Bytes: gif})
	m, err := c.Send(a)
	if err != nil {
		t.Fatal(err)
	}
	data, name, ok := fake.FileData(m.Animation.FileID)
	if !ok || name != "t.gif" || !bytes.Equal(data, gif) {
		t.Fatalf("FileData = %q, %q, %v", data, name, ok)
	}
	mu.Lock()
	defer mu.Unlock()
	var methods []string
	for _, c := range seen {
		methods = append(methods, c.Method)
	}
	if !reflect.DeepEqual(methods, []string{"getMe", "sendMessage", "sendAnimation"}) {
		t.Fatalf("observed %v", methods)
	}
	if s := seen[1]; s.Status != 200 || s.Text != "oi" || len(s.Entities) != 1 || s.Entities[0].Type != "bold" || s.MessageID == 0 {
		t.Fatalf("observed sendMessage %+v", s)
	}
	if s := seen[2]; s.FileID != m.Animation.FileID {
		t.Fatalf("observed sendAnimation FileID %q, want %q", s.FileID, m.Animation.FileID)
	}
}
