package demo

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
)

// The demo's person and chats.
const (
	UserID    = 1001 // the person at the page
	UserName  = "Você"
	PrivateID = UserID // a private chat's id is the person's
	GroupID   = -2001  // a group with the person (its creator) and the bot
)

// The demo bot's name and @username (getMe).
const (
	BotName     = "Rastreio"
	BotUserName = "RastreioBot"
)

// Button is an inline-keyboard button.
type Button struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Message is one bubble on the page.
type Message struct {
	Chat      int64      `json:"chat"`
	ID        int        `json:"id"`
	Out       bool       `json:"out"` // the person's (right side)
	From      string     `json:"from"`
	HTML      string     `json:"html"` // rendered as Telegram draws it, safe
	Text      string     `json:"text"` // what the person reads
	Time      int64      `json:"time"` // Unix ms
	Keyboard  [][]Button `json:"keyboard,omitempty"`
	Animation string     `json:"animation,omitempty"` // URL of the GIF
	Edited    bool       `json:"edited,omitempty"`
	// Unseen: a group message the bot does not receive (privacy mode).
	Unseen bool `json:"unseen,omitempty"`
}

// Command is an entry of the bot's command menu (setMyCommands).
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// ChatInfo describes a chat of the page.
type ChatInfo struct {
	ID    int64  `json:"id"`
	Kind  string `json:"kind"` // private, group
	Title string `json:"title"`
}

// Event is what the page receives, one per server-sent event.
type Event struct {
	Type     string     `json:"type"` // reset, message, edit, delete, toast, commands
	Chats    []ChatInfo `json:"chats,omitempty"`
	Messages []Message  `json:"messages,omitempty"` // reset: every message
	Message  *Message   `json:"message,omitempty"`
	Chat     int64      `json:"chat,omitempty"`
	ID       int        `json:"id,omitempty"`
	Text     string     `json:"text,omitempty"`
	Alert    bool       `json:"alert,omitempty"`
	// Commands are the command menus (setMyCommands) by chat kind:
	// "private" and "group".
	Commands map[string][]Command `json:"commands,omitempty"`
}

// Hub keeps the chats' history as the bot's calls to the fake Bot API
// shape it, takes what the person does on the page to the fake as
// updates, and streams every change to the pages watching.
type Hub struct {
	fake *telegramtest.Server

	mu        sync.Mutex
	chats     []ChatInfo
	msgs      []Message
	commands  map[string][]Command // by scope type: default, all_private_chats, all_group_chats
	callbacks map[string]int64     // callback query id → chat
	subs      map[chan Event]struct{}
	botUp     chan struct{} // closed once the bot published its commands
	upOnce    sync.Once
}

// BotUp is closed once the bot has started (its setMyCommands, which it
// calls right before polling for updates).
func (h *Hub) BotUp() <-chan struct{} { return h.botUp }

// NewHub watches fake (it becomes the fake's observer).
func NewHub(fake *telegramtest.Server) *Hub {
	h := &Hub{
		fake: fake,
		chats: []ChatInfo{
			{ID: PrivateID, Kind: "private", Title: "Rastreio"},
			{ID: GroupID, Kind: "group", Title: "Família"},
		},
		callbacks: map[string]int64{},
		commands:  map[string][]Command{},
		subs:      map[chan Event]struct{}{},
		botUp:     make(chan struct{}),
	}
	fake.KeepFiles(true)
	fake.KeepCalls(false)
	fake.SetObserver(h.observe)
	// The bot as people would know it, and the person at the page is
	// the group's creator: in groups only administrators may erase.
	fake.SetBotUser(BotName, BotUserName)
	fake.SetMember(GroupID, UserID, "creator")
	return h
}

// Subscribe returns the current state as a reset event and a channel of
// the changes after it. A subscriber that falls behind is dropped (its
// channel closed): the page reconnects and starts from a new reset.
func (h *Hub) Subscribe() (Event, chan Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan Event, 256)
	h.subs[ch] = struct{}{}
	return Event{Type: "reset", Chats: h.chats, Messages: append([]Message(nil), h.msgs...), Commands: h.menusLocked()}, ch
}

// Unsubscribe stops ch.
func (h *Hub) Unsubscribe(ch chan Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

// Messages returns a copy of the history.
func (h *Hub) Messages() []Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Message(nil), h.msgs...)
}

func (h *Hub) broadcastLocked(e Event) {
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}

func (h *Hub) chatKnown(chat int64) bool {
	return chat == PrivateID || chat == GroupID
}

// Send is the person typing text in chat: shown at once, and given to
// the bot as Telegram would (in the group, commands only).
func (h *Hub) Send(chat int64, text string) (Message, error) {
	text = strings.TrimSpace(text)
	if !h.chatKnown(chat) {
		return Message{}, fmt.Errorf("no chat %d", chat)
	}
	if text == "" {
		return Message{}, fmt.Errorf("empty message")
	}
	if n := len([]rune(text)); n > telegramtest.MaxTextLen {
		return Message{}, fmt.Errorf("message too long (%d characters, at most %d)", n, telegramtest.MaxTextLen)
	}
	m, delivered := h.fake.PushFromUser(chat, UserID, text)
	msg := Message{
		Chat: chat, ID: m.MessageID, Out: true, From: UserName, Text: text,
		HTML: RenderEntities(text, nil), Time: int64(m.Date) * 1000, Unseen: !delivered,
	}
	if msg.Time == 0 {
		msg.Time = time.Now().UnixMilli()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, msg)
	h.broadcastLocked(Event{Type: "message", Message: &msg})
	return msg, nil
}

