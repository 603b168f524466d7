package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
)

// handleAuthorize parses and validates the authorization request (or loads
// the pushed one), parks it in a store.AuthFlow under a fresh login
// challenge and sends the browser to the bank's sign-in page (or, signed
// in already, to its consent page: startURL), or has the bank's pages
// answer a signed-in browser with its consent page (Config.StartConsent,
// which then stores the flow itself).
func (s *Server) handleAuthorize(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()
	w := s.issWriter(c)

	if err := r.ParseForm(); err != nil {
		s.writeAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), fosite.ErrInvalidRequest.WithHint("The request could not be parsed."))
		return nil
	}
	if r.Form.Get("request") != "" {
		s.writeAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), fosite.ErrRequestNotSupported.WithHint("Request objects are not supported; use pushed authorization requests."))
		return nil
	}
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if rerr := checkRedirectParam(r.Form, ar); rerr != nil {
		// Not even an error goes to a URI the client did not register.
		s.writeAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), rerr)
		return nil
	}
	err = allowMissingState(ar, err)
	if err == nil {
		err = s.checkAuthorizeRequest(ctx, r, ar)
	}
	if err != nil {
		s.writeAuthorizeError(ctx, w, ar, err)
		return nil
	}

	flowID := store.RandomToken(32)
	pushed := strings.HasPrefix(r.Form.Get("request_uri"), parURIPrefix)
	if pushed {
		flowID = s.pushed.flowID(r.Form.Get("request_uri")) // its only flow
	}
	flow := store.AuthFlow{
		ID:              flowID,
		ClientID:        ar.GetClient().GetID(),
		RequestedScopes: ar.GetRequestedScopes(),
		State:           store.FlowLogin,
		ExpiresAt:       s.now().Add(flowLifespan).UTC(),
	}
	blob, err := encodeRequest(ar)
	if err != nil {
		s.writeAuthorizeError(ctx, w, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return nil
	}
	flow.Request = s.flowSeal.seal(blob, "flow:"+flow.ID)
	ui := ar.GetRequestForm().Get("ui_locales") // the pages' language (OIDC Core §3.1.2.1)
	if len(ui) > store.MaxUILocales {
		ui = ""
	}
	starts := s.cfg.StartConsent != nil && s.signedInBrowser(r)
	if starts {
		fc, _ := ar.GetClient().(*fositeClient) // as checkAuthorizeRequest, which refused any other
		if shown, err := s.cfg.StartConsent(c, flow, fc.c, ui); shown {
			return err
		} else if err != nil {
			return s.flowNotStored(c, ar, flow.ID, pushed, ui, err)
		}
	}
	if _, err := s.st.CreateAuthFlow(ctx, flow); err != nil {
		return s.flowNotStored(c, ar, flow.ID, pushed, ui, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	login := url.Values{"login_challenge": {flow.ID}}
	if ui != "" {
		login.Set("ui_locales", ui)
	}
	w.Header().Set("Location", s.startURL(r, starts)+"?"+login.Encode())
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

// flowNotStored answers an authorization request whose flow id could not
// be stored (err): a pushed request's reuse (store.ErrConflict) is refused
// unless it reloads its consent page; anything else is the server's error.
func (s *Server) flowNotStored(c echo.Context, ar fosite.AuthorizeRequester, id string, pushed bool, ui string, err error) error {
	ctx, w := c.Request().Context(), s.issWriter(c)
	if pushed && errors.Is(err, store.ErrConflict) {
		if s.showsConsent(c.Request()) && s.reloadedAtConsent(ctx, id) {
			return s.cfg.ConsentPage(c, id, ui)
		}
		// As fosite refuses a request_uri it cannot open: no redirect.
		s.writeAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), fosite.ErrInvalidRequestURI.WithHint("The request_uri was used already."))
		return nil
	}
	s.writeAuthorizeError(ctx, w, ar, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
	return nil
}

// startURL is the bank's page a flow starts at: the consent page for a
// browser that carries the pages' session cookie (Config.SessionCookie),
// which that page judges, the sign-in page otherwise, and for a browser
// whose consent page Config.StartConsent did not show (started).
func (s *Server) startURL(r *http.Request, started bool) string {
	if s.signedInBrowser(r) && !started {
		return s.cfg.ConsentURL
	}
	return s.cfg.LoginURL
}

// signedInBrowser: r carries the pages' session cookie
// (Config.SessionCookie), which the consent page judges.
func (s *Server) signedInBrowser(r *http.Request) bool {
	if s.cfg.SessionCookie == "" {
		return false
	}
	ck, err := r.Cookie(s.cfg.SessionCookie)
	return err == nil && ck.Value != ""
}

// showsConsent: a reload of r's consent page is answered with the page
// (Config.ConsentPage).
func (s *Server) showsConsent(r *http.Request) bool {
	return s.cfg.ConsentPage != nil && s.signedInBrowser(r)
}

// reloadedAtConsent: the pushed request's flow id, found used, is a
// reload of its consent page: the flow is at consent (the page bound it to
// its user; at login, nobody has been shown it, and the request stays
// used). The page judges again whose it is.
func (s *Server) reloadedAtConsent(ctx context.Context, id string) bool {
	f, err := s.st.GetAuthFlow(ctx, id)
	return err == nil && f.State == store.FlowConsent
}

// allowMissingState accepts a request without state: FAPI 2.0 and certified
// clients rely on PKCE and omit it, but fosite insists on ≥ 8 characters.
// fosite checks state last, so everything else has been validated already.
func allowMissingState(ar fosite.AuthorizeRequester, err error) error {
	if err != nil && ar != nil && ar.GetState() == "" && errors.Is(err, fosite.ErrInvalidState) {
		return nil
	}
	return err
}

// checkAuthorizeRequest adds what fosite does not enforce up front, so the
// user is not asked to sign in for a request that is bound to fail.
func (s *Server) checkAuthorizeRequest(_ context.Context, r *http.Request, ar fosite.AuthorizeRequester) error {
	fc, ok := ar.GetClient().(*fositeClient)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected client type")
	}
	if err := checkClientApproved(fc); err != nil {
		return err
	}
	pushed := strings.HasPrefix(r.Form.Get("request_uri"), parURIPrefix)
	if !pushed && (s.cfg.RequirePAR || fc.c.RequirePAR) {
		return fosite.ErrInvalidRequest.WithHint("This client must use a pushed authorization request (PAR).")
	}
	if err := s.profileAuthorize(fc, pushed); err != nil {
		return err
	}
	return checkRequestParams(ar.GetRequestForm())
}

// checkRequestParams enforces PKCE S256, a usable nonce and no prompt=none
// (we always show the bank's pages).
func checkRequestParams(form url.Values) error {
	if form.Get("code_challenge") == "" {
		return fosite.ErrInvalidRequest.WithHint("Clients must include a code_challenge (PKCE with S256).")
	}
	if form.Get("code_challenge_method") != "S256" {
		return fosite.ErrInvalidRequest.WithHint("Clients must use code_challenge_method=S256, plain is not allowed.")
	}
	if n := form.Get("nonce"); n != "" && len(n) < 8 {
		return fosite.ErrInvalidRequest.WithHint("The nonce must be at least 8 characters long.")
	}
	if slices.Contains(strings.Fields(form.Get("prompt")), "none") {
		return fosite.ErrLoginRequired.WithHint("The user must sign in on the bank's pages.")
	}
	if form.Get("request") != "" {
		return fosite.ErrRequestNotSupported.WithHint("Request objects are not supported.")
	}
	return checkDPoPJKT(form["dpop_jkt"])
}

// handlePAR is the pushed authorization request endpoint (RFC 9126).
func (s *Server) handlePAR(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()
	w := c.Response()
	// A fresh nonce on every answer, as at the token endpoint: a client
	// told use_dpop_nonce here needs one for its retry.
	s.writeDPoPNonce(w.Header())
	// A signed request object (JAR) replaces the request's parameters
	// before fosite reads them.
	objectIssuer, err := s.applyRequestObject(ctx, r)
	if err != nil {
		if outage(ctx, err) {
			s.writeUnavailable(ctx, w, pathPAR, err)
			return nil
		}
		s.logOAuthError(ctx, pathPAR, err)
		s.provider.WritePushedAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), err)
		return nil
	}
	ar, err := s.provider.NewPushedAuthorizeRequest(ctx, r)
	err = allowMissingState(ar, err)
	if err == nil {
		err = checkRequestObjectClient(ar, objectIssuer)
	}
	if err == nil && r.Form.Get("redirect_uri") == "" {
		err = fosite.ErrInvalidRequest.WithHint("redirect_uri is required in a pushed authorization request.")
	}
	if err == nil {
		err = checkRedirectParam(r.Form, ar)
	}
	if err == nil {
		err = checkRequestParams(r.Form)
	}
	if fc, ok := ar.GetClient().(*fositeClient); ok && err == nil {
		err = checkClientApproved(fc)
	}
	if err == nil {
		err = s.profilePAR(ar)
	}
	if err == nil {
		err = s.parProof(ctx, r, ar)
	}
	if outage(ctx, err) {
		s.writeUnavailable(ctx, w, pathPAR, err)
		return nil
	} else if err != nil {
		s.logOAuthError(ctx, pathPAR, err)
		s.provider.WritePushedAuthorizeError(ctx, w, ar, err)
		return nil
	}
	ctx, sealed := withPushNote(ctx)
	resp, err := s.provider.NewPushedAuthorizeResponse(ctx, ar, newSession())
	if err == nil {
		resp.SetRequestURI(sealed.uri) // the request itself (pushedRequests)
	}
	if outage(ctx, err) {
		s.writeUnavailable(ctx, w, pathPAR, err)
		return nil
	} else if err != nil {
		s.logOAuthError(ctx, pathPAR, err)
		s.provider.WritePushedAuthorizeError(ctx, w, ar, err)
		return nil
	}
	s.provider.WritePushedAuthorizeResponse(ctx, w, ar, resp)
	return nil
}

