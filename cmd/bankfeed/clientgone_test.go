package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // the driver gormstore uses, to hold the database's write lock

	"github.com/bankfeed/bankfeed/config"
)

// TestClientGoneIsNotAServerError: a client that disconnects while its
// token request waits for the database is logged as gone (status 499, not
// at ERROR) and counted as 499, not as a 5xx nor as a token endpoint
// server_error (issue 15). The request is
// cancelled mid-flight for certain: it says Expect: 100-continue, so the
// server's "100 Continue" proves its handler is reading the body; the
// database's write lock, held by the test, keeps the token from being
// stored until the client is gone and the request has been logged.
func TestClientGoneIsNotAServerError(t *testing.T) {
	dir, ops, s, maddr := serveWithOperator(t, env())
	before, _ := scrape(t, "http://"+maddr)

	release := holdWriteLock(t, dir)
	send := func(requestID string) net.Conn { return sendReadTokenRequest(t, s.URL, ops, requestID) }
	// The first request takes serve's one writer connection and waits for
	// the lock; the second queues for that connection, where a cancelled
	// request ends with "create token: context canceled".
	send("hold-1")
	send("gone-1").Close() // gone, mid-request

	// The request's access log line (written once the handler gave up).
	var line string
	for deadline := time.Now().Add(2 * time.Minute); line == "" && time.Now().Before(deadline); {
		for _, l := range strings.Split(s.Stderr.String(), "\n") {
			if strings.Contains(l, "msg=request ") && strings.Contains(l, "request_id=gone-1") {
				line = l
			}
		}
		if line == "" {
			time.Sleep(20 * time.Millisecond)
		}
	}
	release()
	if line == "" {
		t.Fatalf("no access log line for the request:\n%s", s.Stderr)
	}
	if !strings.Contains(line, "status=499") || !strings.Contains(line, "level=INFO") {
		t.Errorf("a client gone is logged as %q; want status=499 at INFO", line)
	}
	for _, l := range strings.Split(s.Stderr.String(), "\n") {
		if strings.Contains(l, "gone-1") && strings.Contains(l, "level=ERROR") {
			t.Errorf("ERROR line for a client gone: %s", l)
		}
	}
	after, _ := scrape(t, "http://"+maddr)
	if got := delta(before, after, "bankfeed_http_requests_total", labels("route", "/oauth2/token", "method", "POST", "code", "499")); got != 1 {
		t.Errorf("token requests counted as 499: %v, want 1", got)
	}
	// Nor a token endpoint failure of any kind: it was never answered.
	for _, m := range after["bankfeed_oauth_token_errors_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if got := delta(before, after, "bankfeed_oauth_token_errors_total", l); got != 0 {
			t.Errorf("token errors %v moved by %v", l, got)
		}
	}
	for _, code := range []string{"500", "503"} {
		if got := delta(before, after, "bankfeed_http_requests_total", labels("route", "/oauth2/token", "method", "POST", "code", code)); got != 0 {
			t.Errorf("token requests counted as %s: %v", code, got)
		}
	}
}

