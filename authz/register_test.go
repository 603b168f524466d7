package authz_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

const vendorCallback = "https://vendor.example/callback"

// registration is an RFC 7591 / 7592 answer.
type registration struct {
	Status  int
	Body    map[string]any
	Error   string
	Message string
}

func (e *env) registrationRequest(method, path, token string, body any) registration {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(e.t, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, e.iss+path, rd)
	must(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	resp = buffered(e.t, resp)
	out := registration{Status: resp.StatusCode}
	if resp.StatusCode != http.StatusNoContent {
		must(e.t, json.NewDecoder(resp.Body).Decode(&out.Body))
		out.Error, _ = out.Body["error"].(string)
		out.Message, _ = out.Body["error_description"].(string)
	}
	if resp.StatusCode == http.StatusUnauthorized && !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		e.t.Errorf("401 without a Bearer challenge: %q", resp.Header.Get("WWW-Authenticate"))
	}
	return out
}

func (e *env) registrationToken(ttl time.Duration, uses int) string {
	e.t.Helper()
	tok, _, err := authz.IssueRegistrationToken(e.ctx, e.st, ttl, uses, "test", e.clock.Now())
	must(e.t, err)
	return tok
}

func jwksOf(keys ...vendorKey) json.RawMessage {
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.public())
	}
	b, _ := json.Marshal(set)
	return b
}

// vendorMetadata is a complete, valid registration of a private_key_jwt
// data recipient with FDX's fields.
func vendorMetadata(k vendorKey) map[string]any {
	return map[string]any{
		"client_name":                "Booksy",
		"description":                "Bookkeeping for small businesses",
		"redirect_uris":              []string{vendorCallback},
		"token_endpoint_auth_method": "private_key_jwt",
		"jwks":                       jwksOf(k),
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"scope":                      "openid offline_access accounts.read statements.read",
		"logo_uri":                   "https://vendor.example/logo.png",
		"client_uri":                 "https://vendor.example/",
		"tos_uri":                    "https://vendor.example/tos",
		"policy_uri":                 "https://vendor.example/privacy",
		"contacts":                   []string{"support@vendor.example"},
		"duration_type":              []string{"PERSISTENT", "TIME_BOUND"},
		"duration_period":            365,
		"lookback_period":            90,
		"registry_references":        []map[string]any{{"registered_entity_name": "Booksy Inc.", "registered_entity_id": "4HCHXIURY78NNH6JH", "registry": "GLEIF"}},
		"intermediaries":             []map[string]any{{"name": "Aggregator Co", "uri": "https://aggregator.example"}},
	}
}

// vendorRedirect follows resume to the registered client's callback.
func (e *env) vendorRedirect(challenge, verifier string) url.Values {
	e.t.Helper()
	resp := e.get(e.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {challenge}, "login_verifier": {verifier}}.Encode())
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(e.t, err)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), vendorCallback) {
		e.t.Fatalf("resume: %d to %s", resp.StatusCode, loc)
	}
	return loc.Query()
}

