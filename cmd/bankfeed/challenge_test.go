package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestResourceChallengeAlgsByProfile: every protected resource's 401 —
// no token, or a token in the query instead of the Authorization header —
// challenges DPoP with the server's profile's proof algorithms (issue 12
// §3): in the fapi2 profile ES256 and PS256 only, since EdDSA proofs are
// refused there; the default profile keeps EdDSA. Each resource built its
// own copy of the default list.
func TestResourceChallengeAlgsByProfile(t *testing.T) {
	for _, c := range []struct {
		profile, algs string
	}{
		{config.OAuthProfileFAPI2, `algs="ES256 PS256"`},
		{config.OAuthProfileDefault, `algs="ES256 PS256 EdDSA"`},
	} {
		t.Run(c.profile, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.OAuth.Profile = c.profile
			ts := httptest.NewUnstartedServer(nil)
			cfg.Issuer = "http://" + ts.Listener.Addr().String()
			h, err := newHandler(t.Context(), cfg, deps{Store: gormtest.OpenStore(t, "cmd_test"), Logger: slog.New(slog.DiscardHandler), Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			ts.Config.Handler = h
			ts.Start()
			t.Cleanup(ts.Close)
			for _, path := range []string{"/fdx/v6/accounts", "/admin/v1/users", "/ops/v1/audit"} {
				for _, target := range []string{path, path + "?access_token=some-token"} {
					res, err := http.Get(ts.URL + target)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					ch := res.Header.Get("WWW-Authenticate")
					if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(ch, "Bearer realm=") || !strings.HasSuffix(ch, "DPoP "+c.algs) {
						t.Errorf("%s: %d, WWW-Authenticate %q; want 401 with Bearer and DPoP %s", target, res.StatusCode, ch, c.algs)
					}
				}
			}
		})
	}
}