// TestTurnedAwayIsLoadShedNotAnError: with serve's gate at one slot
// (BANKFEED_HTTP_MAX_ACTIVE_REQUESTS) held by a token request waiting for
// the database, a second waits BANKFEED_HTTP_MAX_WAIT and is turned away:
// 503 temporarily_unavailable with Retry-After, logged at WARN (load shed,
// not an error) and counted by bankfeed_admission_refused_requests_total.
func TestTurnedAwayIsLoadShedNotAnError(t *testing.T) {
	dir, ops, s, maddr := serveWithOperator(t, env("BANKFEED_HTTP_MAX_ACTIVE_REQUESTS=1", "BANKFEED_HTTP_MAX_WAIT=50ms"))
	before, _ := scrape(t, "http://"+maddr)

	release := holdWriteLock(t, dir)
	// The first request's handler reads its body (100 Continue), takes
	// the one slot, then waits for the database's write lock, holding it.
	// The body is read before the gate (textGuard), so the second request
	// goes only once the gauge shows the slot taken: sent at once, it could
	// reach the gate first (seen under CPU load), and the first would be
	// the one turned away.
	sendReadTokenRequest(t, s.URL, ops, "hold-1")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		now, _ := scrape(t, "http://"+maddr)
		if v, _ := sample(now, "bankfeed_admission_active_requests", nil); v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first request never took the gate's one slot")
		}
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/oauth2/token", strings.NewReader(tokenRequestBody))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(ops.ClientID), url.QueryEscape(ops.ClientSecret))
	req.Header.Set("X-Request-ID", "busy-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	release()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" ||
		!strings.Contains(string(answer), `"error":"temporarily_unavailable"`) {
		t.Fatalf("behind the held slot: %d, Retry-After %q, %s; want 503 temporarily_unavailable, Retry-After 1",
			res.StatusCode, res.Header.Get("Retry-After"), answer)
	}
	var line string
	for deadline := time.Now().Add(10 * time.Second); line == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, l := range strings.Split(s.Stderr.String(), "\n") {
			if strings.Contains(l, "msg=request ") && strings.Contains(l, "request_id=busy-1") {
				line = l
			}
		}
	}
	for _, l := range strings.Split(s.Stderr.String(), "\n") {
		if strings.Contains(l, "busy-1") && strings.Contains(l, "level=ERROR") {
			t.Errorf("ERROR line for a request turned away: %s", l)
		}
	}
	if !strings.Contains(line, "status=503") || !strings.Contains(line, "level=WARN") {
		t.Errorf("the request turned away is logged as %q; want status=503 at WARN", line)
	}
	after, _ := scrape(t, "http://"+maddr)
	if got := delta(before, after, "bankfeed_admission_refused_requests_total", nil); got != 1 {
		t.Errorf("bankfeed_admission_refused_requests_total moved by %v, want 1", got)
	}
	if got := delta(before, after, "bankfeed_http_requests_total", labels("route", "/oauth2/token", "method", "POST", "code", "503")); got != 1 {
		t.Errorf("token requests counted as 503: %v, want 1", got)
	}
}

// tokenRequestBody is the operator client's client_credentials request.
const tokenRequestBody = "grant_type=client_credentials&scope=operator"

// holdWriteLock takes the embedded database's write lock as another
// process would, until release (or the test's end).
func holdWriteLock(t *testing.T, dir string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, config.DatabaseFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lock, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	release = sync.OnceFunc(func() {
		_, _ = lock.ExecContext(context.Background(), "ROLLBACK")
		lock.Close()
	})
	t.Cleanup(release)
	return release
}

// sendReadTokenRequest starts ops's token request to the server at base
// and returns once its handler has read the body (after the server's 100
// Continue), leaving the answer unread.
func sendReadTokenRequest(t *testing.T, base string, ops clientJSON, requestID string) net.Conn {
	t.Helper()
	u, _ := url.Parse(base)
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(ops.ClientID) + ":" + url.QueryEscape(ops.ClientSecret)))
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /oauth2/token HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\nX-Request-ID: %s\r\n\r\n",
		u.Host, basic, len(tokenRequestBody), requestID)
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100") {
		t.Fatalf("no 100 Continue: %q %v", status, err)
	}
	if _, err := conn.Write([]byte(tokenRequestBody)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// serveWithOperator starts serve (getenv, a metrics listener at maddr) on
// an embedded database in dir holding a first-party operator client, ops.
func serveWithOperator(t *testing.T, getenv func(string) string) (dir string, ops clientJSON, s *server, maddr string) {
	t.Helper()
	dir = migratedDir(t)
	out, stderr, err := cli(t, dir, "clients", "create", "--secret", "--name", "Core banking feed", "--first-party", "--scope", "operator")
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	ops, _ = decodeClient(t, out)
	maddr = freeAddr(t)
	return dir, ops, startServe(t, getenv, dir, "--metrics-addr", maddr), maddr
}
