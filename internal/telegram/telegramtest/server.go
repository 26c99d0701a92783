// Package telegramtest is a fake Telegram Bot API for tests, benchmarks
// and the demo (cmd/demo), shaped like the real one: requests go to
// /bot<TOKEN>/<method> as form-encoded or multipart bodies, answers are
// {"ok":true,"result":…} or {"ok":false,"error_code":N,"description":…,
// "parameters":{…}}, with the HTTP status equal to error_code.
//
// A test pushes updates (PushMessage, PushCallback, PushUpdate, PushRaw),
// which getUpdates long-polls for; every call is logged (Calls, Messages,
// WaitCalls, WaitMessages); faults are injected per chat (FailNext,
// Block, Migrate), for every call (FailAll) or by rules (AddRule), the
// extension point for stricter modes such as rate-limit enforcement.
//
// It does not import "testing" (the helpers take the small TB interface,
// which *testing.T satisfies), so a program may link it: the demo pushes
// what a person types (PushFromUser applies groups' privacy mode) and
// watches every answer through SetObserver.
package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// TB is the part of TB the helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// DefaultToken is the token New accepts.
const DefaultToken = "123456789:TEST-fake-token-abcdefghijklmnop"

// Bot identity answered by getMe (SetBotUser changes the names).
const (
	BotID       = 123456789
	BotName     = "Rastreio"
	BotUserName = "RastreioTestBot"
)

// Fault is an error answer (or a raw body) the server gives instead of
// handling a call.
type Fault struct {
	Code        int           // error_code, and HTTP status unless HTTPStatus is set
	Description string        // e.g. "Forbidden: bot was blocked by the user"
	RetryAfter  int           // parameters.retry_after, seconds
	MigrateTo   int64         // parameters.migrate_to_chat_id
	HTTPStatus  int           // overrides the HTTP status
	Body        string        // a raw body instead of the JSON envelope (e.g. an HTML 502 page)
	Delay       time.Duration // held this long first (ends early if the client leaves)
}

// Blocked is the answer for a private chat whose person blocked the bot.
func Blocked() Fault { return Fault{Code: 403, Description: "Forbidden: bot was blocked by the user"} }

// Kicked is the answer for a group the bot was removed from.
func Kicked() Fault {
	return Fault{Code: 403, Description: "Forbidden: bot was kicked from the group chat"}
}

// ChatNotFound is the answer for a chat Telegram does not know.
func ChatNotFound() Fault { return Fault{Code: 400, Description: "Bad Request: chat not found"} }

