package authz_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// TestAuditConsentAndTokenEvents (issue 10 §5): authorizations, a client's
// RFC 7009 revocation and a refresh token's reuse are in the audit log, read
// back with ListAudit, each with the user's business group, who acted,
// the consent it concerns and where the request came from, and never a
// token, code or secret.
func TestAuditConsentAndTokenEvents(t *testing.T) {
	e := newEnv(t, envOpts{})
	var secrets []string // every token and code handed out, and the client secret
	secrets = append(secrets, e.secret)
	grant := func() (tokenResult, string) {
		t.Helper()
		v := oauth2.GenerateVerifier()
		code := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(v)), e.user.ID, allScopes).Get("code")
		tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}},
			e.vendor.ID, e.secret)
		if tr.Status != http.StatusOK {
			t.Fatalf("exchange: %+v", tr)
		}
		g, err := e.srv.Verify(e.ctx, tr.AccessToken)
		must(t, err)
		secrets = append(secrets, code, v, tr.AccessToken, tr.RefreshToken, tr.IDToken)
		return tr, g.RequestID
	}
	events := func() []store.AuditEvent {
		t.Helper()
		es, _, err := e.st.ListAudit(e.ctx, store.AuditFilter{BusinessGroupID: &e.group.ID}, store.Page{Limit: 1000})
		must(t, err)
		return es
	}
	type want struct {
		action, outcome, actor, consent string
		after                           map[string]any
	}
	check := func(got store.AuditEvent, w want) {
		t.Helper()
		var after map[string]any
		if err := json.Unmarshal(got.After, &after); err != nil {
			t.Errorf("%s: after %s: %v", w.action, got.After, err)
		}
		if got.Action != w.action || got.Outcome != w.outcome || got.ActorID != w.actor || got.BusinessGroupID != e.group.ID ||
			got.TargetType != "consent" || got.TargetID != w.consent || got.RemoteAddr == "" || got.At.IsZero() {
			t.Errorf("event %+v, want %s %s by %s on consent %s", got, w.action, w.outcome, w.actor, w.consent)
		}
		for k, v := range w.after {
			if b, _ := json.Marshal(after[k]); string(b) != mustJSON(t, v) {
				t.Errorf("%s: after[%q] = %s, want %s", w.action, k, b, mustJSON(t, v))
			}
		}
	}
	scopes := []any{"openid", "profile", "offline_access", "accounts.read", "statements.read"}

	_, c1 := grant()
	es := events()
	if len(es) != 1 {
		t.Fatalf("after one authorization: %d events %+v", len(es), es)
	}
	check(es[0], want{audit.ConsentGranted, audit.Success, e.user.ID, c1, map[string]any{"clientId": e.vendor.ID, "scopes": scopes}})
	if strings.Contains(string(es[0].After), "previousConsentId") {
		t.Errorf("a first authorization names a previous consent: %s", es[0].After)
	}

	tr2, c2 := grant()
	es = events()
	check(es[len(es)-1], want{audit.ConsentUpdated, audit.Success, e.user.ID, c2,
		map[string]any{"clientId": e.vendor.ID, "scopes": scopes, "previousConsentId": c1}})

	// A used refresh token presented again, after the grace period: the
	// family is revoked (the consent with it) and the log says so once.
	r := e.refresh(tr2.RefreshToken)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %+v", r)
	}
	secrets = append(secrets, r.AccessToken, r.RefreshToken, r.IDToken)
	e.clock.Advance(3 * time.Second) // past the grace period (2 s)
	wantOAuthError(t, e.refresh(tr2.RefreshToken), "invalid_grant")
	wantOAuthError(t, e.refresh(tr2.RefreshToken), "invalid_grant")
	es = events()
	check(es[len(es)-1], want{audit.RefreshFamilyRevoked, audit.Refused, e.vendor.ID, c2,
		map[string]any{"clientId": e.vendor.ID, "consentId": c2}})
	if n := countAction(es, audit.RefreshFamilyRevoked); n != 1 {
		t.Errorf("%d %s events, want 1 (the second reuse revokes nothing)", n, audit.RefreshFamilyRevoked)
	}

	// The client revokes its refresh token (RFC 7009): the consent ends.
	tr3, c3 := grant()
	es = events()
	check(es[len(es)-1], want{audit.ConsentGranted, audit.Success, e.user.ID, c3, map[string]any{"clientId": e.vendor.ID}})
	for range 2 {
		req, err := http.NewRequest(http.MethodPost, e.iss+"/oauth2/revoke", strings.NewReader(url.Values{"token": {tr3.RefreshToken}}.Encode()))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", "Ledgerly/7.1")
		req.Header.Set("X-Request-ID", "rid-revoke")
		req.SetBasicAuth(url.QueryEscape(e.vendor.ID), url.QueryEscape(e.secret))
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
	}
	es = events()
	last := es[len(es)-1]
	check(last, want{audit.ConsentRevoked, audit.Success, e.vendor.ID, c3,
		map[string]any{"by": audit.ByClient, "clientId": e.vendor.ID, "userId": e.user.ID}})
	if last.UserAgent != "Ledgerly/7.1" || last.HTTPRequestID != "rid-revoke" {
		t.Errorf("revocation event's origin: user agent %q, request ID %q", last.UserAgent, last.HTTPRequestID)
	}
	if n := countAction(es, audit.ConsentRevoked); n != 1 {
		t.Errorf("%d %s events, want 1 (revoking again revokes nothing)", n, audit.ConsentRevoked)
	}

	raw, err := json.Marshal(es)
	must(t, err)
	for _, s := range secrets {
		if s != "" && strings.Contains(string(raw), s) {
			t.Errorf("the audit log holds a token, code or secret: %q", s)
		}
	}
	if !slices.ContainsFunc(es, func(x store.AuditEvent) bool { return x.Action == audit.ConsentUpdated }) {
		t.Error("no consent.updated event")
	}
}

