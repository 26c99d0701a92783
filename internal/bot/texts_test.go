package bot

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/rastreio/rastreio/internal/golden"
	"github.com/rastreio/rastreio/internal/store"
	"github.com/rastreio/rastreio/internal/telegram/telegramtest"
	"github.com/rastreio/rastreio/internal/trackcode"
	"github.com/rastreio/rastreio/internal/tracking"
)

// golden compares got with the golden file of that name (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "texts", name+".golden"), got)
}

// TestTextsGolden pins every text the bot can send, private and group
// variants, as Telegram shows them (HTML parsed).
func TestTextsGolden(t *testing.T) {
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	provs := []string{"siterastreio", "correios"}
	ps := []store.Package{
		{Code: "QQ850419295BR", Description: "tênis", State: "active", LastKind: "out_for_delivery",
			LastStatus: "Objeto saiu para entrega ao destinatário", LastEventAt: now.Add(-time.Hour), CheckedAt: now.Add(-10 * time.Minute)},
		{Code: "LE449872154SE", Description: "", State: "notfound", CheckedAt: now.Add(-26 * time.Hour)},
		{Code: "AM101610575BR", Description: "livro <raro>", State: "new"},
	}
	evs := []store.Event{
		{Event: tracking.Event{Kind: tracking.KindPosted, Description: "Objeto postado", Location: "CAJAMAR/SP", At: now.Add(-50 * time.Hour)}},
		{Event: tracking.Event{Kind: tracking.KindTransit, Description: "Objeto em transferência - por favor aguarde", Location: "CAJAMAR/SP", Destination: "NITEROI/RJ", At: now.Add(-20 * time.Hour)}},
		{Event: tracking.Event{Kind: tracking.KindOutForDelivery, Description: "Objeto saiu para entrega ao destinatário", Location: "NITEROI/RJ", At: now.Add(-time.Hour)}},
	}
	added := store.AddResult{
		Added:   []store.PackageItem{{Code: "QQ850419295BR", Description: "tênis"}, {Code: "LE449872154SE"}},
		Renamed: []store.PackageItem{{Code: "AM101610575BR", Description: "livro"}},
		Kept:    []store.PackageItem{{Code: "DZ087632119BR", Description: "capinha"}},
		OverCap: []string{"RM609669553CN"},
	}
	f := trackcode.Findings{Mistyped: []string{"QQ850419296BR"}, Truncated: true}
	fc := firstCheck{Within: 3 * time.Minute}
	one := store.AddResult{Added: []store.PackageItem{{Code: "QQ850419295BR", Description: "tênis"}}}
	cur := store.Current{PackageItem: store.PackageItem{Code: "LE449872154SE", Description: "fone"}, Event: evs[len(evs)-1].Event}
	current := store.AddResult{Added: []store.PackageItem{cur.PackageItem}, Current: []store.Current{cur}}
	mixed := store.AddResult{Added: []store.PackageItem{{Code: "QQ850419295BR", Description: "tênis"}, cur.PackageItem}, Current: []store.Current{cur}}
	texts := map[string]string{
		"welcome":                    welcomeText(provs),
		"welcome_group":              groupWelcomeText(provs),
		"help":                       helpText(false),
		"help_group":                 helpText(true),
		"privacy":                    privacyText(provs, false),
		"privacy_group":              privacyText(provs, true),
		"privacy_no_provider":        privacyText(nil, false),
		"mistyped_one":               mistypedText([]string{"QQ850419296BR"}),
		"mistyped_several":           mistypedText([]string{"QQ850419296BR", "DZ087632118BR"}),
		"other_carrier":              otherCarrierText([]string{"BR2456789012345X"}),
		"other_carrier_many":         otherCarrierText([]string{"LP00512345678901", "12345678901234"}),
		"no_code":                    noCodeText,
		"no_text":                    noTextText,
		"flood":                      floodText,
		"flood_toast":                floodToast,
		"add_usage":                  addUsage,
		"del_usage":                  delUsage,
		"stale_button":               staleButton,
		"erase_no":                   eraseNo,
		"empty_list":                 emptyListText(false),
		"empty_list_group":           emptyListText(true),
		"unknown_command":            unknownCommandText("xyz"),
		"cap":                        capText(100, false),
		"cap_group":                  capText(100, true),
		"erase_ask":                  eraseAskText(3, false),
		"erase_ask_group":            eraseAskText(1, true),
		"erase_ask_empty":            eraseAskText(0, false),
		"erase_done":                 eraseDoneText(3, false),
		"erase_done_group":           eraseDoneText(1, true),
		"removed":                    removedText("QQ850419295BR", "tênis"),
		"removed_undo":               removedUndoText("QQ850419295BR", "tênis"),
		"restored":                   restoredText("QQ850419295BR", "tênis"),
		"undo_expired":               undoExpired,
		"not_tracked":                notTrackedText("QQ850419295BR", false),
		"not_tracked_group":          notTrackedText("QQ850419295BR", true),
		"remove_failed":              removeFailedText("QQ850419295BR"),
		"save_failed":                saveFailed,
		"disk_full":                  diskFullText,
		"erase_only_admins":          eraseOnlyAdmins,
		"erase_only_person":          eraseOnlyPerson,
		"admin_check_failed":         adminCheckFailed,
		"erase_only_admins_toast":    eraseOnlyAdminsShort,
		"erase_only_who_asked_toast": eraseOnlyWhoAsked,
		"admin_check_failed_toast":   adminCheckFailedShort,
		"remove_only_toast":          removeOnlyShort,
		"remove_not_allowed":         removeNotAllowedText("QQ850419295BR"),
		"erase_failed_toast":         eraseFailedToast,
		"erased_toast":               erasedToast,
		"not_listed_toast":           notListedToast,
		"history_failed_toast":       historyFailedToast,
		"already_removed_toast":      alreadyRemovedToast,
		"remove_failed_toast":        removeFailedToast,
		"list_failed":                listFailed,
		"gif_captions":               gifCaption1 + "\n" + gifCaption2,
		"description":                botDescription,
		"short_description":          botShortDescription,
		"added":                      strings.Join(renderAdded(added, f, 100, 200, false, fc), "\n=====\n"),
		"added_group":                strings.Join(renderAdded(added, trackcode.Findings{}, 100, 200, true, fc), "\n=====\n"),
		"added_one":                  strings.Join(renderAdded(one, trackcode.Findings{}, 100, 200, false, fc), "\n=====\n"),
		"added_one_slowed":           strings.Join(renderAdded(one, trackcode.Findings{}, 100, 200, false, firstCheck{Within: 3 * time.Minute, Slowed: true}), "\n=====\n"),
		"added_current":              strings.Join(renderAdded(current, trackcode.Findings{}, 100, 200, false, fc), "\n=====\n"),
		"added_mixed":                strings.Join(renderAdded(mixed, trackcode.Findings{}, 100, 200, false, firstCheck{Within: 90 * time.Minute}), "\n=====\n"),
		"list":                       renderList(ps, 100, false, now, false)[0].text,
		"list_group_near_cap":        renderList(ps, 3, true, now, false)[0].text,
		"list_slowed":                renderList(ps, 100, false, now, true)[0].text,
		"history":                    renderHistory(ps[0], evs, len(evs), now),
		"history_earlier":            renderHistory(ps[0], evs, len(evs)+170, now),
		"history_empty":              renderHistory(ps[2], nil, 0, now),
	}
	for _, m := range []struct {
		name string
		cmds any
	}{{"menu_private", privateMenu}, {"menu_group", groupMenu}} {
		j, _ := json.MarshalIndent(m.cmds, "", "  ")
		texts[m.name] = string(j)
	}
	for name, html := range texts {
		t.Run(name, func(t *testing.T) {
			shown := html
			if !strings.HasPrefix(name, "menu_") && name != "description" && name != "short_description" && !strings.Contains(name, "toast") {
				var err error
				if shown, err = telegramtest.ParseHTML(html); err != nil {
					t.Fatalf("Telegram would refuse %q: %v", html, err)
				}
			}
			golden(t, name, shown)
		})
	}
	if n := len([]rune(botShortDescription)); n > 120 {
		t.Errorf("short description is %d long, over 120", n)
	}
	if n := len([]rune(botDescription)); n > 512 {
		t.Errorf("description is %d long, over 512", n)
	}
}

func TestOtherCarrierCodes(t *testing.T) {
	for text, want := range map[string]int{
		"BR2456789012345X":                   1, // Shopee
		"meu pedido LP00512345678901 chegou": 1, // Cainiao
		"12345678901234":                     1, // Jadlog
		"oi, tudo bem?":                      0,
		"pedido 12345":                       0,
		"ABCDEFGHIJKLMNOP":                   0, // no digits: a word
	} {
		if got := len(otherCarrierCodes(text)); got != want {
			t.Errorf("otherCarrierCodes(%q) found %d, want %d", text, got, want)
		}
	}
}

// TestHelpExamplesAreRead checks the forms /ajuda promises are the ones
// trackcode reads.
func TestHelpExamplesAreRead(t *testing.T) {
	for _, in := range []string{exampleCode, exampleSpaced, `"` + exampleSpaced + `"`, "https://rastreamento.correios.com.br/app/index.php?objetos=" + exampleCode} {
		f := trackcode.Find(in)
		if len(f.Codes) != 1 || f.Codes[0].Code != exampleCode || f.Codes[0].Description != "" {
			t.Errorf("Find(%q) = %+v, want %s without a description", in, f, exampleCode)
		}
	}
}
