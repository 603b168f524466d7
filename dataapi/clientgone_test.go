package dataapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bankfeed/bankfeed/internal/syncbuf"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// stallingStreams is the real store except that StreamTransactions waits
// for the request to be cancelled and then fails as the real one does on a
// cancelled context, so a client can leave at that exact point.
type stallingStreams struct {
	*gormstore.Store
	entered chan struct{}
	once    sync.Once
}

func (s *stallingStreams) StreamTransactions(ctx context.Context, _ store.TransactionFilter, _ func(store.Transaction) error) error {
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	return fmt.Errorf("gormstore: stream transactions: %w", ctx.Err())
}

// TestClientGoneIsNotAnError: a client that leaves while its statement is
// being read is logged at INFO (client gone), not as a WARN or ERROR of the
// data API (issue 15).
func TestClientGoneIsNotAnError(t *testing.T) {
	logs := &syncbuf.Buffer{} // WARN and up
	ss := &stallingStreams{entered: make(chan struct{})}
	done := make(chan struct{})
	e := newEnv(t, envOptions{logs: logs,
		store: func(st store.Store) store.Store { ss.Store = st.(*gormstore.Store); return ss },
		handler: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				h.ServeHTTP(w, r)
			})
		}})
	tok := e.token(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+base+"/accounts/"+e.f.chq+"/statements/"+e.f.stmtFeb+"?format=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	errc := make(chan error, 1)
	go func() {
		res, err := e.srv.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	<-ss.entered // the handler is reading the statement's entries
	cancel()     // the client leaves
	if err := <-errc; err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	<-done // the handler has returned and logged
	if l := logs.String(); strings.TrimSpace(l) != "" {
		t.Errorf("a client gone is logged at WARN or above:\n%s", l)
	}
}