// TestDynamicClientRegistration: a data recipient registers itself with
// the bank's initial access token, is pending (authorization and PAR answer
// unauthorized_client) until an operator approves it, then completes a
// flow; RFC 7592 reads it, rotates its key and redirect URIs — the
// connection made before keeps refreshing with the new key, the old key is
// refused — and deletes it, which ends its tokens. Another client's
// registration access token, or none, is a 401.
func TestDynamicClientRegistration(t *testing.T) {
	e := newEnv(t, envOpts{})
	k1 := newVendorKey(t, "ES256", "k1")
	iat := e.registrationToken(time.Hour, 2)

	reg := e.registrationRequest(http.MethodPost, "/oauth2/register", iat, vendorMetadata(k1))
	if reg.Status != http.StatusCreated {
		t.Fatalf("register: %d %v", reg.Status, reg.Body)
	}
	id, _ := reg.Body["client_id"].(string)
	rat, _ := reg.Body["registration_access_token"].(string)
	if id == "" || rat == "" || reg.Body["registration_client_uri"] != e.iss+"/oauth2/register/"+id ||
		reg.Body["client_secret"] != nil || reg.Body["status"] != store.ClientPending {
		t.Fatalf("registration response: %v", reg.Body)
	}
	c, err := e.st.GetClient(e.ctx, id)
	must(t, err)
	if c.Status != store.ClientPending || c.Registration.LookbackPeriod != 90 || len(c.Registration.RegistryReferences) != 1 ||
		c.RegistrationTokenHash == rat || c.RegistrationTokenHash == "" {
		t.Fatalf("stored client: %+v", c)
	}

	// Pending: the authorization request goes back with unauthorized_client,
	// and so does a pushed one.
	verifier := oauth2.GenerateVerifier()
	params := e.authorizeParams(id, oauth2.S256ChallengeFromVerifier(verifier))
	params.Set("redirect_uri", vendorCallback)
	params.Set("scope", "openid offline_access accounts.read")
	resp := e.get(e.iss + "/oauth2/authorize?" + params.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), vendorCallback) || loc.Query().Get("error") != "unauthorized_client" {
		t.Fatalf("pending client's authorization: %d %s", resp.StatusCode, loc)
	}
	par := url.Values{}
	for k, v := range params {
		par[k] = v
	}
	par.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	par.Set("client_assertion", k1.assertion(t, e.clock.Now(), id, e.iss))
	resp = e.postForm("/oauth2/par", par, "", "")
	if body := readBody(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unauthorized_client") {
		t.Fatalf("pending client's PAR: %d %s", resp.StatusCode, body)
	}

	// The operator approves; the client record is cached for at most 2 s.
	if _, _, err := store.DecideClient(e.ctx, e.st, id, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.DecideClient(e.ctx, e.st, id, false); err == nil {
		t.Fatal("an approved client could be rejected")
	}
	e.clock.Advance(3 * time.Second)
	ch := e.startAuthorize(params)
	q := e.vendorRedirect(ch, e.decideFlowInStore(ch, e.user.ID, []string{"openid", "offline_access", "accounts.read"}, false))
	tr := e.tokenWithAssertion(k1, id, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {vendorCallback}, "code_verifier": {verifier}})
	if tr.Status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("code exchange: %+v", tr)
	}

	// RFC 7592: read with its token; none, a wrong one or another
	// client's is a 401.
	got := e.registrationRequest(http.MethodGet, "/oauth2/register/"+id, rat, nil)
	if got.Status != http.StatusOK || got.Body["client_name"] != "Booksy" || got.Body["status"] != store.ClientActive ||
		got.Body["lookback_period"] != float64(90) || got.Body["registration_access_token"] != nil {
		t.Fatalf("read: %d %v", got.Status, got.Body)
	}
	other := e.registrationRequest(http.MethodPost, "/oauth2/register", iat, vendorMetadata(newVendorKey(t, "ES256", "o1")))
	if other.Status != http.StatusCreated {
		t.Fatalf("second registration: %d %v", other.Status, other.Body)
	}
	for name, tok := range map[string]string{"none": "", "wrong": "not-a-token", "another client's": other.Body["registration_access_token"].(string)} {
		if r := e.registrationRequest(http.MethodGet, "/oauth2/register/"+id, tok, nil); r.Status != http.StatusUnauthorized || r.Error != "invalid_token" {
			t.Errorf("read with %s token: %d %v", name, r.Status, r.Body)
		}
	}

	// Rotate the key and add a redirect URI.
	k2 := newVendorKey(t, "ES256", "k2")
	upd := vendorMetadata(k2)
	upd["client_id"] = id
	upd["redirect_uris"] = []string{vendorCallback, "https://vendor.example/callback2"}
	got = e.registrationRequest(http.MethodPut, "/oauth2/register/"+id, rat, upd)
	if got.Status != http.StatusOK || len(got.Body["redirect_uris"].([]any)) != 2 {
		t.Fatalf("update: %d %v", got.Status, got.Body)
	}
	e.clock.Advance(3 * time.Second)
	if r := e.tokenWithAssertion(k1, id, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}); r.Error != "invalid_client" {
		t.Fatalf("refresh with the rotated-out key: %+v", r)
	}
	r2 := e.tokenWithAssertion(k2, id, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}})
	if r2.Status != http.StatusOK || r2.RefreshToken == "" {
		t.Fatalf("the old connection's refresh after the rotation: %+v", r2)
	}

	// Delete: the client is gone and so are its tokens.
	if d := e.registrationRequest(http.MethodDelete, "/oauth2/register/"+id, rat, nil); d.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %v", d.Status, d.Body)
	}
	if _, err := e.st.GetClient(e.ctx, id); err == nil {
		t.Fatal("the client is still there")
	}
	if r := e.registrationRequest(http.MethodGet, "/oauth2/register/"+id, rat, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("read after delete: %d", r.Status)
	}
	e.clock.Advance(3 * time.Second)
	if r := e.tokenWithAssertion(k2, id, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2.RefreshToken}}); r.Status == http.StatusOK {
		t.Fatalf("refresh after delete: %+v", r)
	}
}

