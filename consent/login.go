package consent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
)

type loginPage struct {
	base
	Action string
	Vendor string
	UserID string
	Error  string
	Notice string
}

// handleLogin shows the sign-in form, or reuses a valid browser session.
func (h *Handler) handleLogin(c echo.Context) error {
	ctx := c.Request().Context()
	challenge := c.QueryParam("login_challenge")
	var flow store.AuthFlow
	if challenge != "" {
		f, err := h.loadFlow(ctx, challenge)
		if err != nil {
			return h.flowError(c, err)
		}
		flow = f
	}
	s, u, ok, err := h.session(c)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	if challenge != "" && flow.State != store.FlowLogin {
		switch {
		case flow.State == store.FlowConsent && ok && flow.UserID == u.ID:
			return c.Redirect(http.StatusSeeOther, withChallenge(pathConsent, challenge))
		case flow.State == store.FlowConsent:
			return h.renderError(c, http.StatusNotFound, errExpired, errors.New("flow in consent for another browser"))
		default:
			return h.renderError(c, http.StatusConflict, errAnswered, fmt.Errorf("flow already %s", flow.State))
		}
	}
	if ok {
		return h.continueSignedIn(c, s, u, challenge, flow)
	}
	return h.showLogin(c, http.StatusOK, flow, "", "", "")
}

func (h *Handler) showLogin(c echo.Context, status int, flow store.AuthFlow, userID, errMsg, notice string) error {
	b := h.newBase(c, "sign_in_title")
	b.CSRF = h.preCSRF(c)
	p := loginPage{base: b, Action: withChallenge(pathLogin, flow.ID), UserID: userID, Error: errMsg, Notice: notice}
	if flow.ID != "" {
		if cl, err := h.vendor(c.Request().Context(), flow.ClientID); err == nil {
			p.Vendor = cl.Name
			h.allowRedirectsTo(c, cl)
		}
	}
	if notice == "" && c.QueryParam("signed_out") == "1" {
		p.Notice = b.L.T("signed_out")
	}
	return h.render(c, status, "login", p)
}

// authResult is the outcome of checking a user ID and password.
type authResult int

const (
	authOK authResult = iota
	authFailed
	authLocked      // too many failures: locked until LockedUntil
	authAdminLocked // locked by an administrator
)

// handleLoginPost checks the credentials, counts failures and locks, and
// starts a session.
func (h *Handler) handleLoginPost(c echo.Context) error {
	ctx := c.Request().Context()
	challenge := c.QueryParam("login_challenge")
	if !h.checkPreCSRF(c) {
		return h.renderError(c, http.StatusForbidden, errCSRF, errors.New("sign-in form without a valid CSRF token"))
	}
	var flow store.AuthFlow
	if challenge != "" {
		f, err := h.loadFlow(ctx, challenge)
		if err != nil {
			return h.flowError(c, err)
		}
		if f.State != store.FlowLogin {
			return h.renderError(c, http.StatusConflict, errAnswered, fmt.Errorf("sign-in for a flow already %s", f.State))
		}
		flow = f
	}
	loginID := strings.TrimSpace(c.FormValue("user_id"))
	lang, _ := languageOf(c.Request())
	l := catalogue(lang)
	// Refusals before any hashing: they count no failure and, keyed by the
	// login key of whatever was typed, answer alike for every login ID.
	if r, which, limited := h.limitSignIn(c, loginID); limited {
		if r.audit {
			h.auditRateLimited(c, flow, which, loginID)
		}
		h.cfg.Metrics.SignIn(metrics.SignInRateLimited)
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(r.retryAfter)))
		return h.showLogin(c, http.StatusTooManyRequests, flow, loginID, l.T("signin_limited"), "")
	}
	a, err := h.authenticate(ctx, loginID, c.FormValue("password"))
	if errors.Is(err, store.ErrHashBusy) {
		h.log.DebugContext(ctx, "consent: sign-in refused, password hashing busy", "request_id", requestID(c))
		h.cfg.Metrics.SignIn(metrics.SignInBusy)
		c.Response().Header().Set("Retry-After", strconv.Itoa(hashRetryAfter()))
		return h.showLogin(c, http.StatusServiceUnavailable, flow, loginID, l.T("signin_busy"), "")
	}
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	h.auditSignIn(c, flow, a)
	h.countSignIn(a)
	switch a.res {
	case authFailed:
		return h.showLogin(c, http.StatusUnauthorized, flow, loginID, l.T("bad_login"), "")
	case authLocked:
		return h.showLogin(c, http.StatusForbidden, flow, loginID, l.F("locked_until", formatDateTime(a.state.LockedUntil)), "")
	case authAdminLocked:
		return h.showLogin(c, http.StatusForbidden, flow, loginID, l.T("locked_admin"), "")
	}
	u := a.target.user
	s, err := h.startSession(c, u)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	h.log.InfoContext(ctx, "consent: signed in", "request_id", requestID(c), "user_id", u.ID)
	return h.continueSignedIn(c, s, u, challenge, flow)
}

