package track17

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/rastreio/rastreio/internal/tracking/trackingtest"
)

// FuzzAccepted: any gettrackinfo record decodes to a sane result.
func FuzzAccepted(f *testing.F) {
	for _, name := range []string{"trackinfo-QQ850419295BR.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(`{"number":"X","track_info":` + string(b) + `}`)
	}
	f.Add(`{"number":"X","track_info":null}`)
	f.Add(`{"number":"X","track_info":{"latest_status":{"sub_status":"NotFound_InvalidCode"}}}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var a accepted
		if json.Unmarshal([]byte(raw), &a) != nil {
			return
		}
		r, ok := a.result()
		if !ok {
			return
		}
		if err := trackingtest.CheckResult(r); err != nil {
			t.Fatalf("%v: %+v", err, r)
		}
	})
}
