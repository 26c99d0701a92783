package tracker

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"time"

	"golang.org/x/time/rate"

	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
)

// Sender sends one HTML message. Errors are classified with
// telegram.AsError (429, blocked, migrated, …); *telegram.Client is one
// (through TelegramSender).
type Sender interface {
	SendHTML(chatID int64, html string) error
}

// TelegramSender adapts a telegram client.
func TelegramSender(c *telegram.Client) Sender { return tgSender{c} }

type tgSender struct{ c *telegram.Client }

func (s tgSender) SendHTML(chatID int64, html string) error {
	_, err := s.c.SendHTML(chatID, html)
	return err
}

// The sender drains the outbox within Telegram's limits:
//   - at most MaxInFlight messages at once (a crash repeats at most those:
//     a row is deleted only after Telegram accepted it);
//   - overall, SendRate per second with a burst of one, and never more
//     than 30 in any sliding second: a send starts only once the send 30
//     before it was answered more than a second ago;
//   - one chat's sends one at a time, in outbox order, each starting
//     ChatInterval (a group: GroupInterval) after the previous one was
//     answered;
//   - nothing to anyone inside a retry_after window: Telegram's 429 does
//     not say which limit was hit, and the likeliest one we do not model
//     is the bot's global limit (the bot's replies share it), so the whole
//     sender waits, as Telegram asks.
//
// Spacing from answers rather than from starts makes the limits hold where
// Telegram counts (arrivals) whatever the network delays: a request has
// arrived before it is answered.
//
// Telegram's answers: 429 → wait retry_after and resend the same message
// (left for the next pass with not_before when the window ends after the
// pass's bound); 400 migrate_to_chat_id → move the chat (store.MigrateChat)
// and resend; 403 or chat not found → pause the chat: its messages stay in
// the outbox and go out when the person writes to the bot again (the bot
// clears paused_at); 401 → stop (the token is wrong); anything else → the
// message is retried next pass: a 400 (this message is wrong) is given up
// after MaxAttempts, network and server errors after 20 times that, each
// with an error line.
type sender struct {
	store *store.Store
	tg    Sender
	opt   Options
	log   *slog.Logger

	wakeCh chan struct{}

	limiter *rate.Limiter
	window  []*sendSlot // the last TelegramMaxPerSecond sends

	chats   map[int64]*chatQueue
	known   map[int64]bool // outbox ids held in memory (queued or in flight)
	skip    map[int64]bool // chats done for this pass
	cursor  int64
	sweepOK bool // the current sweep of the outbox added something
	flight  int
	// deadline ends the pass's delivery.
	deadline time.Time
	// pausedUntil: no send starts before it (the last 429's retry_after).
	pausedUntil time.Time

	sent, failed, retried, paused, migrated int
	consecutiveFails                        int
}

type chatQueue struct {
	msgs     []store.OutboxMsg // by id, at most perChatCap
	next     time.Time         // earliest next send
	inFlight bool
	// more: the chat has more due messages than were loaded; they are
	// fetched for it (in id order) when its queue drains, and sweeps skip
	// them meanwhile.
	more   bool
	lastID int64 // highest id loaded for the chat
}

func newSender(st *store.Store, tg Sender, opt Options, log *slog.Logger) *sender {
	return &sender{
		store:   st,
		tg:      tg,
		opt:     opt,
		log:     log,
		wakeCh:  make(chan struct{}, 1),
		limiter: rate.NewLimiter(rate.Limit(opt.SendRate), 1),
		chats:   map[int64]*chatQueue{},
		known:   map[int64]bool{},
		skip:    map[int64]bool{},
	}
}

// wake tells the sender new messages were queued.
func (s *sender) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

const (
	refillBatch = 500
	// lowWater: sweep the outbox for more while fewer chats have
	// messages in memory.
	lowWater = 100
	// perChatCap bounds one chat's messages in memory, so a chat with
	// hundreds of messages (sent 1/s) never crowds the others out.
	perChatCap = 4
	// windowMargin is added to the sliding second and to retry_after.
	windowMargin = 10 * time.Millisecond
	idlePoll     = time.Second
)

type sendResult struct {
	msg  store.OutboxMsg
	chat int64
	err  error
	at   time.Time // when the answer came
	slot *sendSlot
}

// sendSlot is one send in the global window; done is when it was
// answered (zero while in flight).
type sendSlot struct{ done time.Time }

// queuedChats counts the chats with messages in memory.
func (s *sender) queuedChats() int {
	n := 0
	for _, q := range s.chats {
		if len(q.msgs) > 0 {
			n++
		}
	}
	return n
}

