// Package bot is rastreio-bot's behaviour: the getUpdates loop and the
// handlers that answer people from SQLite. It never calls Correios or any
// tracking provider; the tracker fills the database it reads.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
)

// API is what the bot needs of the Bot API client (*telegram.Client).
type API interface {
	Send(c tgbotapi.Chattable) (tgbotapi.Message, error)
	Request(c tgbotapi.Chattable) (*tgbotapi.APIResponse, error)
	GetUpdates(offset, timeout int, allowed []string) ([]tgbotapi.Update, error)
}

// AllowedUpdates are the update kinds the bot asks Telegram for.
var AllowedUpdates = []string{"message", "edited_message", "callback_query", "my_chat_member"}

// Meta keys (followed by the bot id).
const (
	offsetKey    = "bot_update_offset:"
	gifKeyPrefix = "bot_gif_file_id:"
)

// Defaults.
const (
	DefaultFloodPerMinute = 30
	// DefaultMaxCodesPerPerson is RASTREIO_MAX_CODES_PER_PERSON's default.
	DefaultMaxCodesPerPerson = 200
	// DefaultPassInterval is RASTREIO_PASS_INTERVAL's default, the tracker
	// unit's RestartSec.
	DefaultPassInterval = 3 * time.Minute
	// SlowedFor is how long after a pass slowed by a monthly budget the
	// bot still says checks are spaced out (the tracker notes it at every
	// such pass).
	SlowedFor = 6 * time.Hour
	// HandleTimeout bounds the database work of one update.
	HandleTimeout = 10 * time.Second
	maxBackoff    = 30 * time.Second
)

// Config wires a Bot.
type Config struct {
	Store *store.Store
	API   API
	// Confirm is used once, at stop, for the final getUpdates that
	// confirms the offset: it must not be bound to the cancelled context.
	// Nil means API.
	Confirm API
	// BotID is the bot's user id (getMe): update offsets and file_ids
	// belong to one bot, so they are stored under it.
	BotID           int64
	UserName        string // the bot's @username, without @
	MaxCodesPerChat int
	// MaxCodesPerPerson caps the codes one person (by Telegram user id)
	// may have added across all chats; 0 means DefaultMaxCodesPerPerson.
	MaxCodesPerPerson int
	// PassInterval is the time between two tracker passes
	// (RASTREIO_PASS_INTERVAL, the tracker unit's RestartSec): a new code
	// is due at once, so its first check comes within it. 0 means
	// DefaultPassInterval.
	PassInterval   time.Duration
	Providers      []string // tracking providers that receive codes (config names)
	Log            *slog.Logger
	PollTimeout    int // getUpdates hold, seconds; 0 means telegram.PollTimeout
	FloodPerMinute int // messages per chat per minute; 0 means DefaultFloodPerMinute
	Now            func() time.Time
	// MinBackoff is the first wait after a failed getUpdates (default 1 s).
	MinBackoff time.Duration
	// ReplyRetryDelay is the first wait before a reply that met a 5xx is
	// sent again (default DefaultReplyRetryDelay).
	ReplyRetryDelay time.Duration
}

// Bot answers updates. Create it with New, then call Setup and Run.
type Bot struct {
	cfg   Config
	st    *store.Store
	api   API
	log   *slog.Logger
	now   func() time.Time
	flood *floodGate
	// albums are the media groups seen lately (see albums.seen).
	albums albums
	// aliveUntil is when the watchdog stops being pinged (unix
	// nanoseconds) unless the update loop shows life again.
	aliveUntil atomic.Int64
	handled    atomic.Int64
	// lastHandled is when the last update was taken (unix nanoseconds).
	lastHandled atomic.Int64
	senders     atomic.Pointer[senders] // set while Run runs
	pending     atomic.Int64
	undo        undoBook
}

