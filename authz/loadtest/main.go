// Command loadtest drives a running bankfeed server's OAuth endpoints with N
// concurrent workers for a fixed time and prints, per scenario, requests per
// second, p50/p99 latency and errors:
//
//   - refresh: each worker owns one refresh-token family and keeps rotating it;
//   - flow: full authorization-code flows — PAR, GET /oauth2/authorize with an
//     existing sign-in session cookie, which bankfeed serve answers with the
//     consent page itself, Allow, which answers with the redirect to the
//     vendor, code exchange (one flow = one sample, 4 HTTP requests; a server
//     that redirects to its consent page makes it 5);
//   - introspect: POST /oauth2/introspect of one access token;
//   - client_credentials: a token for a first-party client (no user);
//   - discovery and jwks: GET the OpenID configuration and the key set.
//
// With -target hydra the same scenarios drive an Ory Hydra v2 instead (for
// side-by-side runs, see authz/loadtest/compare): the client is created
// through Hydra's admin API (-hydra-admin), a flow is GET /oauth2/auth →
// login → consent → code exchange with the login and consent accepted by
// authz/loadtest/hydraaccept (Hydra v2.3 has no PAR endpoint), and
// introspection is Hydra's admin endpoint.
//
// With -dpop the refresh and flow scenarios are DPoP's (RFC 9449), named
// "refresh (DPoP)" and "flow (DPoP)": each worker holds its own ES256 key,
// the clients registered are dpop_bound_access_tokens, the code exchange and
// every refresh send a fresh proof (retried once with the server's nonce on
// use_dpop_nonce). With -print-token -dpop a second line is the private key
// as a JWK, for dataapi/loadtest -dpop-key.
//
// With -server-pid the server's CPU time (utime + stime from /proc) over
// the measured window is reported per operation, with the 1-minute load
// average at the window's start, beside the CPU of every local process
// named postgres, of this program and of the whole machine: on a shared
// box they all come out of the same cores.
//
// The client is registered in the server's database with -dsn (a vendor
// client, client_secret_basic, its redirect URI never contacted), or given
// with -client-id/-client-secret. The user is an accounting software user
// (-login/-password, e.g. from `bankfeed demo seed --json`); when the bank
// asks for a first sign-in, -new-password is set with the security answer.
//
//	go run ./authz/loadtest -url http://127.0.0.1:8080 -dsn "$BANKFEED_DATABASE_URL" \
//	    -login maple.ledgerly -password "$PW" -new-password "$NEWPW" -c 32 -d 20s
package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/authz/loadtest/dpopkey"
	"github.com/bankfeed/bankfeed/internal/loadreport"
	"github.com/bankfeed/bankfeed/internal/procstat"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	base, dsn                    string
	clientID, secret, redirect   string
	login, password, newPassword string
	question, answer             string
	scope                        string
	workers                      int
	duration, warmup             time.Duration
	scenarios                    []string
	jsonOut                      bool
	printToken                   bool
	target, hydraAdmin           string
	serverPID                    int
	dpop, dpopBound              bool
	// ccID and ccSecret: the first-party client of client_credentials.
	ccID, ccSecret string
	// vendors are the clients of the flows: one per worker when registered
	// here, since bankfeed keeps one consent per user and client and a new
	// flow's consent ends the previous one's tokens.
	vendors []vendor
}

type vendor struct{ id, secret string }

var allScenarios = []string{"refresh", "flow", "introspect", "client_credentials", "discovery", "jwks"}

