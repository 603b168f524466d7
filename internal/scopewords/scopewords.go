// Package scopewords puts the data scopes a business's user grants an
// application in plain words, in English and French: what the consent page
// asks, and what /account/connections and the console's Connected
// applications say an application can see. One place, so the three say
// the same, and the console needs no import of package consent.
package scopewords

import (
	"slices"

	"github.com/bankfeed/bankfeed/store"
)

// words are each data scope's words by language; FDX's statements scope
// says what ours says. Scopes without data (openid, offline_access) have
// none.
var words = map[string]map[string]string{
	store.ScopeAccountsRead:   {"en": "account balances and transactions", "fr": "les soldes et les opérations des comptes"},
	store.ScopeStatementsRead: {"en": "statements and their documents", "fr": "les relevés et leurs documents"},
	store.ScopeProfile:        {"en": "your name and user ID", "fr": "votre nom et votre code d'utilisateur"},
	store.ScopeFDXAccountBasic: {"en": "the list of accounts (names, types, last digits of the numbers)",
		"fr": "la liste des comptes (noms, types, derniers chiffres des numéros)"},
	store.ScopeFDXAccountDetailed: {"en": "account balances and interest rates", "fr": "les soldes et les taux d'intérêt des comptes"},
	store.ScopeFDXTransactions:    {"en": "account transactions", "fr": "les opérations des comptes"},
	store.ScopeFDXStatements:      {"en": "statements and their documents", "fr": "les relevés et leurs documents"},
	store.ScopeFDXCustomerContact: {"en": "the address, e-mail and telephone of the businesses holding the accounts",
		"fr": "l'adresse, le courriel et le téléphone des entreprises titulaires des comptes"},
}

// Describe is what scopes let an application see, in lang ("fr", else
// English), each once, in the scopes' order.
func Describe(lang string, scopes []string) []string {
	if lang != "fr" {
		lang = "en"
	}
	var out []string
	for _, s := range scopes {
		if w, ok := words[s]; ok && !slices.Contains(out, w[lang]) {
			out = append(out, w[lang])
		}
	}
	return out
}