// signInTarget is what a typed login ID names: a user who may sign in or
// is locked by an administrator, or nobody (unknown, deleted, pending
// approval) — then its failures are counted under a digest of the ID, so
// that it locks exactly like a user's (issue 10, finding 7).
type signInTarget struct {
	user  store.User // zero for nobody
	known bool
	key   string // nobody's login key
	state store.SignInState
}

func (h *Handler) signInTarget(ctx context.Context, loginID string) (signInTarget, error) {
	u, err := h.store.GetUserByLogin(ctx, loginID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return signInTarget{}, fmt.Errorf("consent: get user by login: %w", err)
	}
	if err == nil {
		switch u.Status {
		case store.UserActive, store.UserAwaitingSignIn, store.UserLocked:
			return signInTarget{user: u, known: true, state: u.SignIn()}, nil
		}
	}
	key := h.loginKey(loginID)
	f, err := h.store.GetLoginFailures(ctx, key)
	if err != nil {
		return signInTarget{}, fmt.Errorf("consent: get login failures: %w", err)
	}
	return signInTarget{key: key, state: f.SignInState}, nil
}

// loginKey is the digest under which a login ID nobody holds is counted:
// HMAC-SHA-256 under Config.LoginKeySecret, or SHA-256 without one, of the
// login ID as GetUserByLogin matches it (trimmed, case-insensitive). The
// table of failures never holds the typed IDs themselves.
func (h *Handler) loginKey(loginID string) string {
	norm := []byte(strings.ToLower(strings.TrimSpace(loginID)))
	if len(h.cfg.LoginKeySecret) == 0 {
		sum := sha256.Sum256(append([]byte("bankfeed login id\x00"), norm...))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	m := hmac.New(sha256.New, h.cfg.LoginKeySecret)
	m.Write(norm)
	return "hmac:" + hex.EncodeToString(m.Sum(nil))
}

// signInAttempt is how a sign-in went and on what.
type signInAttempt struct {
	res       authResult
	target    signInTarget // zero when nothing was looked up (an empty or oversized field)
	state     store.SignInState
	lockedNow bool // this failure started a lockout
}

// authenticate checks credentials. A known login ID and one nobody holds
// take the same steps — one argon2 verification (the dummy hash for
// nobody, or while locked), one counted failure under the same Lockout —
// so neither the answers nor their timing tell them apart, before or after
// a lockout. Counting goes through SignInStore, which leaves the user's
// Version alone: a failure must not make a pending administrative request
// stale (issue 10, finding 2).
func (h *Handler) authenticate(ctx context.Context, loginID, password string) (signInAttempt, error) {
	now := h.now()
	if loginID == "" || password == "" || len(loginID) > 256 || len(password) > 1024 {
		if _, err := h.verify(ctx, h.dummyHash, password); err != nil {
			return signInAttempt{res: authFailed}, err
		}
		return signInAttempt{res: authFailed}, nil
	}
	t, err := h.signInTarget(ctx, loginID)
	if err != nil {
		return signInAttempt{res: authFailed}, err
	}
	if t.state.Locked(now) {
		if _, err := h.verify(ctx, h.dummyHash, password); err != nil {
			return signInAttempt{res: authFailed}, err
		}
		return signInAttempt{res: authLocked, target: t, state: t.state}, nil
	}
	hash := h.dummyHash
	if t.known {
		hash = t.user.PasswordHash
	}
	// A busy hashing bound (store.ErrHashBusy) returns before anything is
	// counted: the attempt was not checked, so it is no failure.
	match, err := h.verify(ctx, hash, password)
	if err != nil {
		return signInAttempt{res: authFailed}, err
	}
	if !match || !t.known {
		st, err := h.recordFailure(ctx, t, now)
		if err != nil {
			return signInAttempt{res: authFailed}, err
		}
		h.log.InfoContext(ctx, "consent: sign-in failed", "user_id", t.user.ID, "failed_attempts", st.FailedAttempts)
		if st.Locked(now) {
			h.log.WarnContext(ctx, "consent: login ID locked after failed sign-ins", "user_id", t.user.ID, "until", st.LockedUntil)
			return signInAttempt{res: authLocked, target: t, state: st, lockedNow: true}, nil
		}
		return signInAttempt{res: authFailed, target: t, state: st}, nil
	}
	// Only someone who knows the password learns that the user is locked.
	if t.user.Status == store.UserLocked {
		return signInAttempt{res: authAdminLocked, target: t, state: t.state}, nil
	}
	if t.state != (store.SignInState{}) {
		if t.user, err = h.store.UpdateUserSignIn(ctx, t.user.ID, func(store.SignInState) store.SignInState { return store.SignInState{} }); err != nil {
			return signInAttempt{res: authFailed}, fmt.Errorf("consent: reset sign-in failures: %w", err)
		}
	}
	return signInAttempt{res: authOK, target: t, state: t.user.SignIn()}, nil
}

// Reasons of a failed sign-in in the audit log (after.reason).
const (
	reasonBadCredentials = "bad_credentials"         // wrong password, or a login ID nobody holds
	reasonLockedOut      = "locked_out"              // tried while too many failures lock the login ID
	reasonAdminLocked    = "locked_by_administrator" // the right password of a user an administrator locked
	reasonRateLimited    = "rate_limited"            // refused by a per-address or per-login-ID limit, nothing checked
)

// auditSignIn records a sign-in attempt (issue 10 §5). A user's events go
// to their business group with the user as actor and target; those of a
// login ID nobody holds go to the bank level (business group ""), named
// only by its login key, so that no business administrator learns from
// the log whether an ID exists (finding 7), and the typed ID is never kept.
// The password never is.
func (h *Handler) auditSignIn(c echo.Context, flow store.AuthFlow, a signInAttempt) {
	o := audit.OriginOf(c)
	subject := func(e store.AuditEvent) store.AuditEvent {
		switch {
		case a.target.known:
			e.BusinessGroupID, e.ActorID, e.TargetType, e.TargetID = a.target.user.BusinessGroupID, a.target.user.ID, "user", a.target.user.ID
		case a.target.key != "":
			e.TargetType, e.TargetID = "login_key", a.target.key
		}
		return e
	}
	reason := func(r string) map[string]string { return map[string]string{"reason": r} }
	var es []store.AuditEvent
	switch {
	case a.res == authOK:
		var d any // nil: no details (a typed nil map would be stored as null)
		if flow.ClientID != "" {
			d = map[string]string{"clientId": flow.ClientID}
		}
		es = append(es, o.Event(audit.SignInSucceeded, audit.Success, d))
	case a.res == authAdminLocked:
		es = append(es, o.Event(audit.SignInFailed, audit.Refused, reason(reasonAdminLocked)))
	case a.res == authLocked && !a.lockedNow:
		es = append(es, o.Event(audit.SignInFailed, audit.Refused, reason(reasonLockedOut)))
	default:
		es = append(es, o.Event(audit.SignInFailed, audit.Failure, reason(reasonBadCredentials)))
		if a.lockedNow {
			es = append(es, o.Event(audit.SignInLockedOut, audit.Failure, map[string]any{
				"failedAttempts": a.state.FailedAttempts, "lockedUntil": a.state.LockedUntil.UTC()}))
		}
	}
	ctx := c.Request().Context()
	for _, e := range es {
		audit.Record(ctx, h.store, h.log, h.now(), subject(e))
	}
}

// recordFailure counts a failed attempt of t under the Lockout rule.
func (h *Handler) recordFailure(ctx context.Context, t signInTarget, now time.Time) (store.SignInState, error) {
	if t.known {
		u, err := h.store.UpdateUserSignIn(ctx, t.user.ID, func(s store.SignInState) store.SignInState { return h.lockout.Fail(s, now) })
		if err != nil {
			return store.SignInState{}, fmt.Errorf("consent: count failed sign-in: %w", err)
		}
		return u.SignIn(), nil
	}
	f, err := h.store.UpdateLoginFailures(ctx, t.key, func(f store.LoginFailures) store.LoginFailures {
		f.SignInState = h.lockout.Fail(f.SignInState, now)
		f.ExpiresAt = h.lockout.Forget(f.SignInState)
		return f
	})
	if err != nil {
		return store.SignInState{}, fmt.Errorf("consent: count failed sign-in: %w", err)
	}
	return f.SignInState, nil
}

type question struct {
	Key, Label string
	Selected   bool
}

type firstPage struct {
	base
	Action    string
	Questions []question
	Problems  []string
}

func (h *Handler) showFirst(c echo.Context, status int, s store.BrowserSession, u store.User, challenge, selected string, problems []string) error {
	b := h.withSession(h.newBase(c, "first_title"), s, u)
	b.Links = false // nothing else works before first sign-in
	b.CSRF = s.CSRFToken
	p := firstPage{base: b, Action: withChallenge(pathFirst, challenge)}
	for _, q := range store.SecurityQuestions {
		p.Questions = append(p.Questions, question{Key: q, Label: b.L.T("q_" + q), Selected: q == selected})
	}
	for _, code := range problems {
		p.Problems = append(p.Problems, b.L.T(code))
	}
	if challenge != "" {
		if f, err := h.store.GetAuthFlow(c.Request().Context(), challenge); err == nil {
			if cl, err := h.vendor(c.Request().Context(), f.ClientID); err == nil {
				h.allowRedirectsTo(c, cl)
			}
		}
	}
	return h.render(c, status, "first", p)
}

// handleFirst shows the first sign-in form to a signed-in user who needs it.
func (h *Handler) handleFirst(c echo.Context) error {
	challenge := c.QueryParam("login_challenge")
	s, u, ok, err := h.session(c)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, withChallenge(pathLogin, challenge))
	}
	if !needsFirstSignIn(u) {
		return h.continueSignedIn(c, s, u, challenge, store.AuthFlow{})
	}
	return h.showFirst(c, http.StatusOK, s, u, challenge, "", nil)
}

