package telegramtest

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// Limits is Telegram's flood control as EnforceLimits applies it to the
// send methods (sendMessage, sendAnimation, …): a send over a limit is
// answered 429 with retry_after and counted as a violation.
type Limits struct {
	// PerWindow sends at most in any sliding Window, all chats together.
	PerWindow int
	Window    time.Duration
	// ChatGap is the least time between two accepted sends to one chat.
	ChatGap time.Duration
	// GroupPerWindow sends at most to one group (negative chat id) in any
	// sliding GroupWindow.
	GroupPerWindow int
	GroupWindow    time.Duration
}

// TelegramLimits are the Bot FAQ's limits: 30 messages per second
// overall, one per second per chat, 20 per minute per group.
func TelegramLimits() Limits {
	return Limits{PerWindow: 30, Window: time.Second, ChatGap: time.Second, GroupPerWindow: 20, GroupWindow: time.Minute}
}

// LimitStats counts what EnforceLimits saw.
type LimitStats struct {
	Accepted   int // sends within the limits
	Violations int // sends answered 429 (the sum of the next four)
	Global     int // over PerWindow overall
	Chat       int // under ChatGap after the chat's previous send
	Group      int // over GroupPerWindow for a group
	InWindow   int // sent to a chat inside the retry_after it was given
	// MaxInWindow is the most accepted sends seen in one sliding Window.
	MaxInWindow int
}

func (s LimitStats) String() string {
	return fmt.Sprintf("accepted=%d violations=%d (global=%d chat=%d group=%d in_retry_after=%d) max_in_window=%d",
		s.Accepted, s.Violations, s.Global, s.Chat, s.Group, s.InWindow, s.MaxInWindow)
}

// Limiter enforces Limits on a Server; read its counts with Stats.
type Limiter struct {
	l Limits

	mu        sync.Mutex
	stats     LimitStats
	global    []time.Time           // accepted sends within Window
	lastChat  map[int64]time.Time   // last accepted send per chat
	groups    map[int64][]time.Time // accepted sends per group within GroupWindow
	blockedTo map[int64]time.Time   // retry_after windows given
}

// EnforceLimits makes s answer 429 to every send over l and count it.
// The checks run as a rule, before per-chat faults (FailNext, Block,
// Migrate): a send those fail still counts as a send here.
func (s *Server) EnforceLimits(l Limits) *Limiter {
	lim := s.limiterFor(l)
	s.AddRule(lim.rule)
	return lim
}

func (s *Server) limiterFor(l Limits) *Limiter {
	return &Limiter{
		l:         l,
		lastChat:  map[int64]time.Time{},
		groups:    map[int64][]time.Time{},
		blockedTo: map[int64]time.Time{},
	}
}

// Stats returns the counts so far.
func (lim *Limiter) Stats() LimitStats {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	return lim.stats
}

func isSend(method string) bool {
	return strings.HasPrefix(method, "send") && method != "sendChatAction"
}

// retryAfter is d rounded up to whole seconds, at least 1.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

func prune(ts []time.Time, since time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(since) {
		i++
	}
	return ts[i:]
}

func (lim *Limiter) rule(c *Call) *Fault {
	if !isSend(c.Method) || c.ChatID == 0 {
		return nil
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	now := c.Time
	l := lim.l
	deny := func(counter *int, wait time.Duration) *Fault {
		*counter++
		lim.stats.Violations++
		ra := retryAfter(wait)
		until := now.Add(time.Duration(ra) * time.Second)
		if until.After(lim.blockedTo[c.ChatID]) {
			lim.blockedTo[c.ChatID] = until
		}
		f := TooManyRequests(ra)
		return &f
	}
	if until, ok := lim.blockedTo[c.ChatID]; ok {
		if now.Before(until) {
			return deny(&lim.stats.InWindow, until.Sub(now))
		}
		delete(lim.blockedTo, c.ChatID)
	}
	if l.PerWindow > 0 {
		lim.global = prune(lim.global, now.Add(-l.Window))
		if len(lim.global) >= l.PerWindow {
			return deny(&lim.stats.Global, lim.global[0].Add(l.Window).Sub(now))
		}
	}
	if last, ok := lim.lastChat[c.ChatID]; ok && l.ChatGap > 0 && now.Sub(last) < l.ChatGap {
		return deny(&lim.stats.Chat, last.Add(l.ChatGap).Sub(now))
	}
	if c.ChatID < 0 && l.GroupPerWindow > 0 {
		g := prune(lim.groups[c.ChatID], now.Add(-l.GroupWindow))
		lim.groups[c.ChatID] = g
		if len(g) >= l.GroupPerWindow {
			return deny(&lim.stats.Group, g[0].Add(l.GroupWindow).Sub(now))
		}
		lim.groups[c.ChatID] = append(g, now)
	}
	lim.global = append(lim.global, now)
	lim.lastChat[c.ChatID] = now
	lim.stats.Accepted++
	lim.stats.MaxInWindow = max(lim.stats.MaxInWindow, len(lim.global))
	return nil
}
