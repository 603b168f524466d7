package main

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

var (
	nonceField   = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
	approveForm  = regexp.MustCompile(`action="/business/approvals/(apr_[a-z0-9]+)/approve"`)
	secretOnPage = regexp.MustCompile(`<code class="secret">([^<]+)</code>`)
)

// consoleUser is an administrator's browser on the console.
type consoleUser struct {
	b  *bank
	br *http.Client
}

// page gets a console page, which must answer 200.
func (u consoleUser) page(path string) string {
	u.b.t.Helper()
	res, body := u.b.do(u.br, http.MethodGet, u.b.URL+path, nil)
	if res.StatusCode != http.StatusOK {
		u.b.t.Fatalf("GET %s = %d:\n%s", path, res.StatusCode, body)
	}
	return body
}

// submit fills the last form of the page at path with values (its CSRF
// token and nonce added) and posts it to action; the answer must be 200.
func (u consoleUser) submit(path, action string, values url.Values) string {
	u.b.t.Helper()
	body := lastForm(u.page(path))
	values.Set("csrf", find(u.b.t, csrfField, body))
	if m := nonceField.FindStringSubmatch(body); m != nil {
		values.Set("nonce", m[1])
	}
	res, out := u.b.do(u.br, http.MethodPost, u.b.URL+action, strings.NewReader(values.Encode()))
	if res.StatusCode != http.StatusOK {
		u.b.t.Fatalf("POST %s = %d:\n%s", action, res.StatusCode, out)
	}
	return html.UnescapeString(out)
}

// consoleSignIn opens /business/ in a new browser: the bank's sign-in page,
// the first sign-in replacing the temporary password, and back to the
// console, in lang.
func (b *bank) consoleSignIn(login, temp, password, lang string) consoleUser {
	b.t.Helper()
	br := b.browser()
	res, body := b.do(br, http.MethodGet, b.URL+"/business/?lang="+lang, nil)
	for range 4 {
		if res.Request.URL.Path == "/business/" && res.StatusCode == http.StatusOK {
			return consoleUser{b: b, br: br}
		}
		form := url.Values{"csrf": {find(b.t, csrfField, body)}}
		switch res.Request.URL.Path {
		case "/login":
			form.Set("user_id", login)
			form.Set("password", temp)
		case "/login/first":
			form.Set("new_password", password)
			form.Set("confirm_password", password)
			form.Set("security_question", store.SecurityQuestions[0])
			form.Set("answer", "Lakeview Elementary")
		default:
			b.t.Fatalf("unexpected page %s (%d):\n%s", res.Request.URL, res.StatusCode, body)
		}
		action := strings.ReplaceAll(find(b.t, formAction, lastForm(body)), "&amp;", "&")
		res, body = b.do(br, http.MethodPost, b.URL+action, strings.NewReader(form.Encode()))
	}
	b.t.Fatalf("%s did not reach the console", login)
	return consoleUser{}
}

// TestConsoleArticle plays the help article through the console's pages by
// their labels, in English and in French (issue 14): administrator A creates
// the account group and the read-only job role and adds the accounting
// software user with both, B approves each in "Pending approvals"; the user
// completes first sign-in as the vendor connects; A removes an account from
// the group, B approves, and the vendor's next request for it answers 404.
func TestConsoleArticle(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) { consoleArticle(t, lang) })
	}
}