// handleFirstPost replaces the temporary password and sets the security
// question and answer in one update, then moves on.
func (h *Handler) handleFirstPost(c echo.Context) error {
	ctx := c.Request().Context()
	challenge := c.QueryParam("login_challenge")
	s, u, ok, err := h.session(c)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	if !ok || !h.checkSessionCSRF(c, s) {
		return h.renderError(c, http.StatusForbidden, errCSRF, errors.New("first sign-in form without a valid session or CSRF token"))
	}
	if !needsFirstSignIn(u) {
		return h.continueSignedIn(c, s, u, challenge, store.AuthFlow{})
	}
	pw, confirm := c.FormValue("new_password"), c.FormValue("confirm_password")
	q := c.FormValue("security_question")
	answer := store.NormalizeAnswer(c.FormValue("answer"))
	var problems []string
	for _, code := range store.CheckNewPassword(pw, confirm, u.LoginID, u.PasswordHash) {
		problems = append(problems, "pw_"+code)
	}
	if !slices.Contains(store.SecurityQuestions, q) {
		problems = append(problems, "question_missing")
	}
	if n := len([]rune(answer)); n < 3 || n > 256 {
		problems = append(problems, "answer_missing")
	}
	if len(problems) > 0 {
		return h.showFirst(c, http.StatusUnprocessableEntity, s, u, challenge, q, problems)
	}
	pwHash, err := store.HashSecretContext(ctx, pw)
	if err == nil {
		answer, err = store.HashSecretContext(ctx, answer)
	}
	if errors.Is(err, store.ErrHashBusy) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(hashRetryAfter()))
		return h.renderError(c, http.StatusServiceUnavailable, errBusy, err)
	}
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	ansHash := answer
	u, err = h.store.UpdateUser(ctx, u.ID, func(cur store.User) (store.User, error) {
		// The password checked above must still be the one to replace.
		if !needsFirstSignIn(cur) || cur.PasswordHash != u.PasswordHash || !cur.CanSignIn(h.now()) {
			return cur, fmt.Errorf("user changed during first sign-in: %w", store.ErrConflict)
		}
		cur.PasswordHash = pwHash
		cur.MustChangePassword = false
		cur.SecurityQuestion = q
		cur.SecurityAnswerHash = ansHash
		cur.FailedAttempts = 0
		cur.LockedUntil = time.Time{}
		if cur.Status == store.UserAwaitingSignIn {
			cur.Status = store.UserActive
		}
		return cur, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return h.renderError(c, http.StatusConflict, errCSRF, err)
	}
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, fmt.Errorf("consent: first sign-in update: %w", err))
	}
	// A new password ends every other session, and this one is renewed.
	if err := h.store.DeleteUserBrowserSessions(ctx, u.ID); err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, fmt.Errorf("consent: end sessions: %w", err))
	}
	s, err = h.startSession(c, u)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	h.log.InfoContext(ctx, "consent: first sign-in completed", "request_id", requestID(c), "user_id", u.ID)
	e := audit.OriginOf(c).Event(audit.SignInFirstCompleted, audit.Success, nil)
	e.BusinessGroupID, e.ActorID, e.TargetType, e.TargetID = u.BusinessGroupID, u.ID, "user", u.ID
	audit.Record(ctx, h.store, h.log, h.now(), e)
	return h.continueSignedIn(c, s, u, challenge, store.AuthFlow{})
}

