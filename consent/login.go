package consent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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
		return h.continueSignedIn(c, s, u, challenge)
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
	res, u, err := h.authenticate(ctx, loginID, c.FormValue("password"))
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	lang, _ := languageOf(c.Request())
	l := catalogue(lang)
	switch res {
	case authFailed:
		return h.showLogin(c, http.StatusUnauthorized, flow, loginID, l.T("bad_login"), "")
	case authLocked:
		return h.showLogin(c, http.StatusForbidden, flow, loginID, l.F("locked_until", formatDateTime(u.LockedUntil)), "")
	case authAdminLocked:
		return h.showLogin(c, http.StatusForbidden, flow, loginID, l.T("locked_admin"), "")
	}
	s, err := h.startSession(c, u)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	h.log.InfoContext(ctx, "consent: signed in", "request_id", requestID(c), "user_id", u.ID)
	return h.continueSignedIn(c, s, u, challenge)
}

// authenticate checks credentials. Unknown users and users who may not sign
// in still cost one argon2 verification, so timing does not tell them apart,
// and all of them get the same authFailed.
func (h *Handler) authenticate(ctx context.Context, loginID, password string) (authResult, store.User, error) {
	now := h.now()
	if loginID == "" || password == "" || len(loginID) > 256 || len(password) > 1024 {
		store.VerifySecret(h.dummyHash, password)
		return authFailed, store.User{}, nil
	}
	u, err := h.store.GetUserByLogin(ctx, loginID)
	if errors.Is(err, store.ErrNotFound) {
		store.VerifySecret(h.dummyHash, password)
		return authFailed, store.User{}, nil
	}
	if err != nil {
		return authFailed, store.User{}, fmt.Errorf("consent: get user by login: %w", err)
	}
	switch u.Status {
	case store.UserActive, store.UserAwaitingSignIn:
	case store.UserLocked:
		// Only someone who knows the password learns that the user is locked.
		if store.VerifySecret(u.PasswordHash, password) {
			return authAdminLocked, u, nil
		}
		return authFailed, u, nil
	default: // deleted, pending approval
		store.VerifySecret(h.dummyHash, password)
		return authFailed, u, nil
	}
	if !u.LockedUntil.IsZero() && now.Before(u.LockedUntil) {
		store.VerifySecret(h.dummyHash, password)
		return authLocked, u, nil
	}
	if !store.VerifySecret(u.PasswordHash, password) {
		u, err = h.recordFailure(ctx, u.ID, now)
		if err != nil {
			return authFailed, store.User{}, err
		}
		h.log.InfoContext(ctx, "consent: sign-in failed", "user_id", u.ID, "failed_attempts", u.FailedAttempts)
		if !u.LockedUntil.IsZero() && now.Before(u.LockedUntil) {
			h.log.WarnContext(ctx, "consent: user locked after failed sign-ins", "user_id", u.ID, "until", u.LockedUntil)
			return authLocked, u, nil
		}
		return authFailed, u, nil
	}
	if u.FailedAttempts != 0 || !u.LockedUntil.IsZero() {
		u, err = h.updateUser(ctx, u.ID, func(cur store.User) (store.User, error) {
			cur.FailedAttempts = 0
			cur.LockedUntil = time.Time{}
			return cur, nil
		})
		if err != nil {
			return authFailed, store.User{}, err
		}
	}
	return authOK, u, nil
}

// recordFailure counts a failed attempt; the MaxFailedAttempts-th in a row
// locks the user for LockoutDuration. A lock that has run out starts a new
// count.
func (h *Handler) recordFailure(ctx context.Context, userID string, now time.Time) (store.User, error) {
	return h.updateUser(ctx, userID, func(u store.User) (store.User, error) {
		if !u.LockedUntil.IsZero() {
			if now.Before(u.LockedUntil) {
				return u, nil // locked meanwhile by a concurrent failure
			}
			u.LockedUntil = time.Time{}
			u.FailedAttempts = 0
		}
		u.FailedAttempts++
		if u.FailedAttempts >= h.cfg.MaxFailedAttempts {
			u.LockedUntil = now.Add(h.cfg.LockoutDuration)
		}
		return u, nil
	})
}

// updateUser is UpdateUser retried a few times when a concurrent update wins
// the compare-and-swap.
func (h *Handler) updateUser(ctx context.Context, id string, fn func(store.User) (store.User, error)) (store.User, error) {
	var err error
	for range 3 {
		var u store.User
		u, err = h.store.UpdateUser(ctx, id, fn)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	return store.User{}, fmt.Errorf("consent: update user: %w", err)
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
		return h.continueSignedIn(c, s, u, challenge)
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
		return h.continueSignedIn(c, s, u, challenge)
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
	pwHash, err := store.HashSecret(pw)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	ansHash, err := store.HashSecret(answer)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
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
	return h.continueSignedIn(c, s, u, challenge)
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
	h.setCookie(c, sessionCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, pathLogin+"?signed_out=1")
}
