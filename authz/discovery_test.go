package authz_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestAuthorizationServerMetadata: RFC 8414's document is the OpenID
// discovery document without the OpenID-only members — same issuer, same
// endpoints, same capabilities.
func TestAuthorizationServerMetadata(t *testing.T) {
	e := newEnv(t, envOpts{})
	fetch := func(path string) map[string]any {
		t.Helper()
		resp := e.get(e.iss + path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return m
	}
	as := fetch("/.well-known/oauth-authorization-server")
	oidc := fetch("/.well-known/openid-configuration")

	// RFC 8414 §3.3: issuer identical to the configured issuer.
	if as["issuer"] != e.iss {
		t.Fatalf("issuer %v, want %s", as["issuer"], e.iss)
	}
	for k, want := range map[string]string{
		"authorization_endpoint":                "/oauth2/authorize",
		"token_endpoint":                        "/oauth2/token",
		"pushed_authorization_request_endpoint": "/oauth2/par",
		"revocation_endpoint":                   "/oauth2/revoke",
		"introspection_endpoint":                "/oauth2/introspect",
		"jwks_uri":                              "/.well-known/jwks.json",
	} {
		if as[k] != e.iss+want {
			t.Errorf("%s = %v, want %s", k, as[k], e.iss+want)
		}
	}
	for k, v := range as {
		if !reflect.DeepEqual(oidc[k], v) {
			t.Errorf("%s: %v here, %v in the OpenID discovery document", k, v, oidc[k])
		}
	}
	strs := func(k string) []string {
		var out []string
		for _, v := range as[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	if got := strs("code_challenge_methods_supported"); !slices.Equal(got, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported %v, want [S256]", got)
	}
	if got := strs("response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response_types_supported %v, want [code]", got)
	}
	if got := strs("grant_types_supported"); slices.Contains(got, "implicit") || slices.Contains(got, "password") {
		t.Errorf("grant_types_supported %v", got)
	}
	if as["authorization_response_iss_parameter_supported"] != true {
		t.Error("authorization_response_iss_parameter_supported is not true")
	}
	for _, k := range []string{"userinfo_endpoint", "id_token_signing_alg_values_supported", "subject_types_supported", "claims_supported"} {
		if _, ok := as[k]; ok {
			t.Errorf("OpenID-only member %s in the RFC 8414 document", k)
		}
		if _, ok := oidc[k]; !ok {
			t.Errorf("%s missing from the OpenID discovery document", k)
		}
	}
}
