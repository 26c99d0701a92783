package bot

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram"
	"github.com/rastreio/rastreio/internal/trackcode"
)

// Callback data prefixes (Telegram allows 64 bytes).
const (
	cbHistory  = message.CallbackHistory
	cbDelete   = message.CallbackStop
	cbUndo     = "u:"
	cbEraseYes = "erase:yes"
	cbEraseNo  = "erase:no"
)

type replyToKey struct{}

// withReplyTo makes the replies sent with ctx answer message id (groups).
func withReplyTo(ctx context.Context, id int) context.Context {
	return context.WithValue(ctx, replyToKey{}, id)
}

func replyTo(ctx context.Context) int {
	id, _ := ctx.Value(replyToKey{}).(int)
	return id
}

type forwardedKey struct{}

// withForwarded marks the codes added with ctx as read from a forwarded
// message: its text is what someone else wrote, so it names a code only
// when the chat gave it no name yet (store.PackageItem.KeepName).
func withForwarded(ctx context.Context) context.Context {
	return context.WithValue(ctx, forwardedKey{}, true)
}

func isForwarded(ctx context.Context) bool {
	f, _ := ctx.Value(forwardedKey{}).(bool)
	return f
}

// forwarded reports whether m was forwarded from another chat. The
// legacy forward_* fields are the ones the library decodes; the Bot API
// still sends them beside forward_origin.
func forwarded(m *tgbotapi.Message) bool {
	return m.ForwardDate != 0 || m.ForwardFrom != nil || m.ForwardFromChat != nil || m.ForwardSenderName != ""
}

// maxRetryAfter is the longest a reply waits on a 429 before giving up.
const maxRetryAfter = 3 * time.Second

// DefaultReplyRetryDelay is the first wait before a reply Telegram failed
// with a 5xx, or a connection that failed outright, is sent again;
// doubled for the next try. A brief Telegram hiccup then costs the person
// well under a second, not a tracker pass.
const DefaultReplyRetryDelay = 300 * time.Millisecond

// chatRef is what is kept of a chat: its id, kind and, for groups, the
// group's title. A person's name is not kept (see /privacidade).
func chatRef(c *tgbotapi.Chat) store.ChatRef {
	return store.ChatRef{ID: c.ID, Kind: c.Type, Title: c.Title}
}

func isGroup(c *tgbotapi.Chat) bool { return c.Type == "group" || c.Type == "supergroup" }

// onMessage handles a message (or an edited one: then only codes count,
// silently ignored otherwise).
func (b *Bot) onMessage(ctx context.Context, m *tgbotapi.Message, edited bool) {
	chat := m.Chat
	if chat == nil {
		return
	}
	switch {
	case m.MigrateToChatID != 0 || m.MigrateFromChatID != 0:
		// Only a group becomes a supergroup: anywhere else the fields are
		// not Telegram's doing, and moving the chat's codes would be wrong.
		switch {
		case m.MigrateToChatID != 0 && chat.Type == "group" && m.MigrateToChatID < 0:
			b.migrate(ctx, chat.ID, m.MigrateToChatID)
		case m.MigrateFromChatID != 0 && chat.Type == "supergroup" && m.MigrateFromChatID < 0:
			b.migrate(ctx, m.MigrateFromChatID, chat.ID)
		default:
			b.log.Warn("migration outside a group ignored", slog.Int64("chat_id", chat.ID), slog.String("chat_type", chat.Type))
		}
		return
	case chat.Type == "channel" || chat.Type == "":
		return
	case m.From != nil && m.From.IsBot && m.SenderChat == nil:
		return // another bot
	}
	if b.addedToGroup(m) {
		b.touch(ctx, chat)
		b.reply(ctx, chat.ID, groupWelcomeText(b.cfg.Providers), nil)
		return
	}
	if m.LeftChatMember != nil || len(m.NewChatMembers) > 0 || m.GroupChatCreated || m.SuperGroupChatCreated {
		return // service messages
	}

	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if edited {
		if b.flood.allowQuiet(chat.ID, b.now()) && !strings.HasPrefix(text, "/") {
			f := trackcode.Find(text)
			if len(f.Codes) > 0 {
				b.addCodes(ctx, chat, senderID(m), f)
			}
		}
		return
	}
	if isGroup(chat) {
		// In a busy group the answer names whose message it answers.
		ctx = withReplyTo(ctx, m.MessageID)
	}
	if forwarded(m) {
		ctx = withForwarded(ctx)
	}
	if ok, warn := b.flood.allow(chat.ID, b.now()); !ok {
		if warn {
			b.reply(ctx, chat.ID, floodText, nil)
		}
		return
	}
	private := chat.Type == "private"
	if strings.HasPrefix(text, "/") {
		b.onCommand(ctx, m, text)
		return
	}
	if b.albums.seen(chat.ID, m.MediaGroupID) && text == "" {
		return // the album was answered at its first item
	}
	if text == "" {
		if private {
			b.touch(ctx, chat)
			b.reply(ctx, chat.ID, noTextText, nil)
		}
		return
	}
	none := ""
	if private {
		none = noCodeText // in groups, chatter without a code gets no answer
	}
	b.addFromText(ctx, chat, senderID(m), text, none)
}