// errFlow is refused without redirecting: the challenge or verifier does
// not check out, so we do not know that the browser belongs to the client.
var errFlow = fosite.ErrInvalidRequest.WithHint("The sign-in session is unknown, expired or already used; start again from the application.")

// handleResume finishes a flow the consent pages decided: it checks the
// one-time verifier, marks the flow done (single use), re-checks the user and
// the scopes the job role allows now, records the consent and redirects to
// the client with a code (or access_denied), always with iss (RFC 9207).
func (s *Server) handleResume(c echo.Context) error {
	return s.resume(c, c.QueryParam("login_challenge"), c.QueryParam("login_verifier"))
}

// Resume finishes, in the bank's pages' own request, the flow id they have
// just decided with verifier, and answers that request as GET
// /oauth2/authorize/resume would have answered the browser sent there
// (consent.Config.Resume): the browser saves a round trip, and each flow a
// request (issue 15). Every check is the resume endpoint's.
func (s *Server) Resume(c echo.Context, id, verifier string) error {
	return noteOutages(func(c echo.Context) error { return s.resume(c, id, verifier) })(c)
}

func (s *Server) resume(c echo.Context, id, verifier string) error {
	ctx := c.Request().Context()
	if id == "" || verifier == "" {
		s.writeAuthorizeError(ctx, s.issWriter(c), fosite.NewAuthorizeRequest(), errFlow)
		return nil
	}
	// The flow must be decided, unexpired and hold the hash of the
	// verifier presented; a refusal marks it done after the rollback.
	err := s.finish(c, func(ctx context.Context) (store.AuthFlow, store.Access, error) {
		return s.st.FinishAuthFlow(ctx, id, store.HashToken(verifier))
	}, func(ctx context.Context) {
		_ = s.st.SetAuthFlowState(ctx, id, store.FlowDecided, store.FlowDone)
	})
	if errors.Is(err, errFlowUsed) {
		s.writeAuthorizeError(ctx, s.issWriter(c), fosite.NewAuthorizeRequest(), errFlow)
		return nil
	}
	return err
}

