// Package delivery sends the outbox to Telegram during a tracker pass:
// Queue decides what may go when (Telegram's limits, a pure type with no
// I/O), Delivery moves messages between the store, the Queue and
// Telegram, and acts on each answer (outcome.go).
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/clock"
	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
)

// Sender sends one HTML message, with inline buttons when kb is not nil.
// Errors are classified with telegram.AsError (429, blocked, migrated,
// …); *telegram.Client is one (through TelegramSender).
type Sender interface {
	SendHTML(chatID int64, html string, kb *tgbotapi.InlineKeyboardMarkup) error
}

// TelegramSender adapts a telegram client.
func TelegramSender(c *telegram.Client) Sender { return tgSender{c} }

type tgSender struct{ c *telegram.Client }

func (s tgSender) SendHTML(chatID int64, html string, kb *tgbotapi.InlineKeyboardMarkup) error {
	m := tgbotapi.NewMessage(chatID, html)
	m.ParseMode = tgbotapi.ModeHTML
	m.DisableWebPagePreview = true
	if kb != nil {
		m.ReplyMarkup = *kb
	}
	_, err := s.c.Send(m)
	return err
}

// prepare turns a queued message into what is sent now: its dates
// written relative to now ("hoje às 08:01"), and, for a parcel the chat
// still tracks, the 📜 history and 🗑 stop buttons.
func (d *Delivery) prepare(ctx context.Context, m store.OutboxMsg) (string, *tgbotapi.InlineKeyboardMarkup) {
	body := message.Resolve(m.Body, d.clock.Now())
	if m.Code == "" {
		return body, nil
	}
	if _, err := d.store.TrackedPackage(ctx, m.ChatID, m.Code); err != nil {
		return body, nil // removed (or unreadable): no buttons to press
	}
	kb := message.ParcelButtons(m.Code)
	return body, &kb
}

// Limits and defaults.
const (
	// MaxInFlight is the most messages being sent at once, which is also
	// the most a crash can repeat (a row is deleted only after Telegram
	// accepted it).
	MaxInFlight = 4
	// TelegramMaxPerSecond is Telegram's overall limit, in any sliding
	// second.
	TelegramMaxPerSecond = 30

	DefaultSendRate      = 25
	DefaultChatInterval  = 1010 * time.Millisecond // 1 s (from the previous answer) plus a margin
	DefaultGroupInterval = 3010 * time.Millisecond // 20 a minute, plus a margin
	DefaultMaxAttempts   = 5
)

// Options tune delivery. Zero values take the defaults.
type Options struct {
	// SendRate is Telegram sends per second overall (TELEGRAM_SEND_RATE),
	// at most TelegramMaxPerSecond.
	SendRate float64
	// ChatInterval and GroupInterval space two sends to one chat.
	ChatInterval, GroupInterval time.Duration
	// MaxAttempts is how many passes a message that Telegram refuses (for
	// another reason than limits, blocks or migrations) is tried; network
	// and server errors get transientAttempts times that.
	MaxAttempts int
	Logger      *slog.Logger
	Clock       clock.Clock
}

func (o *Options) defaults() {
	if o.SendRate <= 0 {
		o.SendRate = DefaultSendRate
	}
	o.SendRate = min(o.SendRate, TelegramMaxPerSecond)
	if o.ChatInterval <= 0 {
		o.ChatInterval = DefaultChatInterval
	}
	if o.GroupInterval <= 0 {
		o.GroupInterval = DefaultGroupInterval
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real
	}
}

// ErrTelegramAuth means Telegram rejected the bot token (401).
var ErrTelegramAuth = errors.New("delivery: telegram rejected the bot token")

// errStop ends delivery for this pass without failing the pass.
var errStop = errors.New("delivery: stopped")

// Stats is what a delivery did.
type Stats struct {
	Sent          int // messages Telegram accepted
	Failed        int // sends that failed (retried next pass or given up)
	Retried429    int // 429 answers waited out
	PausedChats   int
	MigratedChats int
	// OutboxStuck is the first failure to remove a delivered message from
	// the outbox (a full disk); delivery stopped there.
	OutboxStuck error
}

// Delivery drains the outbox within Telegram's limits (see Queue), from
// the start of a pass until the pass's queries are done and nothing is
// due, until its deadline, or until its context ends (then only the
// messages in flight finish).
type Delivery struct {
	store *store.Store
	tg    Sender
	opt   Options
	log   *slog.Logger
	clock clock.Clock

	q        *Queue
	wakeCh   chan struct{}
	results  chan result
	deadline time.Time
	sweep    sweep
	stats    Stats
	// failedInARow counts sends that failed for Telegram's or the
	// network's sake, one after another.
	failedInARow int
}

// sweep is where the reading of the outbox stands.
type sweep struct {
	cursor int64 // the last id read in the current sweep
	added  bool  // the current sweep found something new
	// empty: the last full sweep found nothing new; the next one waits
	// for idlePoll or a wake-up.
	empty bool
	last  time.Time
	// afterQueries: a sweep was started after the queries ended.
	afterQueries bool
}

const (
	refillBatch = 500
	// lowWater: sweep the outbox for more while fewer chats have
	// messages in memory.
	lowWater = 100
	idlePoll = time.Second
	// transientAttempts multiplies MaxAttempts for network and server errors.
	transientAttempts = 20
)

// New prepares a delivery.
func New(st *store.Store, tg Sender, opt Options) *Delivery {
	opt.defaults()
	return &Delivery{
		store: st, tg: tg, opt: opt, log: opt.Logger, clock: opt.Clock,
		q: NewQueue(Limits{SendRate: opt.SendRate, ChatInterval: opt.ChatInterval, GroupInterval: opt.GroupInterval,
			InFlight: MaxInFlight, PerSecond: TelegramMaxPerSecond}),
		wakeCh:  make(chan struct{}, 1),
		results: make(chan result, MaxInFlight),
	}
}