// TooManyRequests is a 429 with retry_after seconds.
func TooManyRequests(seconds int) Fault {
	return Fault{Code: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", seconds), RetryAfter: seconds}
}

// MigratedTo is the answer for a group that became the supergroup newID.
func MigratedTo(newID int64) Fault {
	return Fault{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat", MigrateTo: newID}
}

// ServerError is a 5xx in the Bot API envelope.
func ServerError(code int) Fault {
	return Fault{Code: code, Description: http.StatusText(code)}
}

// BadGateway is what a proxy in front of the Bot API answers: HTTP 502
// with an HTML body.
func BadGateway() Fault {
	return Fault{HTTPStatus: 502, Body: "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"}
}

// Upload is a file sent in a multipart body.
type Upload struct {
	Field string // form field, e.g. "animation"
	Name  string // file name
	Size  int
	Data  []byte // the bytes, only under KeepFiles
}

// Call is one request the server received.
type Call struct {
	Seq     int // 1-based, in arrival order
	Method  string
	ChatID  int64 // from chat_id, 0 when absent or not a number
	Params  url.Values
	Uploads []Upload
	// Text is what the person sees for sendMessage/editMessageText (the
	// HTML parsed) or the caption of sendAnimation.
	Text string
	// Entities are Text's formatting, as Telegram derives it from
	// parse_mode=HTML (offsets and lengths in UTF-16 units).
	Entities  []tgbotapi.MessageEntity
	MessageID int    // message_id sent or returned
	FileID    string // sendAnimation: the animation's file_id (also after an upload)
	Time      time.Time
	Status    int // 200, or the error code / HTTP status answered
	Result    json.RawMessage
}

// OK reports whether the call was answered ok:true.
func (c Call) OK() bool { return c.Status == http.StatusOK }

// Rule inspects a call before it is handled and may fail it. Rules run
// in the order added, under the server's lock: they must not call the
// Server's methods. c.Status is still 0.
type Rule func(c *Call) *Fault

type pendingUpdate struct {
	id   int
	kind string // "message", "callback_query", …
	raw  json.RawMessage
}

type sentMessage struct {
	text   string
	markup string
}

// Server is the fake Bot API. Create it with New.
type Server struct {
	Token string

	srv  *httptest.Server
	done chan struct{}

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every call or push
	calls     []Call
	keepCalls bool
	keepFiles bool
	observer  func(Call)
	ncalls    map[string]int

	updates      []pendingUpdate
	nextUpdate   int
	confirmed    int // highest offset a getUpdates confirmed
	allowed      []string
	pollGen      int
	webhookSet   bool
	commands     json.RawMessage
	scoped       map[string]json.RawMessage // setMyCommands by scope type
	descriptions map[string]string          // setMyDescription, setMyShortDescription
	callbacks    map[string]bool            // callback query id → answered
	nextCbID     int
	files        map[string]bool // known file_ids
	fileData     map[string]Upload
	nextFile     int
	msgSeq       map[int64]int
	msgs         map[[2]int64]sentMessage
	failNext     map[int64][]Fault
	blocked      map[int64]Fault
	migrated     map[int64]int64
	members      map[[2]int64]string // chat, user → getChatMember status
	botName      string              // getMe first_name
	botUserName  string              // getMe username
	failAll      *Fault
	rules        []Rule
	latency      time.Duration
	maxPollWait  time.Duration
	now          func() time.Time
}

// New starts a fake Bot API accepting DefaultToken, closed when tb ends.
func New(tb TB) *Server {
	tb.Helper()
	s := NewUnstarted(DefaultToken)
	s.Start()
	tb.Cleanup(s.Close)
	return s
}

// NewUnstarted returns a server for token; configure it, then Start it.
func NewUnstarted(token string) *Server {
	s := &Server{
		Token:       token,
		done:        make(chan struct{}),
		changed:     make(chan struct{}),
		keepCalls:   true,
		ncalls:      map[string]int{},
		nextUpdate:  1000,
		callbacks:   map[string]bool{},
		files:       map[string]bool{},
		fileData:    map[string]Upload{},
		msgSeq:      map[int64]int{},
		msgs:        map[[2]int64]sentMessage{},
		failNext:    map[int64][]Fault{},
		blocked:     map[int64]Fault{},
		migrated:    map[int64]int64{},
		members:     map[[2]int64]string{},
		botName:     BotName,
		botUserName: BotUserName,
		now:         time.Now,
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// Start starts the server.
func (s *Server) Start() { s.srv.Start() }

// Close releases held long polls and stops the server.
func (s *Server) Close() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is the Bot API URL format (token, then method) for
// TELEGRAM_API_ENDPOINT or telegram.New.
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// SetLatency delays every answer other than getUpdates by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetMaxPollWait caps how long getUpdates holds, whatever its timeout
// (0: no cap).
func (s *Server) SetMaxPollWait(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxPollWait = d
}

// KeepCalls turns the call log on or off (benchmarks with many calls may
// turn it off; counts are kept either way).
func (s *Server) KeepCalls(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keepCalls = on
}

// KeepFiles keeps the bytes of uploaded files, for FileData (off by
// default: benchmarks upload many).
func (s *Server) KeepFiles(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keepFiles = on
}

// FileData returns an uploaded file kept under KeepFiles: its bytes and
// its name.
func (s *Server) FileData(fileID string) (data []byte, name string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.fileData[fileID]
	return u.Data, u.Name, ok
}

// SetObserver makes f see every call once answered (c.Status set), in
// the order answered, outside the server's lock; f must not block for
// long. nil stops it.
func (s *Server) SetObserver(f func(c Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observer = f
}

// SetWebhook makes getUpdates answer 409 until deleteWebhook is called.
func (s *Server) SetWebhook() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookSet = true
}

// AddRule adds a rule run before every call.
func (s *Server) AddRule(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, r)
}

// FailNext makes the next call naming chatID (chat_id) answer f; several
// calls queue.
func (s *Server) FailNext(chatID int64, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[chatID] = append(s.failNext[chatID], f)
}

// Block makes every call to chatID answer f (Blocked() when f is zero)
// until Unblock.
func (s *Server) Block(chatID int64, f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := Blocked()
	if len(f) > 0 {
		b = f[0]
	}
	s.blocked[chatID] = b
}

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blocked, chatID)
}

// Migrate makes every call to the group from answer 400 with
// migrate_to_chat_id=to.
func (s *Server) Migrate(from, to int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.migrated[from] = to
}

// SetBotUser sets the bot's name and @username (without @) that getMe
// answers and that commands addressed to the bot name ("/pacotes@name");
// the defaults are BotName and BotUserName. Set it before the bot starts.
func (s *Server) SetBotUser(name, userName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botName, s.botUserName = name, userName
}

// SetMember sets what getChatMember answers for userID in chatID:
// "creator", "administrator", "member", "restricted", "left" or "kicked".
// chatID 0 sets userID's status in every chat not set otherwise. Anyone
// not set is a "member".
func (s *Server) SetMember(chatID, userID int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[[2]int64{chatID, userID}] = status
}

// FailAll makes every call answer f; nil heals the server.
func (s *Server) FailAll(f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAll = f
}

// AddFileID makes id a file_id the server accepts (as if uploaded before).
func (s *Server) AddFileID(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[id] = true
}

// Commands returns the commands list of the last setMyCommands (JSON).
func (s *Server) Commands() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands
}

