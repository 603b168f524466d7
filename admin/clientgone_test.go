package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/syncbuf"
	"github.com/bankfeed/bankfeed/store"
)

// TestClientGoneIsNotAnError: a request whose client went away (net/http
// cancels its context when the connection closes) fails in the store with
// "context canceled"; nobody is answered and it is nobody's failure, so it
// is logged at INFO as the other packages do (issue 15), never as ERROR
// "admin: internal error". The access log records it as 499.
func TestClientGoneIsNotAnError(t *testing.T) {
	var log syncbuf.Buffer
	e := newEnv(t, withLog(&log))
	a := e.newUser(e.bg1, "admin", store.AdminGrants())
	for _, c := range []struct{ token, path string }{
		{e.operator, "/ops/v1/accounts/" + e.acc1},
		{e.operator, "/ops/v1/business-groups"},
		{a.Token, "/admin/v1/users"},
	} {
		log.Reset()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, c.path, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		e.echo.ServeHTTP(httptest.NewRecorder(), req)
		l := log.String()
		if strings.Contains(l, "level=ERROR") || !strings.Contains(l, "level=INFO") || !strings.Contains(l, "client gone") {
			t.Errorf("GET %s with its client gone logged:\n%s\nwant one INFO line naming the client gone, no ERROR", c.path, l)
		}
	}
}
