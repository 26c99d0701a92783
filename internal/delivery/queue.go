package delivery

import (
	"sort"
	"time"

	"github.com/rastreio/rastreio/internal/store"
)

// Limits are Telegram's limits as the Queue applies them.
type Limits struct {
	// SendRate is sends per second overall: two sends start at least
	// 1/SendRate apart.
	SendRate float64
	// ChatInterval and GroupInterval space two sends to one chat, from the
	// previous one's answer.
	ChatInterval, GroupInterval time.Duration
	// InFlight is the most sends at once.
	InFlight int
	// PerSecond is the most sends in any sliding second.
	PerSecond int
}

// Queue holds the outbox messages in memory for one pass and decides
// which may be sent now within Telegram's limits. It does no I/O and
// reads no clock: every method takes the time it is told. The limits:
//   - at most Limits.InFlight sends at once;
//   - two sends start at least 1/SendRate apart, and a send starts only
//     once the send PerSecond before it was answered more than a second
//     ago (the sliding second, counted where Telegram counts: arrivals);
//   - one chat's messages go one at a time, in outbox order, each
//     ChatInterval (a group: GroupInterval) after the previous answer;
//   - nothing to anyone inside a retry_after window (Pause).
type Queue struct {
	lim Limits

	chats map[int64]*chatQueue
	known map[int64]bool // outbox ids held (queued or in flight)
	skip  map[int64]bool // chats done for this pass

	window      []*Slot // the last PerSecond sends
	flight      int
	lastStart   time.Time
	pausedUntil time.Time
}

// Slot is one send in the sliding second; done is when it was answered
// (zero while in flight).
type Slot struct{ done time.Time }

type chatQueue struct {
	msgs     []store.OutboxMsg // by id, at most PerChat
	next     time.Time         // earliest next send
	inFlight bool
	// more: the chat has more due messages than were loaded; they are
	// fetched for it (in id order) when its queue drains, and sweeps skip
	// them meanwhile.
	more   bool
	lastID int64 // highest id loaded for the chat
}

const (
	// PerChat bounds one chat's messages in memory, so a chat with
	// hundreds of messages (sent 1/s) never crowds the others out.
	PerChat = 4
	// windowMargin is added to the sliding second and to retry_after.
	windowMargin = 10 * time.Millisecond
)

// NewQueue returns an empty queue.
func NewQueue(l Limits) *Queue {
	return &Queue{lim: l, chats: map[int64]*chatQueue{}, known: map[int64]bool{}, skip: map[int64]bool{}}
}

// Offer adds a message found by a sweep of the outbox, unless it is held
// already, its chat is done for the pass, or its chat has PerChat
// messages in memory (then the chat is topped up when it drains). It
// reports whether the message was added.
func (q *Queue) Offer(m store.OutboxMsg) bool {
	if q.known[m.ID] || q.skip[m.ChatID] {
		return false
	}
	c := q.chat(m.ChatID)
	if c.more || len(c.msgs) >= PerChat {
		c.more = true
		return false
	}
	q.known[m.ID] = true
	c.add(m)
	return true
}

// NeedsTopUp reports whether chat drained while it has more messages in
// the outbox, and after which id to load them.
func (q *Queue) NeedsTopUp(chat int64) (afterID int64, ok bool) {
	c := q.chats[chat]
	if c == nil || !c.more || len(c.msgs) > 0 || q.skip[chat] {
		return 0, false
	}
	return c.lastID, true
}

// TopUp adds the next messages of chat (at most PerChat, in id order),
// loaded after NeedsTopUp.
func (q *Queue) TopUp(chat int64, rows []store.OutboxMsg) {
	c := q.chat(chat)
	c.more = len(rows) == PerChat
	for _, m := range rows {
		if !q.known[m.ID] {
			q.known[m.ID] = true
			c.add(m)
		}
	}
}

// Chats counts the chats with messages held.
func (q *Queue) Chats() int {
	n := 0
	for _, c := range q.chats {
		if len(c.msgs) > 0 {
			n++
		}
	}
	return n
}

// Len counts the messages held (in flight included).
func (q *Queue) Len() int {
	n := 0
	for _, c := range q.chats {
		n += len(c.msgs)
	}
	return n
}

// InFlight counts the sends not answered yet.
func (q *Queue) InFlight() int { return q.flight }