// Wake tells the delivery that new messages were queued.
func (d *Delivery) Wake() {
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// result is Telegram's answer to one send.
type result struct {
	msg     store.OutboxMsg
	err     error
	at      time.Time // when the answer came
	slot    *Slot
	release func() // the send's clock hold
}

// Run delivers until the outbox has nothing due and queryDone is closed,
// until deadline, or until ctx ends. The error is ErrTelegramAuth or a
// database failure.
func (d *Delivery) Run(ctx context.Context, deadline time.Time, queryDone <-chan struct{}) (Stats, error) {
	db := context.WithoutCancel(ctx) // what was sent is recorded even after SIGTERM
	d.deadline = deadline
	errs := []error{d.loop(ctx, db, queryDone)}
	for d.q.InFlight() > 0 { // messages in flight finish
		errs = append(errs, d.handle(db, <-d.results))
	}
	var err error
	for _, e := range errs {
		if e != nil && !errors.Is(e, errStop) {
			err = errors.Join(err, e)
		}
	}
	return d.stats, err
}

// loop starts sends until there is nothing left or a reason to stop.
func (d *Delivery) loop(ctx, db context.Context, queryDone <-chan struct{}) error {
	for {
		if ctx.Err() != nil || !d.clock.Now().Before(d.deadline) {
			return nil
		}
		if err := d.fill(db); err != nil {
			return err
		}
		queriesDone := closed(queryDone)
		if queriesDone && !d.sweep.afterQueries {
			// The queries may have queued their last messages after the
			// sweep that found the outbox empty. Each commit that queued
			// one woke us after it: a wake not yet seen means sweep once
			// more before deciding there is nothing left (a wake already
			// seen was followed by a sweep).
			d.sweep.afterQueries = true
			select {
			case <-d.wakeCh:
				d.sweep.empty = false
				continue
			default:
			}
		}
		if queriesDone && d.sweep.empty && d.q.Len() == 0 && d.q.InFlight() == 0 {
			return nil
		}
		started, wake, err := d.startNext(db)
		if err != nil {
			return err
		}
		if started {
			continue
		}
		if queriesDone {
			queryDone = nil // a closed channel would wake the wait at once
		}
		if err := d.wait(ctx, db, queryDone, wake); err != nil {
			return err
		}
	}
}

// closed reports whether ch is closed (nil: treated as closed).
func closed(ch <-chan struct{}) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// fill keeps enough messages in memory to choose from, reading the
// outbox a page at a time and sweeping from the start again at its end.
func (d *Delivery) fill(ctx context.Context) error {
	for d.q.Chats() < lowWater {
		now := d.clock.Now()
		if d.sweep.empty && now.Sub(d.sweep.last) < idlePoll {
			return nil
		}
		rows, err := d.store.PendingOutbox(ctx, d.sweep.cursor, refillBatch)
		if err != nil {
			return err
		}
		d.sweep.last = now
		if len(rows) == 0 { // the end of a sweep
			d.sweep.empty = !d.sweep.added || d.sweep.cursor == 0
			d.sweep.cursor, d.sweep.added = 0, false
			if d.sweep.empty {
				return nil
			}
			continue
		}
		d.sweep.cursor = rows[len(rows)-1].ID
		for _, m := range rows {
			if d.q.Offer(m) {
				d.sweep.added, d.sweep.empty = true, false
			}
		}
	}
	return nil
}

// startNext starts the send the Queue allows now, if any; otherwise it
// returns when to look again.
func (d *Delivery) startNext(ctx context.Context) (started bool, wake time.Time, err error) {
	now := d.clock.Now()
	m, ok, wake := d.q.Next(now)
	if !ok {
		return false, wake, nil
	}
	// Held in memory since the sweep: the person may have removed the code
	// (or erased the chat) since, which drops its row. Only a message
	// already in flight may still go.
	queued, err := d.store.OutboxQueued(ctx, m.ID)
	if err != nil {
		return false, wake, err
	}
	if !queued {
		d.q.Done(m)
		return true, wake, d.topUp(ctx, m.ChatID)
	}
	slot := d.q.Start(m, now)
	release := d.clock.Hold()
	go func() {
		body, kb := d.prepare(ctx, m)
		err := d.tg.SendHTML(m.ChatID, body, kb)
		d.results <- result{msg: m, err: err, at: d.clock.Now(), slot: slot, release: release}
	}()
	return true, wake, nil
}

// wait waits for an answer, new messages, the wake time, the queries
// ending, idlePoll, the deadline or ctx, and handles an answer.
func (d *Delivery) wait(ctx, db context.Context, queryDone <-chan struct{}, wake time.Time) error {
	now := d.clock.Now()
	dur := min(idlePoll, d.deadline.Sub(now))
	if !wake.IsZero() {
		dur = min(dur, wake.Sub(now))
	}
	t := d.clock.NewTimer(max(dur, time.Millisecond))
	defer t.Stop()
	select {
	case r := <-d.results:
		return d.handle(db, r)
	case <-d.wakeCh:
		d.sweep.empty = false
	case <-queryDone:
	case <-t.C():
	case <-ctx.Done():
	}
	return nil
}

// topUp loads the next messages of a chat whose queue drained.
func (d *Delivery) topUp(ctx context.Context, chat int64) error {
	after, ok := d.q.NeedsTopUp(chat)
	if !ok {
		return nil
	}
	rows, err := d.store.PendingOutboxChat(ctx, chat, after, PerChat)
	if err != nil {
		return err
	}
	d.q.TopUp(chat, rows)
	return nil
}
