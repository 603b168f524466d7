package authz_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/internal/admission"
)

// TestSlowVendorKeySetHoldsNoSlot: with one admission slot, a token-side
// request waiting for a vendor's slow jwks_uri hands its slot back, so
// another client's introspection is answered meanwhile; the waiting
// request then finishes. Without the hand-back the introspection would
// wait for the vendor's server (up to the fetch's 10 s timeout).
func TestSlowVendorKeySetHoldsNoSlot(t *testing.T) {
	gate := admission.New(1)
	mux := http.NewServeMux()
	vendor := httptest.NewTLSServer(mux)
	t.Cleanup(vendor.Close)
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) {
		c.HTTPClient = vendor.Client()
		c.Admission = gate.Middleware()
	}})
	k := newVendorKey(t, "ES256", "slow-1")
	jwks := &vendorJWKS{}
	jwks.publish(k)
	release := make(chan struct{})
	var asked atomic.Bool
	mux.HandleFunc("/slow/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		asked.Store(true)
		<-release
		jwks.ServeHTTP(w, r)
	})
	c, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{
		Name: "Slow Keys", RedirectURIs: []string{redirectURI}, JWKSURI: vendor.URL + "/slow/jwks.json", SigningAlg: "ES256",
	})
	must(t, err)

	revoked := make(chan int, 1)
	go func() {
		form := url.Values{"token": {"not-a-token"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {k.assertion(t, e.clock.Now(), c.ID, e.iss)}}
		resp := e.postForm("/oauth2/revoke", form, "", "")
		resp.Body.Close()
		revoked <- resp.StatusCode
	}()
	for deadline := time.Now().Add(10 * time.Second); !asked.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the vendor's key set was never asked for")
		}
	}
	done := make(chan bool, 1)
	go func() { done <- e.introspect("not-a-token") }()
	select {
	case active := <-done:
		if active {
			t.Error("an unknown token introspected as active")
		}
	case <-time.After(5 * time.Second):
		t.Error("an introspection waited behind a fetch of a vendor's key set: the slot was not handed back")
	}
	close(release)
	if code := <-revoked; code != http.StatusOK {
		t.Errorf("the revocation that waited for the vendor's keys: %d", code)
	}
	if gate.Active() != 0 || gate.Waiting() != 0 {
		t.Errorf("after both requests: %d slots held, %d waiting", gate.Active(), gate.Waiting())
	}
}

// TestAdmissionCoversTheDatabaseEndpoints: the endpoints that work on the
// database per call go through Config.Admission; discovery, the JWKS and
// client registration do not.
func TestAdmissionCoversTheDatabaseEndpoints(t *testing.T) {
	var admitted []string
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) {
		c.Admission = func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				admitted = append(admitted, c.Request().Method+" "+c.Path())
				return next(c)
			}
		}
	}})
	gated := map[string]bool{}
	for _, r := range e.echo.Routes() {
		gated[r.Method+" "+r.Path] = false
	}
	for route := range gated {
		method, path, _ := strings.Cut(route, " ")
		req := httptest.NewRequest(method, path, nil)
		rec := httptest.NewRecorder()
		admitted = nil
		e.echo.ServeHTTP(rec, req)
		gated[route] = len(admitted) > 0
	}
	want := map[string]bool{
		"GET /oauth2/authorize": true, "POST /oauth2/authorize": true, "GET /oauth2/authorize/resume": true,
		"POST /oauth2/par": true, "POST /oauth2/token": true, "POST /oauth2/revoke": true, "POST /oauth2/introspect": true,
		"GET /userinfo": true, "POST /userinfo": true,
		"GET /.well-known/openid-configuration": false, "GET /.well-known/oauth-authorization-server": false,
		"GET /.well-known/jwks.json": false, "POST /oauth2/register": false,
	}
	for route, w := range want {
		got, ok := gated[route]
		if !ok {
			t.Errorf("no route %s", route)
			continue
		}
		if got != w {
			t.Errorf("%s admitted through the gate: %v, want %v", route, got, w)
		}
	}
}