// New builds a bot from cfg.
func New(cfg Config) *Bot {
	if cfg.Confirm == nil {
		cfg.Confirm = cfg.API
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = telegram.PollTimeout
	}
	if cfg.FloodPerMinute <= 0 {
		cfg.FloodPerMinute = DefaultFloodPerMinute
	}
	if cfg.MaxCodesPerChat <= 0 {
		cfg.MaxCodesPerChat = 100
	}
	if cfg.MaxCodesPerPerson <= 0 {
		cfg.MaxCodesPerPerson = DefaultMaxCodesPerPerson
	}
	if cfg.PassInterval <= 0 {
		cfg.PassInterval = DefaultPassInterval
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.ReplyRetryDelay <= 0 {
		cfg.ReplyRetryDelay = DefaultReplyRetryDelay
	}
	b := &Bot{cfg: cfg, st: cfg.Store, api: cfg.API, log: cfg.Log, now: cfg.Now}
	b.flood = newFloodGate(cfg.FloodPerMinute, time.Minute)
	b.alive(0)
	return b
}

// Caller calls Bot API methods the library has no config for
// (*telegram.Client is one).
type Caller interface {
	Call(method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error)
}

// Setup removes any webhook (getUpdates refuses to run beside one),
// publishes the command menus (one for private chats, one for groups; the
// default scope's menu is removed) and the bot's description and short
// description. Failures are logged: the loop still works.
func (b *Bot) Setup(ctx context.Context) {
	if _, err := b.api.Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
		b.log.Warn("deleteWebhook failed", slog.Any("error", err))
	}
	for _, m := range []struct {
		scope tgbotapi.BotCommandScope
		cmds  []tgbotapi.BotCommand
	}{
		{tgbotapi.NewBotCommandScopeAllPrivateChats(), privateMenu},
		{tgbotapi.NewBotCommandScopeAllGroupChats(), groupMenu},
	} {
		if _, err := b.api.Request(tgbotapi.NewSetMyCommandsWithScope(m.scope, m.cmds...)); err != nil {
			b.log.Warn("setMyCommands failed", slog.String("scope", m.scope.Type), slog.Any("error", err))
		}
	}
	if _, err := b.api.Request(tgbotapi.NewDeleteMyCommands()); err != nil {
		b.log.Warn("deleteMyCommands failed", slog.Any("error", err))
	}
	c, ok := b.api.(Caller)
	if !ok {
		return
	}
	if _, err := c.Call("setMyDescription", tgbotapi.Params{"description": botDescription}); err != nil {
		b.log.Warn("setMyDescription failed", slog.Any("error", err))
	}
	if _, err := c.Call("setMyShortDescription", tgbotapi.Params{"short_description": botShortDescription}); err != nil {
		b.log.Warn("setMyShortDescription failed", slog.Any("error", err))
	}
}

// Healthy reports whether the update loop is alive: its last getUpdates
// got an answer (updates, or an error Telegram or the network gave back)
// within the long-poll hold plus a margin, counted from the end of any
// backoff it then waited out. The watchdog pings only then. A Telegram
// outage answered with 5xx or refused connections keeps the bot alive
// (a restart would not help); getUpdates calls that hang until their
// timeout, or a loop stuck elsewhere, end in a restart.
func (b *Bot) Healthy() bool {
	return b.now().UnixNano() < b.aliveUntil.Load()
}

// alive records that the loop got an answer now and will poll again
// after wait.
func (b *Bot) alive(wait time.Duration) {
	limit := time.Duration(b.cfg.PollTimeout)*time.Second + 30*time.Second
	b.aliveUntil.Store(b.now().Add(wait + limit).UnixNano())
}

// Handled is how many updates the bot handled since it started.
func (b *Bot) Handled() int64 { return b.handled.Load() }

// Run polls and handles updates until ctx ends; then it confirms the
// offset of what it handled and returns nil. The offset is stored after
// each update is handled, so a restart never handles an update twice
// (but for the one in hand at a kill -9) and never skips one.
// It returns an error only when the token stops working.
func (b *Bot) Run(ctx context.Context) error {
	snd := startSenders()
	b.senders.Store(snd)
	defer b.stopSenders()
	// The drain deadline counts from the signal, as the Telegram client's
	// cut does, not from the end of the update in hand.
	defer context.AfterFunc(ctx, snd.beginStop)()
	ckCtx, stopCk := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { b.checkpoints(ckCtx) })
	defer func() {
		stopCk()
		wg.Wait()
	}()
	offset := b.loadOffset(ctx)
	sent := -1 // the offset the last getUpdates told Telegram
	failures := 0
	lastUpdate := b.now()
	for ctx.Err() == nil {
		ups, err := b.api.GetUpdates(offset, b.cfg.PollTimeout, AllowedUpdates)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if telegram.ClassOf(err) == telegram.Unauthorized {
				return fmt.Errorf("bot: getUpdates: %w", err)
			}
			failures++
			wait := b.backoff(failures, err)
			if !telegram.TimedOut(err) {
				b.alive(wait)
			}
			b.log.Warn("getUpdates failed", slog.Any("error", err), slog.Int("failures", failures), slog.Duration("retry_in", wait))
			sleep(ctx, wait)
			continue
		}
		failures = 0
		sent = offset
		now := b.now()
		b.alive(0)
		if len(ups) == 0 {
			// Everything below offset is confirmed; after a long quiet
			// spell ask from Telegram's earliest unconfirmed update, in
			// case it restarted its update ids lower.
			if offset > 0 && now.Sub(lastUpdate) > UpdateRetention {
				offset = 0
			}
			continue
		}
		lastUpdate = now
		next := offset
		for _, u := range ups {
			if u.UpdateID >= next {
				next = u.UpdateID + 1
			}
		}
		for _, u := range ups {
			if u.UpdateID < offset {
				continue // already handled (Telegram resent it)
			}
			if ctx.Err() != nil {
				next = u.UpdateID // leave the rest for the next start
				break
			}
			b.HandleUpdate(ctx, u)
			// Stored after each update: a stop or crash resumes right
			// after the last update handled, so none is lost and at most
			// the one in hand at a kill -9 is seen again.
			b.saveOffset(ctx, u.UpdateID+1)
		}
		offset = next
	}
	b.stopSenders() // the replies of handled updates go out first
	if offset > 0 && offset != sent {
		if _, err := b.cfg.Confirm.GetUpdates(offset, 0, AllowedUpdates); err != nil {
			b.log.Warn("confirming the offset failed; the next start confirms it", slog.Any("error", err), slog.Int("offset", offset))
		}
	}
	return nil
}