const (
	targetBankfeed = "bankfeed"
	targetHydra    = "hydra"
)

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	var scen string
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.StringVar(&o.base, "url", "http://127.0.0.1:8080", "base URL (issuer) of the running server")
	fs.StringVar(&o.dsn, "dsn", "", "the server's database (SQLite path or postgres:// URL): register a vendor client there")
	fs.StringVar(&o.clientID, "client-id", "", "existing confidential client (client_secret_basic) instead of -dsn")
	fs.StringVar(&o.secret, "client-secret", "", "its secret (or env BANKFEED_LOADTEST_CLIENT_SECRET)")
	fs.StringVar(&o.redirect, "redirect-uri", "http://127.0.0.1:9/callback", "the client's redirect URI (never contacted)")
	fs.StringVar(&o.login, "login", "", "accounting software user's login ID")
	fs.StringVar(&o.password, "password", "", "its password (or env BANKFEED_LOADTEST_PASSWORD)")
	fs.StringVar(&o.newPassword, "new-password", "", "password to set if the bank asks for a first sign-in")
	fs.StringVar(&o.question, "security-question", store.SecurityQuestions[0], "security question for a first sign-in")
	fs.StringVar(&o.answer, "security-answer", "Lakeview Elementary", "its answer")
	fs.StringVar(&o.scope, "scope", "openid offline_access accounts.read", "scopes requested in flows")
	fs.IntVar(&o.workers, "c", 32, "concurrent workers")
	fs.DurationVar(&o.duration, "d", 20*time.Second, "duration of each scenario")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each scenario")
	fs.StringVar(&scen, "run", strings.Join(allScenarios, ","), "scenarios, comma-separated: "+strings.Join(allScenarios, ","))
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object per scenario")
	fs.BoolVar(&o.printToken, "print-token", false, "only sign in, run one flow and print its access token (e.g. for dataapi/loadtest -url)")
	fs.StringVar(&o.target, "target", targetBankfeed, "the server driven: bankfeed or hydra")
	fs.StringVar(&o.hydraAdmin, "hydra-admin", "http://127.0.0.1:4445", "Hydra's admin URL (-target hydra)")
	fs.BoolVar(&o.dpop, "dpop", false, "DPoP-bound tokens, a key per worker, a fresh proof per request (refresh, flow, -print-token)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "the server's process ID: report its CPU time per operation (/proc)")
	cpuProfile := fs.String("cpuprofile", "", "write the load program's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if o.secret == "" {
		o.secret = os.Getenv("BANKFEED_LOADTEST_CLIENT_SECRET")
	}
	if o.password == "" {
		o.password = os.Getenv("BANKFEED_LOADTEST_PASSWORD")
	}
	o.base = strings.TrimRight(o.base, "/")
	for _, s := range strings.Split(scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(allScenarios, s) {
			return fmt.Errorf("unknown scenario %q", s)
		}
		o.scenarios = append(o.scenarios, s)
	}
	if o.workers < 1 || o.duration <= 0 {
		return errors.New("-c and -d must be positive")
	}
	if o.target != targetBankfeed && o.target != targetHydra {
		return fmt.Errorf("-target must be %s or %s, not %q", targetBankfeed, targetHydra, o.target)
	}
	o.hydraAdmin = strings.TrimRight(o.hydraAdmin, "/")
	hydra := o.target == targetHydra
	if hydra && o.printToken {
		return errors.New("-print-token drives bankfeed only")
	}
	if o.dpop {
		if hydra {
			return errors.New("-dpop drives bankfeed only (Hydra v2.3 has no DPoP)")
		}
		if o.clientID == "" {
			// Tokens without a proof are refused: a missed proof fails loudly.
			o.dpopBound = true
		}
		for _, s := range o.scenarios {
			if s != "refresh" && s != "flow" && !o.printToken {
				return fmt.Errorf("-dpop applies to refresh and flow, not %s", s)
			}
		}
	}
	needClient := o.printToken || slices.ContainsFunc(o.scenarios, func(s string) bool {
		return s == "refresh" || s == "flow" || s == "introspect" || s == "client_credentials"
	})
	needUser := o.printToken || slices.ContainsFunc(o.scenarios, func(s string) bool { return s == "refresh" || s == "flow" || s == "introspect" })
	if needClient {
		if err := o.ensureClient(ctx); err != nil {
			return err
		}
		if !hydra && needUser && (o.login == "" || o.password == "") {
			return errors.New("give -login and -password (an accounting software user)")
		}
	}

	l := newLoader(o)
	if o.printToken {
		t, err := l.signIn(ctx)
		if err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		fmt.Fprintln(out, t.AccessToken)
		if t.key != nil {
			jwk, err := t.key.MarshalJSON()
			if err != nil {
				return err
			}
			fmt.Fprintln(out, string(jwk))
		}
		return nil
	}
	if !o.jsonOut {
		fmt.Fprintf(out, "driving %s (%s) with %d workers, %s per scenario (warm-up %s)\n", o.base, o.target, o.workers, o.duration, o.warmup)
	}
	if needUser && !hydra {
		if _, err := l.signIn(ctx); err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
	}
	for _, s := range o.scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r, err := l.scenario(ctx, s)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		r.print(out, o.jsonOut)
	}
	return nil
}