// Finish is Resume for the bank's pages that decide the flow and finish
// it in one request (consent.Config.Finish): the decision d is recorded on
// the flow as the pages read it, at consent, by the statement that marks
// it done (store.FlowStore.FinishReadAuthFlow), one statement and one
// commit fewer per flow than deciding, then resuming (issue 15). Every
// other check is Resume's, and so is the answer. A flow changed since
// read is store.ErrConflict, with nothing written and nothing answered:
// the pages decide it again as they would without Finish. An Allow is
// first tried in one step on access, the flow's user's as the pages read
// it with the flow (allowAsRead).
func (s *Server) Finish(c echo.Context, read store.AuthFlow, access store.Access, d store.FlowDecision) error {
	return noteOutages(func(c echo.Context) error {
		if done := s.allowAsRead(c, read, access, d); done {
			return nil
		}
		take := func(ctx context.Context) (store.AuthFlow, store.Access, error) {
			return s.st.FinishReadAuthFlow(ctx, read, d)
		}
		// A refusal rolls the decision back with the rest: recorded again
		// outside the transaction, it sticks.
		err := s.finish(c, take, func(ctx context.Context) { _, _, _ = take(ctx) })
		if errors.Is(err, errFlowUsed) {
			return fmt.Errorf("authz: finish flow as read: %w", store.ErrConflict)
		}
		return err
	})(c)
}

