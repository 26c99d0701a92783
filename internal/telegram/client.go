// Package telegram wraps tgbotapi for rastreio: a context-aware HTTP
// transport (a SIGTERM ends a long poll at once, while a reply in hand
// still goes out), errors sorted into the classes callers act on, and the
// bot token scrubbed from every error text.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// PollTimeout is the long-poll hold asked of getUpdates, in seconds.
const PollTimeout = 50

// SendTimeout bounds every request other than getUpdates.
const SendTimeout = 15 * time.Second

// StopGrace is how long requests other than getUpdates may still take
// once the root context ended: a stop lets the reply in hand go out, but
// a slow Telegram cannot hold the process past its stop deadline.
const StopGrace = 2500 * time.Millisecond

// transport binds requests to contexts tgbotapi cannot pass: getUpdates
// follows the root context (cancelled by SIGTERM); everything else gets a
// context detached from it with SendTimeout, so a reply in hand finishes,
// but cut StopGrace after the root context ended.
type transport struct {
	root context.Context
	hc   *http.Client

	graceOnce sync.Once
	graceEnd  time.Time
}

func newTransport(root context.Context, hc *http.Client) *transport {
	t := &transport{root: root, hc: hc}
	context.AfterFunc(root, func() { t.stopDeadline() })
	return t
}

// stopDeadline is when sends are cut, fixed the first time it is asked
// after the root context ended.
func (t *transport) stopDeadline() time.Time {
	t.graceOnce.Do(func() { t.graceEnd = time.Now().Add(StopGrace) })
	return t.graceEnd
}

func (t *transport) Do(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/getUpdates") {
		return t.hc.Do(req.WithContext(t.root))
	}
	ctx, cancel := t.sendContext()
	resp, err := t.hc.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// sendContext bounds a send by SendTimeout and by the stop deadline.
func (t *transport) sendContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.root), SendTimeout)
	unhook := context.AfterFunc(t.root, func() {
		tm := time.NewTimer(time.Until(t.stopDeadline()))
		defer tm.Stop()
		select {
		case <-tm.C:
			cancel()
		case <-ctx.Done():
		}
	})
	return ctx, func() {
		unhook()
		cancel()
	}
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// Client is a Bot API client.
type Client struct {
	api   *tgbotapi.BotAPI
	token string
	log   *slog.Logger
}

// Options tune New.
type Options struct {
	// HTTPClient is the underlying client; its Timeout must exceed
	// PollTimeout. Nil means a client with PollTimeout+15 s.
	HTTPClient *http.Client
	// SkipGetMe builds the client without calling getMe (the tracker only
	// sends, and needs no round trip at start).
	SkipGetMe bool
	// Logger receives the warning about an update that cannot be decoded
	// (see GetUpdates). Nil discards it.
	Logger *slog.Logger
}

// New builds a client for token at endpoint (a fmt format: token, then
// method). Unless opts.SkipGetMe, it calls getMe first: a rejected token
// is an *Error of class Unauthorized. root bounds getUpdates calls.
func New(root context.Context, token, endpoint string, opts Options) (*Client, error) {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: (PollTimeout + 15) * time.Second}
	}
	tr := newTransport(root, hc)
	c := &Client{token: token, log: opts.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if opts.SkipGetMe {
		api := &tgbotapi.BotAPI{Token: token, Client: tr, Buffer: 100}
		api.SetAPIEndpoint(endpoint)
		c.api = api
		return c, nil
	}
	api, err := tgbotapi.NewBotAPIWithClient(token, endpoint, tr)
	if err != nil {
		return nil, c.wrap("getMe", err)
	}
	c.api = api
	return c, nil
}

// Self is the bot's own user, from getMe (zero with SkipGetMe).
func (c *Client) Self() tgbotapi.User { return c.api.Self }

// Send sends a message-returning method (sendMessage, sendAnimation…).
func (c *Client) Send(ch tgbotapi.Chattable) (tgbotapi.Message, error) {
	m, err := c.api.Send(ch)
	if err != nil {
		return m, c.wrap("send", err)
	}
	return m, nil
}

// Request calls a method that returns true or an object other than a
// Message (answerCallbackQuery, setMyCommands, deleteWebhook…).
func (c *Client) Request(ch tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	r, err := c.api.Request(ch)
	if err != nil {
		return r, c.wrap("request", err)
	}
	return r, nil
}

// Call calls any Bot API method with params, for the methods the library
// has no config for (setMyDescription, setMyShortDescription).
func (c *Client) Call(method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	r, err := c.api.MakeRequest(method, params)
	if err != nil {
		return r, c.wrap(method, err)
	}
	return r, nil
}