// handleLogout ends the browser session.
func (h *Handler) handleLogout(c echo.Context) error {
	s, _, ok, err := h.session(c)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, pathLogin)
	}
	if !h.checkSessionCSRF(c, s) {
		return h.renderError(c, http.StatusForbidden, errCSRF, errors.New("sign-out without a valid CSRF token"))
	}
	if err := h.store.DeleteBrowserSession(c.Request().Context(), s.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return h.renderError(c, http.StatusInternalServerError, errInternal, fmt.Errorf("consent: sign out: %w", err))
	}
	h.setCookie(c, SessionCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, pathLogin+"?signed_out=1")
}

// Which sign-in rate limit refused an attempt (after.limit in the audit log).
const (
	limitAddress = "client_address"
	limitLoginID = "login_id"
)

// limitSignIn spends one attempt of the client address and, if that passes,
// one of the typed login ID's login key (the digest the lockout counts
// nobody's failures under, computed alike for every ID, so a refusal tells
// nothing about whether it exists). limited=false lets the attempt through.
func (h *Handler) limitSignIn(c echo.Context, loginID string) (r limitRefusal, which string, limited bool) {
	if r, ok := h.perAddress.take(c.RealIP()); !ok {
		return r, limitAddress, true
	}
	if h.perLoginID == nil {
		return limitRefusal{}, "", false
	}
	if r, ok := h.perLoginID.take(h.loginKey(loginID)); !ok {
		return r, limitLoginID, true
	}
	return limitRefusal{}, "", false
}