// allowAsRead is the usual Allow in one store call and no transaction
// (store.FlowStore.AllowReadAuthFlow; on PostgreSQL one statement where
// finish's transaction took five round trips, issue 15). It judges as
// authorize does, on access, which the pages read with the flow in this
// request, instead of on what the flow's finish reads again a moment
// later: the grant is judged again at every use (store.JudgeGrant). The
// grant's audit event is appended by the same store call (as the grant
// with it, or neither). It answers the request and reports true when it
// recorded the Allow. When
// anything else is to be done — a denial, a refusal to send the client, an
// unreadable flow, a flow changed since read, another authorization of the
// same user and client under way — it writes nothing and reports false,
// and Finish takes its transaction, which decides and answers as before.
func (s *Server) allowAsRead(c echo.Context, read store.AuthFlow, access store.Access, d store.FlowDecision) bool {
	if d.DenyReason != "" || access.User.ID == "" || access.User.ID != read.UserID {
		return false
	}
	ctx := c.Request().Context()
	blob, err := s.flowSeal.open(read.Request, "flow:"+read.ID)
	if err != nil {
		return false
	}
	ar, err := s.store.decodeRequest(ctx, blob, nil)
	if err != nil {
		return false
	}
	ar.Session = nil
	flow := read
	flow.GrantedScopes, flow.Denied = d.GrantedScopes, false
	granted, err := s.judge(flow, access, ar)
	if err != nil {
		return false
	}
	consent := s.newConsent(access.User, ar, granted)
	bctx, batch := withTokenBatch(ctx)
	resp, err := s.issue(bctx, flow, access.User, consent, granted, ar)
	if err != nil {
		return false
	}
	_, ok, err := s.st.AllowReadAuthFlow(ctx, read, d, consent, s.grantAudit(c, access.User, consent), batch.take()...)
	if err != nil {
		// As finish answers a transaction that failed before its flow was
		// read (no redirect: nothing was written).
		s.writeAuthorizeError(ctx, s.issWriter(c), fosite.NewAuthorizeRequest(), fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return true
	}
	if !ok {
		return false
	}
	s.respond(c, s.issWriter(c), ar, resp) // audited with the grant
	return true
}

// finish issues the code of the flow that take reads and marks done (single
// use), in one transaction, and answers the request with the client's
// redirect (code, or a refusal) or, when the flow's request is unreadable,
// without one. When take finds no flow to finish (store.ErrConflict),
// nothing is answered: errFlowUsed. After a refusal to the client, stick
// marks the flow done outside the rolled-back transaction.
func (s *Server) finish(c echo.Context, take func(context.Context) (store.AuthFlow, store.Access, error), stick func(context.Context)) error {
	ctx := c.Request().Context()
	w := s.issWriter(c)
	// One statement reads the flow and marks it done (single use), in the
	// transaction that issues the code (issue 15: it was read, then marked):
	// a flow take does not match changes nothing (errFlowUsed), and
	// anything refused after it rolls the mark back with the rest.
	var (
		ar     *fosite.AuthorizeRequest
		resp   fosite.AuthorizeResponder
		change consentChange
	)
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		flow, access, err := take(ctx)
		if errors.Is(err, store.ErrConflict) {
			return errFlowUsed
		} else if err != nil {
			return &resumeError{fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())}
		}
		blob, err := s.flowSeal.open(flow.Request, "flow:"+flow.ID)
		if err != nil {
			return &resumeError{fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())}
		}
		if ar, err = s.store.decodeRequest(ctx, blob, nil); err != nil {
			// The client may have been deleted meanwhile: no redirect.
			return &resumeError{fosite.ErrInvalidClient.WithWrap(err).WithDebug(err.Error())}
		}
		ar.Session = nil
		// The code and its PKCE and OpenID Connect sessions are written
		// together, after the checks (tokenBatch).
		ctx, batch := withTokenBatch(ctx)
		if resp, change, err = s.authorize(ctx, flow, access, ar); err != nil {
			return err
		}
		if err := s.store.flushTokens(ctx, batch); err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
		return nil
	})
	var unredirected *resumeError
	switch {
	case errors.Is(err, errFlowUsed):
		return errFlowUsed
	case errors.As(err, &unredirected):
		s.writeAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), unredirected.err)
		return nil
	case err != nil && ar == nil:
		// The transaction failed before the flow was read.
		s.writeAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
		return nil
	case err != nil:
		var denied *deniedError
		if errors.As(err, &denied) {
			// The refusal itself must stick.
			stick(ctx)
			err = denied.err
		}
		s.writeAuthorizeError(ctx, w, ar, err)
		return nil
	}
	s.answer(c, w, change, ar, resp)
	return nil
}

