package console_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestFailuresBeforeSignInAreHTML: a console failure before the
// administrator is known — a form without a session, with a session that
// is not an administrator's, a cross-site form, the sessions' store
// unavailable — is the branded error page in the user's language (the
// bank's language cookie, else Accept-Language) with its status, not
// plain text; nothing is submitted.
func TestFailuresBeforeSignInAreHTML(t *testing.T) {
	ev := newEnv(t)
	sw := ev.signIn(ev.bg1, "books-app", store.AccountingSoftwareReadOnlyGrants(), func(u *store.User) { u.AccountingSoftware = true })
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	form := url.Values{"first_name": {"X"}, "last_name": {"Y"}, "login": {"xy-user"}, "entity": {""}, "csrf": {a.csrf}}
	send := func(name, method, path, cookie, acceptLanguage string, extra http.Header) (int, string, string) {
		t.Helper()
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(t.Context(), method, ev.ts.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		req.Header.Set("Accept-Language", acceptLanguage)
		for k, v := range extra {
			req.Header[k] = v
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Header.Get("Content-Type"), html.UnescapeString(string(raw))
	}
	for _, tc := range []struct {
		name, method, path, cookie, accept string
		extra                              http.Header
		status                             int
		lang, text                         string
	}{
		{"form without a session", http.MethodPost, "/business/users", "", "fr-CA,fr;q=0.9", nil, http.StatusForbidden,
			"fr", "Rien n'a été changé"},
		{"form of a non-administrator", http.MethodPost, "/business/users", sw.cookie + "; bankfeed_lang=en", "fr", nil, http.StatusForbidden,
			"en", "Nothing was changed"},
		{"form with an unknown session", http.MethodPost, "/business/users", "bankfeed_session=unknown", "en", nil, http.StatusForbidden,
			"en", "Nothing was changed"},
		{"cross-site form without a session", http.MethodPost, "/business/approvals/apr_x/approve", "", "fr",
			http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "fr", "Rien n'a été changé"},
	} {
		status, ctype, body := send(tc.name, tc.method, tc.path, tc.cookie, tc.accept, tc.extra)
		if status != tc.status || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, `<html lang="`+tc.lang+`">`) ||
			!strings.Contains(body, tc.text) || !strings.Contains(body, "/business/assets/console.css") {
			t.Errorf("%s: %d %s, want %d, the error page in %s with %q:\n%s", tc.name, status, ctype, tc.status, tc.lang, tc.text, body)
		}
		if strings.Contains(body, "Sign out") || strings.Contains(body, "Fermer la session") {
			t.Errorf("%s: the page offers a session it does not have:\n%s", tc.name, body)
		}
	}
	if n := len(ev.pending()); n != 0 {
		t.Fatalf("refused forms made %d requests", n)
	}
	// The sessions' store unavailable: the page, 503, Retry-After.
	if err := ev.st.Close(); err != nil {
		t.Fatal(err)
	}
	status, ctype, body := send("outage", http.MethodGet, "/business/users", a.cookie, "fr", nil)
	if status != http.StatusServiceUnavailable || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, `<html lang="fr">`) ||
		!strings.Contains(body, "brièvement indisponible") {
		t.Errorf("outage: %d %s:\n%s", status, ctype, body)
	}
}
