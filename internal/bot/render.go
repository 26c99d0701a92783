package bot

import (
	"strconv"
	"strings"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/trackcode"
	"github.com/rastreio/rastreio/internal/tracking"
)

// MaxMessageLen is the budget of one message, a little under Telegram's
// 4096 (counted on the HTML source, which is never shorter than the
// text shown).
const MaxMessageLen = 4000

// ListPageSize is how many parcels one /pacotes message holds (each has
// a row of buttons).
const ListPageSize = 10

const maxStatusLen = 300

func textLen(s string) int { return len(utf16.Encode([]rune(s))) }

// joinBlocks packs blocks, separated by sep, into as few messages as fit
// MaxMessageLen; a block too long alone is cut.
func joinBlocks(blocks []string, sep string) []string {
	var out []string
	var cur strings.Builder
	n := 0
	for _, b := range blocks {
		if textLen(b) > MaxMessageLen {
			b = cutText(b, MaxMessageLen-10)
		}
		bl := textLen(b)
		if n > 0 && n+textLen(sep)+bl > MaxMessageLen {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteString(sep)
			n += textLen(sep)
		}
		cur.WriteString(b)
		n += bl
	}
	if n > 0 {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// cutText shortens plain (already escaped, tag-free at the cut) text.
func cutText(s string, max int) string {
	r := []rune(s)
	for textLen(string(r)) > max {
		r = r[:len(r)-len(r)/10-1]
	}
	// Never leave half an entity (&amp;) at the end.
	out := string(r)
	if i := strings.LastIndexByte(out, '&'); i >= 0 && !strings.Contains(out[i:], ";") {
		out = out[:i]
	}
	return out + "…"
}

func shorten(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

// statusLines renders a parcel's last known status (from the tracker's
// columns) and when and where it was checked.
func statusLines(p store.Package) string {
	var b strings.Builder
	switch {
	case p.LastKind != "" || p.LastStatus != "":
		ki := message.Info(tracking.Kind(p.LastKind))
		b.WriteString(ki.Emoji + " <b>" + esc(ki.Label) + "</b>")
		if p.LastStatus != "" && !strings.EqualFold(p.LastStatus, ki.Label) {
			b.WriteString(": " + esc(shorten(p.LastStatus, maxStatusLen)))
		}
		if !p.LastEventAt.IsZero() {
			b.WriteString(" · " + message.FormatTime(p.LastEventAt))
		}
	case p.State == "notfound":
		b.WriteString("🔎 Ainda não aparece no rastreio; sigo procurando")
	case p.State == "invalid":
		b.WriteString("❌ O rastreio diz que este código não existe")
	case p.State == "expired":
		b.WriteString("⌛ Não é mais acompanhado")
	default:
		b.WriteString("⏳ Aguardando a primeira verificação")
	}
	if !p.CheckedAt.IsZero() {
		b.WriteString("\n<i>Verificado em " + message.FormatTime(p.CheckedAt))
		if p.CheckedBy != "" {
			b.WriteString(" via " + esc(providerName(p.CheckedBy)))
		}
		b.WriteString("</i>")
	}
	return b.String()
}

// listPage is one /pacotes message with its buttons.
type listPage struct {
	text   string
	markup tgbotapi.InlineKeyboardMarkup
}

// renderList renders a chat's parcels in pages of at most ListPageSize,
// each parcel with a 📜 history and a 🗑 remove button.
func renderList(ps []store.Package, max int, group bool) []listPage {
	title := "📦 <b>Seus pacotes</b>"
	if group {
		title = "📦 <b>Pacotes do grupo</b>"
	}
	header := title + " (" + strconv.Itoa(len(ps)) + " de " + strconv.Itoa(max) + ")"
	var pages []listPage
	var blocks []string
	var rows [][]tgbotapi.InlineKeyboardButton
	n := textLen(header)
	flush := func() {
		if len(blocks) == 0 {
			return
		}
		text := strings.Join(blocks, "\n\n")
		if len(pages) == 0 {
			text = header + "\n\n" + text
		}
		pages = append(pages, listPage{text: text, markup: tgbotapi.NewInlineKeyboardMarkup(rows...)})
		blocks, rows, n = nil, nil, 0
	}
	for i, p := range ps {
		block := "<b>" + strconv.Itoa(i+1) + ".</b> <code>" + esc(p.Code) + "</code>"
		if p.Description != "" {
			block += " — " + esc(p.Description)
		}
		block += "\n" + statusLines(p)
		if len(blocks) == ListPageSize || n+textLen(block)+2 > MaxMessageLen-200 {
			flush()
		}
		blocks = append(blocks, block)
		n += textLen(block) + 2
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData("📜 "+p.Code, cbHistory+p.Code),
			tgbotapi.NewInlineKeyboardButtonData("🗑 "+p.Code, cbDelete+p.Code),
		))
	}
	flush()
	if len(pages) > 0 {
		pages[len(pages)-1].text += "\n\n📜 histórico · 🗑 parar de acompanhar"
	}
	return pages
}

// renderHistory renders a parcel's stored events, oldest first.
func renderHistory(p store.Package, evs []store.Event) []string {
	header := "📜 <b>Histórico de</b> <code>" + esc(p.Code) + "</code>"
	if p.Description != "" {
		header += " — " + esc(p.Description)
	}
	if len(evs) == 0 {
		return []string{header + "\n\nAinda não há movimentações registradas. " + statusLines(p) +
			"\n\nAviso aqui assim que aparecer a primeira."}
	}
	blocks := []string{header}
	for _, e := range evs {
		ki := message.Info(e.Kind)
		title := e.Description
		if title == "" {
			title = ki.Label
		}
		b := ki.Emoji + " <b>" + esc(shorten(title, maxStatusLen)) + "</b>"
		if e.Detail != "" {
			b += "\n<i>" + esc(shorten(e.Detail, maxStatusLen)) + "</i>"
		}
		b += "\n"
		if e.Location != "" {
			b += esc(e.Location) + " · "
		}
		b += message.FormatTime(e.At)
		blocks = append(blocks, b)
	}
	return joinBlocks(blocks, "\n\n")
}

// renderAdded answers a message with codes: every accepted code named,
// renames, codes already there, the cap, mistyped codes.
func renderAdded(res store.AddResult, f trackcode.Findings, max int) []string {
	var blocks []string
	if len(res.Added) > 0 {
		blocks = append(blocks, "✅ "+plural(len(res.Added), "Pronto! Vou acompanhar:", "Pronto! Vou acompanhar estes:"))
		blocks = append(blocks, items(res.Added)...)
	}
	if len(res.Renamed) > 0 {
		blocks = append(blocks, "✏️ "+plural(len(res.Renamed), "Descrição atualizada:", "Descrições atualizadas:"))
		blocks = append(blocks, items(res.Renamed)...)
	}
	if len(res.Kept) > 0 {
		blocks = append(blocks, "📌 "+plural(len(res.Kept), "Já estava na sua lista:", "Já estavam na sua lista:"))
		blocks = append(blocks, items(res.Kept)...)
	}
	if len(res.OverCap) > 0 {
		blocks = append(blocks, "", capText(max)+"\nFicaram de fora:")
		for _, c := range res.OverCap {
			blocks = append(blocks, "• <code>"+esc(c)+"</code>")
		}
	}
	if f.Truncated {
		blocks = append(blocks, "", "ℹ️ Li só os "+strconv.Itoa(trackcode.MaxPerMessage)+" primeiros códigos da mensagem; mande os outros em seguida.")
	}
	if len(f.Mistyped) > 0 {
		blocks = append(blocks, "", mistypedText(f.Mistyped))
	}
	if len(res.Added) > 0 {
		blocks = append(blocks, "", firstStatus)
	} else if len(res.Renamed)+len(res.Kept) > 0 {
		blocks = append(blocks, "", "Veja tudo em /pacotes.")
	}
	return joinBlocks(blocks, "\n")
}

func items(its []store.PackageItem) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = item(it.Code, it.Description)
	}
	return out
}