// answer audits the consent a flow's finish recorded and redirects to the
// client with the code.
func (s *Server) answer(c echo.Context, w http.ResponseWriter, change consentChange, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) {
	s.auditConsentChange(c, change)
	s.respond(c, w, ar, resp)
}

// respond writes the authorization response resp to ar.
func (s *Server) respond(c echo.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) {
	if ar.GetState() == "" {
		resp.GetParameters().Del("state")
	}
	resp.AddParameter("iss", s.cfg.Issuer)
	s.provider.WriteAuthorizeResponse(c.Request().Context(), w, ar, resp)
}

var errFlowUsed = errors.New("authz: flow already used")

// resumeError is a resume's failure before the request is known to be the
// client's (its flow or stored request unreadable): answered without a
// redirect.
type resumeError struct{ err error }

func (e *resumeError) Error() string { return e.err.Error() }
func (e *resumeError) Unwrap() error { return e.err }

// deniedError is a refusal to the client (access_denied, login_required…)
// that still consumes the flow.
type deniedError struct{ err error }

func (e *deniedError) Error() string { return e.err.Error() }
func (e *deniedError) Unwrap() error { return e.err }

func deny(hint string) error {
	return &deniedError{err: fosite.ErrAccessDenied.WithHint(hint)}
}

// authorize re-checks the decision against the database as it is now (the
// flow's user with their assignment, role and group, read by the statement
// that finished the flow) and issues the code. It runs inside the resume
// transaction.
func (s *Server) authorize(ctx context.Context, flow store.AuthFlow, access store.Access, ar *fosite.AuthorizeRequest) (fosite.AuthorizeResponder, consentChange, error) {
	granted, err := s.judge(flow, access, ar)
	if err != nil {
		return nil, consentChange{}, err
	}
	// One connection per (user, client): the new consent replaces the
	// previous one and revokes its tokens (issue 10 §4).
	consent, err := s.st.ReplaceConsent(ctx, s.newConsent(access.User, ar, granted))
	if err != nil {
		return nil, consentChange{}, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	resp, err := s.issue(ctx, flow, access.User, consent, granted, ar)
	if err != nil {
		return nil, consentChange{}, err
	}
	// What it replaced, for the audit log: ReplaceConsent names the
	// consents it revoked (no read back).
	return resp, consentChange{user: access.User, consent: consent, replaced: consent.Replaced}, nil
}

// judge checks the flow's decision against its user's access and answers
// the scopes to grant, or the refusal to send the client (deniedError) or
// a server error.
func (s *Server) judge(flow store.AuthFlow, access store.Access, ar *fosite.AuthorizeRequest) ([]string, error) {
	fc := ar.Client.(*fositeClient)
	if flow.Denied {
		return nil, deny("The user denied the request.")
	}
	user := access.User
	if user.ID == "" {
		return nil, deny("The user cannot authorize this application.")
	}
	if err := store.JudgeUser(user); err != nil {
		return nil, deny("The user cannot authorize this application: " + err.Error() + ".")
	}
	if !fc.c.FirstParty && !user.AccountingSoftware {
		return nil, deny("Only an accounting software user can connect an accounting application.")
	}
	form := ar.GetRequestForm()
	authTime := flow.AuthTime
	if authTime.IsZero() {
		return nil, fosite.ErrServerError.WithDebug("the flow has no auth time")
	}
	if slices.Contains(strings.Fields(form.Get("prompt")), "login") && authTime.Truncate(time.Second).Before(ar.GetRequestedAt().Truncate(time.Second)) {
		return nil, &deniedError{err: fosite.ErrLoginRequired.WithHint("The user must sign in again (prompt=login).")}
	}
	if ma, err := strconv.ParseInt(form.Get("max_age"), 10, 64); err == nil && ma > 0 && authTime.Add(time.Duration(ma)*time.Second).Before(ar.GetRequestedAt()) {
		return nil, &deniedError{err: fosite.ErrLoginRequired.WithHint("The sign-in is older than max_age.")}
	}

	allowed := allowedDataScopes(access)
	granted := grantableScopes(ar.GetRequestedScopes(), flow.GrantedScopes, fc.c, user, allowed)
	if !slices.ContainsFunc(granted, isResourceScope) {
		return nil, deny("The user's job role allows none of the requested access.")
	}
	return granted, nil
}

// newConsent is the consent of user to ar's client for the scopes granted,
// granted now.
func (s *Server) newConsent(user store.User, ar *fosite.AuthorizeRequest, granted []string) store.Consent {
	return store.Consent{ID: store.NewID("cns"), UserID: user.ID, ClientID: ar.Client.GetID(), Scopes: granted, GrantedAt: s.now().UTC()}
}

// issue grants ar the scopes of consent, which the code's records name, and
// makes the code (fosite's NewAuthorizeResponse; its records go where ctx
// says, tokenBatch).
func (s *Server) issue(ctx context.Context, flow store.AuthFlow, user store.User, consent store.Consent, granted []string, ar *fosite.AuthorizeRequest) (fosite.AuthorizeResponder, error) {
	fc := ar.Client.(*fositeClient)
	ar.SetID(consent.ID)
	for _, sc := range granted {
		ar.GrantScope(sc)
	}
	grantResourceAudiences(ar, s.cfg.Issuer)
	form := ar.GetRequestForm()
	sess := userSession(fc.GetID(), user.ID, flow.AuthTime, ar.GetRequestedAt(), form.Get("nonce"), fc.c.FirstParty)
	// dpop_jkt (or the PAR request's proof, put there by parProof) binds
	// the code: its exchange must prove that key (RFC 9449 §10).
	sess.DPoPJKT = form.Get("dpop_jkt")
	return s.provider.NewAuthorizeResponse(ctx, ar, sess)
}

// grantableScopes is requested ∩ what the user agreed to ∩ what the client
// may ask ∩ what the role allows now (data scopes), plus openid, profile and
// offline_access when requested and agreed. admin is only for first-party
// clients acting for an ordinary (not accounting software) user.
func grantableScopes(requested, agreed []string, c store.Client, u store.User, allowedData []string) []string {
	var out []string
	for _, sc := range requested {
		if !slices.Contains(agreed, sc) || !slices.Contains(c.Scopes, sc) || slices.Contains(out, sc) {
			continue
		}
		switch sc {
		case store.ScopeOpenID, store.ScopeProfile, store.ScopeOfflineAccess:
			out = append(out, sc)
		case store.ScopeAccountsRead, store.ScopeStatementsRead, store.ScopeFDXAccountBasic, store.ScopeFDXAccountDetailed,
			store.ScopeFDXTransactions, store.ScopeFDXStatements, store.ScopeFDXCustomerContact:
			if slices.Contains(allowedData, sc) {
				out = append(out, sc)
			}
		case store.ScopeAdmin:
			if c.FirstParty && !u.AccountingSoftware {
				out = append(out, sc)
			}
		}
	}
	return out
}

func isResourceScope(sc string) bool {
	return store.IsDataScope(sc) || sc == store.ScopeAdmin || sc == store.ScopeOperator
}

// allowedDataScopes are the data scopes the user's own assignment's job
// role allows now (none without an assignment or role).
func allowedDataScopes(a store.Access) []string {
	if a.Assignment.ID == "" || a.Role.ID == "" {
		return nil
	}
	return store.AllowedScopes(store.EffectiveGrants(a.User, a.Role))
}

// writeAuthorizeError writes through fosite: a redirect to the client only
// when client and redirect URI were validated, otherwise a JSON error.
func (s *Server) writeAuthorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	if outage(ctx, err) {
		s.writeUnavailablePage(ctx, w, err)
		return
	}
	s.logOAuthError(ctx, pathAuthorize, err)
	if iw, ok := w.(*issResponseWriter); ok && s.cfg.ErrorPage != nil && (ar == nil || !ar.IsRedirectURIValid()) {
		// fosite would answer the customer's browser with JSON.
		rfc := fosite.ErrorToRFC6749Error(err)
		s.cfg.ErrorPage(iw.ResponseWriter, iw.req, rfc.CodeField, rfc.ErrorField)
		return
	}
	s.provider.WriteAuthorizeError(ctx, w, ar, err)
}

