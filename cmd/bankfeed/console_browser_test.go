package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bankfeed/bankfeed/internal/browsertest"
	"github.com/bankfeed/bankfeed/store"
)

// consoleLabels are the labels the browser test finds controls by, as the
// pages show them in each language (issue 14's are the English ones).
var consoleLabels = map[string]map[string]string{
	"en": {"user_id": "User ID", "password": "Password", "sign_in": "Sign in", "sign_out": "Sign out",
		"new_password": "New password", "confirm_password": "Confirm new password", "security_question": "Security question",
		"answer": "Answer", "continue": "Continue", "allow": "Allow",
		"users": "Users", "job_roles": "Job roles", "account_groups": "Account groups", "approvals": "Approvals",
		"name": "Name", "submit": "Submit for approval", "submitted": "Submitted and pending approval",
		"first_name": "First name", "last_name": "Last name", "login": "User ID", "email": "Email",
		"software": "Accounting software", "job_role": "Job role", "account_group": "Account group", "edit_books": "Edit: Books",
		"approve": "Approve", "view": "View"},
	"fr": {"user_id": "Code d'utilisateur", "password": "Mot de passe", "sign_in": "Se connecter", "sign_out": "Fermer la session",
		"new_password": "Nouveau mot de passe", "confirm_password": "Confirmez le nouveau mot de passe", "security_question": "Question de sécurité",
		"answer": "Réponse", "continue": "Continuer", "allow": "Autoriser",
		"users": "Utilisateurs", "job_roles": "Rôles", "account_groups": "Groupes de comptes", "approvals": "Approbations",
		"name": "Nom", "submit": "Soumettre pour approbation", "submitted": "Soumis et en attente d'approbation",
		"first_name": "Prénom", "last_name": "Nom", "login": "Code d'utilisateur", "email": "Courriel",
		"software": "Logiciel comptable", "job_role": "Rôle", "account_group": "Groupe de comptes", "edit_books": "Modifier : Books",
		"approve": "Approuver", "view": "Consulter"},
}

// TestBrowserConsole plays the help article through the console in
// Debian's Chromium, by the pages' labels, in English and then in French:
// administrator A submits the account group, the read-only job role and the
// accounting software user with both; B approves each in Pending approvals
// and reads the temporary password; the user completes first sign-in as a
// vendor connects; A removes an account from the group, B approves, and the
// vendor's next data-API request for that account answers 404. With
// BANKFEED_TEST_SCREENSHOTS=dir each page is saved there for a reviewer.
func TestBrowserConsole(t *testing.T) {
	bin := browsertest.Chromium(t)
	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) { browserConsole(t, bin, lang) })
	}
}