// ensureClient registers a vendor client in the server's database unless
// one was given, and a first-party client for client_credentials.
func (o *options) ensureClient(ctx context.Context) error {
	if o.target == targetHydra {
		return o.hydraClient(ctx)
	}
	if o.clientID != "" {
		if o.secret == "" {
			return errors.New("-client-id needs -client-secret")
		}
		// One client for every worker: concurrent flows end each other's
		// consents (refresh and flow scenarios then count errors).
		o.vendors = []vendor{{o.clientID, o.secret}}
		return nil
	}
	if o.dsn == "" {
		return errors.New("give -dsn (to register a client) or -client-id and -client-secret")
	}
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: o.dsn, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range max(1, o.workers) {
		c, secret, err := authz.CreateClient(ctx, st, authz.ClientSpec{
			Name:         fmt.Sprintf("loadtest %s #%d", time.Now().UTC().Format(time.RFC3339), i+1),
			RedirectURIs: []string{o.redirect},
			Secret:       true,
			Scopes:       strings.Fields(o.scope),

			DPoPBoundAccessTokens: o.dpopBound,
		})
		if err != nil {
			return fmt.Errorf("register client: %w", err)
		}
		o.vendors = append(o.vendors, vendor{c.ID, secret})
	}
	// Only the bank's own systems may use client_credentials.
	cc, ccSecret, err := authz.CreateClient(ctx, st, authz.ClientSpec{
		Name:       "loadtest system " + time.Now().UTC().Format(time.RFC3339),
		Secret:     true,
		FirstParty: true,
	})
	if err != nil {
		return fmt.Errorf("register first-party client: %w", err)
	}
	o.ccID, o.ccSecret = cc.ID, ccSecret
	return nil
}