// addFromText saves the codes found in text, answers the mistyped ones,
// and answers none (when not empty) if text holds no code at all.
// by is the sender's user id (0: none to name), see store.AddOptions.
func (b *Bot) addFromText(ctx context.Context, chat *tgbotapi.Chat, by int64, text, none string) {
	f := trackcode.Find(text)
	switch {
	case len(f.Codes) > 0:
		b.addCodes(ctx, chat, by, f)
	case len(f.Mistyped) > 0:
		b.touch(ctx, chat)
		b.reply(ctx, chat.ID, mistypedText(f.Mistyped), nil)
	case none != "" && len(otherCarrierCodes(text)) > 0:
		b.touch(ctx, chat)
		b.reply(ctx, chat.ID, otherCarrierText(otherCarrierCodes(text)), nil)
	case none != "":
		b.touch(ctx, chat)
		b.reply(ctx, chat.ID, none, nil)
	}
}

// otherCarrier matches what tracking codes of other carriers look like:
// one word of 10 to 30 letters and digits with at least 8 digits
// (Shopee "BR2456789012345X", Cainiao "LP00512345678901", Jadlog's 14
// digits, Mercado Livre's and Loggi's long numbers), which is not a
// Correios S10 code (those are found before this is asked).
var otherCarrier = regexp.MustCompile(`\b[A-Za-z0-9]{10,30}\b`)

