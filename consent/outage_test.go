package consent

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/syncbuf"
)

// TestOutagePages: with the database gone under the running pages, the
// sign-in page and a sign-in answer 503 with Retry-After and a page saying
// to try again — not the generic error, not "incorrect password" and not
// an expired sign-in — and the cause is logged at error level without the
// typed login ID or password (issue 11, finding 2).
func TestOutagePages(t *testing.T) {
	logs := &syncbuf.Buffer{}
	en := newEnv(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	en.user("alice", userOpts{role: en.roleAccts.ID})
	f := en.flow()
	b := en.browser()
	p := b.get(pathLogin + "?login_challenge=" + f.ID)
	p.status(t, http.StatusOK)
	csrf, action := p.form(t)
	if err := en.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		do   func() page
	}{
		{"sign-in page", func() page { return b.get(pathLogin + "?login_challenge=" + f.ID) }},
		{"sign-in", func() page {
			return b.post(action, url.Values{"csrf": {csrf}, "user_id": {"alice"}, "password": {goodPassword}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logs.String())
			p := tc.do()
			p.status(t, http.StatusServiceUnavailable)
			if p.Header.Get("Retry-After") == "" {
				t.Errorf("no Retry-After")
			}
			p.mustContain(t, messagesEN["unavailable_body"])
			p.mustNotContain(t, messagesEN["bad_login"], messagesEN["error_generic"])
			logged := logs.String()[before:]
			if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "status=503") {
				t.Errorf("log %q, want an error line with status 503", logged)
			}
		})
	}
	if l := logs.String(); strings.Contains(l, goodPassword) || strings.Contains(l, "user_id=alice") {
		t.Errorf("the typed credentials are in the log:\n%s", l)
	}
}
