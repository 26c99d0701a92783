package brasilia_test

import (
	"testing"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
)

// Brasília is three hours behind UTC in summer and winter alike, as
// America/Sao_Paulo is since 2019 wherever the host has tzdata.
func TestZone(t *testing.T) {
	sp, tzErr := time.LoadLocation("America/Sao_Paulo")
	for _, utc := range []time.Time{
		time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), // southern summer, when DST was
		time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC),
		time.Date(2019, 11, 3, 3, 0, 0, 0, time.UTC), // the DST start that no longer happened
	} {
		if got := utc.In(brasilia.Zone).Format("2006-01-02 15:04"); got != utc.Add(-3*time.Hour).Format("2006-01-02 15:04") {
			t.Errorf("%v in Brasília is %s", utc, got)
		}
		if tzErr == nil {
			if want := utc.In(sp).Format("15:04"); utc.In(brasilia.Zone).Format("15:04") != want {
				t.Errorf("%v: BRT %s, tzdata's America/Sao_Paulo %s", utc, utc.In(brasilia.Zone).Format("15:04"), want)
			}
		}
	}
}
