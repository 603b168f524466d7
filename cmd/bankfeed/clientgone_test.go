package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
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
	dir := migratedDir(t)
	out, stderr, err := cli(t, dir, "clients", "create", "--secret", "--name", "Core banking feed", "--first-party", "--scope", "operator")
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	ops, _ := decodeClient(t, out)
	maddr := freeAddr(t)
	s := startServe(t, env(), dir, "--metrics-addr", maddr)
	before, _ := scrape(t, "http://"+maddr)

	// Hold the write lock as another process would.
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
	release := func() {
		if lock != nil {
			_, _ = lock.ExecContext(context.Background(), "ROLLBACK")
			lock.Close()
			lock = nil
		}
	}
	t.Cleanup(release)

	u, _ := url.Parse(s.URL)
	body := "grant_type=client_credentials&scope=operator"
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(ops.ClientID) + ":" + url.QueryEscape(ops.ClientSecret)))
	// send starts a token request and returns once its handler has read
	// the body (after the server's 100 Continue).
	send := func(requestID string) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "POST /oauth2/token HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\nX-Request-ID: %s\r\n\r\n",
			u.Host, basic, len(body), requestID)
		status, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100") {
			t.Fatalf("no 100 Continue: %q %v", status, err)
		}
		if _, err := conn.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
		return conn
	}
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