// otherCarrierCodes returns the words of text that look like another
// carrier's tracking code (at most 5).
func otherCarrierCodes(text string) []string {
	var out []string
	for _, w := range otherCarrier.FindAllString(text, -1) {
		digits := 0
		for _, r := range w {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits >= 8 && len(out) < 5 {
			out = append(out, strings.ToUpper(w))
		}
	}
	return out
}

// addedToGroup reports whether m announces the bot joining a group.
func (b *Bot) addedToGroup(m *tgbotapi.Message) bool {
	for _, u := range m.NewChatMembers {
		if u.IsBot && strings.EqualFold(u.UserName, b.cfg.UserName) {
			return true
		}
	}
	return m.GroupChatCreated && isGroup(m.Chat)
}

// parseCommand splits "/cmd@bot args" into cmd (lower case), the bot it
// is addressed to and the arguments.
func parseCommand(text string) (cmd, target, args string) {
	first, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(first, "\n\t"); i >= 0 {
		rest = first[i+1:] + " " + rest
		first = first[:i]
	}
	first = strings.TrimPrefix(first, "/")
	cmd, target, _ = strings.Cut(first, "@")
	return strings.ToLower(cmd), target, strings.TrimSpace(rest)
}

func (b *Bot) onCommand(ctx context.Context, m *tgbotapi.Message, text string) {
	chat := m.Chat
	cmd, target, args := parseCommand(text)
	if target != "" && !strings.EqualFold(target, b.cfg.UserName) {
		return // for another bot in the group
	}
	private := chat.Type == "private"
	switch cmd {
	case "start":
		// A deep link's code, mistyped ones answered as anywhere else.
		if f := trackcode.Find(args); len(f.Codes)+len(f.Mistyped) > 0 {
			b.addFromText(ctx, chat, senderID(m), args, "")
			return
		}
		b.touch(ctx, chat)
		if isGroup(chat) {
			b.reply(ctx, chat.ID, groupWelcomeText(b.cfg.Providers), nil)
			return
		}
		b.reply(ctx, chat.ID, welcomeText(b.cfg.Providers), nil)
	case "help", "ajuda":
		b.touch(ctx, chat)
		b.reply(ctx, chat.ID, helpText(isGroup(chat)), nil)
	case "privacidade", "privacy":
		b.touch(ctx, chat)
		b.reply(ctx, chat.ID, privacyText(b.cfg.Providers, isGroup(chat)), nil)
	case "gif":
		b.touch(ctx, chat)
		b.sendGIFs(ctx, chat.ID)
	case "add", "rastrear", "rastreio", "rastreamento", "adicionar":
		b.addFromText(ctx, chat, senderID(m), args, addUsage)
	case "pacotes", "list", "lista":
		b.touch(ctx, chat)
		b.sendList(ctx, chat)
	case "del", "remover", "remove":
		b.touch(ctx, chat)
		b.removeCodes(ctx, m, args)
	case "apagar_meus_dados":
		b.touch(ctx, chat)
		b.askErase(ctx, m)
	default:
		if private {
			b.touch(ctx, chat)
			b.reply(ctx, chat.ID, unknownCommandText(cmd), nil)
		}
	}
}

// touch records that someone wrote in chat (creating it, un-pausing it).
func (b *Bot) touch(ctx context.Context, chat *tgbotapi.Chat) {
	if err := b.st.TouchChat(ctx, chatRef(chat)); err != nil {
		b.log.Error("saving the chat failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
	}
}

func (b *Bot) addCodes(ctx context.Context, chat *tgbotapi.Chat, by int64, f trackcode.Findings) {
	its := make([]store.PackageItem, len(f.Codes))
	for i, c := range f.Codes {
		its[i] = store.PackageItem{Code: c.Code, Description: c.Description, KeepName: isForwarded(ctx)}
	}
	res, err := b.st.AddPackagesAs(ctx, chatRef(chat), its, store.AddOptions{
		By: by, MaxPerChat: b.cfg.MaxCodesPerChat, MaxPerPerson: b.cfg.MaxCodesPerPerson,
	})
	if err != nil {
		if store.IsDiskFull(err) {
			b.log.Error("saving codes failed: the database's disk is full", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
			b.reply(ctx, chat.ID, diskFullText, nil)
			return
		}
		b.log.Error("saving codes failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		b.reply(ctx, chat.ID, saveFailed, nil)
		return
	}
	b.log.Debug("codes saved", slog.Int64("chat_id", chat.ID), slog.Int("added", len(res.Added)), slog.Int("renamed", len(res.Renamed)), slog.Int("over_cap", len(res.OverCap)))
	for _, text := range renderAdded(res, f, b.cfg.MaxCodesPerChat, b.cfg.MaxCodesPerPerson, isGroup(chat), b.firstCheck(ctx, len(res.Added) > len(res.Current))) {
		b.reply(ctx, chat.ID, text, nil)
	}
	// Codes another chat already tracks: their current status now, as the
	// tracker would have sent it (the chat starts past it).
	for _, c := range res.Current {
		b.reply(ctx, chat.ID, message.FirstStatus(c.Code, c.Description, c.Event, false), nil)
	}
}

// firstCheck is when new codes are first checked: within the pass
// interval, unless a monthly budget slowed the tracker's recent passes.
// need: some code awaits its first check (else the store is not read).
func (b *Bot) firstCheck(ctx context.Context, need bool) firstCheck {
	fc := firstCheck{Within: b.cfg.PassInterval}
	if !need {
		return fc
	}
	slowed, err := b.st.Slowed(ctx, b.now().Add(-SlowedFor))
	if err != nil {
		b.log.Warn("reading whether checks are slowed failed; promising the usual time", slog.Any("error", err))
	}
	fc.Slowed = len(slowed) > 0
	return fc
}

func (b *Bot) sendList(ctx context.Context, chat *tgbotapi.Chat) {
	ps, err := b.st.Packages(ctx, chat.ID)
	if err != nil {
		b.log.Error("listing packages failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		b.reply(ctx, chat.ID, listFailed, nil)
		return
	}
	if len(ps) == 0 {
		b.reply(ctx, chat.ID, emptyListText(isGroup(chat)), nil)
		return
	}
	slowed, err := b.st.Slowed(ctx, b.now().Add(-SlowedFor))
	if err != nil {
		b.log.Warn("reading whether checks are slowed failed; listing without it", slog.Any("error", err))
	}
	for _, p := range renderList(ps, b.cfg.MaxCodesPerChat, isGroup(chat), b.now(), len(slowed) > 0) {
		b.reply(ctx, chat.ID, p.text, p.markup)
	}
}

// removeCodes stops the chat tracking the codes in args; in a group, each
// only for the person who added it or an administrator.
func (b *Bot) removeCodes(ctx context.Context, m *tgbotapi.Message, args string) {
	chat := m.Chat
	who := &remover{b: b, chat: chat, user: m.From, asGroup: sentAsGroup(m)}
	f := trackcode.Find(args)
	// At most MaxCodesPerMessage codes, the valid ones first.
	mistyped := f.Mistyped
	if room := trackcode.MaxPerMessage - len(f.Codes); len(mistyped) > room {
		mistyped, f.Truncated = mistyped[:room], true
	}
	codes := append([]string(nil), mistyped...)
	for _, c := range f.Codes {
		codes = append(codes, c.Code)
	}
	if len(codes) == 0 {
		b.reply(ctx, chat.ID, delUsage, nil)
		return
	}
	var blocks []string
	if f.Truncated {
		defer func() {
			b.reply(ctx, chat.ID, "ℹ️ Li só os "+strconv.Itoa(trackcode.MaxPerMessage)+" primeiros códigos da mensagem; mande os outros em seguida.", nil)
		}()
	}
	for _, c := range codes {
		p, err := b.st.TrackedPackage(ctx, chat.ID, c)
		if errors.Is(err, store.ErrNotFound) {
			blocks = append(blocks, notTrackedText(c, isGroup(chat)))
			continue
		}
		if err == nil {
			if ok, failed := who.may(p.AddedBy); !ok {
				if failed {
					blocks = append(blocks, adminCheckFailed)
				} else {
					blocks = append(blocks, removeNotAllowedText(c))
				}
				continue
			}
			_, err = b.st.RemovePackage(ctx, chat.ID, c)
		}
		if err != nil {
			b.log.Error("removing a code failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
			blocks = append(blocks, removeFailedText(c))
			continue
		}
		blocks = append(blocks, removedText(c, p.Description))
	}
	for _, text := range joinBlocks(blocks, "\n") {
		b.reply(ctx, chat.ID, text, nil)
	}
}

// askErase asks for confirmation with buttons only the person who asked
// can press (their id rides in the callback data); in a group only an
// administrator may ask, and only an administrator may confirm.
func (b *Bot) askErase(ctx context.Context, m *tgbotapi.Message) {
	chat := m.Chat
	if ok, why := b.mayAskErase(m); !ok {
		b.reply(ctx, chat.ID, why, nil)
		return
	}
	ps, err := b.st.Packages(ctx, chat.ID)
	if err != nil {
		b.log.Error("listing packages failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("🗑 Sim, apagar tudo", eraseData(cbEraseYes, m)),
		tgbotapi.NewInlineKeyboardButtonData("Cancelar", eraseData(cbEraseNo, m)),
	))
	b.reply(ctx, chat.ID, eraseAskText(len(ps), isGroup(chat)), kb)
}

func (b *Bot) migrate(ctx context.Context, from, to int64) {
	if err := b.st.MigrateChat(ctx, from, to); err != nil {
		b.log.Error("moving a migrated group failed", slog.Int64("chat_id", from), slog.Int64("new_chat_id", to), slog.Any("error", err))
		return
	}
	b.log.Info("group moved to its supergroup", slog.Int64("chat_id", from), slog.Int64("new_chat_id", to))
}

// onMyChatMember pauses a chat that blocked or removed the bot and
// resumes it when the bot is back.
func (b *Bot) onMyChatMember(ctx context.Context, u *tgbotapi.ChatMemberUpdated) {
	chat := u.Chat
	switch u.NewChatMember.Status {
	case "kicked", "left":
		if err := b.st.PauseChat(ctx, chat.ID); err != nil {
			b.log.Error("pausing a chat failed", slog.Int64("chat_id", chat.ID), slog.Any("error", err))
		}
		b.log.Info("chat paused: the bot was blocked or removed", slog.Int64("chat_id", chat.ID))
	case "member", "administrator":
		if chat.Type == "channel" {
			return
		}
		b.touch(ctx, &chat)
	}
}

// reply queues an HTML message to chatID behind the chat's earlier ones.
// What Telegram answers is handled there: a 429 waits and retries, a
// migrated group is moved and the reply follows it, a blocked chat is
// paused.
func (b *Bot) reply(ctx context.Context, chatID int64, html string, markup any) {
	ctx = jobContext(ctx)
	b.onChatOr(chatID, func() { b.sendNow(ctx, chatID, html, markup) }, func() bool {
		// Stopping, and its turn never came: the tracker delivers it.
		if err := b.st.QueueMessage(ctx, chatID, html, time.Now()); err != nil {
			b.log.Warn("reply lost at stop", slog.Int64("chat_id", chatID), slog.Any("error", err))
			return false
		}
		return true
	})
}

func (b *Bot) sendNow(ctx context.Context, chatID int64, html string, markup any) {
	// What the reply confirms was committed before it was queued: make
	// it durable first (one fsync shared by the replies going out now),
	// so a power loss never takes back a code a person saw confirmed.
	if err := b.st.SyncWAL(); err != nil {
		b.log.Error("making saved data durable failed; replying anyway", slog.Int64("chat_id", chatID), slog.Any("error", err))
	}
	for attempt := 0; attempt < 3; attempt++ {
		m := tgbotapi.NewMessage(chatID, html)
		m.ParseMode = tgbotapi.ModeHTML
		m.DisableWebPagePreview = true
		if id := replyTo(ctx); id != 0 {
			m.ReplyToMessageID = id
			m.AllowSendingWithoutReply = true // the message may be gone
		}
		if markup != nil {
			m.ReplyMarkup = markup
		}
		_, err := b.api.Send(m)
		if err == nil {
			return
		}
		if !b.retryable(ctx, chatID, err, attempt, &chatID) || attempt == 2 {
			b.deliverLater(ctx, chatID, html, err)
			return
		}
	}
}

// retryable acts on a failed send (the attempt-th, from 0) and says
// whether to try again (with *chatID updated on a migration).
func (b *Bot) retryable(ctx context.Context, chatID int64, err error, attempt int, newID *int64) bool {
	e, _ := telegram.AsError(err)
	switch telegram.ClassOf(err) {
	case telegram.Server, telegram.Network:
		// A timeout may have gone through: it is not sent again now
		// (deliverLater decides).
		if !telegram.TimedOut(err) && attempt < 2 {
			sleep(ctx, b.cfg.ReplyRetryDelay<<attempt)
			return ctx.Err() == nil
		}
		return false
	case telegram.RetryAfter:
		wait := time.Second
		if e != nil && e.RetryAfter > 0 {
			wait = e.RetryAfter
		}
		if wait > maxRetryAfter {
			return false // too long to hold this sender: see laterFor
		}
		sleep(ctx, wait)
		return ctx.Err() == nil
	case telegram.Migrated:
		if e != nil && e.MigrateTo != 0 {
			b.migrate(ctx, chatID, e.MigrateTo)
			*newID = e.MigrateTo
			return true
		}
	case telegram.Blocked:
		if err := b.st.PauseChat(ctx, chatID); err != nil {
			b.log.Error("pausing a chat failed", slog.Int64("chat_id", chatID), slog.Any("error", err))
		}
		b.log.Info("chat paused: Telegram refused the reply", slog.Int64("chat_id", chatID), slog.Any("error", err))
		return false
	}
	if _, ok := laterFor(err); !ok {
		b.log.Warn("reply failed", slog.Int64("chat_id", chatID), slog.Any("error", err))
	}
	return false
}

// laterFor says whether a reply that failed with err can still go out
// later, and not before when: a long retry_after, a network or server
// failure. A reply Telegram refused for itself (400) never can.
func laterFor(err error) (time.Duration, bool) {
	switch telegram.ClassOf(err) {
	case telegram.RetryAfter:
		if e, ok := telegram.AsError(err); ok {
			return e.RetryAfter, true
		}
		return time.Second, true
	case telegram.Network, telegram.Server:
		return 0, true
	}
	return 0, false
}

// deliverLater hands a reply Telegram did not take now to the outbox:
// the next tracker pass delivers it (without its buttons), so a 429 or an
// outage does not lose it.
func (b *Bot) deliverLater(ctx context.Context, chatID int64, html string, err error) {
	wait, ok := laterFor(err)
	if !ok {
		return
	}
	if qerr := b.st.QueueMessage(ctx, chatID, html, time.Now().Add(wait)); qerr != nil {
		b.log.Warn("reply lost", slog.Int64("chat_id", chatID), slog.Any("error", err), slog.Any("queue_error", qerr))
		return
	}
	b.log.Warn("reply left in the outbox for the tracker", slog.Int64("chat_id", chatID), slog.Duration("not_before", wait), slog.Any("error", err))
}

// albums remembers the latest media groups (albums) seen per chat: an
// album arrives as one message per photo, and only its first item is
// answered ("só entendo texto" once, not once per photo).
type albums struct {
	mu   sync.Mutex
	ids  map[[2]string]struct{}
	ring [][2]string
	next int
}

const albumsKept = 512

// seen records chat's album id and reports whether it was seen before
// (false for a message outside an album).
func (a *albums) seen(chatID int64, id string) bool {
	if id == "" {
		return false
	}
	k := [2]string{strconv.FormatInt(chatID, 10), id}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.ids[k]; ok {
		return true
	}
	if a.ids == nil {
		a.ids = make(map[[2]string]struct{}, albumsKept)
		a.ring = make([][2]string, albumsKept)
	}
	delete(a.ids, a.ring[a.next])
	a.ring[a.next] = k
	a.next = (a.next + 1) % albumsKept
	a.ids[k] = struct{}{}
	return false
}
