package bot_test

import (
	"testing"

	"github.com/rastreio/rastreio/internal/bot"
)

// /start and /privacidade name PacoteVício, and the RapidAPI gateway its
// codes pass through, when it is in the chain.
func TestPacoteVicioNamedInTexts(t *testing.T) {
	h := newHarness(t, func(c *bot.Config) { c.Providers = []string{"siterastreio", "pacotevicio"} })
	mustContain(t, h.say(1, "/privacidade").Text, "consultados via Site Rastreio (Wonca Labs) e PacoteVício (via RapidAPI).")
	mustContain(t, h.say(1, "/start").Text, "consultados via Site Rastreio (Wonca Labs) e PacoteVício (via RapidAPI).")

	only := newHarness(t, func(c *bot.Config) { c.Providers = []string{"pacotevicio"} })
	m := only.say(1, "/privacidade")
	mustContain(t, m.Text, "consultados via PacoteVício (via RapidAPI).")
	mustNotContain(t, m.Text, "pacotevicio")
}
