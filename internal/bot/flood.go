package bot

import (
	"sync"
	"time"
)

// floodGate lets each chat send at most limit messages in any window;
// past that, messages are dropped, and the first dropped one is answered
// once with a polite note.
type floodGate struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	chats  map[int64]*floodChat
	calls  int
}

type floodChat struct {
	times  []time.Time // accepted messages inside the window, oldest first
	warned bool
}

func newFloodGate(limit int, window time.Duration) *floodGate {
	return &floodGate{limit: limit, window: window, chats: map[int64]*floodChat{}}
}

// allow records a message from chat at now. ok says whether to handle
// it; warn whether to answer the flood note (once per burst).
func (f *floodGate) allow(chat int64, now time.Time) (ok, warn bool) {
	return f.take(chat, now, true)
}

// allowQuiet is allow for an update refused without a note (an edited
// message): past the limit it leaves the burst's one note to the next
// message, which would otherwise be dropped without a word.
func (f *floodGate) allowQuiet(chat int64, now time.Time) bool {
	ok, _ := f.take(chat, now, false)
	return ok
}

func (f *floodGate) take(chat int64, now time.Time, note bool) (ok, warn bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls%4096 == 0 {
		f.evict(now)
	}
	c := f.chats[chat]
	if c == nil {
		c = &floodChat{}
		f.chats[chat] = c
	}
	cut := 0
	for cut < len(c.times) && now.Sub(c.times[cut]) >= f.window {
		cut++
	}
	c.times = c.times[cut:]
	if len(c.times) < f.limit {
		c.times = append(c.times, now)
		c.warned = false
		return true, false
	}
	if c.warned || !note {
		return false, false
	}
	c.warned = true
	return false, true
}

// evict forgets chats quiet for a whole window.
func (f *floodGate) evict(now time.Time) {
	for id, c := range f.chats {
		if len(c.times) == 0 || now.Sub(c.times[len(c.times)-1]) >= f.window {
			delete(f.chats, id)
		}
	}
}
