package dataapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/internal/admission/admissiontest"
)

// TestAdmissionCoversTheDataRoutes: every data route but exports goes
// through Config.Admission, before its token is checked; exports (which
// stream for as long as the client reads) and the public documents do not.
// With the gate's one slot held, a gated request is turned away (the gate
// counts it) with the documented 503 problem and Retry-After: nothing read.
func TestAdmissionCoversTheDataRoutes(t *testing.T) {
	gate := admissiontest.Full(t)
	e := newEnv(t, envOptions{admission: gate})
	tok := e.token(t)
	acc := base + "/accounts/" + e.f.chq
	for _, tc := range []struct {
		path  string
		token string
		gated bool
	}{
		{base + "/customers/current", tok, true},
		{base + "/accounts", tok, true},
		{acc, tok, true},
		{acc + "/transactions?limit=5", tok, true},
		{acc + "/transactions?limit=5", "", true}, // admitted before its token is checked
		{acc + "/transactions/sync", tok, true},
		{acc + "/statements", tok, true},
		{acc + "/statements/stm_none", tok, true},
		{acc + "/contact", tok, true},
		{base + "/consents/cns_none", tok, true},
		{acc + "/exports?format=csv", tok, false},
		{base + "/openapi.json", "", false},
		{base + "/docs", "", false},
	} {
		before := gate.Refused()
		if !tc.gated {
			e.get(t, tc.token, tc.path) // any answer but a 5xx
			if gate.Refused() > before {
				t.Errorf("GET %s went through the gate", tc.path)
			}
			continue
		}
		r := e.getServerError(t, tc.token, tc.path) // checked against the OpenAPI document
		if gate.Refused() == before {
			t.Errorf("GET %s (token %v) did not go through the gate", tc.path, tc.token != "")
		}
		p := r.problem(t)
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != admission.RetryAfter ||
			p.Type != "urn:bankfeed:problem:unavailable" || p.Code != "503" || !strings.Contains(p.Detail, "busy") {
			t.Errorf("GET %s turned away: %d, Retry-After %q, %s", tc.path, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	// The Consent API's one write, a revocation, waits in the same line.
	req, _ := http.NewRequest(http.MethodPut, e.srv.URL+base+"/consents/cns_none/revocation", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	before := gate.Refused()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || gate.Refused() == before {
		t.Errorf("PUT revocation with the gate full: %d, refused %d → %d; want a 503 through the gate", res.StatusCode, before, gate.Refused())
	}
}