// hydraClient creates the client through Hydra's admin API: the
// authorization-code, refresh and client_credentials grants, secret in
// Basic authentication as the bankfeed client.
func (o *options) hydraClient(ctx context.Context) error {
	body, _ := json.Marshal(map[string]any{
		"client_name":                "loadtest " + time.Now().UTC().Format(time.RFC3339),
		"grant_types":                []string{"authorization_code", "refresh_token", "client_credentials"},
		"response_types":             []string{"code"},
		"scope":                      o.scope,
		"redirect_uris":              []string{o.redirect},
		"token_endpoint_auth_method": "client_secret_basic",
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.hydraAdmin+"/admin/clients", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("create Hydra client: %w", err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("create Hydra client: status %d: %s", res.StatusCode, data)
	}
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("create Hydra client: %w", err)
	}
	o.vendors, o.ccID, o.ccSecret = []vendor{{c.ID, c.Secret}}, c.ID, c.Secret
	return nil
}

type loader struct {
	o       options
	tr      *http.Transport
	cookies []*http.Cookie // the signed-in browser session, shared by every worker
	bankURL *url.URL
}

func newLoader(o options) *loader {
	u, _ := url.Parse(o.base)
	return &loader{o: o, bankURL: u, tr: &http.Transport{
		MaxIdleConns: o.workers * 4, MaxIdleConnsPerHost: o.workers * 4, IdleConnTimeout: time.Minute,
	}}
}

// browser is a user agent holding the shared session cookie; it follows
// redirects within the bank and stops at the one to the client. Against
// Hydra it holds no session (login and consent are accepted on every flow)
// and follows every redirect but the one to the client.
func (l *loader) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(l.bankURL, l.cookies)
	redirect, _ := url.Parse(l.o.redirect)
	hydra := l.o.target == targetHydra
	return &http.Client{Transport: l.tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			away := req.URL.Host != l.bankURL.Host
			if hydra {
				away = redirect != nil && req.URL.Host == redirect.Host
			}
			if away || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

// signIn runs one flow through the sign-in page (and a first sign-in if
// asked), keeping the session cookie for every worker; it returns the
// flow's tokens.
func (l *loader) signIn(ctx context.Context) (tokens, error) {
	jar, _ := cookiejar.New(nil)
	br := l.browser()
	br.Jar = jar
	key, err := l.newKey()
	if err != nil {
		return tokens{}, err
	}
	t, err := l.flow(ctx, br, true, l.vendor(0), key)
	if err != nil {
		return tokens{}, err
	}
	l.cookies = jar.Cookies(l.bankURL)
	if len(l.cookies) == 0 {
		return tokens{}, errors.New("no session cookie after signing in")
	}
	return t, nil
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	// key is the DPoP key the tokens are bound to (-dpop).
	key *dpopkey.Key
}

// newKey is a worker's DPoP key with -dpop, nil without.
func (l *loader) newKey() (*dpopkey.Key, error) {
	if !l.o.dpop {
		return nil, nil
	}
	return dpopkey.New()
}

var (
	csrfField  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// flow runs PAR → authorize → (sign-in when allowed) → consent Allow →
// resume → code exchange and returns the tokens, bound to key if not nil.
func (l *loader) flow(ctx context.Context, br *http.Client, allowSignIn bool, v vendor, key *dpopkey.Key) (tokens, error) {
	verifier := store.RandomToken(32)
	sum := sha256.Sum256([]byte(verifier))
	form := url.Values{
		"response_type":         {"code"},
		"client_id":             {v.id},
		"redirect_uri":          {l.o.redirect},
		"scope":                 {l.o.scope},
		"state":                 {store.RandomToken(12)},
		"nonce":                 {store.RandomToken(12)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	var authURL string
	if l.o.target == targetHydra {
		authURL = l.o.base + "/oauth2/auth?" + form.Encode()
	} else {
		var par struct {
			RequestURI string `json:"request_uri"`
			Error      string `json:"error"`
		}
		if err := l.postJSONAs(ctx, l.o.base+"/oauth2/par", v.id, v.secret, form, &par); err != nil {
			return tokens{}, fmt.Errorf("par: %w", err)
		}
		authURL = l.o.base + "/oauth2/authorize?" + url.Values{"client_id": {v.id}, "request_uri": {par.RequestURI}}.Encode()
	}
	res, body, err := do(ctx, br, http.MethodGet, authURL, nil)
	if err != nil {
		return tokens{}, err
	}
	password := l.o.password
	var code string
	for range 6 {
		if res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusFound {
			loc, err := res.Location()
			if err != nil {
				return tokens{}, err
			}
			q := loc.Query()
			if q.Get("error") != "" {
				return tokens{}, fmt.Errorf("authorize: %s: %s", q.Get("error"), q.Get("error_description"))
			}
			code = q.Get("code")
			break
		}
		if res.StatusCode != http.StatusOK {
			return tokens{}, fmt.Errorf("%s: status %d", res.Request.URL.Path, res.StatusCode)
		}
		csrf, action := match(csrfField, body), match(formAction, lastForm(body))
		if csrf == "" || action == "" {
			return tokens{}, fmt.Errorf("%s: no form on the page", res.Request.URL.Path)
		}
		f := url.Values{"csrf": {csrf}}
		switch {
		case strings.Contains(body, `name="decision"`):
			f.Set("decision", "allow")
		case strings.Contains(body, `name="new_password"`) && allowSignIn:
			if l.o.newPassword == "" {
				return tokens{}, errors.New("the bank asks for a first sign-in: give -new-password")
			}
			f.Set("new_password", l.o.newPassword)
			f.Set("confirm_password", l.o.newPassword)
			f.Set("security_question", l.o.question)
			f.Set("answer", l.o.answer)
			password = l.o.newPassword
		case strings.Contains(body, `name="password"`) && allowSignIn:
			f.Set("user_id", l.o.login)
			f.Set("password", password)
		default:
			return tokens{}, fmt.Errorf("%s: unexpected page (session lost?)", res.Request.URL.Path)
		}
		action = strings.ReplaceAll(action, "&amp;", "&")
		if res, body, err = do(ctx, br, http.MethodPost, l.o.base+action, strings.NewReader(f.Encode())); err != nil {
			return tokens{}, err
		}
	}
	if code == "" {
		return tokens{}, errors.New("no code after the bank's pages")
	}
	var t tokens
	err = l.postForm(ctx, l.o.base+"/oauth2/token", v.id, v.secret, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {l.o.redirect}, "code_verifier": {verifier},
	}, key, &t)
	if err != nil {
		return tokens{}, fmt.Errorf("code exchange: %w", err)
	}
	if key != nil && t.TokenType != "DPoP" {
		return tokens{}, fmt.Errorf("code exchange: token_type %q, want DPoP", t.TokenType)
	}
	t.key = key
	return t, nil
}

func lastForm(body string) string {
	if i := strings.LastIndex(body, `<form method="post"`); i >= 0 {
		return body[i:]
	}
	return body
}

func match(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func do(ctx context.Context, c *http.Client, method, u string, body io.Reader) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res, string(data), err
}

// vendor is worker i's client.
func (l *loader) vendor(i int) vendor { return l.o.vendors[i%len(l.o.vendors)] }

// postJSONAs posts a form to u, with Basic credentials unless id is empty,
// and decodes a 2xx JSON answer into v.
func (l *loader) postJSONAs(ctx context.Context, u, id, secret string, form url.Values, v any) error {
	return l.postForm(ctx, u, id, secret, form, nil, v)
}

// postForm is postJSONAs with a fresh DPoP proof of key when not nil,
// retried once with the server's nonce if it answers use_dpop_nonce.
func (l *loader) postForm(ctx context.Context, u, id, secret string, form url.Values, key *dpopkey.Key, v any) error {
	body := form.Encode()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		}
		if key == nil {
			return l.doJSON(req, v)
		}
		proof, err := key.Proof(http.MethodPost, u, "")
		if err != nil {
			return err
		}
		req.Header.Set("DPoP", proof)
		res, data, err := l.send(req)
		if err != nil {
			return err
		}
		if attempt == 0 && key.UseNonce(res, data) {
			continue
		}
		return decode(req, res, data, v)
	}
}

func (l *loader) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.o.base+path, nil)
	if err != nil {
		return err
	}
	return l.doJSON(req, nil)
}

