package bot

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/trackcode"
	"github.com/rastreio/rastreio/internal/tracking"
)

// ListPageSize is how many parcels one /pacotes message holds (each has
// a row of buttons).
const ListPageSize = 10

const maxStatusLen = 300

// joinBlocks packs blocks, separated by sep, into as few messages as fit
// telegram.MaxTextLen (measured on the HTML source); a block too long
// alone is cut.
func joinBlocks(blocks []string, sep string) []string {
	var out []string
	var cur strings.Builder
	n := 0
	for _, b := range blocks {
		if telegram.TextLen(b) > telegram.MaxTextLen {
			b = cutHTML(b, telegram.MaxTextLen-10)
		}
		bl := telegram.TextLen(b)
		if n > 0 && n+telegram.TextLen(sep)+bl > telegram.MaxTextLen {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteString(sep)
			n += telegram.TextLen(sep)
		}
		cur.WriteString(b)
		n += bl
	}
	if n > 0 {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// cutHTML shortens Telegram HTML to at most max UTF-16 units (counted
// on the source, never shorter than the text shown): it cuts only
// between tags and entities, never inside one, ends with "…" and closes
// the tags still open, so Telegram accepts what is left.
func cutHTML(s string, max int) string {
	if telegram.TextLen(s) <= max {
		return s
	}
	var open []string // names of the tags open at i
	closing := func() string {
		var b strings.Builder
		for j := len(open) - 1; j >= 0; j-- {
			b.WriteString("</" + open[j] + ">")
		}
		return b.String()
	}
	best := "…"
	n := 0 // UTF-16 units of s[:i]
	for i := 0; i < len(s); {
		// s[:i] ends between tags and entities: a place to cut.
		if tail := "…" + closing(); n+telegram.TextLen(tail) <= max {
			best = s[:i] + tail
		} else if n > max {
			break
		}
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return best
			}
			tag := s[i+1 : i+j]
			name, _, _ := strings.Cut(strings.TrimPrefix(tag, "/"), " ")
			if strings.HasPrefix(tag, "/") {
				if k := len(open) - 1; k >= 0 && open[k] == name {
					open = open[:k]
				}
			} else if !strings.HasSuffix(tag, "/") {
				open = append(open, name)
			}
			n += telegram.TextLen(s[i : i+j+1])
			i += j + 1
		case '&':
			j := strings.IndexByte(s[i:], ';')
			if j < 0 || j > 10 {
				j = 0 // a bare & (not ours to emit): one character
			}
			n += j + 1
			i += j + 1
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			n += telegram.TextLen(s[i : i+size])
			i += size
		}
	}
	return best
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
func statusLines(p store.Package, now time.Time) string {
	var b strings.Builder
	switch {
	case p.LastKind != "" || p.LastStatus != "":
		k := tracking.Kind(p.LastKind)
		ki := message.Info(k)
		b.WriteString(ki.Emoji + " <b>" + esc(ki.Label) + "</b>")
		if p.LastStatus != "" && !message.RepeatsLabel(k, p.LastStatus) {
			b.WriteString(": " + esc(shorten(p.LastStatus, maxStatusLen)))
		}
		if !p.LastEventAt.IsZero() {
			b.WriteString(" · " + message.When(p.LastEventAt, now))
		}
	case p.State == "notfound":
		b.WriteString(statusNotFound)
	case p.State == "invalid":
		b.WriteString(statusInvalid)
	case p.State == "expired":
		b.WriteString(statusExpired)
	default:
		b.WriteString(statusWaiting)
	}
	if !p.CheckedAt.IsZero() {
		b.WriteString("\n<i>Conferido " + message.When(p.CheckedAt, now) + "</i>")
	}
	return b.String()
}

// listPage is one /pacotes message with its buttons.
type listPage struct {
	text   string
	markup tgbotapi.InlineKeyboardMarkup
}

// capNear is how close to the per-chat cap a list must be for /pacotes
// to mention the cap.
func capNear(n, max int) bool { return max > 0 && n >= max-max/10 }

// renderList renders a chat's parcels in pages of at most ListPageSize,
// numbered, each with a "📜 N" history and a "🗑 N" remove button.
func renderList(ps []store.Package, max int, group bool, now time.Time, slowed bool) []listPage {
	header := listTitle(group)
	if capNear(len(ps), max) {
		header += "\n" + capNote(len(ps), max)
	}
	if slowed {
		header += "\n" + slowedText
	}
	var pages []listPage
	var blocks []string
	var rows [][]tgbotapi.InlineKeyboardButton
	n := telegram.TextLen(header)
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
		num := strconv.Itoa(i + 1)
		block := "<b>" + num + ".</b> "
		if p.Description != "" {
			block += "<b>" + esc(p.Description) + "</b> · "
		}
		block += "<code>" + esc(p.Code) + "</code>\n" + statusLines(p, now)
		if len(blocks) == ListPageSize || n+telegram.TextLen(block)+2 > telegram.MaxTextLen-200 {
			flush()
		}
		blocks = append(blocks, block)
		n += telegram.TextLen(block) + 2
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData("📜 "+num, cbHistory+p.Code),
			tgbotapi.NewInlineKeyboardButtonData("🗑 "+num, cbDelete+p.Code),
		))
	}
	flush()
	if len(pages) > 0 {
		pages[len(pages)-1].text += "\n\n" + listFooter
	}
	return pages
}

