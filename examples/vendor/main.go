// Command vendor is a small stand-in for an accounting program (think
// QuickBooks or Xero) that connects to bankfeed the way a real vendor does:
// OpenID Connect discovery, authorization code + PKCE (S256), an ID token
// verified with go-oidc, then read-only calls to the FDX data API.
//
// Run bankfeed first (go run ./cmd/bankfeed serve --demo), then:
//
//	go run ./examples/vendor -client-secret <the demo vendor secret printed by bankfeed>
//
// and open http://127.0.0.1:9999/. With -fapi (fapi.go) it is a FAPI 2.0
// client instead: private_key_jwt, PAR and DPoP, against a bankfeed with
// BANKFEED_OAUTH_PROFILE=fapi2, at https://127.0.0.1:9999/ (README "FAPI 2.0
// profile"). With -mtls-cert and -mtls-key (mtls.go) it authenticates with
// its TLS client certificate instead of a secret and its tokens are bound to
// it (README "Mutual TLS"). Nothing here is needed by bankfeed itself.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vendor:", err)
		os.Exit(1)
	}
}

type app struct {
	issuer   string
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	logger   *slog.Logger

	mu      sync.Mutex
	fapi    *fapiClient       // -fapi: private_key_jwt, PAR, DPoP
	mtls    *http.Client      // -mtls-cert: every call to the bank presents the certificate
	pending map[string]string // state → PKCE verifier
	token   *oauth2.Token
	subject string
}

