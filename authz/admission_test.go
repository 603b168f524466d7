package authz_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/internal/admission/admissiontest"
)

// TestSlowVendorKeySetHoldsNoSlot: with one admission slot, a token-side
// request waiting for a vendor's slow jwks_uri hands its slot back, so
// another client's userinfo request is answered meanwhile; the waiting
// request then finishes. Without the hand-back the userinfo request would
// wait for the vendor's server (up to the fetch's 10 s timeout).
func TestSlowVendorKeySetHoldsNoSlot(t *testing.T) {
	gate := admission.New(1, admission.Queue{})
	mux := http.NewServeMux()
	vendor := httptest.NewTLSServer(mux)
	t.Cleanup(vendor.Close)
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) {
		c.HTTPClient = vendor.Client()
		c.Admission = gate
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
	done := make(chan int, 1)
	go func() { done <- e.userinfo("not-a-token") }()
	select {
	case status := <-done:
		if status != http.StatusUnauthorized {
			t.Errorf("userinfo with an unknown token: %d, want 401", status)
		}
	case <-time.After(5 * time.Second):
		t.Error("a userinfo request waited behind a fetch of a vendor's key set: the slot was not handed back")
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
// client registration do not, nor introspection, which has a gate of its
// own (TestIntrospectionHasAGateOfItsOwn). With the gate's one slot held, a gated
// request is turned away (the gate counts it) with 503 temporarily_unavailable
// and Retry-After: JSON at the endpoints clients call, a page where a
// browser comes.
func TestAdmissionCoversTheDatabaseEndpoints(t *testing.T) {
	gate := admissiontest.Full(t)
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.Admission = gate }})
	want := map[string]string{ // the busy answer's content type; "": not gated
		"GET /oauth2/authorize": "text/html", "POST /oauth2/authorize": "text/html", "GET /oauth2/authorize/resume": "text/html",
		"POST /oauth2/par": "application/json", "POST /oauth2/token": "application/json", "POST /oauth2/revoke": "application/json",
		"POST /oauth2/introspect": "", "GET /userinfo": "application/json", "POST /userinfo": "application/json",
		"GET /.well-known/openid-configuration": "", "GET /.well-known/oauth-authorization-server": "",
		"GET /.well-known/jwks.json": "", "POST /oauth2/register": "",
	}
	routes := map[string]bool{}
	for _, r := range e.echo.Routes() {
		routes[r.Method+" "+r.Path] = true
	}
	for route, busyType := range want {
		if !routes[route] {
			t.Errorf("no route %s", route)
			continue
		}
		method, path, _ := strings.Cut(route, " ")
		rec := httptest.NewRecorder()
		before := gate.Refused()
		e.echo.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		gated := gate.Refused() > before
		if gated != (busyType != "") {
			t.Errorf("%s admitted through the gate: %v, want %v", route, gated, busyType != "")
		}
		if !gated {
			continue
		}
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != admission.RetryAfter ||
			!strings.HasPrefix(rec.Header().Get("Content-Type"), busyType) || !strings.Contains(rec.Body.String(), "temporarily_unavailable") {
			t.Errorf("%s turned away: %d, Retry-After %q, %s: %s", route, rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

// TestIntrospectionHasAGateOfItsOwn: introspection goes through
// Config.IntrospectionAdmission and no other gate: answered while
// Admission's one slot is held, turned away (503 temporarily_unavailable,
// counted by its gate) while its own is, when the token endpoint still
// goes through Admission.
func TestIntrospectionHasAGateOfItsOwn(t *testing.T) {
	introspection := admission.New(1, admission.Queue{Wait: time.Millisecond})
	shared := admission.New(1, admission.Queue{Wait: time.Millisecond})
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.Admission, c.IntrospectionAdmission = shared, introspection }})
	tok := e.exchange(e.vendor.ID, e.secret).AccessToken
	releaseShared, err := shared.Hold(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer releaseShared()
	if !e.introspect(tok) {
		t.Fatal("a token just issued introspected inactive")
	}
	if introspection.Active() != 0 || shared.Refused() != 0 {
		t.Fatalf("after an introspection: its gate holds %d, the shared one refused %d", introspection.Active(), shared.Refused())
	}

	release, err := introspection.Hold(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	resp := e.postForm("/oauth2/introspect", url.Values{"token": {tok}}, e.vendor.ID, e.secret)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "temporarily_unavailable") || introspection.Refused() != 1 {
		t.Fatalf("introspection with its gate full: %d %s, its gate refused %d", resp.StatusCode, body, introspection.Refused())
	}
	resp = e.postForm("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, e.vendor.ID, e.secret)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || shared.Refused() != 1 {
		t.Fatalf("the token endpoint with the shared gate full: %d, that gate refused %d", resp.StatusCode, shared.Refused())
	}
}
