package dataapi_test

import (
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestAdmissionCoversTheDataRoutes: every data route but exports goes
// through Config.Admission, before its token is checked; exports (which
// stream for as long as the client reads) and the public documents do not.
func TestAdmissionCoversTheDataRoutes(t *testing.T) {
	var mu sync.Mutex
	admitted := map[string]bool{}
	e := newEnv(t, envOptions{admission: func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			mu.Lock()
			admitted[c.Path()] = true
			mu.Unlock()
			return next(c)
		}
	}})
	tok := e.token(t)
	acc := base + "/accounts/" + e.f.chq
	for _, tc := range []struct {
		path, route string
		token       string
		gated       bool
	}{
		{base + "/customers/current", base + "/customers/current", tok, true},
		{base + "/accounts", base + "/accounts", tok, true},
		{acc, base + "/accounts/:accountId", tok, true},
		{acc + "/transactions?limit=5", base + "/accounts/:accountId/transactions", tok, true},
		{acc + "/transactions?limit=5", base + "/accounts/:accountId/transactions", "", true}, // admitted before its token is checked
		{acc + "/transactions/sync", base + "/accounts/:accountId/transactions/sync", tok, true},
		{acc + "/statements", base + "/accounts/:accountId/statements", tok, true},
		{acc + "/statements/stm_none", base + "/accounts/:accountId/statements/:statementId", tok, true},
		{acc + "/contact", base + "/accounts/:accountId/contact", tok, true},
		{base + "/consents/cns_none", base + "/consents/:consentId", tok, true},
		{acc + "/exports?format=csv", base + "/accounts/:accountId/exports", tok, false},
		{base + "/openapi.json", base + "/openapi.json", "", false},
		{base + "/docs", base + "/docs", "", false},
	} {
		mu.Lock()
		clear(admitted)
		mu.Unlock()
		e.get(t, tc.token, tc.path)
		mu.Lock()
		got := admitted[tc.route]
		mu.Unlock()
		if got != tc.gated {
			t.Errorf("GET %s (token %v): through the gate %v, want %v", tc.path, tc.token != "", got, tc.gated)
		}
	}
}
