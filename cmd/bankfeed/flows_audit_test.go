package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// TestAuthenticationAuditEndToEnd (issue 10 §5) through the whole bank:
// failed sign-ins on the bank's pages reach the audit log with the remote
// address, user agent and X-Request-ID of the request. A known user's
// failure is in its business's /admin/v1/audit; a failure for a login ID
// nobody holds is in no business's, only in the bank's /ops/v1/audit
// (bank level, named by its login key); and neither the typed login ID of
// nobody nor any typed password is anywhere in the log.
func TestAuthenticationAuditEndToEnd(t *testing.T) {
	b := startBank(t)
	ctx := t.Context()
	opsID, opsSecret := b.client(authz.ClientSpec{Name: "Core banking feed", FirstParty: true})
	obID, obSecret := b.client(authz.ClientSpec{Name: "Online banking", FirstParty: true, RedirectURIs: []string{"http://127.0.0.1:7001/cb"}})
	opTok, err := (&clientcredentials.Config{ClientID: opsID, ClientSecret: opsSecret, TokenURL: b.URL + "/oauth2/token", Scopes: []string{"operator"}}).Token(ctx)
	if err != nil {
		t.Fatalf("operator token: %v", err)
	}

	const password = "Harbour-Lights-2026"
	hash, _ := store.HashSecret(password)
	users := map[string]store.User{}
	for _, bg := range []string{"bg_one", "bg_two"} {
		if _, err := b.st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: bg, Name: bg}); err != nil {
			t.Fatal(err)
		}
		role, err := b.st.CreateJobRole(ctx, store.JobRole{ID: store.NewID("jr"), BusinessGroupID: bg, Name: "Administrator", Grants: store.AdminGrants()})
		if err != nil {
			t.Fatal(err)
		}
		group, err := b.st.CreateAccountGroup(ctx, store.AccountGroup{ID: store.NewID("ag"), BusinessGroupID: bg, Name: "Administrators"})
		if err != nil {
			t.Fatal(err)
		}
		login := "admin-" + strings.TrimPrefix(bg, "bg_")
		u, err := b.st.CreateUser(ctx, store.User{ID: store.NewID("usr"), BusinessGroupID: bg, LoginID: login, DisplayName: login, Status: store.UserActive, PasswordHash: hash})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.st.PutAssignment(ctx, store.Assignment{ID: store.NewID("asg"), BusinessGroupID: bg, UserID: u.ID, JobRoleID: role.ID, AccountGroupID: group.ID}); err != nil {
			t.Fatal(err)
		}
		users[login] = u
	}
	books, err := b.st.CreateUser(ctx, store.User{ID: store.NewID("usr"), BusinessGroupID: "bg_one", LoginID: "books-one", DisplayName: "Books",
		AccountingSoftware: true, Status: store.UserActive, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}

	// signIn posts the sign-in form as a browser naming itself and the request.
	const ua = "E2E-Browser/3.0 (audit)"
	signIn := func(login, pw, rid string) int {
		t.Helper()
		br := b.browser()
		send := func(method, body string) (*http.Response, string) {
			req, _ := http.NewRequestWithContext(ctx, method, b.URL+"/login", strings.NewReader(body))
			req.Header.Set("User-Agent", ua)
			req.Header.Set("X-Request-ID", rid)
			if body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			res, err := br.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			return res, string(data)
		}
		_, page := send(http.MethodGet, "")
		res, _ := send(http.MethodPost, url.Values{"csrf": {find(t, csrfField, page)}, "user_id": {login}, "password": {pw}}.Encode())
		return res.StatusCode
	}
	const nobody, nobodyPassword, wrong = "Nobody.E2E.Typed", "Nobody-Typed-Pass-1", "Wrong-Typed-Pass-2"
	if s := signIn(nobody, nobodyPassword, "e2e-nobody"); s != http.StatusUnauthorized {
		t.Fatalf("unknown login ID: %d", s)
	}
	if s := signIn("books-one", wrong, "e2e-wrong"); s != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", s)
	}

	items := func(m map[string]any) []map[string]any {
		var out []map[string]any
		list, _ := m["items"].([]any)
		for _, it := range list {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	byRID := func(evs []map[string]any, rid string) []map[string]any {
		var out []map[string]any
		for _, ev := range evs {
			if ev["httpRequestId"] == rid {
				out = append(out, ev)
			}
		}
		return out
	}
	origin := func(ev map[string]any) bool {
		return ev["remoteAddr"] == "127.0.0.1" && ev["userAgent"] == ua && ev["outcome"] == "failure"
	}

	// The business sees its user's failure, and nothing of nobody's.
	one := b.userToken(obID, obSecret, "http://127.0.0.1:7001/cb", "admin-one", password)
	two := b.userToken(obID, obSecret, "http://127.0.0.1:7001/cb", "admin-two", password)
	oneLog := items(b.api(one, http.MethodGet, "/admin/v1/audit?action=signin.*&limit=1000", nil, http.StatusOK))
	if evs := byRID(oneLog, "e2e-wrong"); len(evs) != 1 || evs[0]["action"] != "signin.failed" || evs[0]["actorId"] != books.ID || !origin(evs[0]) {
		t.Errorf("bg_one's failed sign-in = %v", evs)
	}
	succeeded := false
	for _, ev := range oneLog {
		succeeded = succeeded || (ev["action"] == "signin.succeeded" && ev["actorId"] == users["admin-one"].ID)
	}
	if !succeeded {
		t.Errorf("bg_one's log lacks admin-one's sign-in: %v", oneLog)
	}
	for _, tok := range []string{one, two} {
		all := items(b.api(tok, http.MethodGet, "/admin/v1/audit?limit=1000", nil, http.StatusOK))
		for _, ev := range all {
			if ev["httpRequestId"] == "e2e-nobody" || ev["targetType"] == "login_key" || ev["businessGroupId"] == nil {
				t.Errorf("a business sees a bank-level event: %v", ev)
			}
		}
		if tok == two && len(byRID(all, "e2e-wrong")) != 0 {
			t.Error("bg_two sees bg_one's failed sign-in")
		}
	}

	// The bank sees nobody's, at the bank level, under its login key.
	bank := items(b.api(opTok.AccessToken, http.MethodGet, "/ops/v1/audit?businessGroupId=&limit=1000", nil, http.StatusOK))
	evs := byRID(bank, "e2e-nobody")
	if len(evs) != 1 || evs[0]["action"] != "signin.failed" || evs[0]["actorId"] != "" || evs[0]["targetType"] != "login_key" ||
		evs[0]["businessGroupId"] != nil || !origin(evs[0]) {
		t.Errorf("bank-level failed sign-in = %v", evs)
	}

	// Nothing typed is kept.
	raw, _ := json.Marshal(b.api(opTok.AccessToken, http.MethodGet, "/ops/v1/audit?limit=1000", nil, http.StatusOK))
	for _, s := range []string{nobody, nobodyPassword, wrong, password} {
		if strings.Contains(strings.ToLower(string(raw)), strings.ToLower(s)) {
			t.Errorf("the audit log holds %q", s)
		}
	}
}