// auditRateLimited records a sign-in refused by a rate limit, like other
// refused sign-ins (reason rate_limited); take lets one through per key and
// minute. A per-login-ID refusal names its subject as a failure would (the
// user in their business group, or nobody's login key at the bank level);
// a per-address one is about no login ID and stays at the bank level.
func (h *Handler) auditRateLimited(c echo.Context, flow store.AuthFlow, which, loginID string) {
	ctx := c.Request().Context()
	e := audit.OriginOf(c).Event(audit.SignInFailed, audit.Refused, map[string]string{"reason": reasonRateLimited, "limit": which})
	if which == limitLoginID && loginID != "" && len(loginID) <= 256 {
		t, err := h.signInTarget(ctx, loginID)
		if err != nil {
			h.log.WarnContext(ctx, "consent: rate-limited sign-in not audited", "request_id", requestID(c), "err", err)
			return
		}
		switch {
		case t.known:
			e.BusinessGroupID, e.ActorID, e.TargetType, e.TargetID = t.user.BusinessGroupID, t.user.ID, "user", t.user.ID
		default:
			e.TargetType, e.TargetID = "login_key", t.key
		}
	}
	h.log.InfoContext(ctx, "consent: sign-in rate limited", "request_id", requestID(c), "limit", which)
	audit.Record(ctx, h.store, h.log, h.now(), e)
}

// hashRetryAfter is the Retry-After of a sign-in refused because password
// hashing is busy: the bound's queue timeout, at least a second.
func hashRetryAfter() int {
	return retryAfterSeconds(store.CurrentHashStats().Limits.QueueTimeout)
}

// allowRedirectsTo lets the page's form lead to cl's redirect origins: a
// browser (Chromium) applies form-action to the redirects after a post, and
// a first-party client has no consent page, so signing in goes through
// resume straight to the client's origin (the consent page does the same).
func (h *Handler) allowRedirectsTo(c echo.Context, cl store.Client) {
	c.Response().Header().Set("Content-Security-Policy", h.csp(redirectOrigins(cl)...))
}