// GetUpdates long-polls for updates after offset. Updates are decoded one
// by one: one this library cannot decode (a field whose type a newer Bot
// API changed) is logged with its id and the error, never its content,
// and comes back as an update carrying only its UpdateID, so the caller
// skips it and confirms its offset while the updates around it are
// handled. (Decoding the whole array at once would fail the batch, and
// asking again for the same offset would fail it forever.)
func (c *Client) GetUpdates(offset, timeout int, allowed []string) ([]tgbotapi.Update, error) {
	resp, err := c.api.Request(tgbotapi.UpdateConfig{Offset: offset, Limit: 100, Timeout: timeout, AllowedUpdates: allowed})
	if err != nil {
		return nil, c.wrap("getUpdates", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(resp.Result, &raws); err != nil {
		return nil, c.wrap("getUpdates", fmt.Errorf("decoding the update list: %w", err))
	}
	out := make([]tgbotapi.Update, 0, len(raws))
	for _, raw := range raws {
		var u tgbotapi.Update
		err := json.Unmarshal(raw, &u)
		if err == nil {
			out = append(out, u)
			continue
		}
		var id struct {
			UpdateID int `json:"update_id"`
		}
		if json.Unmarshal(raw, &id) != nil || id.UpdateID <= 0 {
			c.log.Warn("skipped an update that cannot be decoded and has no readable update_id", slog.String("error", Redact(err.Error(), c.token)))
			continue
		}
		c.log.Warn("skipped an update that cannot be decoded", slog.Int("update_id", id.UpdateID), slog.String("error", Redact(err.Error(), c.token)))
		out = append(out, tgbotapi.Update{UpdateID: id.UpdateID})
	}
	return out, nil
}

// SendHTML sends an HTML message to chatID without link previews.
func (c *Client) SendHTML(chatID int64, html string) (tgbotapi.Message, error) {
	m := tgbotapi.NewMessage(chatID, html)
	m.ParseMode = tgbotapi.ModeHTML
	m.DisableWebPagePreview = true
	return c.Send(m)
}

func (c *Client) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Op: op, Class: Network}
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		e.Code = te.Code
		e.Description = te.Message
		e.RetryAfter = time.Duration(te.RetryAfter) * time.Second
		e.MigrateTo = te.MigrateToChatID
		e.Class = classify(te.Code, te.Message, te.RetryAfter, te.MigrateToChatID)
	} else {
		e.Description = err.Error()
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			e.Class = Canceled
		}
		var ne net.Error
		e.Timeout = errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
	}
	e.Description = Redact(e.Description, c.token)
	return e
}

// Redact replaces every occurrence of token (and of its secret half) in s.
func Redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "<token>")
	if _, secret, ok := strings.Cut(token, ":"); ok && len(secret) >= 8 {
		s = strings.ReplaceAll(s, secret, "<token>")
	}
	return s
}

// Class is what a caller should do about a failed request.
type Class int

// Classes of failures.
const (
	Network      Class = iota // transport error, timeout, 5xx: retry later
	Canceled                  // the context ended
	RetryAfter                // 429: wait RetryAfter, then resend the same message
	Blocked                   // 403 or chat not found: pause the chat
	Migrated                  // 400 with migrate_to_chat_id: move the chat, resend
	Unauthorized              // 401: the token is wrong
	Conflict                  // 409: another getUpdates poller or a webhook
	NotModified               // 400 message is not modified: nothing to do
	BadRequest                // other 4xx: this message will never go through
	Server                    // 5xx
)

func (c Class) String() string {
	return [...]string{"network", "canceled", "retry_after", "blocked", "migrated", "unauthorized", "conflict", "not_modified", "bad_request", "server"}[c]
}

// Error is a failed Bot API request, token-free.
type Error struct {
	Op          string
	Class       Class
	Code        int
	Description string
	RetryAfter  time.Duration
	MigrateTo   int64
	// Timeout: no answer came before the request's deadline (the HTTP
	// client's timeout or the caller's context).
	Timeout bool
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("telegram %s: %d %s", e.Op, e.Code, e.Description)
	}
	return fmt.Sprintf("telegram %s: %s", e.Op, e.Description)
}

// ClassOf returns err's class (Network for errors not from this package).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Network
}

// TimedOut reports whether err is a request that got no answer in time,
// as opposed to one Telegram or the network answered with an error.
func TimedOut(err error) bool {
	e, ok := AsError(err)
	return ok && e.Timeout
}

// AsError returns err as an *Error when it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// classify sorts a Bot API error. Multipart uploads leave Code at 0 (a
// library bug), so the description prefix decides then.
func classify(code int, msg string, retryAfter int, migrateTo int64) Class {
	lower := strings.ToLower(msg)
	switch {
	case migrateTo != 0:
		return Migrated
	case code == 429 || retryAfter > 0 || strings.HasPrefix(lower, "too many requests"):
		return RetryAfter
	case code == 401 || strings.HasPrefix(lower, "unauthorized"):
		return Unauthorized
	case code == 403 || strings.HasPrefix(lower, "forbidden"):
		return Blocked
	case code == 409 || strings.HasPrefix(lower, "conflict"):
		return Conflict
	case strings.Contains(lower, "chat not found"),
		strings.Contains(lower, "bot was kicked"),
		strings.Contains(lower, "user is deactivated"),
		strings.Contains(lower, "have no rights to send"),
		strings.Contains(lower, "need administrator rights"),
		strings.Contains(lower, "not enough rights"):
		return Blocked
	case strings.Contains(lower, "message is not modified"):
		return NotModified
	case code >= 500:
		return Server
	case code >= 400 || strings.HasPrefix(lower, "bad request"):
		return BadRequest
	}
	return Network
}
