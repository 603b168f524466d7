package authz_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// TestPARRequestURIOfAnotherClient: a request_uri presented with another
// client's client_id is refused without being consumed — the client that
// pushed it can still use it — and is never redirected anywhere.
func TestPARRequestURIOfAnotherClient(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{RequirePAR: true})
	form := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	requestURI := e.par(kc, e.iss, form)

	resp := e.get(e.iss + "/oauth2/authorize?" + url.Values{"client_id": {e.vendor.ID}, "request_uri": {requestURI}}.Encode())
	if resp.StatusCode < 400 || strings.HasPrefix(resp.Header.Get("Location"), redirectURI) {
		t.Fatalf("request_uri with another client_id: %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = e.get(e.iss + "/oauth2/authorize?" + url.Values{"request_uri": {requestURI}}.Encode())
	if resp.StatusCode < 400 {
		t.Fatalf("request_uri without client_id: %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatal("redirected")
	}
	// The owner can still use it.
	e.startAuthorize(url.Values{"client_id": {kc.client.ID}, "request_uri": {requestURI}})
}