func (s *sender) queued() int {
	n := 0
	for _, q := range s.chats {
		n += len(q.msgs)
	}
	return n
}

// refill loads due messages from the outbox, one page per call, sweeping
// from the start again when it reaches the end. It reports whether a
// full sweep found nothing new.
func (s *sender) refill(ctx context.Context) (exhausted bool, err error) {
	rows, err := s.store.PendingOutbox(ctx, s.cursor, refillBatch)
	if err != nil {
		return false, err
	}
	if len(rows) == 0 {
		exhausted = !s.sweepOK || s.cursor == 0
		s.cursor, s.sweepOK = 0, false
		return exhausted, nil
	}
	s.cursor = rows[len(rows)-1].ID
	for _, m := range rows {
		if s.known[m.ID] || s.skip[m.ChatID] {
			continue
		}
		q := s.chats[m.ChatID]
		if q == nil {
			q = &chatQueue{}
			s.chats[m.ChatID] = q
		}
		if q.more || len(q.msgs) >= perChatCap {
			q.more = true // fetched for the chat when its queue drains
			continue
		}
		s.known[m.ID] = true
		s.sweepOK = true
		q.add(m)
	}
	return false, nil
}

// topUp loads the next messages of a chat whose queue drained.
func (s *sender) topUp(ctx context.Context, chat int64, q *chatQueue) error {
	if !q.more || len(q.msgs) > 0 || s.skip[chat] {
		return nil
	}
	rows, err := s.store.PendingOutboxChat(ctx, chat, q.lastID, perChatCap)
	if err != nil {
		return err
	}
	q.more = len(rows) == perChatCap
	for _, m := range rows {
		if !s.known[m.ID] {
			s.known[m.ID] = true
			q.add(m)
		}
	}
	return nil
}

func (q *chatQueue) add(ms ...store.OutboxMsg) {
	for _, m := range ms {
		q.lastID = max(q.lastID, m.ID)
	}
	q.msgs = append(q.msgs, ms...)
	sort.SliceStable(q.msgs, func(i, j int) bool { return q.msgs[i].ID < q.msgs[j].ID })
}

// pick returns the ready chat whose oldest message is the oldest overall,
// or 0 and the earliest time a chat becomes ready.
func (s *sender) pick(now time.Time) (chat int64, wait time.Time) {
	var best int64
	var bestID int64
	for id, q := range s.chats {
		if q.inFlight || len(q.msgs) == 0 {
			continue
		}
		if q.next.After(now) {
			if wait.IsZero() || q.next.Before(wait) {
				wait = q.next
			}
			continue
		}
		if best == 0 || q.msgs[0].ID < bestID {
			best, bestID = id, q.msgs[0].ID
		}
	}
	return best, wait
}

// globalReady reports whether the sliding-second cap lets a send start
// now; if not, when it will (zero: once a send in flight is answered).
func (s *sender) globalReady(now time.Time) (bool, time.Time) {
	if len(s.window) < TelegramMaxPerSecond {
		return true, time.Time{}
	}
	old := s.window[0]
	if old.done.IsZero() {
		return false, time.Time{}
	}
	if at := old.done.Add(time.Second + windowMargin); now.Before(at) {
		return false, at
	}
	s.window = s.window[1:]
	return true, time.Time{}
}

// waitRate waits for the SendRate limiter; false when stopped first.
func (s *sender) waitRate(ctx context.Context, deadline time.Time) bool {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return s.limiter.Wait(dctx) == nil
}

func (s *sender) interval(chat int64) time.Duration {
	if chat < 0 {
		return s.opt.GroupInterval
	}
	return s.opt.ChatInterval
}