func consoleArticle(t *testing.T, lang string) {
	b := startBank(t)
	ctx := t.Context()
	words := map[string]map[string]string{
		"en": {"submitted": "Submitted and pending approval", "approved": "Approved: the change is applied.",
			"removes": "removes %s from account group Books"},
		"fr": {"submitted": "Soumis et en attente d'approbation", "approved": "Approuvé : le changement est appliqué.",
			"removes": "retire %s du groupe de comptes Books"},
	}[lang]
	vendorID, vendorSecret := b.client(authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{"http://127.0.0.1:9999/callback"}})
	mp := onboardMaple(t, b)
	bg, le, accts, temps := mp.bg, mp.le, mp.accts, mp.temps
	A := b.consoleSignIn("admin-a", temps["admin-a"], "Harbour-Lights-2026", lang)
	B := b.consoleSignIn("admin-b", temps["admin-b"], "Maple-Syrup-Ledger-77", lang)
	approveAll := func() {
		t.Helper()
		ids := approveForm.FindAllStringSubmatch(B.page("/business/approvals"), -1)
		if len(ids) == 0 {
			t.Fatal("nothing pending for B")
		}
		for _, m := range ids {
			if out := B.submit("/business/approvals", "/business/approvals/"+m[1]+"/approve", url.Values{}); !strings.Contains(out, words["approved"]) {
				t.Fatalf("approving %s:\n%s", m[1], out)
			}
		}
	}

	// The account group and the read-only job role.
	out := A.submit("/business/account-groups", "/business/account-groups", url.Values{"name": {"Books"}, "account": accts})
	if !strings.Contains(out, words["submitted"]) {
		t.Fatalf("account group:\n%s", out)
	}
	out = A.submit("/business/job-roles", "/business/job-roles", url.Values{"name": {"Read-only books"},
		"g.account_summary.View": {"on"}, "g.manage_statements.View": {"on"}})
	if !strings.Contains(out, words["submitted"]) {
		t.Fatalf("job role:\n%s", out)
	}
	approveAll()
	groups, _, err := b.st.ListAccountGroups(ctx, bg, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	roles, _, err := b.st.ListJobRoles(ctx, bg, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	gi := slices.IndexFunc(groups, func(g store.AccountGroup) bool { return g.Name == "Books" })
	ri := slices.IndexFunc(roles, func(r store.JobRole) bool { return r.Name == "Read-only books" })
	if gi < 0 || ri < 0 {
		t.Fatalf("after approval: groups %v, roles %v", groups, roles)
	}
	group, role := groups[gi], roles[ri]

	// The accounting software user, with the box, the role and the group.
	if !strings.Contains(A.page("/business/users?software=1"), `<option value="`+role.ID+`">Read-only books</option>`) {
		t.Fatal("the read-only role is not offered with the Accounting software box")
	}
	out = A.submit("/business/users?software=1", "/business/users", url.Values{"first_name": {"Ledgerly"}, "last_name": {"Sync"},
		"login": {"ledgerly-sync"}, "software": {"on"}, "entity": {le}, "role": {role.ID}, "group": {group.ID}})
	if !strings.Contains(out, words["submitted"]) {
		t.Fatalf("add user:\n%s", out)
	}
	ids := approveForm.FindAllStringSubmatch(B.page("/business/approvals"), -1)
	if len(ids) != 1 {
		t.Fatalf("pending for B: %v", ids)
	}
	m := secretOnPage.FindStringSubmatch(B.submit("/business/approvals", "/business/approvals/"+ids[0][1]+"/approve", url.Values{}))
	if m == nil {
		t.Fatal("no temporary password shown to B")
	}
	temp := html.UnescapeString(m[1])

	// The vendor connects: first sign-in and consent on the bank's pages.
	vendor := oauth2.Config{ClientID: vendorID, ClientSecret: vendorSecret, RedirectURL: "http://127.0.0.1:9999/callback",
		Scopes:   []string{"openid", "accounts.read", "statements.read"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), vendor.AuthCodeURL("vendor-state", oauth2.S256ChallengeOption(v)), "ledgerly-sync", temp, "Maple-Books-Sync-2026")
	tok, err := vendor.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	want := slices.Sorted(slices.Values(accts))
	if got := accountIDs(b.api(tok.AccessToken, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusOK)); !slices.Equal(got, want) {
		t.Fatalf("vendor sees %v, want %v", got, want)
	}

	// A removes Exploitation from the group; B sees it in words, approves;
	// the vendor's next request for it is a 404.
	A.submit("/business/account-groups/"+group.ID, "/business/account-groups/"+group.ID, url.Values{"name": {"Books"}, "account": {accts[1]}})
	removed, err := b.st.GetAccount(ctx, accts[0])
	if err != nil {
		t.Fatal(err)
	}
	if page := html.UnescapeString(B.page("/business/approvals")); !strings.Contains(page, fmt.Sprintf(words["removes"], "Exploitation ("+removed.DisplayNumber+")")) {
		t.Fatalf("the removal in words:\n%s", page)
	}
	b.api(tok.AccessToken, http.MethodGet, "/fdx/v6/accounts/"+accts[0], nil, http.StatusOK)
	approveAll()
	b.api(tok.AccessToken, http.MethodGet, "/fdx/v6/accounts/"+accts[0], nil, http.StatusNotFound)
	b.api(tok.AccessToken, http.MethodGet, "/fdx/v6/accounts/"+accts[1], nil, http.StatusOK)
}

// maple is a business the operator onboarded through /ops/v1: one legal
// entity, the accounts "Exploitation" and "Exploitation Nord", and two
// administrators awaiting first sign-in.
type maple struct {
	bg, le string
	accts  []string
	temps  map[string]string // administrator's login → temporary password
}

func onboardMaple(t *testing.T, b *bank) maple {
	t.Helper()
	ctx := t.Context()
	opsID, opsSecret := b.client(authz.ClientSpec{Name: "Core banking feed", FirstParty: true})
	opTok, err := (&clientcredentials.Config{ClientID: opsID, ClientSecret: opsSecret, TokenURL: b.URL + "/oauth2/token", Scopes: []string{"operator"}}).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	op := opTok.AccessToken
	m := maple{temps: map[string]string{}}
	m.bg = b.api(op, http.MethodPost, "/ops/v1/business-groups", map[string]any{"id": "bg_maple", "name": "Maple Leaf Manufacturing"}, http.StatusCreated)["id"].(string)
	m.le = b.api(op, http.MethodPost, "/ops/v1/legal-entities", map[string]any{"businessGroupId": m.bg, "name": "Maple Ops"}, http.StatusCreated)["id"].(string)
	for i, nick := range []string{"Exploitation", "Exploitation Nord"} {
		m.accts = append(m.accts, b.api(op, http.MethodPost, "/ops/v1/accounts", map[string]any{"legalEntityId": m.le, "nickname": nick,
			"number": fmt.Sprintf("00012-003-10087%02d", 85+i), "type": "CHECKING", "currency": "CAD", "openedOn": "2026-01-05"}, http.StatusCreated)["id"].(string))
	}
	for _, login := range []string{"admin-a", "admin-b"} {
		added := b.api(op, http.MethodPost, "/ops/v1/business-groups/"+m.bg+"/administrators",
			map[string]any{"loginId": login, "displayName": login}, http.StatusCreated)
		m.temps[login] = added["temporaryPassword"].(string)
	}
	return m
}