// TestRegistrationInitialAccessToken: no token, an unknown one, an expired
// one and a used-up one are 401; a refused registration spends no use.
func TestRegistrationInitialAccessToken(t *testing.T) {
	e := newEnv(t, envOpts{})
	md := vendorMetadata(newVendorKey(t, "ES256", "k1"))
	for name, tok := range map[string]string{"missing": "", "unknown": "nope"} {
		if r := e.registrationRequest(http.MethodPost, "/oauth2/register", tok, md); r.Status != http.StatusUnauthorized || r.Error != "invalid_token" {
			t.Errorf("%s token: %d %v", name, r.Status, r.Body)
		}
	}
	once := e.registrationToken(time.Hour, 1)
	bad := vendorMetadata(newVendorKey(t, "ES256", "k1"))
	bad["redirect_uris"] = []string{"http://vendor.example/cb"}
	if r := e.registrationRequest(http.MethodPost, "/oauth2/register", once, bad); r.Status != http.StatusBadRequest {
		t.Fatalf("bad registration: %d %v", r.Status, r.Body)
	}
	if r := e.registrationRequest(http.MethodPost, "/oauth2/register", once, md); r.Status != http.StatusCreated {
		t.Fatalf("the refused registration spent the token's use: %d %v", r.Status, r.Body)
	}
	if r := e.registrationRequest(http.MethodPost, "/oauth2/register", once, md); r.Status != http.StatusUnauthorized {
		t.Fatalf("used-up token: %d %v", r.Status, r.Body)
	}
	short := e.registrationToken(time.Minute, 5)
	e.clock.Advance(2 * time.Minute)
	if r := e.registrationRequest(http.MethodPost, "/oauth2/register", short, md); r.Status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d %v", r.Status, r.Body)
	}
}