// CommandsFor returns the commands set for a scope type
// ("all_private_chats", "all_group_chats", "default"), nil when none.
func (s *Server) CommandsFor(scope string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scoped[scope]
}

// Description returns the last setMyDescription ("description") or
// setMyShortDescription ("short_description") text.
func (s *Server) Description(field string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.descriptions[field]
}

// AllowedUpdates is the allowed_updates of the last getUpdates that named it.
func (s *Server) AllowedUpdates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.allowed...)
}

// ConfirmedOffset is the highest offset a getUpdates call confirmed:
// every update below it is gone.
func (s *Server) ConfirmedOffset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed
}

// Pending is how many pushed updates are not confirmed yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// UnansweredCallbacks lists the ids of pushed callback queries no
// answerCallbackQuery has answered.
func (s *Server) UnansweredCallbacks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, answered := range s.callbacks {
		if !answered {
			ids = append(ids, id)
		}
	}
	return ids
}

// ---- updates ----

// PushUpdate queues u for getUpdates. A zero UpdateID gets the next id.
// It returns the update_id.
func (s *Server) PushUpdate(u tgbotapi.Update) int {
	b, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	for k, v := range m {
		if string(v) == "null" {
			delete(m, k)
		}
	}
	if u.UpdateID == 0 {
		delete(m, "update_id")
	}
	if u.CallbackQuery != nil {
		s.mu.Lock()
		s.callbacks[u.CallbackQuery.ID] = false
		s.mu.Unlock()
	}
	return s.push(m)
}

// PushRaw queues a raw JSON update object (for malformed or unusual
// shapes). A missing update_id gets the next id.
func (s *Server) PushRaw(raw string) int {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		panic(fmt.Sprintf("telegramtest: PushRaw: %v", err))
	}
	return s.push(m)
}

func (s *Server) push(m map[string]json.RawMessage) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := 0
	if v, ok := m["update_id"]; ok {
		json.Unmarshal(v, &id)
	}
	if id == 0 {
		id = s.nextUpdate
		m["update_id"] = json.RawMessage(strconv.Itoa(id))
	}
	if id >= s.nextUpdate {
		s.nextUpdate = id + 1
	}
	kind := ""
	for k := range m {
		if k != "update_id" {
			kind = k
		}
	}
	raw, _ := json.Marshal(m)
	s.updates = append(s.updates, pendingUpdate{id: id, kind: kind, raw: raw})
	s.signal()
	return id
}

// ChatType is the type the fake gives a chat id: positive ids are
// private chats, -100… ids supergroups, other negative ids groups.
func ChatType(chatID int64) string {
	switch {
	case chatID > 0:
		return "private"
	case chatID <= -1000000000000:
		return "supergroup"
	default:
		return "group"
	}
}