func browserConsole(t *testing.T, bin, lang string) {
	L := consoleLabels[lang]
	b := startBank(t)
	ctx := t.Context()
	m := onboardMaple(t, b)
	passwords := map[string]string{"admin-a": "Harbour-Lights-2026", "admin-b": "Maple-Syrup-Ledger-77"}
	for login, pw := range passwords {
		b.consoleSignIn(login, m.temps[login], pw, lang) // first sign-in, over HTTP
	}
	ledgerly := newRelyingParty(t, b, "Ledgerly")
	bctx := browsertest.New(t, bin)
	steps := func(a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browsertest.Steps(t, bctx, a...)
	}
	shot := func(name string) { browsertest.Screenshot(t, bctx, "console-"+lang+"-"+name) }
	// form is the XPath of the form posting to action: waiting for it is
	// waiting for the page that has it, not for the one still shown.
	form := func(action string) string { return fmt.Sprintf(`//form[@action=%q]`, action) }
	menu := func(label string) string { return fmt.Sprintf(`//nav[@class="menu"]//a[normalize-space()=%q]`, label) }
	status := `//p[@role="status"][normalize-space()=` + fmt.Sprintf("%q", L["submitted"]) + `]`
	signIn := func(login string) {
		t.Helper()
		// Chromium sometimes aborts a navigation from the signed-out page
		// (net::ERR_ABORTED, about one run in three on a busy machine):
		// the page's fault would fail every attempt.
		for try := 1; ; try++ {
			_, err := chromedp.Run(bctx, chromedp.Navigate(b.URL+"/business/?lang="+lang))
			if err == nil || try == 3 || !strings.Contains(err.Error(), "ERR_ABORTED") {
				break
			}
		}
		steps(
			chromedp.WaitVisible(browsertest.ByLabel(L["user_id"])),
			chromedp.SendKeys(browsertest.ByLabel(L["user_id"]), login),
			chromedp.SendKeys(browsertest.ByLabel(L["password"]), passwords[login]),
			chromedp.Click(browsertest.Button(L["sign_in"])),
			chromedp.WaitVisible(menu(L["approvals"])),
		)
	}
	// signedOut waits for the sign-in page the sign-out lands on: its form,
	// not a "User ID" label alone, which the Users page's form has too — a
	// wait the page still shown could satisfy, letting the next navigation
	// race (and abort) the sign-out (TestBrowserConsole's flake on a busy
	// machine, at approveAll's sign-in right after a sign-out).
	signedOut := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(form("/login")), chromedp.WaitVisible(browsertest.ByLabel(L["user_id"]))}
	signOut := func() {
		t.Helper()
		steps(chromedp.Click(browsertest.Button(L["sign_out"])))
		steps(signedOut...)
	}
	pending := func() []store.ApprovalRequest {
		t.Helper()
		st := store.ApprovalPending
		rs, _, err := b.st.ListApprovals(ctx, store.ApprovalFilter{BusinessGroupID: m.bg, Status: &st}, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	// approveAll: B approves every pending request by its Approve button.
	approveAll := func(name string) {
		t.Helper()
		signIn("admin-b")
		steps(chromedp.Click(menu(L["approvals"])), chromedp.WaitVisible(browsertest.Button(L["approve"])))
		shot(name)
		for _, r := range pending() {
			approve := fmt.Sprintf(`//form[@action="/business/approvals/%s/approve"]/button`, r.ID)
			steps(chromedp.Click(approve), chromedp.WaitNotPresent(approve))
		}
		if n := len(pending()); n != 0 {
			t.Fatalf("%d requests still pending", n)
		}
	}

	// A: the account group and the read-only job role.
	signIn("admin-a")
	shot("menu.png")
	steps(
		chromedp.Click(menu(L["account_groups"])),
		chromedp.WaitVisible(form("/business/account-groups")),
		chromedp.SendKeys(browsertest.ByLabel(L["name"]), "Books"),
		chromedp.Click(`//input[@value="`+m.accts[0]+`"]`),
		chromedp.Click(`//input[@value="`+m.accts[1]+`"]`),
		chromedp.Click(browsertest.Button(L["submit"])),
		chromedp.WaitVisible(status),
	)
	shot("account-groups.png")
	cell := func(p store.Permission) string {
		return fmt.Sprintf(`//input[@aria-label=%q]`, p.TitleIn(lang)+": "+L["view"])
	}
	steps(
		chromedp.Click(menu(L["job_roles"])),
		chromedp.WaitVisible(form("/business/job-roles")),
		chromedp.SendKeys(browsertest.ByLabel(L["name"]), "Read-only books"),
		chromedp.Click(cell(store.PermAccountSummary)),
		chromedp.Click(cell(store.PermManageStatements)),
		chromedp.Click(browsertest.Button(L["submit"])),
		chromedp.WaitVisible(status),
	)
	shot("job-roles.png")
	signOut()
	approveAll("approvals-group-role.png")
	signOut()
	roles, _, err := b.st.ListJobRoles(ctx, m.bg, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	groups, _, err := b.st.ListAccountGroups(ctx, m.bg, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	role := roles[slices.IndexFunc(roles, func(r store.JobRole) bool { return r.Name == "Read-only books" })]
	group := groups[slices.IndexFunc(groups, func(g store.AccountGroup) bool { return g.Name == "Books" })]

	// A adds the accounting software user with the role and the group.
	signIn("admin-a")
	steps(
		chromedp.Click(menu(L["users"])),
		chromedp.WaitVisible(form("/business/users")),
		chromedp.SendKeys(browsertest.ByLabel(L["first_name"]), "Ledgerly"),
		chromedp.SendKeys(browsertest.ByLabel(L["last_name"]), "Sync"),
		chromedp.SendKeys(browsertest.ByLabel(L["login"]), "ledgerly-sync"),
		chromedp.Click(browsertest.ByLabel(L["software"])),
		chromedp.SetValue(browsertest.ByLabel(L["job_role"]), role.ID),
		chromedp.SetValue(browsertest.ByLabel(L["account_group"]), group.ID),
		chromedp.Click(browsertest.Button(L["submit"])),
		chromedp.WaitVisible(status),
	)
	shot("users.png")
	signOut()
	approveAll("approvals-user.png")
	temp, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("code.secret")))
	if err != nil || temp == "" {
		t.Fatalf("no temporary password shown: %q %v", temp, err)
	}
	shot("temporary-password.png")
	signOut()

	// The vendor connects: the new user's first sign-in, then Allow.
	const newPassword = "Maple-Books-Sync-2026"
	steps(
		chromedp.Navigate(ledgerly.URL+"/connect"),
		chromedp.WaitVisible(browsertest.ByLabel(L["user_id"])),
		chromedp.SendKeys(browsertest.ByLabel(L["user_id"]), "ledgerly-sync"),
		chromedp.SendKeys(browsertest.ByLabel(L["password"]), temp),
		chromedp.Click(browsertest.Button(L["sign_in"])),
		chromedp.WaitVisible(browsertest.ByLabel(L["new_password"])),
		chromedp.SendKeys(browsertest.ByLabel(L["new_password"]), newPassword),
		chromedp.SendKeys(browsertest.ByLabel(L["confirm_password"]), newPassword),
		chromedp.SetValue(browsertest.ByLabel(L["security_question"]), store.SecurityQuestions[1]),
		chromedp.SendKeys(browsertest.ByLabel(L["answer"]), "Rex"),
		chromedp.Click(browsertest.Button(L["continue"])),
		chromedp.WaitVisible(browsertest.Button(L["allow"])),
		chromedp.Click(browsertest.Button(L["allow"])),
		chromedp.WaitVisible(vendorResult),
	)
	got := ledgerly.result(t)
	if got.err != nil {
		t.Fatalf("Ledgerly's callback: %v", got.err)
	}
	if want := slices.Sorted(slices.Values(m.accts)); !slices.Equal(got.accounts, want) {
		t.Fatalf("Ledgerly sees %v, want %v", got.accounts, want)
	}
	at := got.token.AccessToken

	// A removes Exploitation from the group; B approves; the vendor's next
	// request for it is a 404.
	// The vendor's user is signed in to this browser: the console sends it
	// to its connected applications, where it signs out.
	steps(
		chromedp.Navigate(b.URL+"/business/?lang="+lang),
		chromedp.WaitVisible(browsertest.Button(L["sign_out"])),
		chromedp.Click(browsertest.Button(L["sign_out"])),
	)
	steps(signedOut...)
	signIn("admin-a")
	steps(
		chromedp.Click(menu(L["account_groups"])),
		chromedp.WaitVisible(form("/business/account-groups")),
		chromedp.Click(fmt.Sprintf(`//a[@aria-label=%q]`, L["edit_books"])),
		chromedp.WaitVisible(form("/business/account-groups/"+group.ID)),
		chromedp.Click(`//input[@value="`+m.accts[0]+`"]`),
		chromedp.Click(browsertest.Button(L["submit"])),
		chromedp.WaitVisible(status),
	)
	signOut()
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+m.accts[0], nil, http.StatusOK)
	approveAll("approvals-remove.png")
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+m.accts[0], nil, http.StatusNotFound)
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+m.accts[1], nil, http.StatusOK)
}