// TestAuditCodeReuseIsNotARefreshReuse: a code exchanged twice ends its
// grant too, but that is no refresh token's reuse, and the log must not say
// it was.
func TestAuditCodeReuseIsNotARefreshReuse(t *testing.T) {
	e := newEnv(t, envOpts{})
	v := oauth2.GenerateVerifier()
	code := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(v)), e.user.ID, allScopes).Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
	if tr := e.token(form, e.vendor.ID, e.secret); tr.Status != http.StatusOK {
		t.Fatalf("exchange: %+v", tr)
	}
	wantOAuthError(t, e.token(form, e.vendor.ID, e.secret), "invalid_grant")
	es, _, err := e.st.ListAudit(e.ctx, store.AuditFilter{BusinessGroupID: &e.group.ID}, store.Page{Limit: 1000})
	must(t, err)
	if n := countAction(es, audit.RefreshFamilyRevoked); n != 0 {
		t.Errorf("a code's reuse was logged as %d refresh token reuses", n)
	}
	// It is a consent ended by the code's reuse, audited once as such.
	if n := countAction(es, audit.ConsentRevoked); n != 1 {
		t.Fatalf("%d consent.revoked events for one reused code, want 1: %+v", n, es)
	}
	for _, ev := range es {
		if ev.Action == audit.ConsentRevoked && (!strings.Contains(string(ev.After), `"by":"`+audit.ByCodeReuse+`"`) ||
			ev.ActorID != e.vendor.ID || ev.Outcome != audit.Refused || strings.Contains(string(ev.After), code)) {
			t.Errorf("code reuse's event = %+v, after %s", ev, ev.After)
		}
	}
}

func countAction(es []store.AuditEvent, action string) int {
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

// TestAuditAllowThroughThePages: a grant made by the consent form's Allow
// (as served: the grant, its code and its audit event in one store call,
// store.GrantAudit) is audited once, as consent.granted and then, for the
// next grant of the same user and client, consent.updated naming the
// consent it replaced, each with where the form's request came from.
func TestAuditAllowThroughThePages(t *testing.T) {
	e, b, u, password := newEnvAsServed(t)
	b.signIn(e.iss, u.LoginID, password)
	b.c.Transport = headerTransport{"User-Agent": "Ledgerly-Browser/2.0", "X-Request-ID": "rid-allow"}
	grant := func() string {
		t.Helper()
		v := oauth2.GenerateVerifier()
		q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(v))
		loc := e.iss + "/oauth2/authorize?" + q.Encode()
		cb := b.toCallback(b.expectRedirect(parseForm(t, b.do(http.MethodGet, loc, nil), loc, "Allow").submit(b, "Allow")), "Allow")
		tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {redirectURI},
			"code_verifier": {v}}, e.vendor.ID, e.secret)
		if tr.Status != http.StatusOK {
			t.Fatalf("exchange: %+v", tr)
		}
		g, err := e.srv.Verify(e.ctx, tr.AccessToken)
		must(t, err)
		return g.RequestID
	}
	c1, c2 := grant(), grant()
	prefix := "consent."
	es, _, err := e.st.ListAudit(e.ctx, store.AuditFilter{BusinessGroupID: &e.group.ID, ActionPrefix: &prefix}, store.Page{Limit: 100})
	must(t, err)
	if len(es) != 2 {
		t.Fatalf("%d consent events for two grants, want 2: %+v", len(es), es)
	}
	for i, w := range []struct{ action, consent, after string }{
		{audit.ConsentGranted, c1, `{"clientId":"` + e.vendor.ID + `","scopes":`},
		{audit.ConsentUpdated, c2, `{"clientId":"` + e.vendor.ID + `","previousConsentId":"` + c1 + `","scopes":`},
	} {
		got := es[i]
		if got.Action != w.action || got.TargetType != "consent" || got.TargetID != w.consent || got.ActorID != u.ID ||
			got.BusinessGroupID != e.group.ID || got.Outcome != audit.Success || !strings.HasPrefix(string(got.After), w.after) ||
			got.UserAgent != "Ledgerly-Browser/2.0" || got.HTTPRequestID != "rid-allow" || got.RemoteAddr == "" || got.At.IsZero() {
			t.Errorf("event %d = %+v (after %s), want %s of consent %s from the form's request", i, got, got.After, w.action, w.consent)
		}
	}
}

// headerTransport sets its headers on every request.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}