// Chat builds the chat object for chatID.
func Chat(chatID int64) *tgbotapi.Chat {
	c := &tgbotapi.Chat{ID: chatID, Type: ChatType(chatID)}
	if c.Type == "private" {
		c.FirstName = "Pessoa"
	} else {
		c.Title = "Grupo " + strconv.FormatInt(-chatID, 10)
	}
	return c
}

// User builds a person with id.
func User(id int64) *tgbotapi.User {
	return &tgbotapi.User{ID: id, FirstName: "Pessoa", LanguageCode: "pt-br"}
}

// NewMessage builds a text message from fromID in chatID. Commands at
// the start of the text get their bot_command entity, as Telegram does.
func (s *Server) NewMessage(chatID, fromID int64, text string) *tgbotapi.Message {
	s.mu.Lock()
	s.msgSeq[chatID]++
	id := s.msgSeq[chatID]
	s.mu.Unlock()
	m := &tgbotapi.Message{
		MessageID: id,
		From:      User(fromID),
		Date:      int(s.now().Unix()),
		Chat:      Chat(chatID),
		Text:      text,
	}
	if strings.HasPrefix(text, "/") {
		n := strings.IndexAny(text, " \n\t")
		if n < 0 {
			n = len(text)
		}
		m.Entities = []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: utf16Len(text[:n])}}
	}
	return m
}

// PushMessage queues a text message from fromID in chatID (fromID 0:
// the chat's own id, as in private chats). It returns the update_id.
func (s *Server) PushMessage(chatID, fromID int64, text string) int {
	if fromID == 0 {
		fromID = chatID
	}
	return s.PushUpdate(tgbotapi.Update{Message: s.NewMessage(chatID, fromID, text)})
}

// PushFromUser queues what a person typed in chatID, as Telegram
// delivers it to a bot in privacy mode (the default): everything in a
// private chat; in a group only commands (text starting with "/") not
// addressed to another bot ("/cmd@OtherBot"). It reports whether the bot
// gets the message, and the message as the chat shows it.
func (s *Server) PushFromUser(chatID, fromID int64, text string) (*tgbotapi.Message, bool) {
	if fromID == 0 {
		fromID = chatID
	}
	m := s.NewMessage(chatID, fromID, text)
	if ChatType(chatID) != "private" && !s.CommandForBot(text) {
		return m, false
	}
	s.PushUpdate(tgbotapi.Update{Message: m})
	return m, true
}

// CommandForBot reports whether a group message reaches a bot in privacy
// mode: a command, bare or addressed to this bot (BotUserName).
func CommandForBot(text string) bool { return commandFor(text, BotUserName) }

// CommandForBot is the package's CommandForBot for this server's bot
// (SetBotUser).
func (s *Server) CommandForBot(text string) bool { return commandFor(text, s.bot().UserName) }

func commandFor(text, userName string) bool {
	if !strings.HasPrefix(text, "/") || len(text) < 2 {
		return false
	}
	cmd := text
	if n := strings.IndexAny(cmd, " \n\t"); n >= 0 {
		cmd = cmd[:n]
	}
	_, to, addressed := strings.Cut(cmd, "@")
	return !addressed || strings.EqualFold(to, userName)
}

// PushCallback queues a press on an inline button carrying data, under
// the bot's message messageID in chatID (0: a callback without a
// message, as for old or inline messages). It returns the callback id.
func (s *Server) PushCallback(chatID, fromID int64, messageID int, data string) string {
	if fromID == 0 {
		fromID = chatID
	}
	s.mu.Lock()
	s.nextCbID++
	id := fmt.Sprintf("cb%d", s.nextCbID)
	sent := s.msgs[[2]int64{chatID, int64(messageID)}]
	s.mu.Unlock()
	self := s.bot()
	var markup *tgbotapi.InlineKeyboardMarkup
	if sent.markup != "" {
		markup = new(tgbotapi.InlineKeyboardMarkup)
		if json.Unmarshal([]byte(sent.markup), markup) != nil {
			markup = nil
		}
	}
	cq := &tgbotapi.CallbackQuery{ID: id, From: User(fromID), ChatInstance: "ci" + strconv.FormatInt(chatID, 10), Data: data}
	if messageID != 0 {
		cq.Message = &tgbotapi.Message{
			MessageID:   messageID,
			From:        &tgbotapi.User{ID: self.ID, IsBot: true, FirstName: self.FirstName, UserName: self.UserName},
			Date:        int(s.now().Unix()),
			Chat:        Chat(chatID),
			Text:        sent.text,
			ReplyMarkup: markup,
		}
	}
	s.PushUpdate(tgbotapi.Update{CallbackQuery: cq})
	return id
}

