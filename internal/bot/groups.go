package bot

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Who may do what in a group: erasing the group's data is for its
// administrators (getChatMember says administrator or creator, or the
// message was sent as the group itself, as an anonymous administrator's
// are); removing a code is for the person who added it and for
// administrators. In a private chat the person may do everything. Every
// check fails closed: when Telegram cannot say, the answer is no.

// sentAsGroup reports whether m was sent as its own chat (an anonymous
// administrator); a message sent as a channel is not.
func sentAsGroup(m *tgbotapi.Message) bool {
	return m.SenderChat != nil && m.Chat != nil && m.SenderChat.ID == m.Chat.ID
}

// senderID is the Telegram user id of the person who sent m, or 0 when
// no person can be named (no from, a bot, sent as the group or as a
// channel: then from is Telegram's placeholder bot).
func senderID(m *tgbotapi.Message) int64 {
	if m == nil || m.From == nil || m.From.IsBot || m.SenderChat != nil {
		return 0
	}
	return m.From.ID
}

// isAdmin asks Telegram whether user administers chatID.
func (b *Bot) isAdmin(chatID int64, user *tgbotapi.User) (bool, error) {
	if user == nil || user.IsBot || user.ID <= 0 {
		return false, nil
	}
	resp, err := b.api.Request(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: chatID, UserID: user.ID}})
	if err != nil {
		return false, err
	}
	var m tgbotapi.ChatMember
	if err := json.Unmarshal(resp.Result, &m); err != nil {
		return false, fmt.Errorf("getChatMember: %w", err)
	}
	return m.IsCreator() || m.IsAdministrator(), nil
}

// adminCheck runs isAdmin and logs a failure (the answer is then no).
func (b *Bot) adminCheck(chatID int64, user *tgbotapi.User) (admin, failed bool) {
	ok, err := b.isAdmin(chatID, user)
	if err != nil {
		b.log.Warn("getChatMember failed; not treating the person as an administrator", slog.Int64("chat_id", chatID), slog.Any("error", err))
		return false, true
	}
	return ok, false
}

// Erase buttons carry "erase:yes:WHO" / "erase:no:WHO", WHO being the
// id of the person who asked, or eraseAsGroup when an administrator
// asked anonymously (as the group).
const eraseAsGroup = "g"

func eraseData(prefix string, m *tgbotapi.Message) string {
	if sentAsGroup(m) {
		return prefix + ":" + eraseAsGroup
	}
	return prefix + ":" + strconv.FormatInt(senderID(m), 10)
}

// parseErase parses erase button data strictly: ok only for exactly
// "erase:yes:WHO" or "erase:no:WHO" with WHO a positive user id in its
// canonical form, or eraseAsGroup.
func parseErase(data string) (yes bool, who int64, asGroup, ok bool) {
	parts := strings.Split(data, ":")
	if len(parts) != 3 || parts[0] != "erase" || (parts[1] != "yes" && parts[1] != "no") {
		return false, 0, false, false
	}
	yes = parts[1] == "yes"
	if parts[2] == eraseAsGroup {
		return yes, 0, true, true
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != parts[2] {
		return false, 0, false, false
	}
	return yes, id, false, true
}

// mayAskErase says whether the sender of m may ask to erase chat's data,
// and if not, the answer to give.
func (b *Bot) mayAskErase(m *tgbotapi.Message) (bool, string) {
	if !isGroup(m.Chat) {
		return senderID(m) != 0, eraseOnlyPerson
	}
	if sentAsGroup(m) {
		return true, ""
	}
	if senderID(m) == 0 {
		return false, eraseOnlyAdmins
	}
	admin, failed := b.adminCheck(m.Chat.ID, m.From)
	switch {
	case failed:
		return false, adminCheckFailed
	case !admin:
		return false, eraseOnlyAdmins
	}
	return true, ""
}

// mayPressErase says whether from may press an erase button whose data
// names who asked: in a private chat only that person; in a group that
// person if still an administrator, or, when an administrator asked
// anonymously, any administrator.
func (b *Bot) mayPressErase(chat *tgbotapi.Chat, from *tgbotapi.User, who int64, asGroup bool) (bool, string) {
	if from == nil || from.IsBot {
		return false, eraseOnlyWhoAsked
	}
	if !isGroup(chat) {
		return !asGroup && from.ID == who, eraseOnlyWhoAsked
	}
	if !asGroup && from.ID != who {
		return false, eraseOnlyWhoAsked
	}
	admin, failed := b.adminCheck(chat.ID, from)
	switch {
	case failed:
		return false, adminCheckFailedShort
	case !admin:
		return false, eraseOnlyAdminsShort
	}
	return true, ""
}

// remover decides, for one update, whether its author may remove codes
// of a group: the person who added the code, or an administrator (asked
// of Telegram at most once per update).
type remover struct {
	b       *Bot
	chat    *tgbotapi.Chat
	user    *tgbotapi.User // the person acting, nil if none
	asGroup bool           // sent as the group: an administrator
	checked bool
	admin   bool
	failed  bool
}

// may reports whether the author may remove a code addedBy added; when
// not, failed says Telegram could not tell.
func (r *remover) may(addedBy int64) (ok, failed bool) {
	if !isGroup(r.chat) || r.asGroup {
		return true, false
	}
	if r.user != nil && !r.user.IsBot && addedBy != 0 && r.user.ID == addedBy {
		return true, false
	}
	if !r.checked {
		r.admin, r.failed = r.b.adminCheck(r.chat.ID, r.user)
		r.checked = true
	}
	return r.admin, r.failed
}

// Texts of this file.
const (
	eraseOnlyAdmins       = "🔒 Em grupos, só quem administra o grupo pode apagar os dados dele. Peça a um administrador para mandar /apagar_meus_dados."
	eraseOnlyAdminsShort  = "🔒 Só administradores do grupo podem confirmar."
	eraseOnlyPerson       = "Não consegui identificar quem pediu. Mande /apagar_meus_dados de novo."
	eraseOnlyWhoAsked     = "Só quem pediu pode confirmar."
	adminCheckFailed      = "😕 Não consegui confirmar com o Telegram se você administra o grupo. Tente de novo daqui a pouco."
	adminCheckFailedShort = "😕 Não consegui confirmar se você administra o grupo. Tente de novo."
	removeOnlyShort       = "🔒 Só quem adicionou este código ou um administrador pode removê-lo."
	// diskFullText answers a code that cannot be saved because the
	// database's disk is full.
	diskFullText = "😕 Não consigo salvar agora: o servidor do bot ficou sem espaço. Tente de novo mais tarde; o que já estava salvo continua aqui."
)

func removeNotAllowedText(code string) string {
	return "🔒 <code>" + esc(code) + "</code> foi adicionado por outra pessoa: só ela ou um administrador do grupo pode removê-lo."
}
