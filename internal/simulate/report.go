package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the report for people: one row per provider and
// policy, delays as durations (waking hours).
func (r Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%d parcels, %d events; passes %s apart; delays in waking hours (07:00–22:00 Brasília)\n\n",
		r.Parcels, r.Events, PassInterval)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "provider\tpolicy\trequests/parcel\tbilled/parcel\tdelay median\tp90\tactionable median\tp90\tmissed\trepeated\tbudget\t")
	for _, x := range r.Results {
		budget := "none"
		if x.Budget > 0 {
			budget = fmt.Sprintf("%d/month", x.Budget)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n",
			x.Provider, x.Policy, x.RequestsPerParcel, x.BilledPerParcel,
			Human(x.DelayMedianS), Human(x.DelayP90S), Human(x.ActionableDelayMedianS), Human(x.ActionableDelayP90S),
			x.Missed, x.Repeated, budget)
	}
	return tw.Flush()
}

// Human renders seconds as "12m", "3h36m", "45s".
func Human(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	}
	d = d.Round(time.Minute)
	h := int(d.Hours())
	m := int((d - time.Duration(h)*time.Hour).Minutes())
	if m == 0 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

// WriteJSON writes the report as one line of JSON.
func (r Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, strings.TrimSpace(string(b)))
	return err
}