// ---- call log ----

// Calls returns a copy of the call log, optionally only the given methods.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return filterCalls(s.calls, methods)
}

func filterCalls(calls []Call, methods []string) []Call {
	var out []Call
	for _, c := range calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Count is how many calls of method were made (successful or not).
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ncalls[method]
}

// Messages returns the successful sendMessage and sendAnimation calls to
// chatID, in order.
func (s *Server) Messages(chatID int64) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chatID)
}

func (s *Server) messagesLocked(chatID int64) []Call {
	var out []Call
	for _, c := range s.calls {
		if c.ChatID == chatID && c.OK() && (c.Method == "sendMessage" || c.Method == "sendAnimation") {
			out = append(out, c)
		}
	}
	return out
}

// Wait blocks until cond, called with the call log under the lock, holds,
// or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func(calls []Call) bool) error {
	for {
		s.mu.Lock()
		ok := cond(s.calls)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitTimeout is how long the tb helpers wait.
var WaitTimeout = 5 * time.Second

// WaitCalls waits until n calls of method were made and returns them.
func (s *Server) WaitCalls(tb TB, method string, n int) []Call {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	var got []Call
	err := s.Wait(ctx, func(calls []Call) bool {
		got = filterCalls(calls, []string{method})
		return len(got) >= n
	})
	if err != nil {
		tb.Fatalf("telegramtest: waited %v for %d %s calls, got %d", WaitTimeout, n, method, len(got))
	}
	return got
}

// WaitMessages waits until chatID received n messages (sendMessage or
// sendAnimation answered ok) and returns them all.
func (s *Server) WaitMessages(tb TB, chatID int64, n int) []Call {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	var got []Call
	err := s.Wait(ctx, func([]Call) bool {
		got = s.messagesLocked(chatID)
		return len(got) >= n
	})
	if err != nil {
		var texts []string
		for _, c := range got {
			texts = append(texts, c.Text)
		}
		tb.Fatalf("telegramtest: waited %v for %d messages to chat %d, got %d: %q", WaitTimeout, n, chatID, len(got), texts)
	}
	return got
}

// WaitMessage waits for one more message to chatID than it had when
// after was counted (after: len(Messages(chatID)) taken before acting)
// and returns it.
func (s *Server) WaitMessage(tb TB, chatID int64, after int) Call {
	tb.Helper()
	msgs := s.WaitMessages(tb, chatID, after+1)
	return msgs[after]
}

// WaitOffset waits until getUpdates confirmed offset ≥ off.
func (s *Server) WaitOffset(tb TB, off int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	err := s.Wait(ctx, func([]Call) bool { return s.confirmed >= off })
	if err != nil {
		tb.Fatalf("telegramtest: waited %v for offset %d, confirmed %d", WaitTimeout, off, s.confirmed)
	}
}

// signal wakes waiters; s.mu must be held.
func (s *Server) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ---- HTTP ----

type envelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *params         `json:"parameters,omitempty"`
}

type params struct {
	RetryAfter      int   `json:"retry_after,omitempty"`
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
}

// apiError is a handler's error answer.
type apiError = Fault

