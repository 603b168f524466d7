package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/internal/syncbuf"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// The fault tests (fault_*_test.go) run the real binary as child processes
// against a database seeded with the demo, put them under load from several
// clients, break something — the database connection, a replica, the
// process itself — and check what the clients were told against what the
// database holds. Each reports its figures with t.Logf and is bounded (well
// under a minute of load). They need BANKFEED_TEST_FAULTS=1: they build the
// binary and take a core for a while.
const faultsEnv = "BANKFEED_TEST_FAULTS"

func requireFaults(t *testing.T) {
	t.Helper()
	if os.Getenv(faultsEnv) != "1" {
		t.Skipf("fault test: set %s=1 to run it (about a minute, builds the binary)", faultsEnv)
	}
}

// buildServe builds the bankfeed binary (without the race detector: the
// children are measured, not checked for races) into a test directory.
func buildServe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bankfeed")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// faultDB is a seeded database the children share, and the test's own store
// on it for the checks.
type faultDB struct {
	DSN   string
	St    *gormstore.Store
	Creds demo.Credentials
}

// seedFaultDB creates a fresh database (PostgreSQL when
// BANKFEED_TEST_POSTGRES_DSN is set, else a SQLite file; postgres forces
// PostgreSQL and skips without it) with the demo in it.
func seedFaultDB(t *testing.T, postgres bool) faultDB {
	t.Helper()
	var dsn string
	if postgres {
		dsn = gormtest.PostgresDSN(t, "cmd_fault")
	} else {
		dsn = gormtest.DSN(t, "cmd_fault")
	}
	st := gormtest.Open(t, "", gormstore.Config{DSN: dsn})
	creds, err := demo.Seed(t.Context(), st, demo.Options{})
	if err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	return faultDB{DSN: dsn, St: st, Creds: creds}
}

// child is a `bankfeed serve` process.
type child struct {
	t    *testing.T
	Name string
	URL  string
	cmd  *exec.Cmd
	Log  *syncbuf.Buffer // stderr: the JSON log
	done chan struct{}
	err  error // Wait's, once done is closed
}

// faultEnv is the environment every child of a test shares: the database,
// and the secrets replicas must agree on.
func faultEnv(dsn string, extra ...string) []string {
	return append([]string{
		"BANKFEED_DATABASE_URL=" + dsn,
		"BANKFEED_KEY_ENCRYPTION_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"BANKFEED_TOKEN_SECRET=" + strings.Repeat("f", 40),
		"BANKFEED_LOG_FORMAT=json",
		"BANKFEED_DATAAPI_RATE_LIMIT_PER_MINUTE=0",
	}, extra...)
}

// startChild starts `bin serve` on a free loopback port with env and waits
// until /readyz answers 200. The child is killed at cleanup if still
// running.
func startChild(t *testing.T, name, bin string, env []string) *child {
	t.Helper()
	addr := freeAddr(t)
	c := &child{t: t, Name: name, URL: "http://" + addr, Log: &syncbuf.Buffer{}, done: make(chan struct{})}
	home := t.TempDir()
	c.cmd = exec.Command(bin, "serve", "--addr", addr, "--data-dir", filepath.Join(home, "data"))
	c.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "BANKFEED_ISSUER=" + c.URL}, env...)
	c.cmd.Stdout, c.cmd.Stderr = io.Discard, c.Log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			t.Logf("%s's log (tail):\n%s", name, tail(c.Log.String(), 3000))
		}
	})
	client := &http.Client{Timeout: 5 * time.Second}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-c.done:
			t.Fatalf("%s exited before it was ready: %v\n%s", name, c.err, tail(c.Log.String(), 3000))
		default:
		}
		if res, err := client.Get(c.URL + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 2 minutes:\n%s", name, tail(c.Log.String(), 3000))
		}
	}
}

func (c *child) signal(sig syscall.Signal) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signal %s: %v", c.Name, err)
	}
}

// wait waits for the child to exit and returns its exit code (-1 if a
// signal ended it).
func (c *child) wait(timeout time.Duration) int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.t.Fatalf("%s did not exit within %s", c.Name, timeout)
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode()
	}
	if c.err != nil {
		c.t.Fatalf("%s: %v", c.Name, c.err)
	}
	return 0
}

