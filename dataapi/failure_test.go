package dataapi_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bankfeed/bankfeed/internal/problemtest"
	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// wantOpaque checks a 5xx problem: RFC 9457 with the FDX members, the
// given type and code, and nothing of the cause (secret) in the body.
func wantOpaque(t *testing.T, r resp, status int, slug, code string, secrets ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, clip(r.body))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	p := r.problem(t)
	if p.Type != "urn:bankfeed:problem:"+slug || p.Status != status || p.Code != code || p.Title == "" || p.Message == "" {
		t.Errorf("problem %+v, want %s, code %s", p, slug, code)
	}
	if p.Detail != "" || p.DebugMessage != "" {
		t.Errorf("a %d tells the client more than that it failed: %+v", status, p)
	}
	if r.header.Get("Content-Disposition") != "" {
		t.Errorf("a failed document still names a file: %v", r.header)
	}
	// The instance echoes the request's path (random IDs in it may spell a
	// secret word): the body is searched without it.
	if !strings.HasPrefix(p.Instance, base+"/") {
		t.Errorf("instance %q is not a path of the API", p.Instance)
	}
	for _, s := range problemtest.Leaked(r.body, p.Instance, secrets...) {
		t.Errorf("body leaks %q: %s", s, r.body)
	}
}

// TestDatabaseDownIsUnavailable: with the database closed under a running
// API, every route answers the opaque 503 unavailable problem with
// Retry-After, as the API's documentation promises (not a 401 that would
// send the vendor's users through consent again, nor a 500: issue 11,
// finding 3), and the cause is logged.
func TestDatabaseDownIsUnavailable(t *testing.T) {
	logs := &syncbuf.Buffer{}
	e := newEnv(t, envOptions{strictTokens: true, logs: logs})
	tok := e.token(t)
	chq := base + "/accounts/" + e.f.chq
	paths := []string{base + "/customers/current", base + "/accounts", chq, chq + "/transactions", chq + "/transactions/sync",
		chq + "/statements", chq + "/statements/" + e.f.stmtJan, exportPath(e.f.chq, "format", "bai2")}
	wantStatus(t, e.get(t, tok, paths[0]), 200) // the token is good
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		r := e.getServerError(t, tok, p)
		wantOpaque(t, r, 503, "unavailable", "503", "closed", "sql", "gormstore", "dataapi", "pool")
		if r.header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", p)
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR msg=\"dataapi: database unavailable\""); n != len(paths) {
		t.Errorf("%d outages logged for %d requests:\n%s", n, len(paths), logs.String())
	}
}

// expiredHeader asks withDeadline to give the request an expired deadline.
const expiredHeader = "X-Test-Expired"