// run delivers until the outbox has nothing due and the queries are done,
// until deadline, or until ctx ends (then only messages in flight finish).
func (s *sender) run(ctx context.Context, deadline time.Time, queryDone <-chan struct{}) error {
	db := context.WithoutCancel(ctx)
	s.deadline = deadline
	results := make(chan sendResult, MaxInFlight)
	var fatal error
	stopping := false
	exhausted := false
	sweptAfterDone := false
	lastRefill := time.Time{}
	for {
		now := time.Now()
		if ctx.Err() != nil || !now.Before(deadline) || fatal != nil {
			stopping = true
		}
		if stopping {
			if s.flight == 0 {
				break
			}
			s.handle(db, <-results, &fatal)
			continue
		}
		// Keep enough in memory to choose from.
		if s.queuedChats() < lowWater && (!exhausted || now.Sub(lastRefill) >= idlePoll) {
			ex, err := s.refill(db)
			if err != nil {
				fatal = err
				continue
			}
			lastRefill = now
			if ex {
				exhausted = true
			} else if s.sweepOK {
				exhausted = false
			}
			if !ex && s.queuedChats() < lowWater {
				continue // next page
			}
		}
		done := false
		select {
		case <-queryDone:
			done = true
			if !sweptAfterDone {
				// The queries may have queued their last messages after
				// the sweep that found the outbox empty: sweep once more
				// before deciding there is nothing left.
				sweptAfterDone, exhausted = true, false
				continue
			}
		default:
		}
		if done && exhausted && s.queued() == 0 && s.flight == 0 {
			break
		}
		chat, readyAt := int64(0), time.Time{}
		if now.Before(s.pausedUntil) {
			readyAt = s.pausedUntil
		} else if s.flight < MaxInFlight {
			chat, readyAt = s.pick(now)
		}
		if chat != 0 {
			ok, at := s.globalReady(now)
			if ok {
				if !s.waitRate(ctx, deadline) {
					continue
				}
				// Answers that came meanwhile (a 429, a blocked chat)
				// may have changed what may go now.
				s.drain(db, results, &fatal)
				q := s.chats[chat]
				if now = time.Now(); fatal != nil || now.Before(s.pausedUntil) || q == nil ||
					q.inFlight || len(q.msgs) == 0 || q.next.After(now) {
					continue
				}
				m := q.msgs[0]
				// Held in memory since the refill: the person may have
				// removed the code (or erased the chat) since, which drops
				// its row. Only a message already in flight may still go.
				queued, err := s.store.OutboxQueued(db, m.ID)
				if err != nil {
					fatal = err
					continue
				}
				if !queued {
					s.pop(q, m.ID)
					if err := s.topUp(db, chat, q); err != nil {
						fatal = err
					}
					continue
				}
				q.inFlight = true
				slot := &sendSlot{}
				s.window = append(s.window, slot)
				s.flight++
				go func() {
					err := s.tg.SendHTML(m.ChatID, m.Body)
					results <- sendResult{msg: m, chat: chat, err: err, at: time.Now(), slot: slot}
				}()
				continue
			}
			readyAt = at // zero: wait for an answer
		}
		// Nothing to send now: wait for a result, new messages, a chat
		// becoming ready, the queries ending, or the end.
		var timer <-chan time.Time
		d := idlePoll
		if !readyAt.IsZero() {
			d = min(d, time.Until(readyAt))
		}
		d = min(d, time.Until(deadline))
		t := time.NewTimer(max(d, time.Millisecond))
		timer = t.C
		var qd <-chan struct{}
		if !done {
			qd = queryDone
		}
		select {
		case r := <-results:
			s.handle(db, r, &fatal)
		case <-s.wakeCh:
			exhausted = false
		case <-qd:
		case <-timer:
		case <-ctx.Done():
		}
		t.Stop()
	}
	if errors.Is(fatal, errStopDelivery) {
		return nil
	}
	return fatal
}

// drain handles the answers already in, without waiting.
func (s *sender) drain(ctx context.Context, results <-chan sendResult, fatal *error) {
	for {
		select {
		case r := <-results:
			s.handle(ctx, r, fatal)
		default:
			return
		}
	}
}

// drop forgets chat's queued messages for this pass.
func (s *sender) drop(chat int64) {
	if q := s.chats[chat]; q != nil {
		for _, m := range q.msgs {
			delete(s.known, m.ID)
		}
		delete(s.chats, chat)
	}
	s.skip[chat] = true
}