// logLines decodes the child's JSON log lines with message msg.
func (c *child) logLines(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(c.Log.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// faultPassword is what the demo's users with a temporary password set at
// their first sign-in here.
const faultPassword = "Fault-Test-Passw0rd!"

// firstSignIn signs a demo user in through a flow of the vendor's,
// completing the first sign-in if the password is temporary (replaced by
// faultPassword), and returns the password that is valid now.
func firstSignIn(t *testing.T, base string, conf oauth2.Config, l demo.Login) string {
	t.Helper()
	b := &bank{t: t, URL: base}
	conf.Endpoint = endpoint(base)
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), conf.AuthCodeURL("first-sign-in", oauth2.S256ChallengeOption(v)), l.LoginID, l.Password, faultPassword)
	if cb.Query().Get("code") == "" {
		t.Fatalf("first sign-in of %s: callback %s", l.LoginID, cb)
	}
	if l.TemporaryPassword {
		return faultPassword
	}
	return l.Password
}

func endpoint(base string) oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: base + "/oauth2/authorize", TokenURL: base + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}
}

// vendorClient registers another vendor like the demo's (its own consents
// and refresh families) and returns its OAuth configuration.
func vendorClient(t *testing.T, st store.Store, name string) oauth2.Config {
	t.Helper()
	c, secret, err := authz.CreateClient(t.Context(), st, authz.ClientSpec{Name: name, RedirectURIs: []string{demo.VendorRedirectURI}, Secret: true})
	if err != nil {
		t.Fatalf("create client %s: %v", name, err)
	}
	return oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: demo.VendorRedirectURI,
		Scopes: []string{"openid", "offline_access", "accounts.read"}}
}

// flow runs one authorization code flow with PKCE at base for login,
// signed in with password, allowing on the consent page, and exchanges
// the code. Unlike bank.authorize it returns errors (it runs in workers).
func flow(ctx context.Context, base string, conf oauth2.Config, login, password string) (*oauth2.Token, error) {
	return flowVia(ctx, http.DefaultTransport, base, conf, login, password)
}

// flowVia is flow with its requests, the code exchange included, sent
// through rt.
func flowVia(ctx context.Context, rt http.RoundTripper, base string, conf oauth2.Config, login, password string) (*oauth2.Token, error) {
	conf.Endpoint = endpoint(base)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: rt, Timeout: 30 * time.Second})
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, Transport: rt, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), base) || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	do := func(method, u string, form url.Values) (*http.Response, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			return nil, "", err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := br.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		return res, string(data), err
	}
	v := oauth2.GenerateVerifier()
	res, body, err := do(http.MethodGet, conf.AuthCodeURL("fault-state", oauth2.S256ChallengeOption(v)), nil)
	for range 6 {
		if err != nil {
			return nil, err
		}
		if res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusFound {
			loc, err := res.Location()
			if err != nil {
				return nil, err
			}
			code := loc.Query().Get("code")
			if code == "" {
				return nil, fmt.Errorf("callback without a code: %s", loc)
			}
			return conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		}
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %d", res.Request.URL.Path, res.StatusCode)
		}
		csrf, action := csrfField.FindStringSubmatch(body), formAction.FindStringSubmatch(lastForm(body))
		if csrf == nil || action == nil {
			return nil, fmt.Errorf("%s: no form", res.Request.URL.Path)
		}
		form := url.Values{"csrf": {csrf[1]}}
		switch {
		case strings.Contains(body, ">User ID<") && strings.Contains(body, ">Sign in<"):
			form.Set("user_id", login)
			form.Set("password", password)
		case strings.Contains(body, ">Allow<"):
			form.Set("decision", "allow")
		default:
			return nil, fmt.Errorf("unexpected page %s", res.Request.URL.Path)
		}
		res, body, err = do(http.MethodPost, base+strings.ReplaceAll(action[1], "&amp;", "&"), form)
	}
	return nil, errors.New("too many pages")
}

// refresh exchanges a refresh token at base.
func refresh(ctx context.Context, base string, conf oauth2.Config, token string) (*oauth2.Token, error) {
	return refreshVia(ctx, http.DefaultTransport, base, conf, token)
}

// refreshVia is refresh sent through rt.
func refreshVia(ctx context.Context, rt http.RoundTripper, base string, conf oauth2.Config, token string) (*oauth2.Token, error) {
	conf.Endpoint = endpoint(base)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: rt, Timeout: 30 * time.Second})
	return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: token, Expiry: time.Unix(1, 0)}).Token()
}
