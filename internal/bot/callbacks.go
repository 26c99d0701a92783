package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
)

// onCallback handles a press on an inline button. Every callback query
// is answered (Telegram shows a spinner until then).
func (b *Bot) onCallback(ctx context.Context, q *tgbotapi.CallbackQuery) {
	toast := ""
	defer func() { b.answer(q.ID, toast) }()
	if q.Message == nil || q.Message.Chat == nil {
		toast = staleButton
		return
	}
	chat := q.Message.Chat
	if chat.Type == "channel" {
		return
	}
	if ok, _ := b.flood.allow(chat.ID, b.now()); !ok {
		toast = floodToast
		return
	}
	b.touch(ctx, chat)
	data := q.Data
	switch {
	case strings.HasPrefix(data, cbHistory):
		toast = b.showHistory(ctx, chat, strings.TrimPrefix(data, cbHistory))
	case strings.HasPrefix(data, cbDelete):
		toast = b.removeFromList(ctx, q, strings.TrimPrefix(data, cbDelete))
	case strings.HasPrefix(data, cbUndo):
		toast = b.undoRemove(ctx, q, strings.TrimPrefix(data, cbUndo))
	case strings.HasPrefix(data, "erase:"):
		toast = b.onErase(ctx, q)
	default:
		toast = staleButton
	}
}

