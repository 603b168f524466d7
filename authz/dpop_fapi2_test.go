package authz_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestFAPI2ResourceChallengeAlgs: in the fapi2 profile a resource's DPoP
// challenge lists only the algorithms the profile accepts (ES256, PS256;
// EdDSA proofs are refused there), with and without an error.
func TestFAPI2ResourceChallengeAlgs(t *testing.T) {
	e := fapiEnv(t, nil)
	for name, auth := range map[string]string{
		"no token":      "",
		"unknown token": "Bearer not-a-token",
		"no proof":      "DPoP not-a-token",
	} {
		t.Run(name, func(t *testing.T) {
			resp := e.userinfoWith(auth, "")
			defer resp.Body.Close()
			ch := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(ch, `algs="ES256 PS256"`) || strings.Contains(ch, "EdDSA") {
				t.Fatalf("userinfo: %d, WWW-Authenticate %q; want 401 with DPoP algs=\"ES256 PS256\"", resp.StatusCode, ch)
			}
		})
	}
}
