package bot

import (
	"fmt"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/rastreio/rastreio/internal/message"
	"github.com/rastreio/rastreio/internal/provider"
)

// The bot's pt-BR texts, in Telegram HTML. Every interpolated value goes
// through message.Esc.

var esc = message.Esc

// commandMenu is the menu Telegram shows next to the text box.
var commandMenu = []tgbotapi.BotCommand{
	{Command: "pacotes", Description: "Ver seus pacotes e o último status"},
	{Command: "add", Description: "Acompanhar um código: /add CÓDIGO descrição"},
	{Command: "remover", Description: "Parar de acompanhar: /remover CÓDIGO"},
	{Command: "gif", Description: "Tutorial animado"},
	{Command: "ajuda", Description: "Como usar e exemplos"},
	{Command: "privacidade", Description: "O que eu guardo e para onde vão os códigos"},
	{Command: "apagar_meus_dados", Description: "Apagar tudo desta conversa"},
	{Command: "start", Description: "Boas-vindas"},
}

const exampleCode = "QQ850419295BR"

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

func welcomeText(providers []string) string {
	return "👋 Olá! Eu acompanho encomendas dos Correios e aviso aqui quando elas se mexem.\n\n" +
		"<b>Como usar:</b> me mande o código de rastreio, com uma descrição se quiser:\n" +
		"<code>" + exampleCode + " tênis</code>\n" +
		"Pode mandar vários de uma vez, um por linha. Em grupos, use <code>/add " + exampleCode + " tênis</code>.\n\n" +
		"/pacotes mostra o que estou acompanhando, /gif mostra um tutorial e /ajuda tem todos os comandos.\n\n" +
		"🔒 Guardo só os códigos, as descrições e o número desta conversa. Os códigos são consultados via " +
		providersText(providers) + ". Para apagar tudo, use /apagar_meus_dados (detalhes em /privacidade)."
}

func groupWelcomeText(providers []string) string {
	return "👋 Olá, pessoal! Para acompanhar um pacote aqui no grupo, mandem:\n" +
		"<code>/add " + exampleCode + " descrição</code>\n" +
		"Eu aviso aqui quando ele se mexer. /pacotes mostra a lista do grupo e /ajuda, os comandos.\n\n" +
		"🔒 Guardo só os códigos, as descrições e o número deste grupo; os códigos são consultados via " +
		providersText(providers) + ". /apagar_meus_dados apaga tudo do grupo (detalhes em /privacidade)."
}

func helpText() string {
	return "📖 <b>Como usar</b>\n\n" +
		"<b>Adicionar um pacote:</b> mande o código com uma descrição, por exemplo:\n" +
		"<code>" + exampleCode + " tênis</code>\n" +
		"Vários de uma vez? Um por linha, cada um com a sua descrição. Mandar um código de novo com outro texto troca a descrição.\n" +
		"Em grupos, use <code>/add " + exampleCode + " tênis</code> (ou /rastrear).\n\n" +
		"<b>Comandos</b>\n" +
		"/pacotes — seus pacotes, com o último status (ou /list)\n" +
		"/remover <code>CÓDIGO</code> — parar de acompanhar (ou /del)\n" +
		"/gif — tutorial animado\n" +
		"/privacidade — o que eu guardo e quem consulta os códigos\n" +
		"/apagar_meus_dados — apagar tudo desta conversa\n" +
		"/ajuda — esta mensagem (ou /help)\n\n" +
		"Eu aviso sozinho quando o pacote se mexer; não precisa perguntar."
}

func privacyText(providers []string) string {
	return "🔒 <b>Privacidade</b>\n\n" +
		"Guardo só o necessário para avisar você:\n" +
		"• o número desta conversa (e o nome do grupo, em grupos);\n" +
		"• os códigos que você mandou e as descrições que deu a eles;\n" +
		"• o histórico de rastreio desses códigos.\n" +
		"Não guardo suas outras mensagens, nem telefone ou endereço.\n\n" +
		"Os códigos (só os códigos, sem descrição nem dados seus) são consultados via " + providersText(providers) + ".\n\n" +
		"Um código sai da lista quando você o remove (/remover) ou algum tempo depois da entrega. " +
		"Para apagar tudo agora: /apagar_meus_dados."
}

