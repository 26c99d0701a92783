package simulate

import (
	"math"
	"sort"
	"time"

	"github.com/rastreio/rastreio/internal/brasilia"
	"github.com/rastreio/rastreio/internal/store"
)

// Waking hours in Brasília: only these count in a delay (an event heard
// at 07:05 that was posted at 23:17 was heard in time: a person acts on
// it in the morning).
const (
	WakeStart = 7  // 07:00
	WakeEnd   = 22 // 22:00
)

// Waking is the time between from and to that falls within waking hours.
func Waking(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	f := from.In(brasilia.Zone)
	var total time.Duration
	for day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, brasilia.Zone); day.Before(to); day = day.AddDate(0, 0, 1) {
		s := day.Add(WakeStart * time.Hour)
		e := day.Add(WakeEnd * time.Hour)
		if from.After(s) {
			s = from
		}
		if to.Before(e) {
			e = to
		}
		if e.After(s) {
			total += e.Sub(s)
		}
	}
	return total
}

// Quantile is the q-quantile of xs (linear between the closest ranks);
// 0 for none.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// measure turns what the fakes saw into the result: for each journey
// event visible while the code was tracked, when a message first carried
// it (missed: never; repeated: listed in more than one message, or
// listed after a first message already showed a later status).
func (r *run) measure() Result {
	type seen struct {
		at      time.Time
		covered bool // shown as part of a first message's status
		listed  int  // messages that listed it
	}
	heard := map[int64]map[string]*seen{} // chat → event key → seen
	res := Result{}
	for _, a := range r.tg.accepted {
		n := a.notice
		j := int(n.ChatID - 1)
		if j < 0 || j >= len(r.js) {
			continue
		}
		m := heard[n.ChatID]
		if m == nil {
			m = map[string]*seen{}
			heard[n.ChatID] = m
		}
		mark := func(key string, listed bool) {
			s := m[key]
			if s == nil {
				s = &seen{at: a.at}
				m[key] = s
			} else if listed && (s.listed > 0 || s.covered) {
				res.Repeated++
			}
			if listed {
				s.listed++
			} else {
				s.covered = true
			}
		}
		switch n.Kind {
		case store.NoticeFirst:
			if len(n.Events) == 0 {
				continue
			}
			shown := n.Events[len(n.Events)-1]
			for _, e := range r.js[j].Events {
				if e.Key != shown.Key && !e.At.After(shown.At) {
					if _, ok := m[e.Key]; !ok {
						mark(e.Key, false)
					}
				}
			}
			mark(shown.Key, true)
		case store.NoticeEvents:
			for _, e := range n.Events {
				mark(e.Key, true)
			}
		}
	}
	for i, j := range r.js {
		m := heard[int64(i+1)]
		for _, e := range j.Events {
			vis, ok := r.fake.visible(j.Code, e)
			if !ok || !vis.Before(r.removed[i]) {
				continue // the provider never showed it while it was tracked
			}
			s := m[e.Key]
			if s == nil {
				res.Missed++
				continue
			}
			from := vis
			if j.AddedAt.After(from) {
				from = j.AddedAt
			}
			d := Waking(from, s.at).Seconds()
			res.Delays = append(res.Delays, d)
			if Actionable(e.Kind) {
				res.ActionableDelay = append(res.ActionableDelay, d)
			}
		}
	}
	r.fake.mu.Lock()
	res.Requests, res.Billed = r.fake.checks, r.fake.billed
	res.BilledByMonth = make(map[string]int64, len(r.fake.byMonth))
	for k, v := range r.fake.byMonth {
		res.BilledByMonth[k] = v
	}
	r.fake.mu.Unlock()
	n := float64(len(r.js))
	res.RequestsPerParcel = round(float64(res.Requests)/n, 2)
	res.BilledPerParcel = round(float64(res.Billed)/n, 2)
	res.DelayMedianS = math.Round(Quantile(res.Delays, 0.5))
	res.DelayP90S = math.Round(Quantile(res.Delays, 0.9))
	res.ActionableDelayMedianS = math.Round(Quantile(res.ActionableDelay, 0.5))
	res.ActionableDelayP90S = math.Round(Quantile(res.ActionableDelay, 0.9))
	return res
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