func badRequest(desc string) *apiError {
	return &apiError{Code: 400, Description: "Bad Request: " + desc}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || method == "" {
		writeFault(w, &Fault{Code: 404, Description: "Not Found"})
		return
	}
	if token != s.Token {
		writeFault(w, &Fault{Code: 401, Description: "Unauthorized"})
		return
	}
	c := Call{Method: method, Time: s.now()}
	s.mu.Lock()
	keepFiles := s.keepFiles
	s.mu.Unlock()
	if err := parseBody(r, &c, keepFiles); err != nil {
		writeFault(w, badRequest(err.Error()))
		return
	}
	c.ChatID, _ = strconv.ParseInt(c.Params.Get("chat_id"), 10, 64)

	s.mu.Lock()
	fault := s.faultLocked(&c)
	latency := s.latency
	s.mu.Unlock()

	if fault == nil && method != "getUpdates" && latency > 0 {
		if !sleepCtx(r.Context(), s.done, latency) {
			return
		}
	}
	if fault != nil && fault.Delay > 0 {
		if !sleepCtx(r.Context(), s.done, fault.Delay) {
			return
		}
	}

	var result any
	var herr *apiError
	if fault != nil {
		herr = fault
	} else {
		result, herr = s.handle(r.Context(), &c)
	}

	s.mu.Lock()
	if herr != nil {
		c.Status = herr.Code
		if herr.HTTPStatus != 0 {
			c.Status = herr.HTTPStatus
		}
	} else {
		c.Status = http.StatusOK
		c.Result, _ = json.Marshal(result)
	}
	s.ncalls[method]++
	c.Seq = len(s.calls) + 1
	if s.keepCalls {
		s.calls = append(s.calls, c)
	}
	s.signal()
	observe := s.observer
	s.mu.Unlock()
	if observe != nil {
		observe(c)
	}

	if herr != nil {
		writeFault(w, herr)
		return
	}
	writeJSON(w, http.StatusOK, envelope{OK: true, Result: c.Result})
}

// faultLocked decides whether c fails before it is handled.
func (s *Server) faultLocked(c *Call) *Fault {
	if s.failAll != nil {
		f := *s.failAll
		return &f
	}
	for _, r := range s.rules {
		if f := r(c); f != nil {
			return f
		}
	}
	if c.ChatID == 0 || c.Method == "getUpdates" {
		return nil
	}
	if q := s.failNext[c.ChatID]; len(q) > 0 {
		f := q[0]
		if len(q) == 1 {
			delete(s.failNext, c.ChatID)
		} else {
			s.failNext[c.ChatID] = q[1:]
		}
		return &f
	}
	if f, ok := s.blocked[c.ChatID]; ok {
		return &f
	}
	if to, ok := s.migrated[c.ChatID]; ok {
		f := MigratedTo(to)
		return &f
	}
	return nil
}

func sleepCtx(ctx context.Context, done chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-done:
		return false
	}
}

func writeFault(w http.ResponseWriter, f *Fault) {
	status := f.Code
	if f.HTTPStatus != 0 {
		status = f.HTTPStatus
	}
	if f.Body != "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, f.Body)
		return
	}
	e := envelope{ErrorCode: f.Code, Description: f.Description}
	if f.RetryAfter != 0 || f.MigrateTo != 0 {
		e.Parameters = &params{RetryAfter: f.RetryAfter, MigrateToChatID: f.MigrateTo}
	}
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// parseBody reads query, form-encoded and multipart parameters.
func parseBody(r *http.Request, c *Call, keepFiles bool) error {
	c.Params = url.Values{}
	for k, v := range r.URL.Query() {
		c.Params[k] = v
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return fmt.Errorf("can't parse multipart body: %v", err)
		}
		for k, v := range r.MultipartForm.Value {
			c.Params[k] = v
		}
		for field, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				up := Upload{Field: field, Name: fh.Filename, Size: int(fh.Size)}
				if keepFiles {
					f, err := fh.Open()
					if err != nil {
						return fmt.Errorf("can't read file %q: %v", fh.Filename, err)
					}
					up.Data, err = io.ReadAll(f)
					f.Close()
					if err != nil {
						return fmt.Errorf("can't read file %q: %v", fh.Filename, err)
					}
				}
				c.Uploads = append(c.Uploads, up)
			}
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return fmt.Errorf("can't parse form body: %v", err)
		}
		for k, v := range r.PostForm {
			c.Params[k] = v
		}
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return fmt.Errorf("can't parse JSON object")
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				c.Params.Set(k, v)
			default:
				b, _ := json.Marshal(v)
				c.Params.Set(k, string(b))
			}
		}
	}
	return nil
}