// WAL checkpoints (see store.ManualCheckpoint) run off the update path,
// preferably when the bot is quiet: a checkpoint's fsync costs tens of
// milliseconds on a small machine and delays the updates handled
// meanwhile, so under load they are spaced CheckpointMaxInterval apart
// (a stall every 5 s touches well under 1 % of the updates even at
// 2,000/s; one every 500 ms touched several percent).
var (
	CheckpointTick        = 250 * time.Millisecond
	CheckpointQuiet       = 200 * time.Millisecond // no update for this long: quiet
	CheckpointMaxInterval = 5 * time.Second
)

// checkpoints runs WAL checkpoints until ctx ends.
func (b *Bot) checkpoints(ctx context.Context) {
	t := time.NewTicker(CheckpointTick)
	defer t.Stop()
	last := time.Now()
	done := b.handled.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := b.handled.Load()
		if n == done {
			continue // nothing new from the bot (the tracker checkpoints its own writes)
		}
		quiet := time.Since(time.Unix(0, b.lastHandled.Load())) >= CheckpointQuiet
		if !quiet && time.Since(last) < CheckpointMaxInterval {
			continue
		}
		if err := b.st.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("WAL checkpoint failed", slog.Any("error", err))
		}
		last, done = time.Now(), n
	}
}

func (b *Bot) backoff(failures int, err error) time.Duration {
	if e, ok := telegram.AsError(err); ok && e.Class == telegram.RetryAfter && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	d := b.cfg.MinBackoff << min(failures-1, 10)
	return min(d, maxBackoff)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// UpdateRetention is how long Telegram keeps updates nobody fetched. An
// offset older than that protects nothing, and after a long quiet spell
// Telegram may restart update ids lower ("chosen randomly" after a week
// without updates): then the old offset would hide every new update.
const UpdateRetention = 24 * time.Hour

// loadOffset returns the stored offset, or 0 when there is none or it is
// older than UpdateRetention (Telegram confirmed everything before it at
// the last stop, or has dropped it since).
func (b *Bot) loadOffset(ctx context.Context) int {
	v, err := b.st.Meta(ctx, offsetKey+strconv.FormatInt(b.cfg.BotID, 10))
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		b.log.Error("reading the update offset failed", slog.Any("error", err))
		return 0
	}
	off, at, _ := strings.Cut(v, " ")
	n, _ := strconv.Atoi(off)
	unix, err := strconv.ParseInt(at, 10, 64)
	if err != nil || b.now().Sub(time.Unix(unix, 0)) > UpdateRetention {
		return 0
	}
	return n
}

// saveOffset stores off with the time, see loadOffset.
func (b *Bot) saveOffset(ctx context.Context, off int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), HandleTimeout)
	defer cancel()
	v := strconv.Itoa(off) + " " + strconv.FormatInt(b.now().Unix(), 10)
	if err := b.st.SetMeta(ctx, offsetKey+strconv.FormatInt(b.cfg.BotID, 10), v); err != nil {
		b.log.Error("saving the update offset failed", slog.Any("error", err), slog.Int("offset", off))
	}
}

// HandleUpdate handles one update of any kind; it never panics. Work in
// hand finishes even when ctx ends (its reply goes out).
func (b *Bot) HandleUpdate(ctx context.Context, u tgbotapi.Update) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), HandleTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic handling an update", slog.Int("update_id", u.UpdateID), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
		}
	}()
	b.handled.Add(1)
	b.lastHandled.Store(time.Now().UnixNano())
	switch {
	case u.Message != nil:
		b.onMessage(ctx, u.Message, false)
	case u.EditedMessage != nil:
		b.onMessage(ctx, u.EditedMessage, true)
	case u.CallbackQuery != nil:
		b.onCallback(ctx, u.CallbackQuery)
	case u.MyChatMember != nil:
		b.onMyChatMember(ctx, u.MyChatMember)
	default:
		b.log.Debug("update ignored", slog.Int("update_id", u.UpdateID))
	}
}
