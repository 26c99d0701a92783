package bot

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rastreio/rastreio/internal/telegram"
)

// Replies go out on a few sender goroutines, each owning a share of the
// chats, so one chat's messages keep their order while the update loop
// moves on to the next update (and a slow chat does not hold the others).
// The loop still does every database write itself, in update order.

const (
	senderShards = 8
	senderQueue  = 256
	// drainTimeout bounds how long after the stop signal queued replies
	// may start: each then has at least lateMargin before the Telegram
	// client cuts every send (telegram.StopGrace after the same signal).
	// A reply whose turn has not come by then goes to the outbox.
	drainTimeout = telegram.StopGrace - lateMargin
	lateMargin   = 250 * time.Millisecond
)

type senders struct {
	queues    []chan func()
	wg        sync.WaitGroup
	dropAfter atomic.Int64 // unix nanoseconds; 0 while running
	dropped   atomic.Int64
	deferred  atomic.Int64 // late replies handed to the outbox
}

func startSenders() *senders {
	s := &senders{queues: make([]chan func(), senderShards)}
	for i := range s.queues {
		ch := make(chan func(), senderQueue)
		s.queues[i] = ch
		s.wg.Go(func() {
			for job := range ch {
				job()
			}
		})
	}
	return s
}

// late reports whether a job is found in the queue after the drain
// deadline of a stop.
func (s *senders) late() bool {
	d := s.dropAfter.Load()
	return d != 0 && time.Now().UnixNano() > d
}

// beginStop starts the drain deadline, once: at the stop signal, or
// when the senders stop without one.
func (s *senders) beginStop() {
	s.dropAfter.CompareAndSwap(0, time.Now().Add(drainTimeout).UnixNano())
}

// stop lets the queued replies go out (starting for at most
// drainTimeout) and waits for the senders. It returns how many replies
// were left to the outbox and how many were dropped.
func (s *senders) stop() (deferred, dropped int64) {
	s.beginStop()
	for _, ch := range s.queues {
		close(ch)
	}
	s.wg.Wait()
	return s.deferred.Load(), s.dropped.Load()
}

func shard(chatID int64) int {
	u := uint64(chatID)
	u ^= u >> 33
	u *= 0xff51afd7ed558ccd
	u ^= u >> 33
	return int(u % senderShards)
}

// onChat runs fn in chat's order: on its sender while Run runs, inline
// otherwise (HandleUpdate called alone). A job still queued when a stop's
// drain deadline passes is dropped.
func (b *Bot) onChat(chatID int64, fn func()) { b.onChatOr(chatID, fn, nil) }

// onChatOr is onChat with a fallback: a job still queued after the drain
// deadline runs late instead of fn (true: it kept the reply for later).
func (b *Bot) onChatOr(chatID int64, fn func(), late func() bool) {
	s := b.senders.Load()
	if s == nil {
		fn()
		return
	}
	b.pending.Add(1)
	s.queues[shard(chatID)] <- func() {
		defer b.pending.Add(-1)
		defer func() {
			if r := recover(); r != nil {
				b.log.Error("panic sending a reply", slog.Int64("chat_id", chatID), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			}
		}()
		switch {
		case !s.late():
			fn()
		case late != nil && late():
			s.deferred.Add(1)
		default:
			s.dropped.Add(1)
		}
	}
}

// Pending is how many replies are queued or being sent.
func (b *Bot) Pending() int64 { return b.pending.Load() }

// onChatWait runs fn in chat's order and waits for it.
func (b *Bot) onChatWait(chatID int64, fn func()) {
	done := make(chan struct{})
	b.onChatOr(chatID, func() {
		defer close(done)
		fn()
	}, func() bool {
		close(done)
		return false
	})
	<-done
}

// jobContext detaches a queued job from the update's context (which ends
// when the handler returns), keeping its values.
func jobContext(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

func (b *Bot) stopSenders() {
	s := b.senders.Swap(nil)
	if s == nil {
		return
	}
	deferred, dropped := s.stop()
	if deferred > 0 {
		b.log.Warn("replies not sent before the stop deadline left in the outbox for the tracker", slog.Int64("replies", deferred))
	}
	if dropped > 0 {
		b.log.Warn("replies and edits dropped at stop: Telegram too slow", slog.Int64("replies", dropped))
	}
}

// NewHTTPClient is the HTTP client for the bot's Bot API client: it keeps
// an idle connection for every sender and the poller (Go's default keeps
// two per host, so concurrent replies would redial — a new TLS handshake
// with the real API — on almost every message).
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = senderShards + 4
	return &http.Client{Timeout: (telegram.PollTimeout + 15) * time.Second, Transport: tr}
}
