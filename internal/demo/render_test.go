package demo

import (
	"testing"

	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

func TestRenderEntities(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"},
		{"📦 <b>QQ<i>1</i></b> é", "📦 <b>QQ<i>1</i></b> é"},
		{"<code>/pacotes</code> e /pacotes", "<code>/pacotes</code> e " + `<a class="cmd" href="#" data-cmd="/pacotes">/pacotes</a>`},
		{`<a href="https://x.y/?a=1&amp;b=2">link</a>`, `<a href="https://x.y/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">link</a>`},
		{`<a href="javascript:alert(1)">x</a>`, `<span class="link">x</span>`},
		{`veja https://correios.com.br/x.`, `veja <a href="https://correios.com.br/x" target="_blank" rel="noopener noreferrer">https://correios.com.br/x</a>.`},
		{`<pre><code class="language-go">x &lt; 1</code></pre>`, `<pre data-lang="go"><code>x &lt; 1</code></pre>`},
		{"<tg-spoiler>s</tg-spoiler><u>u</u><s>t</s><blockquote>q</blockquote>", `<span class="spoiler" title="mostrar">s</span><u>u</u><s>t</s><blockquote>q</blockquote>`},
		{"<b>a\n</b>\n", "<b>a\n</b>\n"},
	} {
		plain, ents, err := telegramtest.ParseHTMLEntities(tc.in)
		if err != nil {
			t.Fatalf("ParseHTMLEntities(%q): %v", tc.in, err)
		}
		if got := RenderEntities(plain, ents); got != tc.want {
			t.Errorf("RenderEntities of %q\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	// A person's text: everything escaped, commands linked.
	if got := RenderEntities(`<script>alert("x")</script> /start`, nil); got != `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; <a class="cmd" href="#" data-cmd="/start">/start</a>` {
		t.Errorf("plain text rendered %s", got)
	}
}