// onErase handles the erase buttons; data that does not parse strictly,
// or a press by someone not allowed, erases nothing.
func (b *Bot) onErase(ctx context.Context, q *tgbotapi.CallbackQuery) string {
	chat := q.Message.Chat
	yes, who, asGroup, ok := parseErase(q.Data)
	if !ok {
		b.log.Warn("erase button with unexpected data ignored", slog.Int64("chat_id", chat.ID))
		return staleButton
	}
	if ok, why := b.mayPressErase(chat, q.From, who, asGroup); !ok {
		return why
	}
	if !yes {
		b.edit(ctx, chat.ID, q.Message.MessageID, eraseNo)
		return ""
	}
	n, err := b.st.DeleteChatData(ctx, chat.ID)
	if err != nil {
		b.log.Error("deleting a chat's data failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		return eraseFailedToast
	}
	b.log.Info("chat data deleted on request", slog.Int64("chat_id", chat.ID), slog.Int("codes", n))
	b.edit(ctx, chat.ID, q.Message.MessageID, eraseDoneText(n, isGroup(chat)))
	return erasedToast
}

func (b *Bot) answer(id, text string) {
	if id == "" {
		return
	}
	if _, err := b.api.Request(tgbotapi.NewCallback(id, text)); err != nil {
		b.log.Warn("answerCallbackQuery failed", slog.Any("error", err))
	}
}

func (b *Bot) edit(ctx context.Context, chatID int64, msgID int, html string) {
	e := tgbotapi.NewEditMessageText(chatID, msgID, html)
	e.ParseMode = tgbotapi.ModeHTML
	e.DisableWebPagePreview = true
	b.onChat(chatID, func() {
		if _, err := b.api.Send(e); err != nil && telegram.ClassOf(err) != telegram.NotModified {
			b.log.Warn("editing a message failed", slog.Int64("chat_id", chatID), slog.Any("error", err))
		}
	})
}

func (b *Bot) showHistory(ctx context.Context, chat *tgbotapi.Chat, code string) string {
	p, err := b.st.TrackedPackage(ctx, chat.ID, code)
	if errors.Is(err, store.ErrNotFound) {
		return notListedToast
	}
	if err != nil {
		b.log.Error("reading a package failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		return historyFailedToast
	}
	evs, total, err := b.st.RecentEvents(ctx, code, HistoryMax)
	if err != nil {
		b.log.Error("reading events failed", slog.String("code", code), slog.Any("error", err))
		return historyFailedToast
	}
	b.reply(ctx, chat.ID, renderHistory(p, evs, total, b.now()), nil)
	return ""
}

func (b *Bot) removeFromList(ctx context.Context, q *tgbotapi.CallbackQuery, code string) string {
	chat := q.Message.Chat
	p, err := b.st.TrackedPackage(ctx, chat.ID, code)
	if errors.Is(err, store.ErrNotFound) {
		b.dropButtons(q, code)
		return alreadyRemovedToast
	}
	if err == nil {
		who := &remover{b: b, chat: chat, user: q.From}
		if ok, failed := who.may(p.AddedBy); !ok {
			if failed {
				return adminCheckFailedShort
			}
			return removeOnlyShort
		}
		_, err = b.st.RemovePackage(ctx, chat.ID, code)
	}
	if err != nil {
		b.log.Error("removing a code failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		return removeFailedToast
	}
	b.dropButtons(q, code)
	b.undo.put(chat.ID, code, p.Description, p.AddedBy, b.now().Add(UndoWindow))
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(undoButton, cbUndo+code)))
	b.reply(ctx, chat.ID, removedUndoText(code, p.Description), kb)
	return "Removido"
}

// UndoWindow is how long a 🗑 press can be undone.
const UndoWindow = time.Minute

// undoRemove puts back a code removed with 🗑 in the last UndoWindow, with
// its description, and takes the undo button off the message.
func (b *Bot) undoRemove(ctx context.Context, q *tgbotapi.CallbackQuery, code string) string {
	chat := q.Message.Chat
	desc, by, ok := b.undo.take(chat.ID, code, b.now())
	b.edit(ctx, chat.ID, q.Message.MessageID, removedText(code, desc))
	if !ok {
		return undoExpired
	}
	// Back as it was: the person who had added it still may remove it.
	res, err := b.st.AddPackagesAs(ctx, chatRef(chat), []store.PackageItem{{Code: code, Description: desc}}, store.AddOptions{
		By: by, MaxPerChat: b.cfg.MaxCodesPerChat,
	})
	if err != nil {
		b.log.Error("restoring a code failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		return saveFailed
	}
	if len(res.OverCap) > 0 {
		b.reply(ctx, chat.ID, capText(b.cfg.MaxCodesPerChat, isGroup(chat)), nil)
		return ""
	}
	b.reply(ctx, chat.ID, restoredText(code, desc), nil)
	return "Desfeito"
}

// undoBook remembers, for UndoWindow, what 🗑 removed (in memory: a
// restart only costs the chance to undo).
type undoBook struct {
	mu sync.Mutex
	m  map[undoKey]undoEntry
}

type undoKey struct {
	chat int64
	code string
}

type undoEntry struct {
	desc  string
	by    int64 // who had added the code (store.Package.AddedBy)
	until time.Time
}

func (u *undoBook) put(chat int64, code, desc string, by int64, until time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[undoKey]undoEntry{}
	}
	for k, e := range u.m { // keep it small: drop what expired
		if until.Sub(e.until) > UndoWindow {
			delete(u.m, k)
		}
	}
	u.m[undoKey{chat, code}] = undoEntry{desc: desc, by: by, until: until}
}

// take returns the description to restore and who had added the code,
// once, while still in time.
func (u *undoBook) take(chat int64, code string, now time.Time) (string, int64, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.m[undoKey{chat, code}]
	delete(u.m, undoKey{chat, code})
	return e.desc, e.by, ok && now.Before(e.until)
}

// dropButtons removes code's row of buttons from the list message.
func (b *Bot) dropButtons(q *tgbotapi.CallbackQuery, code string) {
	m := q.Message
	if m.ReplyMarkup == nil {
		return
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	changed := false
	for _, row := range m.ReplyMarkup.InlineKeyboard {
		keep := true
		for _, btn := range row {
			if btn.CallbackData != nil && strings.HasSuffix(*btn.CallbackData, ":"+code) {
				keep = false
			}
		}
		if keep {
			rows = append(rows, row)
		} else {
			changed = true
		}
	}
	if !changed {
		return
	}
	if rows == nil {
		rows = [][]tgbotapi.InlineKeyboardButton{}
	}
	e := tgbotapi.NewEditMessageReplyMarkup(m.Chat.ID, m.MessageID, tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows})
	b.onChat(m.Chat.ID, func() {
		if _, err := b.api.Send(e); err != nil && telegram.ClassOf(err) != telegram.NotModified {
			b.log.Warn("editing the list's buttons failed", slog.Int64("chat_id", m.Chat.ID), slog.Any("error", err))
		}
	})
}
