package authz_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// TestJWTAccessTokenAudience: a JWT access token names the APIs it opens in
// aud (the data API's resource identifier for data scopes, the
// administration's for admin and operator), after a code exchange, a
// refresh and a client_credentials grant; introspection reports the same.
func TestJWTAccessTokenAudience(t *testing.T) {
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.TokenFormat = "jwt" }})
	aud := func(t *testing.T, tok string) []string {
		t.Helper()
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
			t.Fatalf("access token: %v", err)
		}
		a, err := claims.GetAudience()
		must(t, err)
		return a
	}
	fdx := []string{e.iss + "/fdx/v6"}
	tr := e.exchange(e.vendor.ID, e.secret)
	if got := aud(t, tr.AccessToken); !slices.Equal(got, fdx) {
		t.Fatalf("code exchange: aud %q, want %q", got, fdx)
	}
	r := e.refresh(tr.RefreshToken)
	if r.Status != 200 {
		t.Fatalf("refresh: %+v", r)
	}
	if got := aud(t, r.AccessToken); !slices.Equal(got, fdx) {
		t.Fatalf("refresh: aud %q, want %q", got, fdx)
	}
	if _, err := e.srv.Verify(e.ctx, r.AccessToken); err != nil {
		t.Fatalf("verify: %v", err)
	}

	// FDX's scopes open the data API too.
	other, otherSecret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "FDX books", RedirectURIs: []string{redirectURI}, Secret: true})
	must(t, err)
	v := oauth2.GenerateVerifier()
	q := e.authorizeParams(other.ID, oauth2.S256ChallengeFromVerifier(v))
	q.Set("scope", "openid fdx:transactions:read")
	code := e.codeFor(q, e.user.ID, []string{"openid", "fdx:transactions:read"}).Get("code")
	fx := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}, other.ID, otherSecret)
	if fx.AccessToken == "" {
		t.Fatalf("FDX scope exchange: %+v", fx)
	}
	if got := aud(t, fx.AccessToken); !slices.Equal(got, fdx) {
		t.Fatalf("FDX scope: aud %q, want %q", got, fdx)
	}

	ops, secret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Back office", FirstParty: true, Secret: true})
	must(t, err)
	cc := e.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"operator"}}, ops.ID, secret)
	if cc.AccessToken == "" {
		t.Fatalf("client_credentials: %+v", cc)
	}
	if got, want := aud(t, cc.AccessToken), []string{e.iss + "/ops/v1"}; !slices.Equal(got, want) {
		t.Fatalf("client_credentials: aud %q, want %q", got, want)
	}
}
