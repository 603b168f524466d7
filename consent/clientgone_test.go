package consent

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/syncbuf"
)

// TestClientGonePageIsNotAnError: a page whose client went away (its
// request's context cancelled, as net/http does when the connection
// closes) fails its reads, and that is logged at INFO, not as the
// consent pages' ERROR (issue 15).
func TestClientGonePageIsNotAnError(t *testing.T) {
	logs := &syncbuf.Buffer{}
	en := newEnv(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	f := en.flow()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the client is gone before the page reads its flow
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, pathLogin+"?login_challenge="+f.ID, nil)
	en.e.ServeHTTP(httptest.NewRecorder(), req)
	l := logs.String()
	if !strings.Contains(l, "context canceled") {
		t.Fatalf("the page did not fail on its cancelled context:\n%s", l)
	}
	if strings.Contains(l, "level=ERROR") {
		t.Errorf("a client gone is logged at ERROR:\n%s", l)
	}
}
