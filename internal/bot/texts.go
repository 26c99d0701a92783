package bot

import (
	"fmt"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/provider"
)

// The bot's pt-BR texts, in Telegram HTML. Every interpolated value goes
// through message.Esc. Words: "pacote" is the parcel, "código" its
// tracking code, "rastreio" the service. Texts that differ in a group say
// "este grupo" and lead with /add: in privacy mode a group's bot sees
// only commands.

var esc = message.Esc

// privateMenu and groupMenu are the command menus Telegram shows next to
// the text box, per scope (commandMenus).
var privateMenu = []tgbotapi.BotCommand{
	{Command: "pacotes", Description: "Ver seus pacotes e a situação de cada um"},
	{Command: "rastrear", Description: "Acompanhar um código: /rastrear CÓDIGO descrição"},
	{Command: "remover", Description: "Parar de acompanhar: /remover CÓDIGO"},
	{Command: "gif", Description: "Tutorial animado"},
	{Command: "ajuda", Description: "Como usar e exemplos"},
	{Command: "privacidade", Description: "O que eu guardo e quem consulta os códigos"},
	{Command: "apagar_meus_dados", Description: "Apagar tudo desta conversa"},
}

var groupMenu = []tgbotapi.BotCommand{
	{Command: "rastrear", Description: "Acompanhar um código: /rastrear CÓDIGO descrição"},
	{Command: "pacotes", Description: "Ver os pacotes do grupo e a situação de cada um"},
	{Command: "remover", Description: "Parar de acompanhar: /remover CÓDIGO"},
	{Command: "ajuda", Description: "Como usar no grupo"},
	{Command: "privacidade", Description: "O que eu guardo e quem consulta os códigos"},
	{Command: "apagar_meus_dados", Description: "Apagar tudo deste grupo"},
}

// botDescription is what a person sees in an empty chat before pressing
// Start (setMyDescription, up to 512 characters); botShortDescription is
// on the bot's profile and in shared links (setMyShortDescription, up to
// 120).
const (
	botDescription = "📦 Eu acompanho seus pacotes dos Correios e aviso aqui quando eles se mexem: postado, em trânsito, taxa a pagar, saiu para entrega, aguardando retirada, entregue.\n\n" +
		"Toque em Iniciar e mande o código de rastreio (13 caracteres, como " + exampleCode + "). Funciona em grupos também."
	botShortDescription = "Acompanho seus pacotes dos Correios e aviso quando eles se mexem. Mande o código de rastreio."
)

const exampleCode = "QQ850419295BR"

// exampleSpaced is exampleCode as a receipt prints it.
const exampleSpaced = "QQ 850 419 295 BR"

// providerName is how people know a tracking provider (the provider
// table's title).
func providerName(p string) string {
	if spec, ok := provider.Lookup(p); ok {
		return spec.Title
	}
	return p
}

