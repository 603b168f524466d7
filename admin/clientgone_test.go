package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/internal/audit"
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
	for _, c := range []struct{ token, method, path, body string }{
		{e.operator, http.MethodGet, "/ops/v1/accounts/" + e.acc1, ""},
		{e.operator, http.MethodGet, "/ops/v1/business-groups", ""},
		{a.Token, http.MethodGet, "/admin/v1/users", ""},
	} {
		log.Reset()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req := httptest.NewRequestWithContext(ctx, c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		e.echo.ServeHTTP(httptest.NewRecorder(), req)
		l := log.String()
		if strings.Contains(l, "level=ERROR") || !strings.Contains(l, "level=INFO") || !strings.Contains(l, "client gone") {
			t.Errorf("%s %s with its client gone logged:\n%s\nwant INFO lines naming the client gone, no ERROR", c.method, c.path, l)
		}
	}
	// The operations layer the console calls: the client leaves after the
	// administrator was recognised, while the submission runs.
	u, err := e.st.GetUser(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	adm, err := e.srv.AdminFor(t.Context(), u, "", audit.Origin{RemoteAddr: "192.0.2.1"}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	log.Reset()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := e.srv.CreateUser(ctx, adm, admin.NewUser{LoginID: "gone.user", DisplayName: "Gone User", Email: "gone@example.com"}); err == nil {
		t.Fatal("CreateUser with its client gone succeeded")
	}
	if l := log.String(); strings.Contains(l, "level=ERROR") || !strings.Contains(l, "client gone") {
		t.Errorf("CreateUser with its client gone logged:\n%s\nwant INFO naming the client gone, no ERROR", l)
	}
}
