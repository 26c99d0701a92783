package message

import (
	"strconv"
	"strings"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
)

// When writes t for people, relative to now, in Brasília time: "hoje às
// 08:01", "ontem às 18:40", "04/03 às 14:35", and "04/03/2025 às 14:35"
// when t is in another year than now.
func When(t, now time.Time) string {
	t, now = t.In(brasilia.Zone), now.In(brasilia.Zone)
	hm := t.Format("15:04")
	ty, tm, td := t.Date()
	ny, nm, nd := now.Date()
	switch {
	case ty == ny && tm == nm && td == nd:
		return "hoje às " + hm
	case sameDay(t, now.AddDate(0, 0, -1)):
		return "ontem às " + hm
	case ty == ny:
		return t.Format("02/01") + " às " + hm
	}
	return t.Format("02/01/2006") + " às " + hm
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// Notifications wait in the outbox, sometimes for days (a paused chat),
// so "hoje" must be decided when one is sent, not when it is written:
// notifications carry a mark for each date, which Resolve turns into
// When's words at send time.
const markSep = "\x1f"

// whenMark is the mark for t (see Resolve).
func whenMark(t time.Time) string {
	return markSep + "t" + strconv.FormatInt(t.Unix(), 10) + markSep
}

// Resolve replaces the date marks in a notification by When(t, now).
// Text without marks is returned unchanged.
func Resolve(body string, now time.Time) string {
	if !strings.Contains(body, markSep) {
		return body
	}
	var b strings.Builder
	rest := body
	for {
		i := strings.Index(rest, markSep+"t")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i+2:], markSep)
		if j < 0 {
			break
		}
		unix, err := strconv.ParseInt(rest[i+2:i+2+j], 10, 64)
		if err != nil {
			break
		}
		b.WriteString(rest[:i])
		b.WriteString(When(time.Unix(unix, 0), now))
		rest = rest[i+2+j+1:]
	}
	b.WriteString(strings.ReplaceAll(rest, markSep, ""))
	return b.String()
}
