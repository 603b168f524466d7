package consent

import (
	"net/http"
	"regexp"
	"testing"
)

// rowsRe finds the cells of a table row by its class.
func rowCells(t *testing.T, body, class string) [][]string {
	t.Helper()
	var out [][]string
	for _, row := range regexp.MustCompile(`(?s)<tr class="`+class+`">(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		var cells []string
		for _, c := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(row[1], -1) {
			cells = append(cells, regexp.MustCompile(`<[^>]+>`).ReplaceAllString(c[1], ""))
		}
		out = append(out, cells)
	}
	return out
}

// TestConsentAccountsShowEntityAndType: each account row of the consent
// page names its legal entity and type too, so two accounts with like
// names are told apart (issue 14), in English and French.
func TestConsentAccountsShowEntityAndType(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	for lang, want := range map[string][][]string{
		"en": {{"Operating account", "Maple Ops", "Chequing", "****4567", "CAD"}, {"US Dollar Business Account", "Maple Ops", "Chequing", "****4321", "USD"}},
		"fr": {{"Operating account", "Maple Ops", "Chèques", "****4567", "CAD"}, {"US Dollar Business Account", "Maple Ops", "Chèques", "****4321", "USD"}},
	} {
		b := en.browser()
		f := en.flow()
		b.get(pathLogin + "?lang=" + lang)
		p := b.signIn(withChallenge(pathLogin, f.ID), "alice", goodPassword)
		p.status(t, http.StatusOK)
		got := rowCells(t, p.Body, "account")
		if len(got) != len(want) {
			t.Fatalf("%s: rows %q, want %q", lang, got, want)
		}
		for i := range want {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("%s: row %d %q, want %q", lang, i, got[i], want[i])
			}
			for j := range want[i] {
				if got[i][j] != want[i][j] {
					t.Errorf("%s: row %d %q, want %q", lang, i, got[i], want[i])
				}
			}
		}
	}
}

// TestConnectionsShowAccounts: /account/connections shows which accounts
// each application can see: the user's account group now, as the data
// API answers (issue 14).
func TestConnectionsShowAccounts(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	en.consent("usr_alice")
	p := en.browser().signIn(pathLogin, "alice", goodPassword)
	p.status(t, http.StatusOK)
	rows := rowCells(t, p.Body, "connection")
	if len(rows) != 1 {
		t.Fatalf("rows %q", rows)
	}
	p.mustContain(t, "<th scope=\"col\">Accounts</th>")
	var accounts string
	for _, c := range rows[0] {
		if regexp.MustCompile(`\*\*\*\*4567`).MatchString(c) {
			accounts = c
		}
	}
	for _, want := range []string{"Operating account", "****4567", "US Dollar Business Account", "****4321", "Maple Ops"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(accounts) {
			t.Errorf("accounts cell %q lacks %q", accounts, want)
		}
	}
	p.mustNotContain(t, "Payroll reserve", "****9888")
}
