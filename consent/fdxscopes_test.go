package consent

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestFDXScopesInPlainWords is issue 13 §2: a recipient asking for FDX's
// scopes gets the same consent page as ours, each scope in plain words (in
// English and French), the same words once when two scopes mean the same,
// and the job role cuts them as it cuts ours.
func TestFDXScopesInPlainWords(t *testing.T) {
	fdx := []string{"openid", "fdx:accountbasic:read", "fdx:accountdetailed:read", "fdx:transactions:read",
		"fdx:statements:read", "fdx:customercontact:read", "statements.read"}
	cases := []struct {
		lang, role string
		want       []string
		not        []string
		granted    []string
	}{
		{"en", "full", []string{"the list of accounts (names, types, last digits of the numbers)", "account balances and interest rates",
			"account transactions", "statements and their documents", "the address, e-mail and telephone of the businesses holding the accounts"},
			nil, []string{"openid", "fdx:accountbasic:read", "fdx:accountdetailed:read", "fdx:transactions:read",
				"fdx:statements:read", "fdx:customercontact:read", "statements.read"}},
		{"fr", "full", []string{"la liste des comptes (noms, types, derniers chiffres des numéros)", "les soldes et les taux d'intérêt des comptes",
			"les opérations des comptes", "les relevés et leurs documents", "l'adresse, le courriel et le téléphone des entreprises titulaires des comptes"},
			nil, nil},
		{"en", "accounts", []string{"account transactions", "the address, e-mail and telephone"}, []string{"statements and their documents"},
			[]string{"openid", "fdx:accountbasic:read", "fdx:accountdetailed:read", "fdx:transactions:read", "fdx:customercontact:read"}},
	}
	for _, tc := range cases {
		t.Run(tc.lang+"/"+tc.role, func(t *testing.T) {
			en := newEnv(t)
			role := en.roleFull.ID
			if tc.role == "accounts" {
				role = en.roleAccts.ID
			}
			en.user("erin", userOpts{role: role})
			f := en.flow(fdx...)
			b := en.browser()
			if tc.lang == "fr" {
				b.hdr.Set("Accept-Language", "fr-CA")
			}
			p := b.signIn(pathLogin+"?login_challenge="+f.ID, "erin", goodPassword)
			p.status(t, http.StatusOK)
			p.mustContain(t, tc.want...)
			if len(tc.not) > 0 {
				p.mustNotContain(t, tc.not...)
			}
			if n := strings.Count(p.Body, "statements and their documents") + strings.Count(p.Body, "les relevés et leurs documents"); tc.role == "full" && n != 1 {
				t.Errorf("statements.read and fdx:statements:read described %d times, want once", n)
			}
			if tc.granted == nil {
				return
			}
			csrf, action := p.form(t)
			b.post(action, url.Values{"csrf": {csrf}, "decision": {"allow"}}).resume(t)
			if got := en.getFlow(f.ID).GrantedScopes; !slices.Equal(got, tc.granted) {
				t.Errorf("GrantedScopes = %v, want %v", got, tc.granted)
			}
		})
	}
}