func (l *loader) doJSON(req *http.Request, v any) error {
	res, data, err := l.send(req)
	if err != nil {
		return err
	}
	return decode(req, res, data, v)
}

func (l *loader) send(req *http.Request) (*http.Response, []byte, error) {
	res, err := l.tr.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res, data, err
}

// decode checks a 2xx status and decodes data into v (when not nil).
func decode(req *http.Request, res *http.Response, data []byte, v any) error {
	if res.StatusCode/100 != 2 {
		msg := string(data)
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, res.StatusCode, msg)
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("%s: %w", req.URL.Path, err)
		}
	}
	return nil
}

// op is one measured request (or flow) of a worker.
type op func(ctx context.Context) error

// scenario prepares one op per worker and drives them.
func (l *loader) scenario(ctx context.Context, name string) (result, error) {
	ops := make([]op, l.o.workers)
	switch name {
	case "refresh":
		// One family per worker, each from its own flow.
		for i := range ops {
			v := l.vendor(i)
			key, err := l.newKey()
			if err != nil {
				return result{}, err
			}
			t, err := l.flow(ctx, l.browser(), false, v, key)
			if err != nil {
				return result{}, err
			}
			if t.RefreshToken == "" {
				return result{}, errors.New("no refresh token (is offline_access granted?)")
			}
			rt := t.RefreshToken
			ops[i] = func(ctx context.Context) error {
				var t tokens
				if err := l.postForm(ctx, l.o.base+"/oauth2/token", v.id, v.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, key, &t); err != nil {
					return err
				}
				if t.RefreshToken == "" {
					return errors.New("no refresh token in the answer")
				}
				rt = t.RefreshToken
				return nil
			}
		}
	case "flow":
		for i := range ops {
			br, v := l.browser(), l.vendor(i)
			key, err := l.newKey()
			if err != nil {
				return result{}, err
			}
			ops[i] = func(ctx context.Context) error {
				if l.o.target == targetHydra {
					br = l.browser() // no session: a fresh jar for each flow's CSRF cookies
				}
				t, err := l.flow(ctx, br, false, v, key)
				if err == nil && t.AccessToken == "" {
					err = errors.New("no access token")
				}
				return err
			}
		}
	case "introspect":
		v := l.vendor(0)
		t, err := l.flow(ctx, l.browser(), false, v, nil)
		if err != nil {
			return result{}, err
		}
		form := url.Values{"token": {t.AccessToken}}
		// Hydra introspects on its admin port, without client authentication.
		u, id, secret := l.o.base+"/oauth2/introspect", v.id, v.secret
		if l.o.target == targetHydra {
			u, id, secret = l.o.hydraAdmin+"/admin/oauth2/introspect", "", ""
		}
		for i := range ops {
			ops[i] = func(ctx context.Context) error {
				var r struct {
					Active bool `json:"active"`
				}
				if err := l.postJSONAs(ctx, u, id, secret, form, &r); err != nil {
					return err
				}
				if !r.Active {
					return errors.New("token inactive")
				}
				return nil
			}
		}
	case "client_credentials":
		if l.o.ccID == "" {
			return result{}, errors.New("needs -dsn (a first-party client is registered there) or -target hydra")
		}
		form := url.Values{"grant_type": {"client_credentials"}}
		for i := range ops {
			ops[i] = func(ctx context.Context) error {
				var t tokens
				if err := l.postJSONAs(ctx, l.o.base+"/oauth2/token", l.o.ccID, l.o.ccSecret, form, &t); err != nil {
					return err
				}
				if t.AccessToken == "" {
					return errors.New("no access token")
				}
				return nil
			}
		}
	case "discovery", "jwks":
		path := "/.well-known/openid-configuration"
		if name == "jwks" {
			var meta struct {
				JWKSURI string `json:"jwks_uri"`
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.o.base+path, nil)
			if err := l.doJSON(req, &meta); err != nil {
				return result{}, err
			}
			u, err := url.Parse(meta.JWKSURI)
			if err != nil || u.Path == "" {
				return result{}, fmt.Errorf("bad jwks_uri %q", meta.JWKSURI)
			}
			path = u.Path
		}
		for i := range ops {
			ops[i] = func(ctx context.Context) error { return l.get(ctx, path) }
		}
	}
	if l.o.dpop {
		name += " (DPoP)"
	}
	return drive(ctx, name, ops, l.o.warmup, l.o.duration, l.o.serverPID), nil
}