// withDeadline is a request-timeout middleware whose time is up for the
// requests that carry expiredHeader (no clock, no sleep).
func withDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(expiredHeader) != "" {
			ctx, cancel := context.WithDeadline(r.Context(), t0)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// TestDeadlineIsUnavailable: a request whose deadline has passed is a 503
// with Retry-After, logged as a warning; the same request in time is a 200.
func TestDeadlineIsUnavailable(t *testing.T) {
	logs := &syncbuf.Buffer{}
	e := newEnv(t, envOptions{logs: logs, handler: withDeadline})
	tok := e.token(t)
	path := base + "/accounts/" + e.f.chq + "/transactions"
	wantStatus(t, e.get(t, tok, path), 200)
	r := e.getServerError(t, tok, path, expiredHeader, "1")
	wantOpaque(t, r, 503, "unavailable", "503", "deadline", "context")
	if got := r.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if !strings.Contains(logs.String(), "request cancelled or timed out") {
		t.Errorf("not logged:\n%s", logs.String())
	}
}

// TestStatementProcessing: a statement the bank has not finished is listed
// with its status, and its document is FDX 1300 in any format.
func TestStatementProcessing(t *testing.T) {
	e := newEnv(t, envOptions{})
	st := must(e.st.CreateStatement(context.Background(), store.Statement{AccountID: e.f.chq, PeriodStart: "2025-03-01",
		PeriodEnd: "2025-03-31", StatementDate: "2025-04-01", Opening: m("0.00"), Closing: m("0.00"), Status: "PROCESSING"}))
	tok := e.token(t)
	var list struct {
		Statements []struct {
			StatementID string `json:"statementId"`
			Status      string `json:"status"`
		} `json:"statements"`
	}
	r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements")
	wantStatus(t, r, 200)
	r.json(t, &list)
	found := false
	for _, s := range list.Statements {
		if s.StatementID == st.ID {
			found = s.Status == "PROCESSING"
		}
	}
	if !found {
		t.Errorf("statement %s not listed as PROCESSING: %s", st.ID, clip(r.body))
	}
	for _, format := range []string{"", "json", "camt053"} {
		p := wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements/"+st.ID+"?format="+format), 400, "1300")
		if p.Type != "urn:bankfeed:problem:statement-processing" {
			t.Errorf("format %q: problem %+v", format, p)
		}
	}
}

var errInjected = errors.New("injected: connection reset reading row 42 of transactions")

// failingStreams is the real store except that, when armed, one pass of
// StreamTransactions (numbered from 1 within the request) fails after a
// number of rows, as a connection lost mid-read would.
type failingStreams struct {
	*gormstore.Store
	mu          sync.Mutex
	pass, after int   // 0: not armed
	err         error // nil: errInjected
	calls       int
}

func (s *failingStreams) arm(pass, after int) { s.armWith(pass, after, nil) }

func (s *failingStreams) armWith(pass, after int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pass, s.after, s.err, s.calls = pass, after, err, 0
}

func (s *failingStreams) StreamTransactions(ctx context.Context, f store.TransactionFilter, fn func(store.Transaction) error) error {
	s.mu.Lock()
	s.calls++
	fail := s.pass != 0 && s.calls == s.pass
	after, err := s.after, cmp.Or(s.err, errInjected)
	s.mu.Unlock()
	if !fail {
		return s.Store.StreamTransactions(ctx, f, fn)
	}
	n := 0
	return s.Store.StreamTransactions(ctx, f, func(t store.Transaction) error {
		if n == after {
			return err
		}
		n++
		return fn(t)
	})
}

// TestStreamFailure: the entries failing to read before the first byte is
// the opaque 500 (nothing of the file, nothing of the cause); after bytes
// were sent, the transfer is broken off so that no client takes a short file
// for a whole one.
func TestStreamFailure(t *testing.T) {
	logs := &syncbuf.Buffer{}
	var fs *failingStreams
	e := newEnv(t, envOptions{logs: logs, store: func(st store.Store) store.Store {
		fs = &failingStreams{Store: st.(*gormstore.Store)}
		return fs
	}})
	x := seedExports(t, e, "")
	tok := e.token(t)
	stmt := base + "/accounts/" + e.f.chq + "/statements/" + e.f.stmtFeb
	for _, c := range []struct {
		name        string
		path        string
		pass, after int
	}{
		{"JSON statement", stmt + "?format=json", 1, 1},
		{"PDF statement, proof pass", stmt, 1, 1},
		{"camt.053 statement, writing pass", stmt + "?format=camt053", 2, 1},
		{"CSV export, proof pass", exportPath(e.f.sav, "format", "csv", "startDate", "2025-02-01", "endDate", "2025-02-28"), 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs.arm(c.pass, c.after)
			defer fs.arm(0, 0)
			wantOpaque(t, e.getServerError(t, tok, c.path), 500, "internal", "500", "injected", "connection", "row 42")
		})
	}
	if n := strings.Count(logs.String(), "injected: connection reset"); n < 4 {
		t.Errorf("the cause is logged %d times for 4 failures:\n%s", n, logs.String())
	}

	// The account vanishing under a running request (deleted by the bank
	// between the access check and the read) is its 404, as for any
	// account the token cannot see.
	t.Run("account gone", func(t *testing.T) {
		fs.armWith(1, 0, fmt.Errorf("gormstore: stream transactions: %w", store.ErrNotFound))
		defer fs.arm(0, 0)
		wantProblem(t, e.get(t, tok, stmt+"?format=json"), 404, "701")
	})

	t.Run("after the first byte", func(t *testing.T) {
		from, to := x.first, exportToday.AddDays(-1)
		n := len(x.ids(from, to))
		fs.arm(2, n-1) // the writing pass, at the last entry: tens of kB are out
		defer fs.arm(0, 0)
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+exportPath(e.f.sav, "format", "camt053", "startDate", string(from), "endDate", string(to)), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := e.srv.Client().Do(req)
		if err == nil {
			var body []byte
			body, err = io.ReadAll(res.Body)
			res.Body.Close()
			if err == nil {
				t.Fatalf("status %d and a body of %d bytes read to its end: a truncated file delivered as whole", res.StatusCode, len(body))
			}
		}
		if !strings.Contains(logs.String(), "export failed mid-stream") {
			t.Errorf("the abort is not logged:\n%s", logs.String())
		}
	})
}
