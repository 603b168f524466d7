package console_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// TestConnectionsFDXScopesInWords: Connected applications says what an
// application connected through FDX can see in words, in the page's
// language, as /account/connections does (the same words): the FDX scopes
// were left out, so such a connection showed nothing it could see.
func TestConnectionsFDXScopesInWords(t *testing.T) {
	ev := newEnv(t)
	ctx := t.Context()
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	app := ev.signIn(ev.bg1, "books-app", store.AccountingSoftwareReadOnlyGrants(), func(u *store.User) { u.AccountingSoftware = true })
	if _, err := ev.st.CreateClient(ctx, store.Client{ID: "fdx-app", Name: "FDX Books"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: app.userID, ClientID: "fdx-app",
		Scopes:    []string{"openid", store.ScopeFDXAccountBasic, store.ScopeFDXTransactions, store.ScopeFDXStatements, store.ScopeStatementsRead},
		GrantedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]string{
		"en": {"the list of accounts (names, types, last digits of the numbers)", "account transactions", "statements and their documents"},
		"fr": {"la liste des comptes (noms, types, derniers chiffres des numéros)", "les opérations des comptes", "les relevés et leurs documents"},
	} {
		a.lang = lang
		p := a.must(http.StatusOK, a.get("/business/connections"))
		for _, w := range want {
			if !p.has("<li>" + w + "</li>") {
				t.Errorf("%s: connections page lacks %q", lang, w)
			}
		}
		// Statements come once, whichever scope granted them.
		if n := strings.Count(html.UnescapeString(p.Body), want[2]); n != 1 {
			t.Errorf("%s: %q listed %d times", lang, want[2], n)
		}
	}
}