type result struct {
	loadreport.Figures
	Workers  int           `json:"workers"`
	Duration time.Duration `json:"-"`
	FirstErr []string      `json:"first_errors,omitempty"`
}

// drive runs every op in its own goroutine, in a loop: warm-up first
// (unmeasured), then for d; latencies are those of successful ops.
func drive(ctx context.Context, name string, ops []op, warmup, d time.Duration, pid int) result {
	type acc struct {
		lat  []time.Duration
		errs int
		msgs []string
	}
	accs := make([]acc, len(ops))
	measureAt := time.Now().Add(warmup)
	end := measureAt.Add(d)
	ctx, cancel := context.WithDeadline(ctx, end.Add(30*time.Second))
	defer cancel()
	var cpu0 procstat.Sample
	var load float64
	var cpuErr error
	measured := make(chan struct{})
	measuring := time.AfterFunc(warmup, func() {
		defer close(measured)
		load = procstat.LoadAvg()
		if pid > 0 {
			cpu0, cpuErr = procstat.Take(pid)
		}
	})
	var wg sync.WaitGroup
	for i, f := range ops {
		wg.Go(func() {
			a := &accs[i]
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				err := f(ctx)
				if t0.Before(measureAt) {
					continue
				}
				if err != nil {
					a.errs++
					if len(a.msgs) < 3 {
						a.msgs = append(a.msgs, err.Error())
					}
					continue
				}
				a.lat = append(a.lat, time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(measureAt)
	var cpu procstat.Sample
	if measuring.Stop() {
		close(measured) // the run ended within the warm-up: nothing measured
		pid = 0
	}
	<-measured
	if pid > 0 && cpuErr == nil {
		cpu1, err := procstat.Take(pid)
		cpu, cpuErr = cpu1.Sub(cpu0), err
	}
	r := result{Workers: len(ops), Duration: elapsed}
	r.Name, r.Seconds, r.LoadAvg = name, math.Round(elapsed.Seconds()*100)/100, load
	var all []time.Duration
	for _, a := range accs {
		all = append(all, a.lat...)
		r.Errors += a.errs
		for _, m := range a.msgs {
			if len(r.FirstErr) < 5 {
				r.FirstErr = append(r.FirstErr, m)
			}
		}
	}
	r.N = len(all)
	r.RPS = float64(r.N) / elapsed.Seconds()
	if len(all) > 0 {
		slices.Sort(all)
		ms := func(q float64) float64 {
			d := all[min(len(all)-1, int(q*float64(len(all))))]
			return math.Round(float64(d.Microseconds())/10) / 100
		}
		r.P50, r.P99, r.Max = ms(0.50), ms(0.99), ms(1)
		if cpu.Server > 0 {
			r.PerOp = cpu.PerOp(r.N)
		}
	}
	if cpuErr != nil && len(r.FirstErr) < 5 {
		r.FirstErr = append(r.FirstErr, "server CPU: "+cpuErr.Error())
	}
	return r
}

func (r result) print(w io.Writer, asJSON bool) {
	if asJSON {
		data, _ := json.Marshal(r)
		fmt.Fprintln(w, string(data))
		return
	}
	fmt.Fprintf(w, "%-10s %6d/s  p50 %7.2f ms  p99 %7.2f ms  max %8.2f ms  ok %d  errors %d  (%d workers, %.1fs)",
		r.Name, int(math.Round(r.RPS)), r.P50, r.P99, r.Max, r.N, r.Errors, r.Workers, r.Seconds)
	if r.ServerCPU > 0 {
		fmt.Fprintf(w, "  CPU ms/op: server %.3f, PostgreSQL %.3f, this program %.3f, machine %.3f",
			r.ServerCPU, r.DatabaseCPU, r.ClientCPU, r.MachineCPU)
	}
	fmt.Fprintln(w)
	for _, m := range r.FirstErr {
		fmt.Fprintf(w, "           error: %s\n", m)
	}
}
