// Command hydraaccept is the login and consent app of an Ory Hydra v2 driven
// by authz/loadtest -target hydra: it accepts every login (as one subject)
// and every consent (granting what was requested) through Hydra's admin API
// and sends the browser back to Hydra. It renders no page and checks no
// password, which favours Hydra against bankfeed's own sign-in and consent
// pages; the side-by-side figures say so.
//
//	go run ./authz/loadtest/hydraaccept -addr 127.0.0.1:4446 -admin http://127.0.0.1:4445
//
// Hydra is configured with URLS_LOGIN=http://127.0.0.1:4446/login and
// URLS_CONSENT=http://127.0.0.1:4446/consent.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hydraaccept:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("hydraaccept", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4446", "listen address")
	admin := fs.String("admin", "http://127.0.0.1:4445", "Hydra's admin URL")
	subject := fs.String("subject", "loadtest-user", "the subject every login is accepted as")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a := &acceptor{admin: strings.TrimRight(*admin, "/"), subject: *subject, c: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /consent", a.consent)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type acceptor struct {
	admin, subject string
	c              *http.Client
}

type redirect struct {
	RedirectTo string `json:"redirect_to"`
}

// login accepts the login request (no remembered session, so every flow
// logs in again, as bankfeed's flows each show the consent page).
func (a *acceptor) login(w http.ResponseWriter, r *http.Request) {
	ch := r.URL.Query().Get("login_challenge")
	var out redirect
	err := a.call(r.Context(), http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(ch),
		map[string]any{"subject": a.subject, "remember": false}, &out)
	a.finish(w, r, "login", out, err)
}

// consent reads the consent request and grants its scopes and audience.
func (a *acceptor) consent(w http.ResponseWriter, r *http.Request) {
	ch := url.QueryEscape(r.URL.Query().Get("consent_challenge"))
	var req struct {
		Scope    []string `json:"requested_scope"`
		Audience []string `json:"requested_access_token_audience"`
	}
	var out redirect
	err := a.call(r.Context(), http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+ch, nil, &req)
	if err == nil {
		err = a.call(r.Context(), http.MethodPut, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+ch,
			map[string]any{"grant_scope": req.Scope, "grant_access_token_audience": req.Audience, "remember": false}, &out)
	}
	a.finish(w, r, "consent", out, err)
}

func (a *acceptor) finish(w http.ResponseWriter, r *http.Request, step string, out redirect, err error) {
	if err == nil && out.RedirectTo == "" {
		err = errors.New("no redirect_to in Hydra's answer")
	}
	if err != nil {
		slog.ErrorContext(r.Context(), "hydraaccept: "+step, "err", err)
		http.Error(w, step+": "+err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, out.RedirectTo, http.StatusFound)
}

func (a *acceptor) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.admin+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %.200s", method, req.URL.Path, res.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}
