package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestKill9RandomPassesLoseNothing runs the real tracker pass after pass
// over parcels that keep moving, and kills most passes with SIGKILL at a
// random moment (querying, committing, delivering). Then, per chat and
// code: the events shown, once identical repeats are set aside, form one
// contiguous run ending at the newest (nothing lost, nothing out of
// order), and the repeats stay within the messages in flight at each
// kill (at most 4).
func TestKill9RandomPassesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("randomized soak (~10 s); make test runs it")
	}
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(7, 0))
	const nCodes, rounds = 30, 12
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	brt := time.FixedZone("BRT", -3*60*60)
	history := map[string]int{}
	setObject := func(code string) {
		type event struct {
			Codigo     string `json:"codigo"`
			Tipo       string `json:"tipo"`
			DtHrCriado string `json:"dtHrCriado"`
			Descricao  string `json:"descricao"`
		}
		var evs []event // newest first, as Correios sends them
		for i := history[code] - 1; i >= 0; i-- {
			evs = append(evs, event{Codigo: "RO", Tipo: "01", Descricao: fmt.Sprintf("ev-%s-%d", code, i),
				DtHrCriado: start.Add(time.Duration(i) * time.Hour).In(brt).Format("2006-01-02T15:04:05")})
		}
		b, _ := json.Marshal(map[string]any{"codObjeto": code, "eventos": evs})
		f.correios.SetObject(code, b)
	}
	codes := make([]string, nCodes)
	pairs := map[int64]string{}
	for i := range codes {
		codes[i] = fmt.Sprintf("QQ%09dBR", 700000000+i)
		pairs[int64(7000+i)] = codes[i]
		history[codes[i]] = 1
		setObject(codes[i])
	}
	f.track(t, pairs)
	f.tg.SetLatency(15 * time.Millisecond)
	env := f.env()

	kills := 0
	for range rounds {
		for _, code := range codes {
			if rng.Float64() < 0.4 {
				history[code] += 1 + rng.IntN(2)
				setObject(code)
			}
		}
		var out syncBuffer
		cmd := startChild(t, env, &out)
		if rng.Float64() < 0.7 {
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			if cmd.Process.Signal(syscall.SIGKILL) == nil {
				kills++
			}
			cmd.Wait()
			continue
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("pass: %v\n%s", err, out.String())
		}
	}
	// Two passes left alone deliver what is left.
	for range 2 {
		var out syncBuffer
		if err := startChild(t, env, &out).Wait(); err != nil {
			t.Fatalf("final pass: %v\n%s", err, out.String())
		}
	}

	mark := regexp.MustCompile(`ev-(QQ[0-9]{9}BR)-([0-9]+)`)
	repeats := 0
	for chat, code := range pairs {
		seen := map[string]bool{}
		var got []int
		for _, m := range f.tg.Messages(chat) {
			if seen[m.Text] {
				repeats++
				continue
			}
			seen[m.Text] = true
			for _, mm := range mark.FindAllStringSubmatch(m.Text, -1) {
				if mm[1] != code {
					t.Errorf("chat %d got an event of %s", chat, mm[1])
				}
				n, _ := strconv.Atoi(mm[2])
				got = append(got, n)
			}
		}
		if len(got) == 0 {
			t.Errorf("chat %d: nothing about %s", chat, code)
			continue
		}
		for i, n := range got {
			if n != got[0]+i {
				t.Errorf("chat %d, %s: events %v: missed or out of order", chat, code, got)
				break
			}
		}
		if newest := history[code] - 1; got[len(got)-1] != newest {
			t.Errorf("chat %d, %s: events %v, the newest (%d) not among them", chat, code, got, newest)
		}
	}
	if repeats > 4*kills {
		t.Errorf("%d repeated messages after %d kills, want at most %d", repeats, kills, 4*kills)
	}
	t.Logf("%d passes, %d killed with SIGKILL; %d repeated messages (bound %d)", rounds+2, kills, repeats, 4*kills)
}
