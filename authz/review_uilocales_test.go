package authz_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// TestUILocales: ui_locales (OIDC Core §3.1.2.1) chooses the language of
// the sign-in and consent pages — the first supported tag wins (fr-CA is
// French), else Accept-Language — also when it was pushed (PAR); discovery
// lists ui_locales_supported.
func TestUILocales(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, u, password := e.withPages(t)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	lang := func(p page) string {
		t.Helper()
		i := strings.Index(p.body, `<html lang="`)
		if i < 0 {
			t.Fatalf("no html lang in %s", p.body)
		}
		rest := p.body[i+len(`<html lang="`):]
		return rest[:strings.IndexByte(rest, '"')]
	}
	loginPage := func(b *browser, uiLocales, acceptLanguage string) page {
		t.Helper()
		q := e.authorizeParams(e.vendor.ID, challenge)
		if uiLocales != "" {
			q.Set("ui_locales", uiLocales)
		}
		req, err := http.NewRequest(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil)
		must(t, err)
		req.Header.Set("Accept-Language", acceptLanguage)
		resp, err := b.c.Do(req)
		must(t, err)
		resp.Body.Close()
		loc, err := req.URL.Parse(resp.Header.Get("Location"))
		must(t, err)
		req, err = http.NewRequest(http.MethodGet, loc.String(), nil)
		must(t, err)
		req.Header.Set("Accept-Language", acceptLanguage)
		resp, err = b.c.Do(req)
		must(t, err)
		resp = buffered(t, resp)
		return page{url: req.URL, status: resp.StatusCode, header: resp.Header, body: readBody(resp)}
	}
	for _, tc := range []struct{ ui, accept, want string }{
		{"fr", "en", "fr"},
		{"de fr-CA en", "en", "fr"},
		{"en fr", "fr-CA", "en"},
		{"de", "fr-CA,fr;q=0.9", "fr"},
		{"", "fr", "fr"},
		{"", "en", "en"},
	} {
		if got := lang(loginPage(newBrowser(t), tc.ui, tc.accept)); got != tc.want {
			t.Errorf("ui_locales %q, Accept-Language %q: the sign-in page is in %q, want %q", tc.ui, tc.accept, got, tc.want)
		}
	}

	// The consent page follows: sign in on the French page, English browser.
	p := loginPage(b, "fr-CA", "en")
	f := parseForm(t, p, p.url.String(), "Se connecter")
	f.fill("Code d'utilisateur", u.LoginID)
	f.fill("Mot de passe", password)
	loc := b.expectRedirect(f.submit(b, "Se connecter"))
	req, err := http.NewRequest(http.MethodGet, loc, nil)
	must(t, err)
	req.Header.Set("Accept-Language", "en")
	resp, err := b.c.Do(req)
	must(t, err)
	resp = buffered(t, resp)
	if got := lang(page{body: readBody(resp)}); got != "fr" {
		t.Errorf("consent page in %q after a French sign-in page, want fr", got)
	}

	// Pushed: ui_locales in the PAR request.
	kc := e.newKeyClient(authz.ClientSpec{})
	form := e.authorizeParams(kc.client.ID, challenge)
	form.Set("ui_locales", "fr")
	requestURI := e.par(kc, e.iss, form)
	nb := newBrowser(t)
	req, err = http.NewRequest(http.MethodGet, e.iss+"/oauth2/authorize?client_id="+kc.client.ID+"&request_uri="+requestURI, nil)
	must(t, err)
	resp, err = nb.c.Do(req)
	must(t, err)
	resp.Body.Close()
	if pg := nb.do(http.MethodGet, e.iss+resp.Header.Get("Location")[len(e.iss):], nil); lang(pg) != "fr" {
		t.Errorf("pushed ui_locales=fr: the sign-in page is in %q", lang(pg))
	}

	var meta struct {
		UILocales []string `json:"ui_locales_supported"`
	}
	must(t, json.Unmarshal([]byte(readBody(e.get(e.iss+"/.well-known/openid-configuration"))), &meta))
	if !slices.Contains(meta.UILocales, "en") || !slices.Contains(meta.UILocales, "fr") {
		t.Fatalf("ui_locales_supported %v", meta.UILocales)
	}
}