// HistoryMax is how many events the 📜 history shows: the newest, in one
// message, the earlier ones counted.
const HistoryMax = 30

// renderHistory renders a parcel's history as one message: evs (its
// newest events, oldest first) out of total, the earlier ones counted
// ("… e mais N anteriores"). Events that do not fit in one message are
// left out from the oldest, and counted too.
func renderHistory(p store.Package, evs []store.Event, total int, now time.Time) string {
	header := message.Header("📜", p.Code, p.Description) + "\n<b>Histórico</b>"
	if len(evs) == 0 {
		return header + "\n\n" + historyEmpty + "\n" + statusLines(p, now)
	}
	blocks := make([]string, len(evs))
	for i, e := range evs {
		blocks[i] = message.HistoryLines(e.Event, message.When(e.At, now))
	}
	// From the newest, while they fit with the line counting the others
	// (at least one).
	n, shown := telegram.TextLen(header), 0
	for shown < len(blocks) {
		c := len("\n\n") + telegram.TextLen(blocks[len(blocks)-1-shown])
		if shown > 0 && n+c+telegram.TextLen(historyEarlier(total-shown-1)) > telegram.MaxTextLen {
			break
		}
		n += c
		shown++
	}
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(historyEarlier(total - shown))
	for _, bl := range blocks[len(blocks)-shown:] {
		b.WriteString("\n\n" + bl)
	}
	return b.String()
}

// renderAdded answers a message with codes: every accepted code named,
// renames, codes already there, the cap, mistyped codes.
func renderAdded(res store.AddResult, f trackcode.Findings, max, maxPerson int, group bool, fc firstCheck) []string {
	var blocks []string
	if len(res.Added) > 0 {
		blocks = append(blocks, addedHead(len(res.Added)))
		blocks = append(blocks, items(res.Added)...)
	}
	if len(res.Renamed) > 0 {
		blocks = append(blocks, renamedHead(len(res.Renamed)))
		blocks = append(blocks, items(res.Renamed)...)
	}
	if len(res.Kept) > 0 {
		blocks = append(blocks, keptHead(len(res.Kept), group))
		blocks = append(blocks, items(res.Kept)...)
	}
	if len(res.OverCap) > 0 {
		blocks = append(blocks, "", capText(max, group)+overCapTail, codeLines(res.OverCap))
	}
	if len(res.OverPersonCap) > 0 {
		blocks = append(blocks, "", personCapText(maxPerson)+overCapTail, codeLines(res.OverPersonCap))
	}
	if f.Truncated {
		blocks = append(blocks, "", truncatedText(trackcode.MaxPerMessage))
	}
	if len(f.Mistyped) > 0 {
		blocks = append(blocks, "", mistypedText(f.Mistyped))
	}
	if len(res.Added) > 0 {
		blocks = append(blocks, "", firstStatusText(len(res.Added)-len(res.Current), len(res.Current), fc))
	} else if len(res.Renamed)+len(res.Kept) > 0 {
		blocks = append(blocks, "", seeList)
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
