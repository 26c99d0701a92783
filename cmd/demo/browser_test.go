//go:build browser

// The demo in a real browser: `make test-browser` drives Debian's
// chromium headless (chromedp) through the whole story on the page and
// saves a screenshot of each step (SCREENSHOTS, default bin/screenshots).
// Kept behind the browser build tag so `make test` needs no browser.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

type page struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	shot int
}

func (p *page) run(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("browser: evaluating %s: %v", expr, err)
	}
	return v
}

// screenshot saves the viewport as NN-name.png.
func (p *page) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("browser: screenshot: %v", err)
	}
	p.shot++
	path := filepath.Join(p.dir, fmt.Sprintf("%02d-%s.png", p.shot, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot %s", path)
}

// waitJS waits until the JavaScript expression is true.
func (p *page) waitJS(what, expr string, timeout time.Duration) time.Duration {
	p.t.Helper()
	began := time.Now()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		dump, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector(".pane:not([hidden])").innerText`))
		p.screenshot("failed")
		p.t.Fatalf("waited %v for %s: %v\nthe chat shows:\n%s", timeout, what, err, dump)
	}
	return time.Since(began)
}

// send types text in the text box and presses Enter.
func (p *page) send(text string) {
	p.t.Helper()
	p.run(chromedp.Click(chromedp.ID("input")), chromedp.SendKeys(chromedp.ID("input"), text+kb.Enter))
}

// botSays is a JavaScript test: the visible chat has a bot message whose
// text contains every one of words (case-insensitive), after skip bot messages.
func botSays(skip int, words ...string) string {
	var conds []string
	for _, w := range words {
		conds = append(conds, fmt.Sprintf("t.includes(%q)", strings.ToLower(w)))
	}
	return fmt.Sprintf(`[...document.querySelectorAll(".pane:not([hidden]) .msg.in")].slice(%d).some(m => { const t = m.innerText.toLowerCase(); return %s; })`,
		skip, strings.Join(conds, " && "))
}

const botCount = `document.querySelectorAll(".pane:not([hidden]) .msg.in").length`

func (p *page) count() int {
	return eval[int](p, botCount)
}

// button is the JavaScript for the visible chat's last inline button whose text starts with prefix.
func button(prefix string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(".pane:not([hidden]) .keyboard button")].filter(b => b.textContent.startsWith(%q)).pop()`, prefix)
}

// trashCount is the JavaScript for the number of 🗑 buttons in the visible chat.
const trashCount = `[...document.querySelectorAll(".pane:not([hidden]) .keyboard button")].filter(b => b.textContent.startsWith("🗑")).length`

func (p *page) press(prefix string) {
	p.t.Helper()
	p.waitJS("button "+prefix, "!!"+button(prefix), 10*time.Second)
	eval[bool](p, button(prefix)+".click(), true")
}