// providersText lists the providers that receive codes, in HTML.
func providersText(ps []string) string {
	if len(ps) == 0 {
		return "um serviço de rastreio escolhido por quem opera este bot"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = "<b>" + esc(providerName(p)) + "</b>"
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " e " + names[len(names)-1]
}

// here is "desta conversa" or "deste grupo".
func here(group bool) string {
	if group {
		return "deste grupo"
	}
	return "desta conversa"
}

func welcomeText(providers []string) string {
	return "👋 Olá! Eu acompanho pacotes dos Correios e aviso aqui quando eles se mexem.\n\n" +
		"<b>Como usar:</b> me mande o código de rastreio, com uma descrição se quiser:\n" +
		"<code>" + exampleCode + " tênis</code>\n" +
		"Pode mandar vários de uma vez, um por linha.\n\n" +
		"/pacotes mostra o que estou acompanhando, /gif mostra um tutorial e /ajuda tem todos os comandos.\n\n" +
		"🔒 Guardo só os códigos, as descrições, o número desta conversa e o de quem adicionou cada código. Os códigos são consultados via " +
		providersText(providers) + ". Para apagar tudo, use /apagar_meus_dados (detalhes em /privacidade)."
}

func groupWelcomeText(providers []string) string {
	return "👋 Olá, pessoal! Para acompanhar um pacote aqui no grupo, mandem:\n" +
		"<code>/add " + exampleCode + " descrição</code>\n" +
		"Eu aviso aqui quando ele se mexer. /pacotes mostra a lista do grupo e /ajuda, os comandos.\n\n" +
		"🔒 Guardo só os códigos, as descrições, o número deste grupo e o de quem adicionou cada código; os códigos são consultados via " +
		providersText(providers) + ". /apagar_meus_dados apaga tudo do grupo (detalhes em /privacidade)."
}

func helpText(group bool) string {
	if group {
		return "📖 <b>Como usar no grupo</b>\n\n" +
			"<b>Acompanhar um pacote:</b> use o comando com o código e uma descrição, por exemplo:\n" +
			"<code>/add " + exampleCode + " tênis</code> (ou /rastrear, /rastreio)\n" +
			"Vários de uma vez? Um por linha depois do comando. Mandar um código de novo com outro texto troca a descrição.\n" +
			"O código pode ir do jeito que veio: com espaços (<code>" + exampleSpaced + "</code>) ou dentro do link dos Correios.\n\n" +
			"<b>Comandos</b>\n" +
			"/pacotes — os pacotes deste grupo e a situação de cada um (ou /list)\n" +
			"/remover <code>CÓDIGO</code> — parar de acompanhar (ou /del)\n" +
			"/privacidade — o que eu guardo e quem consulta os códigos\n" +
			"/apagar_meus_dados — apagar tudo deste grupo (só administradores)\n" +
			"/ajuda — esta mensagem (ou /help)\n\n" +
			"Eu aviso aqui sozinho quando um pacote se mexer; não precisa perguntar."
	}
	return "📖 <b>Como usar</b>\n\n" +
		"<b>Acompanhar um pacote:</b> mande o código com uma descrição, por exemplo:\n" +
		"<code>" + exampleCode + " tênis</code>\n" +
		"Vários de uma vez? Um por linha, cada um com a sua descrição. Mandar um código de novo com outro texto troca a descrição.\n" +
		"Também vale <code>/rastrear " + exampleCode + " tênis</code> (ou /add, /rastreio).\n" +
		"Pode colar do jeito que veio: com espaços (<code>" + exampleSpaced + "</code>), entre aspas, dentro do link dos Correios ou encaminhando a mensagem da loja.\n\n" +
		"<b>Comandos</b>\n" +
		"/pacotes — seus pacotes e a situação de cada um (ou /list)\n" +
		"/remover <code>CÓDIGO</code> — parar de acompanhar (ou /del)\n" +
		"/gif — tutorial animado\n" +
		"/privacidade — o que eu guardo e quem consulta os códigos\n" +
		"/apagar_meus_dados — apagar tudo desta conversa\n" +
		"/ajuda — esta mensagem (ou /help)\n\n" +
		"Eu aviso sozinho quando o pacote se mexer; não precisa perguntar."
}

func privacyText(providers []string, group bool) string {
	who, codes := "o número desta conversa", "os códigos que você mandou e as descrições que deu a eles"
	if group {
		who, codes = "o número e o nome deste grupo", "os códigos mandados aqui e as descrições que deram a eles"
	}
	return "🔒 <b>Privacidade</b>\n\n" +
		"Guardo só o necessário para avisar " + map[bool]string{false: "você", true: "o grupo"}[group] + ":\n" +
		"• " + who + ";\n" +
		"• " + codes + ";\n" +
		"• o histórico de rastreio desses códigos;\n" +
		"• de cada código, o número de usuário do Telegram de quem o adicionou (só o número, sem nome): " +
		"em grupos, só essa pessoa ou um administrador pode removê-lo, e ele conta no limite de códigos por pessoa.\n" +
		"Não guardo outras mensagens, nem nomes, telefones ou endereços.\n\n" +
		"Os códigos (só os códigos, sem descrição nem dados de ninguém) são consultados via " + providersText(providers) + ".\n\n" +
		"Um código sai da lista quando alguém o remove (/remover) ou algum tempo depois da entrega. " +
		"Para apagar tudo " + here(group) + " agora: /apagar_meus_dados."
}

// checkStore is where a person finds the right code.
const checkStore = "Confira no e-mail de confirmação ou no app da loja"

func mistypedText(codes []string) string {
	if len(codes) == 1 {
		return "🤔 O código <code>" + esc(codes[0]) + "</code> parece ter um erro de digitação: o dígito verificador (o último número) não confere com os outros. " +
			checkStore + " e mande de novo."
	}
	return "🤔 Estes códigos parecem ter um erro de digitação (o dígito verificador não confere):\n" +
		codeLines(codes) + "\n" + checkStore + " e mande de novo."
}

// otherCarrierText answers codes that are not Correios' (Shopee, Mercado
// Livre, Loggi, Jadlog, Cainiao …).
func otherCarrierText(codes []string) string {
	what := "Este código parece ser de outra transportadora"
	if len(codes) > 1 {
		what = "Estes códigos parecem ser de outra transportadora"
	}
	return "🚚 " + what + " (como Shopee, Mercado Livre, Loggi, Jadlog ou Cainiao):\n" + codeLines(codes) + "\n" +
		"Eu só acompanho códigos dos <b>Correios</b>: 13 caracteres, duas letras, nove números e duas letras, como <code>" + exampleCode + "</code>. " +
		"Acompanhe este no app ou no site da loja; se a loja mandou pelos Correios, o código certo está no pedido."
}

// codeLines lists codes one a line, at most maxListedCodes of them and
// then how many more: a message of hundreds of code-shaped strings must
// not make a reply Telegram refuses as too long.
func codeLines(codes []string) string {
	var b strings.Builder
	for i, c := range codes {
		if i == maxListedCodes {
			fmt.Fprintf(&b, "… e mais %d\n", len(codes)-i)
			break
		}
		b.WriteString("• <code>" + esc(c) + "</code>\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// maxListedCodes is the most codes one list in a reply names.
const maxListedCodes = 20

const (
	noCodeText = "Não encontrei nenhum código de rastreio aí. Um código dos Correios tem 13 caracteres — duas letras, nove números e duas letras — como <code>" +
		exampleCode + "</code>. Veja /ajuda."
	noTextText   = "Recebi, mas só entendo texto 🙂 Mande o código de rastreio, como <code>" + exampleCode + "</code>, ou veja /ajuda."
	floodText    = "⏳ Opa, muitas mensagens seguidas! Vou ignorar as próximas por um minutinho; depois é só mandar de novo."
	floodToast   = "⏳ Muitos toques seguidos; espere um minutinho."
	addUsage     = "Mande o código depois do comando, assim:\n<code>/add " + exampleCode + " tênis</code>"
	delUsage     = "Diga qual código parar de acompanhar, assim:\n<code>/remover " + exampleCode + "</code>\nOu toque em 🗑 na lista de /pacotes."
	staleButton  = "Esse botão não vale mais. Use /pacotes para ver a lista atual."
	eraseNo      = "Tudo certo, não apaguei nada."
	gifCaption1  = "🎬 Para acompanhar um pacote, mande o código com uma descrição (num grupo, depois de /add); eu aviso aqui sempre que ele se mexer."
	gifCaption2  = "🎬 Em /pacotes você vê a situação de cada pacote; 📜 mostra o histórico e 🗑 para de acompanhar (dá para desfazer por 1 minuto)."
	listFooter   = "📜 histórico · 🗑 parar de acompanhar"
	historyEmpty = "Ainda não há movimentações registradas; aviso aqui assim que aparecer a primeira."
	undoButton   = "↩️ Desfazer"
	undoExpired  = "Já passou o tempo de desfazer. Mande o código de novo para voltar a acompanhar."
	saveFailed   = "😕 Não consegui salvar agora. Tente de novo daqui a pouco."
	listFailed   = "😕 Não consegui ler a lista agora. Tente de novo daqui a pouco."

	statusNotFound = "🔎 Ainda não aparece no rastreio; sigo procurando"
	statusInvalid  = "❌ O rastreio diz que este código não existe"
	statusExpired  = "⌛ Não é mais acompanhado"
	statusWaiting  = "⏳ Aguardando a primeira verificação"
)

// firstCheck is what the bot knows of a new code's first check: a new
// code is due at once, so the next tracker pass asks for it, within
// Within (the pass interval) unless a monthly budget slows checks.
type firstCheck struct {
	Within time.Duration
	Slowed bool
}

// firstStatusText promises the first status of the n codes just added
// whose status is not known yet; current codes already have theirs
// (sent right after the confirmation).
func firstStatusText(n, current int, fc firstCheck) string {
	when := "em até " + durationText(fc.Within)
	if fc.Slowed {
		when = "logo que o limite permitir"
	}
	var s string
	switch {
	case n == 0:
		s = "A situação atual vem logo abaixo; depois eu aviso aqui sempre que o pacote se mexer."
		if current > 1 {
			s = "A situação atual de cada um vem logo abaixo; depois eu aviso aqui sempre que algum se mexer."
		}
	case n == 1 && current == 0:
		s = "🔎 Vou consultar o rastreio " + when + " e mando a situação aqui assim que ela aparecer; depois aviso sempre que o pacote se mexer."
	default:
		s = "🔎 Vou consultar o rastreio " + when + " e mando a situação de cada um aqui assim que aparecer; depois aviso sempre que algum se mexer."
		if current > 0 {
			s = "🔎 Os que já têm movimentação vêm com a situação atual logo abaixo; os outros, vou consultar " + when +
				" e mando a situação aqui assim que aparecer. Depois aviso sempre que algum se mexer."
		}
	}
	if fc.Slowed {
		s = slowedText + "\n" + s
	}
	return s + " " + seeList
}

// slowedText says checks are spaced out by a provider's monthly budget.
const slowedText = "⏳ As verificações estão mais espaçadas este mês para caber no limite do provedor."

// durationText writes d in minutes (rounded up) or hours and minutes:
// "1 minuto", "3 minutos", "1 hora e 30 minutos".
func durationText(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	m = max(m, 1)
	h, m := m/60, m%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d %s", m, plural(m, "minuto", "minutos"))
	case m == 0:
		return fmt.Sprintf("%d %s", h, plural(h, "hora", "horas"))
	}
	return fmt.Sprintf("%d %s e %d %s", h, plural(h, "hora", "horas"), m, plural(m, "minuto", "minutos"))
}

func emptyListText(group bool) string {
	if group {
		return "Este grupo ainda não acompanha nenhum pacote. Para começar, mandem <code>/add " + exampleCode + " tênis</code> e eu aviso aqui quando ele se mexer."
	}
	return "Você ainda não acompanha nenhum pacote. Mande um código, como <code>" + exampleCode + " tênis</code>, e eu aviso aqui quando ele se mexer."
}

func listTitle(group bool) string {
	if group {
		return "📦 <b>Pacotes do grupo</b>"
	}
	return "📦 <b>Seus pacotes</b>"
}

// capNote tells a list close to the per-chat cap how much room is left.
func capNote(n, max int) string {
	return fmt.Sprintf("<i>%d de no máximo %d; remova os que já chegaram para abrir espaço.</i>", n, max)
}

func unknownCommandText(cmd string) string {
	return "Não conheço o comando <code>/" + esc(cmd) + "</code>. Veja /ajuda."
}

func capText(max int, group bool) string {
	return fmt.Sprintf("🚫 %s já acompanha o máximo de %d códigos. Remova algum com /remover (ou 🗑 em /pacotes) para liberar espaço.",
		map[bool]string{false: "Esta conversa", true: "Este grupo"}[group], max)
}

func personCapText(max int) string {
	return fmt.Sprintf("🚫 Você já adicionou o máximo de %d códigos, somando todas as conversas e grupos. Remova algum com /remover (ou 🗑 em /pacotes) para liberar espaço.", max)
}

func eraseAskText(n int, group bool) string {
	what := "o número " + here(group)
	switch {
	case n == 1:
		what = "1 código com a sua descrição e o número " + here(group)
	case n > 1:
		what = fmt.Sprintf("%d códigos com as suas descrições e o número %s", n, here(group))
	}
	return "⚠️ Isso apaga <b>tudo</b> que guardo daqui: " + what + ", e os avisos pendentes. Não dá para desfazer.\n\nTem certeza?"
}

func eraseDoneText(n int, group bool) string {
	return fmt.Sprintf("🧹 Pronto: apaguei tudo %s (%d %s). Se quiser voltar a usar, é só mandar um código.", here(group), n, plural(n, "código", "códigos"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func removedText(code, desc string) string {
	return "🗑 Pronto, parei de acompanhar <code>" + esc(code) + "</code>" + descSuffix(desc) + "."
}

// removedUndoText is removedText with the offer to undo for a minute.
func removedUndoText(code, desc string) string {
	return removedText(code, desc) + " Tocou sem querer? Dá para desfazer por 1 minuto."
}

func restoredText(code, desc string) string {
	return "↩️ Voltei a acompanhar <code>" + esc(code) + "</code>" + descSuffix(desc) + "."
}

func notTrackedText(code string, group bool) string {
	who := "Você não acompanha"
	if group {
		who = "Este grupo não acompanha"
	}
	return who + " <code>" + esc(code) + "</code>. Veja /pacotes."
}

func removeFailedText(code string) string {
	return "😕 Não consegui remover <code>" + esc(code) + "</code> agora. Tente de novo daqui a pouco."
}

func descSuffix(desc string) string {
	if desc == "" {
		return ""
	}
	return " (" + esc(desc) + ")"
}

// item is one code in a confirmation: the description first, as in
// notifications.
func item(code, desc string) string {
	s := "• "
	if desc != "" {
		s += "<b>" + esc(desc) + "</b> · "
	}
	return s + "<code>" + esc(code) + "</code>"
}

// Texts of renderAdded.
func addedHead(n int) string {
	return "✅ " + plural(n, "Pronto! Vou acompanhar:", "Pronto! Vou acompanhar estes:")
}
func renamedHead(n int) string {
	return "✏️ " + plural(n, "Descrição atualizada:", "Descrições atualizadas:")
}
func keptHead(n int, group bool) string {
	where := "na sua lista"
	if group {
		where = "na lista do grupo"
	}
	return "📌 " + plural(n, "Já estava ", "Já estavam ") + where + ":"
}

const (
	overCapTail = "\nFicaram de fora:"
	seeList     = "Veja tudo em /pacotes."
)

func truncatedText(max int) string {
	return fmt.Sprintf("ℹ️ Li só os %d primeiros códigos da mensagem; mande os outros em seguida.", max)
}

// historyEarlier counts the events the history leaves out, above the
// oldest it shows ("" for none).
func historyEarlier(n int) string {
	switch {
	case n <= 0:
		return ""
	case n == 1:
		return "\n<i>… e mais 1 movimentação anterior</i>"
	}
	return fmt.Sprintf("\n<i>… e mais %d movimentações anteriores</i>", n)
}

// Toasts: the short answers to a pressed button (answerCallbackQuery).
const (
	eraseFailedToast    = "Não consegui apagar agora. Tente de novo daqui a pouco."
	erasedToast         = "Dados apagados"
	notListedToast      = "Esse código não está mais na lista."
	historyFailedToast  = "Não consegui ler o histórico agora."
	alreadyRemovedToast = "Esse código já tinha saído da lista."
	removeFailedToast   = "Não consegui remover agora. Tente de novo daqui a pouco."
)