func mistypedText(codes []string) string {
	if len(codes) == 1 {
		return "🤔 O código <code>" + esc(codes[0]) + "</code> parece ter um erro de digitação: o dígito verificador (o último número) não confere com os outros. " +
			"Confira na nota fiscal ou no e-mail da loja e mande de novo."
	}
	return "🤔 Estes códigos parecem ter um erro de digitação (o dígito verificador não confere):\n" +
		codeLines(codes) + "\nConfira na nota fiscal ou no e-mail da loja e mande de novo."
}

func codeLines(codes []string) string {
	var b strings.Builder
	for _, c := range codes {
		b.WriteString("• <code>" + esc(c) + "</code>\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

const (
	noCodeText = "Não encontrei nenhum código de rastreio aí. Um código tem 13 caracteres — duas letras, nove números e duas letras — como <code>" +
		exampleCode + "</code>. Veja /ajuda."
	noTextText  = "Recebi, mas só entendo texto 🙂 Mande o código de rastreio, como <code>" + exampleCode + "</code>, ou veja /ajuda."
	floodText   = "⏳ Opa, muitas mensagens seguidas! Vou ignorar as próximas por um minutinho; depois é só mandar de novo."
	floodToast  = "⏳ Muitos toques seguidos; espere um minutinho."
	addUsage    = "Mande o código depois do comando, assim:\n<code>/add " + exampleCode + " tênis</code>"
	delUsage    = "Diga qual código parar de acompanhar, assim:\n<code>/remover " + exampleCode + "</code>\nOu toque em 🗑 na lista de /pacotes."
	emptyList   = "Você ainda não acompanha nenhum pacote. Mande um código, como <code>" + exampleCode + " tênis</code>, e eu aviso aqui quando ele se mexer."
	staleButton = "Esse botão não vale mais. Use /pacotes para ver a lista atual."
	eraseNo     = "Tudo certo, não apaguei nada."
	firstStatus = "O primeiro status chega na próxima verificação (costuma levar alguns minutos); depois eu aviso aqui sempre que o pacote se mexer. Veja tudo em /pacotes."
	gifCaption1 = "🎬 Para acompanhar um pacote, mande o código com uma descrição."
	gifCaption2 = "🎬 Em /pacotes você vê o último status, o histórico (📜) e remove (🗑)."
)

func unknownCommandText(cmd string) string {
	return "Não conheço o comando <code>/" + esc(cmd) + "</code>. Veja /ajuda."
}

func capText(max int) string {
	return fmt.Sprintf("🚫 Esta conversa já acompanha o máximo de %d códigos. Remova algum com /remover (ou 🗑 em /pacotes) para liberar espaço.", max)
}

func eraseAskText(n int) string {
	what := "o número desta conversa"
	switch {
	case n == 1:
		what = "1 código com a sua descrição e o número desta conversa"
	case n > 1:
		what = fmt.Sprintf("%d códigos com as suas descrições e o número desta conversa", n)
	}
	return "⚠️ Isso apaga <b>tudo</b> que guardo daqui: " + what + ", e as notificações pendentes. Não dá para desfazer.\n\nTem certeza?"
}

func eraseDoneText(n int) string {
	return fmt.Sprintf("🧹 Pronto: apaguei tudo desta conversa (%d %s). Se quiser voltar a usar, é só mandar um código.", n, plural(n, "código", "códigos"))
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

func notTrackedText(code string) string {
	return "Você não acompanha <code>" + esc(code) + "</code>. Veja /pacotes."
}

func descSuffix(desc string) string {
	if desc == "" {
		return ""
	}
	return " (" + esc(desc) + ")"
}

func item(code, desc string) string {
	s := "• <code>" + esc(code) + "</code>"
	if desc != "" {
		s += " — " + esc(desc)
	}
	return s
}
