package authz_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/consent"
	"github.com/bankfeed/bankfeed/dataapi"
	"github.com/bankfeed/bankfeed/store"
)

// TestLockoutStopsSignInOnly is issue 10's finding 1: five wrong passwords
// on the bank's sign-in page lock interactive sign-in, but the vendor's
// connection keeps working (refresh and data API) — anyone who knows the
// login ID could cut it off otherwise. An administrator's lock stops it at
// once: the refresh is invalid_grant and the data API answers 401.
func TestLockoutStopsSignInOnly(t *testing.T) {
	e := newEnv(t, envOpts{})
	pages, err := consent.New(consent.Config{Store: e.st, Issuer: e.iss, Now: e.clock.Now})
	must(t, err)
	pages.Mount(e.echo)
	api, err := dataapi.New(dataapi.Config{Store: e.st, Verifier: e.srv, Now: e.clock.Now,
		IsInvalidToken: func(err error) bool { return errors.Is(err, authz.ErrInvalidToken) }, PageKeySecret: make([]byte, 32)})
	must(t, err)
	api.Mount(e.echo)

	const password = "Correct-Horse-9-battery"
	e.withPassword(e.user, password)

	conf := &oauth2.Config{
		ClientID: e.vendor.ID, ClientSecret: e.secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: e.iss + "/oauth2/authorize", TokenURL: e.iss + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "offline_access", store.ScopeAccountsRead, store.ScopeStatementsRead},
	}
	tok := connect(t, e, conf, password)

	// A stranger types five wrong passwords for the user's login ID.
	stranger := newBrowser(t)
	loc := stranger.expectRedirect(stranger.do(http.MethodGet, conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil))
	f := parseForm(t, stranger.do(http.MethodGet, loc, nil), loc, "Sign in")
	for range 5 {
		f.fill("User ID", e.user.LoginID)
		f.fill("Password", "wrong-password-1")
		if p := f.submit(stranger, "Sign in"); p.status < 400 {
			t.Fatalf("a wrong password answered %d", p.status)
		}
	}
	if u, err := e.st.GetUser(e.ctx, e.user.ID); err != nil || u.LockedUntil.IsZero() || u.CanSignIn(e.clock.Now()) {
		t.Fatalf("the user is not locked out of sign-in: %+v, %v", u, err)
	}

	// The vendor's connection stands: refresh and read.
	tok = refreshed(t, conf, tok)
	if status := getData(t, e, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("data API after a lockout: %d, want 200", status)
	}

	// An administrator's lock stops everything at once.
	_, err = e.st.UpdateUser(e.ctx, e.user.ID, func(u store.User) (store.User, error) {
		u.Status = store.UserLocked
		return u, nil
	})
	must(t, err)
	if status := getData(t, e, tok.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("data API after an administrator's lock: %d, want 401", status)
	}
	tok.Expiry = time.Now().Add(-time.Hour)
	_, err = conf.TokenSource(context.Background(), tok).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "locked by an administrator") {
		t.Fatalf("refresh after an administrator's lock: %v, want invalid_grant", err)
	}
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// connect signs the user in on the bank's pages, allows, and exchanges the
// code with the vendor's OAuth client.
func connect(t *testing.T, e *env, conf *oauth2.Config, password string) *oauth2.Token {
	t.Helper()
	b := newBrowser(t)
	verifier := oauth2.GenerateVerifier()
	loc := b.expectRedirect(b.do(http.MethodGet, conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier)), nil))
	f := parseForm(t, b.do(http.MethodGet, loc, nil), loc, "Sign in")
	f.fill("User ID", e.user.LoginID)
	f.fill("Password", password)
	loc = b.expectRedirect(f.submit(b, "Sign in"))
	cb := b.toCallback(loc, "Allow")
	tok, err := conf.Exchange(context.Background(), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	must(t, err)
	return tok
}

// refreshed makes the vendor's client refresh tok.
func refreshed(t *testing.T, conf *oauth2.Config, tok *oauth2.Token) *oauth2.Token {
	t.Helper()
	old := *tok
	old.Expiry = time.Now().Add(-time.Hour)
	next, err := conf.TokenSource(context.Background(), &old).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.AccessToken == tok.AccessToken {
		t.Fatal("refresh returned the old access token")
	}
	return next
}

func getData(t *testing.T, e *env, accessToken string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.iss+dataapi.BasePath+"/accounts", nil)
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
