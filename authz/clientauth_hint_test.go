package authz_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/authz"
)

// TestClientAuthHintNamesAdvertisedMethods: an introspection or revocation
// request authenticated with an access token (a Bearer header) is
// invalid_client whose description names every method discovery
// advertises for that endpoint — the mTLS methods when mutual TLS is on,
// private_key_jwt alone (with mTLS) in the fapi2 profile — and no other.
func TestClientAuthHintNamesAdvertisedMethods(t *testing.T) {
	for name, e := range map[string]*env{
		"default":      newEnv(t, envOpts{}),
		"mtls":         newMTLSEnv(t, nil).env,
		"fapi2 + mtls": newMTLSEnv(t, func(c *authz.Config) { c.Profile = authz.ProfileFAPI2 }).env,
	} {
		var meta map[string]any
		must(t, json.Unmarshal([]byte(readBody(e.get(e.iss+"/.well-known/openid-configuration"))), &meta))
		for endpoint, field := range map[string]string{"/oauth2/introspect": "introspection_endpoint_auth_methods_supported",
			"/oauth2/revoke": "revocation_endpoint_auth_methods_supported"} {
			req, err := http.NewRequest(http.MethodPost, e.iss+endpoint, strings.NewReader(url.Values{"token": {"some-token"}}.Encode()))
			must(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer an-access-token")
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			must(t, json.Unmarshal([]byte(readBody(buffered(t, resp))), &body))
			if resp.StatusCode != http.StatusUnauthorized || body.Error != "invalid_client" {
				t.Fatalf("%s %s: %d %+v, want 401 invalid_client", name, endpoint, resp.StatusCode, body)
			}
			advertised, _ := meta[field].([]any)
			if len(advertised) == 0 {
				t.Fatalf("%s: discovery has no %s", name, field)
			}
			// The methods named are "(a, b or c)": exactly the advertised ones.
			_, list, _ := strings.Cut(body.Description, "Authenticate as a client (")
			list, _, _ = strings.Cut(list, ")")
			named := strings.FieldsFunc(strings.ReplaceAll(list, " or ", ","), func(r rune) bool { return r == ',' || r == ' ' })
			want := make([]string, len(advertised))
			for i, m := range advertised {
				want[i] = m.(string)
			}
			if !slices.Equal(named, want) {
				t.Errorf("%s %s: %q names %v, discovery advertises %v", name, endpoint, body.Description, named, want)
			}
		}
	}
}
