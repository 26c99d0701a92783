package bot_test

import (
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/bot"
	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/store/storetest"
)

// /start and /privacidade name PacoteVício, and RapidAPI, whose gateway the
// codes pass through, when it is in the chain.
func TestPacoteVicioNamedInTexts(t *testing.T) {
	h := newHarness(t, func(c *bot.Config) { c.Providers = []string{"siterastreio", "pacotevicio"} })
	mustContain(t, h.say(1, "/privacidade").Text, "consultados via Site Rastreio (Wonca Labs) e PacoteVício (RapidAPI).")
	mustContain(t, h.say(1, "/start").Text, "consultados via Site Rastreio (Wonca Labs) e PacoteVício (RapidAPI).")

	only := newHarness(t, func(c *bot.Config) { c.Providers = []string{"pacotevicio"} })
	m := only.say(1, "/privacidade")
	mustContain(t, m.Text, "consultados via PacoteVício (RapidAPI).")
	mustNotContain(t, m.Text, "pacotevicio")
}

// /pacotes names PacoteVício as the source of a code it checked.
func TestPacoteVicioNamedInList(t *testing.T) {
	h := newHarness(t)
	h.say(1, code1+" tênis")
	checked := time.Date(2024, 3, 5, 18, 0, 0, 0, time.UTC)
	h.db.SetChecked(storetest.Parcel{Code: code1, State: "notfound", CheckedAt: checked, CheckedBy: "pacotevicio"})
	mustContain(t, h.say(1, "/pacotes").Text, "Conferido "+message.When(checked, time.Now()))
}
