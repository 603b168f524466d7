package authz_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/golang-jwt/jwt/v5"

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
