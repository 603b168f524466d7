package authz_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// TestTokenResponseNamesTheConsent is issue 13 §2: the consent ID comes to
// the recipient with its tokens, as grant_id (FAPI Grant Management, which
// FDX's Consent API follows), on the code exchange and on every refresh, so
// it can read and revoke the consent at /fdx/v6/consents/{consentId}.
func TestTokenResponseNamesTheConsent(t *testing.T) {
	e := newEnv(t, envOpts{})
	grantID := func(resp *http.Response) string {
		t.Helper()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("token response %d: %v %v", resp.StatusCode, body, err)
		}
		id, _ := body["grant_id"].(string)
		return id
	}
	verifier := oauth2.GenerateVerifier()
	q := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes)
	resp := e.postForm("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret)
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange %d: %v %v", resp.StatusCode, body, err)
	}
	consents, err := e.st.ListConsents(e.ctx, e.user.ID)
	if err != nil || len(consents) != 1 {
		t.Fatalf("consents %v %v", consents, err)
	}
	if body["grant_id"] != consents[0].ID {
		t.Fatalf("grant_id %v, want the consent %s", body["grant_id"], consents[0].ID)
	}
	rt, _ := body["refresh_token"].(string)
	refreshed := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, e.vendor.ID, e.secret)
	if got := grantID(refreshed); got != consents[0].ID {
		t.Fatalf("refresh: grant_id %q, want %s", got, consents[0].ID)
	}
}