// Press is the person tapping the button with data under the bot's
// message id in chat.
func (h *Hub) Press(chat int64, id int, data string) error {
	h.mu.Lock()
	found := false
	for _, m := range h.msgs {
		if m.Chat == chat && m.ID == id && !m.Out {
			for _, row := range m.Keyboard {
				for _, b := range row {
					found = found || (b.Data != "" && b.Data == data)
				}
			}
		}
	}
	h.mu.Unlock()
	if !found {
		return fmt.Errorf("no button %q under message %d in chat %d", data, id, chat)
	}
	cb := h.fake.PushCallback(chat, UserID, id, data)
	h.mu.Lock()
	h.callbacks[cb] = chat
	h.mu.Unlock()
	return nil
}

// observe turns the bot's successful calls into page events.
func (h *Hub) observe(c telegramtest.Call) {
	if !c.OK() {
		return
	}
	switch c.Method {
	case "sendMessage", "sendAnimation":
		if !h.chatKnown(c.ChatID) {
			return
		}
		msg := Message{
			Chat: c.ChatID, ID: c.MessageID, From: "Rastreio", Text: c.Text,
			HTML: RenderEntities(c.Text, c.Entities), Time: c.Time.UnixMilli(),
			Keyboard: keyboard(c.Params.Get("reply_markup")),
		}
		if c.Method == "sendAnimation" {
			msg.Animation = "/file/" + c.FileID
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, msg)
		h.broadcastLocked(Event{Type: "message", Message: &msg})
		h.mu.Unlock()
	case "editMessageText", "editMessageReplyMarkup", "editMessageCaption":
		h.mu.Lock()
		defer h.mu.Unlock()
		for i := range h.msgs {
			m := &h.msgs[i]
			if m.Chat != c.ChatID || m.ID != c.MessageID || m.Out {
				continue
			}
			if c.Method == "editMessageText" {
				m.Text, m.HTML, m.Edited = c.Text, RenderEntities(c.Text, c.Entities), true
			}
			m.Keyboard = keyboard(c.Params.Get("reply_markup"))
			cp := *m
			h.broadcastLocked(Event{Type: "edit", Message: &cp})
			return
		}
	case "deleteMessage":
		h.mu.Lock()
		defer h.mu.Unlock()
		for i, m := range h.msgs {
			if m.Chat == c.ChatID && m.ID == c.MessageID {
				h.msgs = append(h.msgs[:i], h.msgs[i+1:]...)
				h.broadcastLocked(Event{Type: "delete", Chat: c.ChatID, ID: c.MessageID})
				return
			}
		}
	case "answerCallbackQuery":
		h.mu.Lock()
		defer h.mu.Unlock()
		id := c.Params.Get("callback_query_id")
		chat := h.callbacks[id]
		delete(h.callbacks, id)
		if c.Text != "" {
			h.broadcastLocked(Event{Type: "toast", Chat: chat, Text: c.Text, Alert: c.Params.Get("show_alert") == "true"})
		}
	case "setMyCommands":
		var cmds []Command
		if json.Unmarshal([]byte(c.Params.Get("commands")), &cmds) != nil {
			return
		}
		var scope struct {
			Type string `json:"type"`
		}
		if raw := c.Params.Get("scope"); raw != "" {
			if json.Unmarshal([]byte(raw), &scope) != nil {
				return
			}
		}
		switch scope.Type {
		case "":
			scope.Type = "default"
		case "default", "all_private_chats", "all_group_chats":
		default:
			return // per-chat scopes: not this page's
		}
		h.upOnce.Do(func() { close(h.botUp) })
		h.mu.Lock()
		defer h.mu.Unlock()
		h.commands[scope.Type] = cmds
		h.broadcastLocked(Event{Type: "commands", Commands: h.menusLocked()})
	}
}

// menusLocked is the menu each kind of chat shows: its scope's, else the
// default one, as Telegram picks them.
func (h *Hub) menusLocked() map[string][]Command {
	pick := func(scope string) []Command {
		if c, ok := h.commands[scope]; ok {
			return c
		}
		return h.commands["default"]
	}
	return map[string][]Command{"private": pick("all_private_chats"), "group": pick("all_group_chats")}
}

func keyboard(raw string) [][]Button {
	if raw == "" {
		return nil
	}
	var m tgbotapi.InlineKeyboardMarkup
	if json.Unmarshal([]byte(raw), &m) != nil {
		return nil
	}
	var rows [][]Button
	for _, row := range m.InlineKeyboard {
		var r []Button
		for _, b := range row {
			x := Button{Text: b.Text}
			if b.CallbackData != nil {
				x.Data = *b.CallbackData
			}
			if b.URL != nil {
				x.URL = *b.URL
			}
			r = append(r, x)
		}
		if len(r) > 0 {
			rows = append(rows, r)
		}
	}
	return rows
}