func TestBrowserStory(t *testing.T) {
	exe := buildDemo(t)
	d := startDemo(t, exe, "DEMO_PASS_INTERVAL=5s")
	t.Logf("demo ready in %v", d.Ready.Round(time.Millisecond))

	dir := os.Getenv("SCREENSHOTS")
	if dir == "" {
		dir = "../../bin/screenshots"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1000, 760),
		chromedp.Flag("lang", "pt-BR"),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	p := &page{t: t, ctx: ctx, dir: dir}

	// The page, before anything is sent: codes to try, an empty chat.
	p.run(chromedp.Navigate(d.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".code-chip")))
	p.waitJS("the event stream", `document.body.classList.contains("ready")`, 10*time.Second)
	codes := eval[string](p, `document.getElementById("try").innerText`)
	if !strings.Contains(codes, "QQ850419295BR") {
		t.Fatalf("codes to try: %q", codes)
	}
	p.screenshot("page")

	// /start, typed and sent with Enter.
	p.send("/start")
	p.waitJS("the welcome", botSays(0, "/pacotes"), 15*time.Second)
	p.screenshot("start")

	// A code with a note, and the confirmation naming it.
	n := p.count()
	p.send("QQ850419295BR tênis")
	p.waitJS("the confirmation", botSays(n, "QQ850419295BR"), 15*time.Second)
	p.screenshot("confirmation")

	// The tracker's notifications: the first status, then up to delivered.
	n = p.count()
	first := p.waitJS("the first status", botSays(n, "QQ850419295BR", "tênis"), 30*time.Second)
	t.Logf("first status %v after the confirmation", first.Round(time.Second))
	p.screenshot("first-status")
	delivered := p.waitJS("delivered", botSays(n, "QQ850419295BR", "entregue"), 150*time.Second)
	t.Logf("delivered %v after the first status", delivered.Round(time.Second))
	notes := eval[int](p, fmt.Sprintf(`[...document.querySelectorAll(".pane:not([hidden]) .msg.in")].slice(%d).filter(m => m.innerText.includes("QQ850419295BR")).length`, n))
	if notes < 3 {
		t.Errorf("%d notifications from the first status to delivered, want the journey's steps (at least 3)", notes)
	}
	p.screenshot("delivered")

	// The command menu published by setMyCommands.
	p.run(chromedp.Click(chromedp.ID("menu-button")))
	p.waitJS("the command menu", `[...document.querySelectorAll("#menu .menu-item")].some(i => i.textContent.includes("/pacotes"))`, 5*time.Second)
	p.screenshot("menu")
	p.run(chromedp.Click(chromedp.ID("menu-button")))

	// /pacotes, then 📜 (history) and 🗑 (stop tracking).
	n = p.count()
	p.send("/pacotes")
	p.waitJS("the list", botSays(n, "QQ850419295BR", "tênis"), 15*time.Second)
	p.waitJS("the list's buttons", "!!"+button("🗑"), 5*time.Second)
	p.screenshot("pacotes")
	n = p.count()
	p.press("📜")
	p.waitJS("the history", botSays(n, "QQ850419295BR", "entregue"), 15*time.Second)
	p.screenshot("history")
	// 🗑: the list loses its buttons (an edit) or the bot confirms.
	n = p.count()
	trash := eval[int](p, trashCount)
	p.press("🗑")
	p.waitJS("the removal", fmt.Sprintf("%s < %d || %s", trashCount, trash, botSays(n, "QQ850419295BR")), 15*time.Second)
	p.screenshot("removed")

	// /gif: the tutorial animations, shown as images.
	p.send("/gif")
	p.waitJS("the GIFs", `[...document.querySelectorAll(".pane:not([hidden]) img.animation")].some(i => i.complete && i.naturalWidth > 0)`, 20*time.Second)
	p.run(chromedp.Sleep(500 * time.Millisecond))
	p.screenshot("gif")

	// The group: the bot sees only commands.
	p.run(chromedp.Click(chromedp.CSS(`.chat-item[data-chat="-2001"]`)))
	p.waitJS("the group", `document.getElementById("chat-title").textContent === "Família"`, 5*time.Second)
	p.send("alguém viu meu pacote?")
	p.waitJS("the privacy note", `!!document.querySelector(".pane:not([hidden]) .msg.out .bubble + .unseen, .pane:not([hidden]) .unseen")`, 5*time.Second)
	p.send("/add DG049186226BR livros")
	p.waitJS("the group's confirmation", botSays(0, "DG049186226BR"), 15*time.Second)
	n = p.count()
	p.waitJS("the group's first status", botSays(n, "DG049186226BR", "livros"), 30*time.Second)
	p.screenshot("group")
	// Erasing the group's data: only administrators may, and the person
	// at the page is the group's creator.
	n = p.count()
	p.send("/apagar_meus_dados")
	p.waitJS("the erase question", botSays(n, "tem certeza"), 15*time.Second)
	p.press("🗑 Sim")
	p.waitJS("the group erased", botSays(n, "apaguei tudo deste grupo"), 15*time.Second)
	p.screenshot("group-erased")

	// A phone-sized screen: the switcher replaces the sidebar.
	p.run(chromedp.EmulateViewport(390, 760))
	p.waitJS("the switcher", `getComputedStyle(document.querySelector(".switcher")).display === "flex"`, 5*time.Second)
	p.run(chromedp.Click(chromedp.CSS(`.switch[data-chat="1001"]`)), chromedp.Sleep(300*time.Millisecond))
	p.screenshot("phone-private")
}

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			if path := filepath.Join(dir, name); fileExists(path) {
				return path
			}
		}
	}
	t.Fatal("no chromium: run .ci/install-browser (apt-get install chromium fonts-noto-color-emoji)")
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