// Next returns the message that may be sent at now: the oldest of the
// ready chats. Otherwise ok is false and wake is when one may be (zero:
// once a send in flight is answered or new messages come).
func (q *Queue) Next(now time.Time) (m store.OutboxMsg, ok bool, wake time.Time) {
	if now.Before(q.pausedUntil) {
		return m, false, q.pausedUntil
	}
	if q.flight >= q.lim.InFlight {
		return m, false, time.Time{}
	}
	c, wake := q.pick(now)
	if c == nil {
		return m, false, wake
	}
	if len(q.window) >= q.lim.PerSecond {
		old := q.window[0]
		if old.done.IsZero() {
			return m, false, time.Time{}
		}
		if at := old.done.Add(time.Second + windowMargin); now.Before(at) {
			return m, false, at
		}
	}
	if q.lim.SendRate > 0 && !q.lastStart.IsZero() {
		if at := q.lastStart.Add(time.Duration(float64(time.Second) / q.lim.SendRate)); now.Before(at) {
			return m, false, at
		}
	}
	return c.msgs[0], true, time.Time{}
}

// pick returns the ready chat whose oldest message is the oldest overall,
// or nil and the earliest time a chat becomes ready.
func (q *Queue) pick(now time.Time) (best *chatQueue, wait time.Time) {
	for _, c := range q.chats {
		if c.inFlight || len(c.msgs) == 0 {
			continue
		}
		if c.next.After(now) {
			if wait.IsZero() || c.next.Before(wait) {
				wait = c.next
			}
			continue
		}
		if best == nil || c.msgs[0].ID < best.msgs[0].ID {
			best = c
		}
	}
	return best, wait
}

// Start records that m (returned by Next) is being sent at now.
func (q *Queue) Start(m store.OutboxMsg, now time.Time) *Slot {
	q.chat(m.ChatID).inFlight = true
	if len(q.window) >= q.lim.PerSecond {
		q.window = q.window[1:] // answered over a second ago (Next)
	}
	s := &Slot{}
	q.window = append(q.window, s)
	q.flight++
	q.lastStart = now
	return s
}

// Answered records Telegram's answer, at at, to the send of m started in
// slot: the chat may send again an interval later. What to do with m
// follows (Done, Keep, Pause, Move, Drop).
func (q *Queue) Answered(m store.OutboxMsg, slot *Slot, at time.Time) {
	q.flight--
	slot.done = at
	c := q.chat(m.ChatID)
	c.inFlight = false
	c.next = at.Add(q.interval(m.ChatID))
}

// Done forgets m: sent, or no longer in the outbox.
func (q *Queue) Done(m store.OutboxMsg) {
	delete(q.known, m.ID)
	if c := q.chats[m.ChatID]; c != nil {
		for i, x := range c.msgs {
			if x.ID == m.ID {
				c.msgs = append(c.msgs[:i], c.msgs[i+1:]...)
				return
			}
		}
	}
}

// Skip takes m out of its chat's queue but keeps it held, so no sweep
// of this pass offers it again (a message Telegram refused for itself).
func (q *Queue) Skip(m store.OutboxMsg) {
	q.Done(m)
	q.known[m.ID] = true
}

// Pause holds every send until until (a retry_after), and m's chat too.
func (q *Queue) Pause(m store.OutboxMsg, until time.Time) {
	q.chat(m.ChatID).next = until
	if until.After(q.pausedUntil) {
		q.pausedUntil = until
	}
}

// Drop forgets chat's messages for the rest of the pass.
func (q *Queue) Drop(chat int64) {
	if c := q.chats[chat]; c != nil {
		for _, m := range c.msgs {
			delete(q.known, m.ID)
		}
		delete(q.chats, chat)
	}
	q.skip[chat] = true
}

// Move gives chat from's messages to chat to (a group that became a
// supergroup).
func (q *Queue) Move(from, to int64) {
	c := q.chats[from]
	if c == nil {
		return
	}
	delete(q.chats, from)
	for i := range c.msgs {
		c.msgs[i].ChatID = to
	}
	n := q.chat(to)
	n.add(c.msgs...)
	n.more = n.more || c.more
}

func (q *Queue) chat(id int64) *chatQueue {
	c := q.chats[id]
	if c == nil {
		c = &chatQueue{}
		q.chats[id] = c
	}
	return c
}

func (q *Queue) interval(chat int64) time.Duration {
	if chat < 0 {
		return q.lim.GroupInterval
	}
	return q.lim.ChatInterval
}

func (c *chatQueue) add(ms ...store.OutboxMsg) {
	for _, m := range ms {
		c.lastID = max(c.lastID, m.ID)
	}
	c.msgs = append(c.msgs, ms...)
	sort.SliceStable(c.msgs, func(i, j int) bool { return c.msgs[i].ID < c.msgs[j].ID })
}
