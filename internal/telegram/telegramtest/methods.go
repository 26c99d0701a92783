package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Telegram's limits, as the real API enforces them.
const (
	MaxTextLen         = 4096 // UTF-16 units, after entity parsing
	MaxCaptionLen      = 1024
	MaxCallbackDataLen = 64 // bytes
	MaxCallbackTextLen = 200
)

func (s *Server) bot() tgbotapi.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.botLocked()
}

func (s *Server) botLocked() tgbotapi.User {
	return tgbotapi.User{ID: BotID, IsBot: true, FirstName: s.botName, UserName: s.botUserName, CanJoinGroups: true}
}

// handle answers one call that no fault intercepted.
func (s *Server) handle(ctx context.Context, c *Call) (any, *apiError) {
	switch c.Method {
	case "getMe":
		return s.bot(), nil
	case "deleteWebhook":
		s.mu.Lock()
		s.webhookSet = false
		s.mu.Unlock()
		return true, nil
	case "setMyCommands":
		return s.setMyCommands(c)
	case "deleteMyCommands":
		s.mu.Lock()
		delete(s.scoped, scopeType(c))
		s.mu.Unlock()
		return true, nil
	case "setMyDescription":
		return s.setDescription(c, "description", 512)
	case "setMyShortDescription":
		return s.setDescription(c, "short_description", 120)
	case "getUpdates":
		return s.getUpdates(ctx, c)
	case "sendMessage":
		return s.sendMessage(c)
	case "sendAnimation":
		return s.sendAnimation(c)
	case "answerCallbackQuery":
		return s.answerCallbackQuery(c)
	case "editMessageText", "editMessageReplyMarkup":
		return s.editMessage(c)
	case "deleteMessage":
		return s.deleteMessage(c)
	case "getChatMember":
		return s.getChatMember(c)
	}
	return nil, &apiError{Code: 404, Description: "Not Found"}
}