// handle acts on Telegram's answer for one message.
func (s *sender) handle(ctx context.Context, r sendResult, fatal *error) {
	s.flight--
	r.slot.done = r.at
	q := s.chats[r.chat]
	if q == nil { // cannot happen: a chat in flight is never dropped
		q = &chatQueue{}
		s.chats[r.chat] = q
	}
	q.inFlight = false
	q.next = r.at.Add(s.interval(r.chat))
	log := s.log.With(slog.Int64("chat_id", r.chat), slog.String("code", r.msg.Code))
	if r.err == nil {
		s.sent++
		s.consecutiveFails = 0
		if err := s.store.DeleteOutbox(ctx, r.msg.ID); err != nil {
			log.Error("delivered message not removed from outbox; it may be repeated", slog.Any("error", err))
		}
		s.pop(q, r.msg.ID)
		if err := s.topUp(ctx, r.chat, q); err != nil {
			*fatal = err
		}
		return
	}
	te, _ := telegram.AsError(r.err)
	class := telegram.ClassOf(r.err)
	switch class {
	case telegram.RetryAfter:
		s.retried++
		wait := time.Second
		if te != nil && te.RetryAfter > 0 {
			wait = te.RetryAfter
		}
		until := r.at.Add(wait + windowMargin)
		q.next = until
		if until.After(s.pausedUntil) {
			s.pausedUntil = until
		}
		log.Warn("telegram asked to slow down; every send waits", slog.Duration("retry_after", wait))
		if until.After(s.deadline) {
			if _, err := s.store.DeferOutbox(ctx, r.msg.ID, until, false); err != nil {
				*fatal = err
			}
			s.drop(r.chat)
			if *fatal == nil {
				// Nothing may go out before the bound: stop waiting.
				s.log.Warn("telegram asked to wait past this pass's bound; delivery left for the next pass",
					slog.Duration("retry_after", wait))
				*fatal = errStopDelivery
			}
		}
		return
	case telegram.Migrated:
		to := int64(0)
		if te != nil {
			to = te.MigrateTo
		}
		if to == 0 || to == r.chat {
			break
		}
		if err := s.store.MigrateChat(ctx, r.chat, to); err != nil {
			*fatal = err
			return
		}
		s.migrated++
		log.Info("chat moved to a supergroup", slog.Int64("new_chat_id", to))
		// The rows now belong to the new id: resend there.
		delete(s.chats, r.chat)
		for i := range q.msgs {
			q.msgs[i].ChatID = to
		}
		nq := s.chats[to]
		if nq == nil {
			nq = &chatQueue{}
			s.chats[to] = nq
		}
		nq.add(q.msgs...)
		nq.more = nq.more || q.more
		return
	case telegram.Blocked:
		s.paused++
		log.Warn("chat paused: telegram will not deliver to it", slog.Any("error", r.err))
		if err := s.store.PauseChat(ctx, r.chat); err != nil {
			*fatal = err
		}
		s.drop(r.chat)
		return
	case telegram.Unauthorized:
		log.Error("telegram rejected the bot token", slog.Any("error", r.err))
		*fatal = ErrTelegramAuth
		return
	case telegram.NotModified:
		s.store.DeleteOutbox(ctx, r.msg.ID)
		s.pop(q, r.msg.ID)
		return
	}
	// Anything else: try again next pass; give up after MaxAttempts. A
	// message deferred to a later time holds back its chat's later ones
	// (store.PendingOutbox keeps each chat in order), which is right when
	// Telegram or the network failed. A message Telegram refused for
	// itself (400) must not hold the others: it stays due, and only this
	// pass leaves it alone (it stays in known).
	s.failed++
	s.consecutiveFails++
	retryAt := time.Now().Add(time.Minute)
	if class == telegram.BadRequest {
		retryAt = time.Now()
	}
	n, err := s.store.DeferOutbox(ctx, r.msg.ID, retryAt, true)
	if err != nil {
		*fatal = err
		return
	}
	limit := s.opt.MaxAttempts
	if class != telegram.BadRequest {
		// Telegram down or slow: not this message's fault; keep it much longer.
		limit = transientAttempts * s.opt.MaxAttempts
	}
	if n >= limit {
		log.Error("notification given up", slog.Int("attempts", n), slog.Any("error", r.err))
		if err := s.store.DeleteOutbox(ctx, r.msg.ID); err != nil {
			*fatal = err
		}
	} else {
		log.Warn("notification not sent; retried next pass", slog.Int("attempts", n), slog.Any("error", r.err))
	}
	if class == telegram.BadRequest {
		s.pop(q, r.msg.ID) // only this message is wrong; the chat's others may go
		s.known[r.msg.ID] = true
		if err := s.topUp(ctx, r.chat, q); err != nil {
			*fatal = err
		}
	} else {
		s.drop(r.chat) // keep the chat's order: its later messages wait too
	}
	if s.consecutiveFails >= 2*MaxInFlight && *fatal == nil {
		s.log.Warn("telegram keeps failing; delivery left for the next pass")
		*fatal = errStopDelivery
	}
}

// transientAttempts multiplies MaxAttempts for network and server errors.
const transientAttempts = 20

// errStopDelivery ends delivery for this pass without failing the pass.
var errStopDelivery = errors.New("tracker: delivery stopped")

func (s *sender) pop(q *chatQueue, id int64) {
	delete(s.known, id)
	for i, m := range q.msgs {
		if m.ID == id {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			return
		}
	}
}
