package authz_test

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// TestIntrospectionReusesNothingButTheDecoding: introspection keeps an
// access token's decoded request between calls (issue 15), and still
// answers from the record of each call — the same answer while nothing
// changes, inactive once the token is revoked — and never another token's
// claims.
func TestIntrospectionReusesNothingButTheDecoding(t *testing.T) {
	e := newEnv(t, envOpts{})
	first := e.exchange(e.vendor.ID, e.secret)
	second := e.exchange(e.vendor.ID, e.secret) // the first grant's tokens end with this consent

	_, a := e.introspectAs(second.AccessToken, nil, e.vendor.ID, e.secret, "")
	if a["active"] != true {
		t.Fatalf("second token: %v", a)
	}
	for range 3 {
		_, again := e.introspectAs(second.AccessToken, nil, e.vendor.ID, e.secret, "")
		if !reflect.DeepEqual(a, again) {
			t.Fatalf("answers differ:\n%v\n%v", a, again)
		}
	}
	if _, m := e.introspectAs(first.AccessToken, nil, e.vendor.ID, e.secret, ""); m["active"] != false {
		t.Fatalf("the replaced grant's token: %v", m)
	}

	other := e.newUser(true, e.role)
	third := e.exchangeFor(other.ID, e.vendor.ID, e.secret)
	_, c := e.introspectAs(third.AccessToken, nil, e.vendor.ID, e.secret, "")
	if c["active"] != true || c["sub"] != other.ID || a["sub"] != e.user.ID {
		t.Fatalf("another user's token: %v (the first user's: %v)", c, a)
	}
	if _, again := e.introspectAs(second.AccessToken, nil, e.vendor.ID, e.secret, ""); !reflect.DeepEqual(a, again) {
		t.Fatalf("second token after another user's: %v", again)
	}

	resp := e.postForm("/oauth2/revoke", url.Values{"token": {third.AccessToken}}, e.vendor.ID, e.secret)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if _, m := e.introspectAs(third.AccessToken, nil, e.vendor.ID, e.secret, ""); m["active"] != false {
		t.Fatalf("revoked token still active: %v", m)
	}
}