func (s *Server) setMyCommands(c *Call) (any, *apiError) {
	var cmds []tgbotapi.BotCommand
	raw := c.Params.Get("commands")
	if err := json.Unmarshal([]byte(raw), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands")
	}
	for _, cmd := range cmds {
		if !validCommand(cmd.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(cmd.Description); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	s.commands = json.RawMessage(raw)
	if s.scoped == nil {
		s.scoped = map[string]json.RawMessage{}
	}
	s.scoped[scopeType(c)] = json.RawMessage(raw)
	s.mu.Unlock()
	return true, nil
}

// scopeType is the type of a call's scope parameter ("default" without one).
func scopeType(c *Call) string {
	var sc struct {
		Type string `json:"type"`
	}
	if json.Unmarshal([]byte(c.Params.Get("scope")), &sc) != nil || sc.Type == "" {
		return "default"
	}
	return sc.Type
}

func (s *Server) setDescription(c *Call, field string, max int) (any, *apiError) {
	d := c.Params.Get(field)
	if utf16Len(d) > max {
		return nil, badRequest("BOT_DESCRIPTION_TOO_LONG")
	}
	s.mu.Lock()
	if s.descriptions == nil {
		s.descriptions = map[string]string{}
	}
	s.descriptions[field] = d
	s.mu.Unlock()
	return true, nil
}

func validCommand(cmd string) bool {
	if len(cmd) < 1 || len(cmd) > 32 {
		return false
	}
	for _, r := range cmd {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// getUpdates returns the queued updates from offset on, holding the call
// up to timeout seconds while there are none. A newer getUpdates ends a
// held one with 409, as Telegram does with two pollers.
func (s *Server) getUpdates(ctx context.Context, c *Call) (any, *apiError) {
	offset := atoiDefault(c.Params.Get("offset"), 0)
	limit := atoiDefault(c.Params.Get("limit"), 100)
	if limit < 1 || limit > 100 {
		limit = 100
	}
	wait := time.Duration(atoiDefault(c.Params.Get("timeout"), 0)) * time.Second
	var allowed []string
	raw := c.Params.Get("allowed_updates")
	specified := raw != "" && raw != "null" // tgbotapi sends null for a nil slice
	if specified {
		if err := json.Unmarshal([]byte(raw), &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
	}

	s.mu.Lock()
	if s.webhookSet {
		s.mu.Unlock()
		return nil, &apiError{Code: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	if specified {
		s.allowed = allowed
	}
	if s.maxPollWait > 0 && wait > s.maxPollWait {
		wait = s.maxPollWait
	}
	s.pollGen++
	gen := s.pollGen
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		out := s.takeUpdatesLocked(offset, limit)
		if len(out) > 0 || wait <= 0 {
			s.mu.Unlock()
			return out, nil
		}
		if s.pollGen != gen {
			s.mu.Unlock()
			return nil, &apiError{Code: 409, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			wait = 0
		case <-ctx.Done():
			return []json.RawMessage{}, nil
		case <-s.done:
			return []json.RawMessage{}, nil
		}
		s.mu.Lock()
	}
}

// takeUpdatesLocked confirms the updates below offset (dropping them)
// and returns up to limit updates from offset on.
func (s *Server) takeUpdatesLocked(offset, limit int) []json.RawMessage {
	kept := s.updates[:0]
	for _, u := range s.updates {
		if (offset > 0 && u.id < offset) || (len(s.allowed) > 0 && !contains(s.allowed, u.kind)) {
			continue
		}
		kept = append(kept, u)
	}
	s.updates = kept
	if offset > s.confirmed {
		s.confirmed = offset
		s.signal()
	}
	out := []json.RawMessage{}
	for _, u := range s.updates {
		if len(out) == limit {
			break
		}
		out = append(out, u.raw)
	}
	return out
}

// renderText parses text under parse_mode and checks its length.
func renderText(text, parseMode string, max int, what string) (string, []tgbotapi.MessageEntity, *apiError) {
	plain := text
	var ents []tgbotapi.MessageEntity
	if strings.EqualFold(parseMode, "HTML") {
		var err error
		if plain, ents, err = ParseHTMLEntities(text); err != nil {
			return "", nil, badRequest(err.Error())
		}
	}
	if strings.TrimSpace(plain) == "" && what == "text" {
		return "", nil, badRequest("message text is empty")
	}
	if utf16Len(plain) > max {
		if what == "caption" {
			return "", nil, badRequest("message caption is too long")
		}
		return "", nil, badRequest("message is too long")
	}
	return plain, ents, nil
}

// checkMarkup validates reply_markup and returns it parsed (nil if absent).
func checkMarkup(raw string) (*tgbotapi.InlineKeyboardMarkup, *apiError) {
	if raw == "" {
		return nil, nil
	}
	var m tgbotapi.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" {
				return nil, badRequest("text buttons are unallowed in the inline keyboard")
			}
			if b.CallbackData != nil && (len(*b.CallbackData) < 1 || len(*b.CallbackData) > MaxCallbackDataLen) {
				return nil, badRequest("BUTTON_DATA_INVALID")
			}
		}
	}
	if len(m.InlineKeyboard) == 0 {
		return nil, nil
	}
	return &m, nil
}

func (s *Server) newMessageLocked(chatID int64) tgbotapi.Message {
	s.msgSeq[chatID]++
	return tgbotapi.Message{
		MessageID: s.msgSeq[chatID],
		From:      func() *tgbotapi.User { u := s.botLocked(); return &u }(),
		Date:      int(s.now().Unix()),
		Chat:      Chat(chatID),
	}
}

func (s *Server) sendMessage(c *Call) (any, *apiError) {
	if c.ChatID == 0 {
		return nil, badRequest("chat_id is empty")
	}
	plain, ents, err := renderText(c.Params.Get("text"), c.Params.Get("parse_mode"), MaxTextLen, "text")
	if err != nil {
		return nil, err
	}
	markup, err := checkMarkup(c.Params.Get("reply_markup"))
	if err != nil {
		return nil, err
	}
	c.Text, c.Entities = plain, ents
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.newMessageLocked(c.ChatID)
	m.Text = plain
	m.Entities = ents
	m.ReplyMarkup = markup
	c.MessageID = m.MessageID
	s.msgs[[2]int64{c.ChatID, int64(m.MessageID)}] = sentMessage{text: plain, markup: c.Params.Get("reply_markup")}
	return m, nil
}

func (s *Server) sendAnimation(c *Call) (any, *apiError) {
	if c.ChatID == 0 {
		return nil, badRequest("chat_id is empty")
	}
	caption, ents, err := renderText(c.Params.Get("caption"), c.Params.Get("parse_mode"), MaxCaptionLen, "caption")
	if err != nil {
		return nil, err
	}
	var up *Upload
	for i := range c.Uploads {
		if c.Uploads[i].Field == "animation" {
			up = &c.Uploads[i]
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var anim tgbotapi.Animation
	switch {
	case up != nil:
		if up.Size == 0 {
			return nil, badRequest("file must be non-empty")
		}
		if up.Size > 50<<20 {
			return nil, &apiError{Code: 413, Description: "Request Entity Too Large"}
		}
		s.nextFile++
		anim.FileID = fmt.Sprintf("CgACAgEAAxkBAAIfake%04d", s.nextFile)
		anim.FileUniqueID = fmt.Sprintf("AgADfake%04d", s.nextFile)
		anim.FileName = up.Name + ".mp4"
		anim.FileSize = up.Size
		s.files[anim.FileID] = true
		if s.keepFiles {
			s.fileData[anim.FileID] = *up
		}
	case c.Params.Get("animation") != "":
		id := c.Params.Get("animation")
		if !s.files[id] && !strings.HasPrefix(id, "http://") && !strings.HasPrefix(id, "https://") {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		anim.FileID = id
		anim.FileUniqueID = "AgAD" + strconv.Itoa(len(id))
	default:
		return nil, badRequest("there is no animation in the request")
	}
	anim.Width, anim.Height, anim.Duration, anim.MimeType = 480, 320, 6, "video/mp4"
	c.Text, c.Entities = caption, ents
	c.FileID = anim.FileID
	m := s.newMessageLocked(c.ChatID)
	m.Animation = &anim
	m.Document = &tgbotapi.Document{FileID: anim.FileID, FileUniqueID: anim.FileUniqueID, FileName: anim.FileName, MimeType: anim.MimeType, FileSize: anim.FileSize}
	m.Caption = caption
	m.CaptionEntities = ents
	c.MessageID = m.MessageID
	s.msgs[[2]int64{c.ChatID, int64(m.MessageID)}] = sentMessage{text: caption}
	return m, nil
}

func (s *Server) answerCallbackQuery(c *Call) (any, *apiError) {
	id := c.Params.Get("callback_query_id")
	if utf16Len(c.Params.Get("text")) > MaxCallbackTextLen {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	c.Text = c.Params.Get("text")
	s.mu.Lock()
	defer s.mu.Unlock()
	answered, known := s.callbacks[id]
	if !known || answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	s.callbacks[id] = true
	return true, nil
}

func (s *Server) editMessage(c *Call) (any, *apiError) {
	if c.Params.Get("inline_message_id") != "" {
		return true, nil
	}
	msgID := atoiDefault(c.Params.Get("message_id"), 0)
	if c.ChatID == 0 || msgID == 0 {
		return nil, badRequest("message to edit not found")
	}
	c.MessageID = msgID
	markupRaw := c.Params.Get("reply_markup")
	markup, err := checkMarkup(markupRaw)
	if err != nil {
		return nil, err
	}
	key := [2]int64{c.ChatID, int64(msgID)}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.msgs[key]
	if !ok {
		return nil, badRequest("message to edit not found")
	}
	next := sentMessage{text: old.text, markup: markupRaw}
	if markup == nil {
		next.markup = ""
	}
	if c.Method == "editMessageText" {
		plain, ents, err := renderText(c.Params.Get("text"), c.Params.Get("parse_mode"), MaxTextLen, "text")
		if err != nil {
			return nil, err
		}
		next.text = plain
		c.Text, c.Entities = plain, ents
	}
	if next == old {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	s.msgs[key] = next
	m := tgbotapi.Message{MessageID: msgID, From: func() *tgbotapi.User { u := s.botLocked(); return &u }(), Date: int(s.now().Unix()), Chat: Chat(c.ChatID), Text: next.text, ReplyMarkup: markup}
	return m, nil
}

func (s *Server) deleteMessage(c *Call) (any, *apiError) {
	msgID := atoiDefault(c.Params.Get("message_id"), 0)
	c.MessageID = msgID
	key := [2]int64{c.ChatID, int64(msgID)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.msgs[key]; !ok {
		return nil, badRequest("message to delete not found")
	}
	delete(s.msgs, key)
	return true, nil
}

func (s *Server) getChatMember(c *Call) (any, *apiError) {
	chatID, err1 := strconv.ParseInt(c.Params.Get("chat_id"), 10, 64)
	userID, err2 := strconv.ParseInt(c.Params.Get("user_id"), 10, 64)
	if err1 != nil || err2 != nil || userID <= 0 {
		return nil, badRequest("invalid user_id specified")
	}
	s.mu.Lock()
	status, ok := s.members[[2]int64{chatID, userID}]
	if !ok {
		status, ok = s.members[[2]int64{0, userID}]
	}
	s.mu.Unlock()
	if !ok {
		status = "member"
	}
	return tgbotapi.ChatMember{User: User(userID), Status: status}, nil
}
