package bot

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/bot/gifs"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
)

var gifCaptions = []string{gifCaption1, gifCaption2}

// sendGIFs sends the tutorial animations: uploaded the first time, then
// by the file_id Telegram gave (kept in meta, so it survives restarts).
func (b *Bot) sendGIFs(ctx context.Context, chatID int64) {
	for i, g := range gifs.All() {
		key := gifKeyPrefix + strconv.FormatInt(b.cfg.BotID, 10) + ":" + g.Name + ":" + g.Hash
		id, err := b.st.Meta(ctx, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			b.log.Warn("reading a GIF file_id failed", slog.Any("error", err))
		}
		caption := ""
		if i < len(gifCaptions) {
			caption = gifCaptions[i]
		}
		sent, ok, err := b.sendAnimation(ctx, chatID, g, id, caption)
		if !ok && id != "" && telegram.ClassOf(err) == telegram.BadRequest {
			// The stored file_id is not valid for this bot (token
			// changed): upload again.
			sent, ok, _ = b.sendAnimation(ctx, chatID, g, "", caption)
			id = ""
		}
		if !ok {
			if _, later := laterFor(err); later {
				b.log.Warn("tutorial GIF not sent", slog.Int64("chat_id", chatID), slog.Any("error", err))
			}
			return
		}
		if id == "" {
			newID := ""
			if sent.Animation != nil {
				newID = sent.Animation.FileID
			} else if sent.Document != nil {
				newID = sent.Document.FileID
			}
			if newID != "" {
				if err := b.st.SetMeta(ctx, key, newID); err != nil {
					b.log.Warn("saving a GIF file_id failed", slog.Any("error", err))
				}
			}
		}
	}
}

// sendAnimation sends one animation in the chat's order and waits for
// Telegram's answer (the file_id of an upload is needed).
func (b *Bot) sendAnimation(ctx context.Context, chatID int64, g gifs.GIF, fileID, caption string) (m tgbotapi.Message, ok bool, err error) {
	ctx = jobContext(ctx)
	b.onChatWait(chatID, func() { m, ok, err = b.sendAnimationNow(ctx, chatID, g, fileID, caption) })
	return m, ok, err
}

func (b *Bot) sendAnimationNow(ctx context.Context, chatID int64, g gifs.GIF, fileID, caption string) (tgbotapi.Message, bool, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		var file tgbotapi.RequestFileData = tgbotapi.FileBytes{Name: g.Name, Bytes: g.Data}
		if fileID != "" {
			file = tgbotapi.FileID(fileID)
		}
		a := tgbotapi.NewAnimation(chatID, file)
		a.Caption = caption
		a.ParseMode = tgbotapi.ModeHTML
		m, err := b.api.Send(a)
		if err == nil {
			return m, true, nil
		}
		lastErr = err
		if telegram.ClassOf(err) == telegram.BadRequest && fileID != "" {
			return m, false, err
		}
		if !b.retryable(ctx, chatID, err, attempt, &chatID) {
			return m, false, err
		}
	}
	return tgbotapi.Message{}, false, lastErr
}