// issResponseWriter adds iss (RFC 9207) to every redirect fosite writes from
// the authorization endpoint, success or error, and drops an empty state
// (fosite always writes one; a request without state gets none back).
type issResponseWriter struct {
	http.ResponseWriter
	iss string
	req *http.Request // for the language of an error page
}

func (s *Server) issWriter(c echo.Context) *issResponseWriter {
	return &issResponseWriter{ResponseWriter: c.Response(), iss: s.cfg.Issuer, req: c.Request()}
}

func (w *issResponseWriter) WriteHeader(code int) {
	if code >= 300 && code < 400 {
		if loc := w.Header().Get("Location"); loc != "" {
			w.Header().Set("Location", w.withIss(loc))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *issResponseWriter) withIss(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	fix := func(q url.Values) string {
		if !q.Has("code") && !q.Has("error") {
			return ""
		}
		q.Set("iss", w.iss)
		if q.Get("state") == "" {
			q.Del("state")
		}
		return q.Encode()
	}
	if u.Fragment != "" {
		if q, err := url.ParseQuery(u.Fragment); err == nil {
			if enc := fix(q); enc != "" {
				u.Fragment = enc
				return u.String()
			}
		}
	}
	if enc := fix(u.Query()); enc != "" {
		u.RawQuery = enc
	}
	return u.String()
}