func run() error {
	issuer := flag.String("issuer", envOr("BANKFEED_ISSUER", "http://localhost:8080"), "bankfeed's issuer URL")
	clientID := flag.String("client-id", "demo-vendor", "OAuth client ID")
	clientSecret := flag.String("client-secret", os.Getenv("VENDOR_CLIENT_SECRET"), "OAuth client secret (or VENDOR_CLIENT_SECRET)")
	addr := flag.String("addr", "127.0.0.1:9999", "where this vendor app listens")
	fapi := flag.Bool("fapi", false, "FAPI 2.0 client: private_key_jwt, PAR and DPoP, https redirect URI (bankfeed in oauth.profile fapi2)")
	keyFile := flag.String("key-file", "vendor-key.pem", "with -fapi: the client's P-256 key (PEM), created with its public key set <key-file>.jwks.json if missing")
	mtlsCert := flag.String("mtls-cert", "", "mutual TLS: the client certificate (PEM) to authenticate with (tls_client_auth or self_signed_tls_client_auth); with -mtls-key, both created (self-signed, with <mtls-cert>.jwks.json to register) if missing")
	mtlsKey := flag.String("mtls-key", "", "mutual TLS: the client certificate's key (PEM)")
	bankCA := flag.String("bank-ca", "", "mutual TLS: PEM CA certificates to trust the bank's server certificate by (default: the system's)")
	flag.Parse()
	if (*mtlsCert == "") != (*mtlsKey == "") {
		return errors.New("-mtls-cert and -mtls-key go together")
	}
	if *fapi && *mtlsCert != "" {
		return errors.New("-fapi and -mtls-cert are two different example clients: choose one")
	}
	if !*fapi && *mtlsCert == "" && *clientSecret == "" {
		return errors.New("-client-secret is required (bankfeed serve --demo prints it)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var mtls *http.Client
	if *mtlsCert != "" {
		cert, err := loadOrCreateCert(*mtlsCert, *mtlsKey)
		if err != nil {
			return err
		}
		if mtls, err = mtlsClient(cert, *bankCA); err != nil {
			return err
		}
		// Discovery and the ID token's keys are read over the same client.
		ctx = oidc.ClientContext(ctx, mtls)
	}
	provider, err := oidc.NewProvider(ctx, *issuer)
	if err != nil {
		return fmt.Errorf("discover %s: %w", *issuer, err)
	}
	scheme := "http"
	if *fapi {
		scheme = "https"
	}
	a := &app{
		issuer: *issuer,
		oauth: oauth2.Config{
			ClientID:     *clientID,
			ClientSecret: *clientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  scheme + "://" + *addr + "/callback",
			Scopes:       []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess, "accounts.read", "statements.read"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: *clientID}),
		logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
		pending:  map[string]string{},
		mtls:     mtls,
	}
	if mtls != nil {
		// The client_id in the form, no secret: the certificate authenticates.
		a.oauth.ClientSecret = ""
		a.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		a.oauth.Endpoint.TokenURL = mtlsTokenURL(provider, a.oauth.Endpoint.TokenURL)
	}
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 5 * time.Second}
	if *fapi {
		if a.fapi, srv.TLSConfig, err = setupFAPI(provider, *clientID, *issuer, *keyFile, *addr); err != nil {
			return err
		}
		a.oauth.ClientSecret = ""
		a.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /connect", a.connect)
	mux.HandleFunc("GET /callback", a.callback)
	srv.Handler = mux
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	a.logger.Info("vendor app listening", "url", scheme+"://"+*addr+"/")
	serve := srv.ListenAndServe
	if *fapi {
		serve = func() error { return srv.ListenAndServeTLS("", "") }
	}
	if err := serve(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func randomState() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *app) connect(w http.ResponseWriter, r *http.Request) {
	state, verifier := randomState(), oauth2.GenerateVerifier()
	a.mu.Lock()
	a.pending[state] = verifier
	a.mu.Unlock()
	if a.fapi != nil {
		// Only client_id and request_uri go through the browser.
		params := url.Values{"response_type": {"code"}, "client_id": {a.oauth.ClientID}, "redirect_uri": {a.oauth.RedirectURL},
			"scope": {strings.Join(a.oauth.Scopes, " ")}, "state": {state},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
		to, err := a.fapi.push(r.Context(), a.oauth.Endpoint.AuthURL, params)
		if err != nil {
			http.Error(w, "pushed authorization request failed: "+err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
}

func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if (q.Get("iss") != "" || a.fapi != nil) && q.Get("iss") != a.issuer { // RFC 9207 mix-up defence
		http.Error(w, "authorization response from an unexpected issuer", http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" {
		a.render(w, "The bank did not connect: "+e+" — "+q.Get("error_description"), nil, nil)
		return
	}
	a.mu.Lock()
	verifier, ok := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	if !ok {
		http.Error(w, "unknown or reused state", http.StatusBadRequest)
		return
	}
	ctx, opts := r.Context(), []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if a.fapi != nil {
		more, err := a.fapi.exchangeOptions()
		if err != nil {
			http.Error(w, "client assertion: "+err.Error(), http.StatusInternalServerError)
			return
		}
		opts = append(opts, more...)
		ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: a.fapi, Timeout: 10 * time.Second})
	}
	if a.mtls != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, a.mtls)
	}
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), opts...)
	if err != nil {
		http.Error(w, "token exchange failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err != nil {
		http.Error(w, "ID token rejected: "+err.Error(), http.StatusBadGateway)
		return
	}
	a.mu.Lock()
	a.token, a.subject = tok, idt.Subject
	a.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type account struct {
	AccountID            string          `json:"accountId"`
	Nickname             string          `json:"nickname"`
	AccountNumberDisplay string          `json:"accountNumberDisplay"`
	Currency             json.RawMessage `json:"currency"`
	Transactions         []transaction   `json:"-"`
}

type transaction struct {
	PostedDate      string      `json:"postedDate"`
	Description     string      `json:"description"`
	DebitCreditMemo string      `json:"debitCreditMemo"`
	Amount          json.Number `json:"amount"`
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	tok := a.token
	a.mu.Unlock()
	if tok == nil {
		a.render(w, "", nil, nil)
		return
	}
	// The oauth2 client refreshes the access token with the refresh token
	// when it expires, as a nightly sync would.
	ctx := r.Context()
	if a.mtls != nil {
		// Certificate-bound: the refresh and every call over the certificate.
		ctx = context.WithValue(ctx, oauth2.HTTPClient, a.mtls)
	}
	client := a.oauth.Client(ctx, tok)
	if a.fapi != nil {
		// DPoP-bound: a proof on every call. No automatic refresh here (a
		// refresh needs a fresh client assertion): reconnect when it expires.
		client = &http.Client{Transport: &oauth2.Transport{Source: oauth2.StaticTokenSource(tok), Base: a.fapi}}
	}
	var list struct {
		Accounts []account `json:"accounts"`
	}
	if err := getJSON(client, a.issuer+"/fdx/v6/accounts", &list); err != nil {
		a.render(w, "Could not read accounts: "+err.Error(), nil, nil)
		return
	}
	accounts := list.Accounts
	since := time.Now().AddDate(0, 0, -14).Format(time.DateOnly)
	for i := range accounts {
		var txs struct {
			Transactions []transaction `json:"transactions"`
		}
		u := a.issuer + "/fdx/v6/accounts/" + url.PathEscape(accounts[i].AccountID) + "/transactions?limit=10&startDate=" + since
		if err := getJSON(client, u, &txs); err == nil {
			accounts[i].Transactions = txs.Transactions
		}
	}
	a.render(w, "", accounts, tok)
}

func getJSON(c *http.Client, u string, v any) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	return json.Unmarshal(body, v)
}

var page = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ledgerly (demo vendor)</title></head>
<body>
<h1>Ledgerly — demo accounting software</h1>
{{with .Message}}<p role="alert">{{.}}</p>{{end}}
{{if not .Connected}}
<p><a href="/connect">Connect your bank</a></p>
{{else}}
<p>Connected. Access token expires {{.Expiry}}.</p>
{{range .Accounts}}
<h2>{{.Nickname}} {{.AccountNumberDisplay}}</h2>
<table><tr><th>Date</th><th>Description</th><th>Debit/Credit</th><th>Amount</th></tr>
{{range .Transactions}}<tr><td>{{.PostedDate}}</td><td>{{.Description}}</td><td>{{.DebitCreditMemo}}</td><td>{{.Amount}}</td></tr>{{end}}
</table>
{{else}}<p>No accounts are shared with this application.</p>{{end}}
<p><a href="/connect">Reconnect</a></p>
{{end}}
</body></html>`))

func (a *app) render(w http.ResponseWriter, msg string, accounts []account, tok *oauth2.Token) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	data := map[string]any{"Message": msg, "Accounts": accounts, "Connected": tok != nil}
	if tok != nil {
		data["Expiry"] = tok.Expiry.Format(time.RFC1123)
	}
	if err := page.Execute(w, data); err != nil {
		a.logger.Error("render", "err", err)
	}
}
