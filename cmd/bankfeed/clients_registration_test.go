package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/store"
)

// TestClientsRegistration: through the whole wiring, the operator's
// registration-token lets a vendor register once (the discovery document
// names the endpoint); the client is pending, so the authorization request
// goes back with unauthorized_client; clients approve makes it usable (the
// next request reaches the sign-in page), a second decision is refused, and
// both commands are audited without the token (issue 13 §3).
func TestClientsRegistration(t *testing.T) {
	dir := migratedDir(t)
	if _, _, err := cli(t, dir, "clients", "registration-token", "--uses", "0"); err == nil || !strings.Contains(err.Error(), "--uses") {
		t.Fatalf("--uses 0: %v", err)
	}
	out, stderr, err := cli(t, dir, "clients", "registration-token", "--expires", "1h")
	if err != nil {
		t.Fatalf("registration-token: %v\n%s", err, stderr)
	}
	var issued struct {
		Token string `json:"initialAccessToken"`
		Uses  int    `json:"uses"`
	}
	if err := json.Unmarshal([]byte(out), &issued); err != nil || issued.Token == "" || issued.Uses != 1 {
		t.Fatalf("registration-token printed %q (%v)", out, err)
	}
	clock := &testClock{}
	iss := startDirServer(t, dir, clock.now)

	resp, err := http.Get(iss + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc["registration_endpoint"] != iss+"/oauth2/register" {
		t.Fatalf("registration_endpoint = %v", disc["registration_endpoint"])
	}

	register := func() (int, map[string]any) {
		body, _ := json.Marshal(map[string]any{"client_name": "Ledgerly", "redirect_uris": []string{"https://ledgerly.example/cb"},
			"token_endpoint_auth_method": "client_secret_basic", "grant_types": []string{"authorization_code", "refresh_token"}})
		req, _ := http.NewRequest(http.MethodPost, iss+"/oauth2/register", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+issued.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	status, reg := register()
	id, _ := reg["client_id"].(string)
	if status != http.StatusCreated || id == "" || reg["client_secret"] == "" || reg["status"] != "pending" {
		t.Fatalf("register: %d %v", status, reg)
	}
	if status, _ := register(); status != http.StatusUnauthorized {
		t.Fatalf("second registration with a one-use token: %d", status)
	}

	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func() *url.URL {
		q := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {"https://ledgerly.example/cb"},
			"scope": {"openid accounts.read"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"}, "state": {"state-1234567890"}}
		resp, err := browser.Get(iss + "/oauth2/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc
	}
	if loc := authorize(); loc.Host != "ledgerly.example" || loc.Query().Get("error") != "unauthorized_client" {
		t.Fatalf("pending client's authorization went to %s", loc)
	}
	if out, _, err := cli(t, dir, "clients", "show", id); err != nil || !strings.Contains(out, `"status": "pending"`) {
		t.Fatalf("clients show of a pending client: %v\n%s", err, out)
	}
	out, stderr, err = cli(t, dir, "clients", "approve", id)
	if err != nil || !strings.Contains(out, "is active") {
		t.Fatalf("approve: %q %v\n%s", out, err, stderr)
	}
	if _, _, err := cli(t, dir, "clients", "reject", id); err == nil || !strings.Contains(err.Error(), "is active") {
		t.Fatalf("reject after approve: %v", err)
	}
	if _, _, err := cli(t, dir, "clients", "approve", "cli_missing"); err == nil || !strings.Contains(err.Error(), "no client") {
		t.Fatalf("approve of a missing client: %v", err)
	}
	clock.advance(afterCacheTTL)
	if loc := authorize(); loc.Path != "/login" {
		t.Fatalf("approved client's authorization went to %s", loc)
	}
	if es := clientEvents(t, dir, actionClientApproved, id); len(es) != 1 || !strings.Contains(string(es[0].After), `"pending"`) {
		t.Fatalf("approval events: %+v", es)
	}
	st := dirStore(t, dir)
	action := actionRegistrationTokenIssued
	es, _, err := st.ListAudit(t.Context(), store.AuditFilter{Action: &action}, store.Page{})
	if err != nil || len(es) != 1 || es[0].TargetType != "registration_token" || strings.Contains(string(es[0].After), issued.Token) {
		t.Fatalf("registration-token events: %+v %v", es, err)
	}
}