// TestRegistrationBadInput: each bad field alone is a 400 with its RFC 7591
// error, naming the field; nothing is created.
func TestRegistrationBadInput(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newVendorKey(t, "ES256", "k1")
	iat := e.registrationToken(time.Hour, 100)
	before, err := e.st.ListClients(e.ctx)
	must(t, err)
	for _, tc := range []struct {
		name  string
		set   map[string]any
		drop  string
		error string
		field string
	}{
		{name: "no redirect URIs", drop: "redirect_uris", error: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "http redirect URI", set: map[string]any{"redirect_uris": []string{"http://vendor.example/cb"}}, error: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "loopback redirect URI", set: map[string]any{"redirect_uris": []string{"http://127.0.0.1:8080/cb"}}, error: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "redirect URI with a fragment", set: map[string]any{"redirect_uris": []string{"https://vendor.example/cb#x"}}, error: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "relative redirect URI", set: map[string]any{"redirect_uris": []string{"/cb"}}, error: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "redirect URIs not an array", set: map[string]any{"redirect_uris": "https://vendor.example/cb"}, error: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "no name", drop: "client_name", error: "invalid_client_metadata", field: "client_name"},
		{name: "unknown auth method", set: map[string]any{"token_endpoint_auth_method": "client_secret_post"}, error: "invalid_client_metadata", field: "token_endpoint_auth_method"},
		{name: "auth method none", set: map[string]any{"token_endpoint_auth_method": "none"}, error: "invalid_client_metadata", field: "token_endpoint_auth_method"},
		{name: "private_key_jwt without keys", drop: "jwks", error: "invalid_client_metadata", field: "jwks"},
		{name: "jwks and jwks_uri", set: map[string]any{"jwks_uri": "https://vendor.example/jwks"}, error: "invalid_client_metadata", field: "jwks"},
		{name: "http jwks_uri", set: map[string]any{"jwks": nil, "jwks_uri": "http://vendor.example/jwks"}, error: "invalid_client_metadata", field: "jwks_uri"},
		{name: "jwks not a key set", set: map[string]any{"jwks": map[string]any{"keys": []any{}}}, error: "invalid_client_metadata", field: "jwks"},
		{name: "keys with client_secret_basic", set: map[string]any{"token_endpoint_auth_method": "client_secret_basic"}, error: "invalid_client_metadata", field: "jwks"},
		{name: "signing alg", set: map[string]any{"token_endpoint_auth_signing_alg": "RS256"}, error: "invalid_client_metadata", field: "token_endpoint_auth_signing_alg"},
		{name: "client_credentials grant", set: map[string]any{"grant_types": []string{"authorization_code", "client_credentials"}}, error: "invalid_client_metadata", field: "grant_types"},
		{name: "implicit grant", set: map[string]any{"grant_types": []string{"implicit"}}, error: "invalid_client_metadata", field: "grant_types"},
		{name: "token response type", set: map[string]any{"response_types": []string{"token"}}, error: "invalid_client_metadata", field: "response_types"},
		{name: "operator scope", set: map[string]any{"scope": "openid operator"}, error: "invalid_client_metadata", field: "scope"},
		{name: "unknown scope", set: map[string]any{"scope": "openid payments.write"}, error: "invalid_client_metadata", field: "scope"},
		{name: "http logo", set: map[string]any{"logo_uri": "http://vendor.example/logo.png"}, error: "invalid_client_metadata", field: "logo_uri"},
		{name: "http client_uri", set: map[string]any{"client_uri": "http://vendor.example/"}, error: "invalid_client_metadata", field: "client_uri"},
		{name: "tos with a fragment", set: map[string]any{"tos_uri": "https://vendor.example/tos#top"}, error: "invalid_client_metadata", field: "tos_uri"},
		{name: "javascript policy", set: map[string]any{"policy_uri": "javascript:alert(1)"}, error: "invalid_client_metadata", field: "policy_uri"},
		{name: "contact not an address", set: map[string]any{"contacts": []string{"call us"}}, error: "invalid_client_metadata", field: "contacts"},
		{name: "duration type", set: map[string]any{"duration_type": []string{"FOREVER"}}, error: "invalid_client_metadata", field: "duration_type"},
		{name: "negative duration period", set: map[string]any{"duration_period": -1}, error: "invalid_client_metadata", field: "duration_period"},
		{name: "lookback not a number", set: map[string]any{"lookback_period": "90"}, error: "invalid_client_metadata", field: "lookback_period"},
		{name: "registry references not objects", set: map[string]any{"registry_references": []string{"GLEIF"}}, error: "invalid_client_metadata", field: "registry_references"},
		{name: "intermediaries not an array", set: map[string]any{"intermediaries": "Aggregator Co"}, error: "invalid_client_metadata", field: "intermediaries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := vendorMetadata(k)
			for f, v := range tc.set {
				if v == nil {
					delete(md, f)
				} else {
					md[f] = v
				}
			}
			if tc.drop != "" {
				delete(md, tc.drop)
			}
			r := e.registrationRequest(http.MethodPost, "/oauth2/register", iat, md)
			if r.Status != http.StatusBadRequest || r.Error != tc.error || !strings.HasPrefix(r.Message, tc.field+":") {
				t.Fatalf("%d %s %q; want 400 %s naming %s", r.Status, r.Error, r.Message, tc.error, tc.field)
			}
		})
	}
	after, err := e.st.ListClients(e.ctx)
	must(t, err)
	if len(after) != len(before) {
		t.Fatalf("%d clients created by refused registrations", len(after)-len(before))
	}
}

// TestRegistrationFAPI2: in the FAPI 2.0 profile a client registering with
// a secret is refused (invalid_client_metadata naming the method), spending
// no use; with private_key_jwt it registers.
func TestRegistrationFAPI2(t *testing.T) {
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.Profile = authz.ProfileFAPI2 }})
	iat := e.registrationToken(time.Hour, 1)
	md := vendorMetadata(newVendorKey(t, "ES256", "k1"))
	basic := maps.Clone(md)
	delete(basic, "jwks")
	basic["token_endpoint_auth_method"] = "client_secret_basic"
	if r := e.registrationRequest(http.MethodPost, "/oauth2/register", iat, basic); r.Status != http.StatusBadRequest ||
		r.Error != "invalid_client_metadata" || !strings.HasPrefix(r.Message, "token_endpoint_auth_method:") {
		t.Fatalf("secret client in fapi2: %d %v", r.Status, r.Body)
	}
	if r := e.registrationRequest(http.MethodPost, "/oauth2/register", iat, md); r.Status != http.StatusCreated {
		t.Fatalf("private_key_jwt client in fapi2: %d %v", r.Status, r.Body)
	}
}
