package consent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/internal/scopewords"
	"github.com/bankfeed/bankfeed/store"
)

// Why a flow was denied without asking (DenyReason, for authz and the log).
const (
	reasonNotAccountingSoftware = "only an accounting software user can connect accounting software"
	reasonNoDataScope           = "the user's job role allows none of the requested data scopes"
	reasonUserDenied            = "the user denied the request"
)

// identityScopes may always be offered with a data scope.
var identityScopes = []string{store.ScopeOpenID, store.ScopeProfile, store.ScopeOfflineAccess}

// offeredScopes is requested ∩ (what the role allows now ∪ identity scopes),
// in request order without duplicates.
func offeredScopes(requested, allowed []string) []string {
	var out []string
	for _, s := range requested {
		if (slices.Contains(allowed, s) || slices.Contains(identityScopes, s)) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func hasDataScope(scopes []string) bool {
	for _, s := range scopes {
		if _, ok := store.ScopePermission[s]; ok {
			return true
		}
	}
	return false
}

// entitlement is what the user may share now: the data scopes their job role
// allows and the accounts of their account group.
type entitlement struct {
	Allowed  []string
	Accounts []store.Account
	// Entities are the legal entities of the group's accounts, by ID.
	Entities map[string]store.LegalEntity
}

// entitlementOf judges the user's business-group-overview assignment, its
// job role and account group as sessionAccess read them; no assignment
// means nothing may be shared. The accounts are listed only with
// withAccounts (the pages that show them: the consent form's POST decides
// on the scopes alone).
func (h *Handler) entitlementOf(ctx context.Context, a store.Access, withAccounts bool) (entitlement, error) {
	return h.entitlementListed(ctx, a, withAccounts, nil)
}

// listedAccounts are the accounts of the user's account group and their
// legal entities, read with the step that moved the flow to consent
// (advanceListing).
type listedAccounts struct {
	accounts []store.Account
	entities map[string]store.LegalEntity
}

// entitlementListed is entitlementOf with the accounts listed already
// (nil: not yet).
func (h *Handler) entitlementListed(ctx context.Context, a store.Access, withAccounts bool, listed *listedAccounts) (entitlement, error) {
	u := a.User
	if a.Assignment.ID == "" {
		return entitlement{}, nil
	}
	if a.Role.ID == "" {
		return entitlement{}, fmt.Errorf("consent: get job role %q: %w", a.Assignment.JobRoleID, store.ErrNotFound)
	}
	group := a.Group
	if group.ID == "" {
		return entitlement{}, fmt.Errorf("consent: get account group %q: %w", a.Assignment.AccountGroupID, store.ErrNotFound)
	}
	e := entitlement{Allowed: store.AllowedScopes(store.EffectiveGrants(u, a.Role))}
	if !withAccounts || len(group.AccountIDs) == 0 {
		return e, nil
	}
	if listed != nil {
		e.Accounts, e.Entities = store.VisibleAccounts(u, group, listed.accounts), listed.entities
		return e, nil
	}
	all, entities, err := h.store.AccountsWithEntities(ctx, u.BusinessGroupID, group.AccountIDs)
	if err != nil {
		return entitlement{}, fmt.Errorf("consent: list accounts: %w", err)
	}
	e.Accounts, e.Entities = store.VisibleAccounts(u, group, all), entities
	return e, nil
}

type accountRow struct {
	Name, Number, Currency string
	Entity, Type           string // the legal entity's name, the type in words (accountRows)
}

type consentPage struct {
	base
	Action    string
	Vendor    string
	Sees      []string
	Offline   bool
	Accounts  []accountRow
	Duration  string
	PolicyURI string
	TOSURI    string
}

type refusedPage struct {
	base
	Heading   string
	Body      string
	ReturnURL string
	Return    string
}

// consentStep loads what both the consent page and its form need, or writes
// the response itself (done=true).
type consentStep struct {
	s      store.BrowserSession
	u      store.User
	access store.Access // the user's, read with the session (entitlementOf)
	flow   store.AuthFlow
	client store.Client
	listed *listedAccounts // read as the flow moved to consent; nil: not read
}

func (h *Handler) loadConsentStep(c echo.Context, post bool) (consentStep, bool, error) {
	ctx := c.Request().Context()
	challenge := c.QueryParam("login_challenge")
	r, err := h.sessionAccessFlow(c, challenge)
	if err != nil {
		return consentStep{}, true, h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	s, access, ok := r.s, r.access, r.signedIn
	u := access.User
	if post && (!ok || !h.checkSessionCSRF(c, s)) {
		return consentStep{}, true, h.renderError(c, http.StatusForbidden, errCSRF, errors.New("consent form without a valid session or CSRF token"))
	}
	if !ok {
		// No session that stands (authz sends every browser holding the
		// session cookie here first): sign in, in the language asked for.
		var lang []string
		if ui := c.QueryParam("ui_locales"); ui != "" && len(ui) <= store.MaxUILocales {
			lang = []string{"ui_locales", ui}
		}
		return consentStep{}, true, c.Redirect(http.StatusSeeOther, withChallenge(pathLogin, challenge, lang...))
	}
	flow, flowClient := r.flow, r.client
	if r.flowErr != nil {
		return consentStep{}, true, h.flowError(c, r.flowErr)
	}
	var listed *listedAccounts
	if flow.State == store.FlowLogin && !post && !needsFirstSignIn(u) {
		// Signed in already: the flow moves to consent for the session's
		// user, as the sign-in page would move it before sending the
		// browser here, and the page is shown at once (issue 15), with the
		// accounts it lists read by the same step.
		if flow, listed, err = h.advanceListing(ctx, challenge, s, flow, access); err != nil {
			return consentStep{}, true, h.flowError(c, err)
		}
	}
	switch {
	case needsFirstSignIn(u):
		return consentStep{}, true, c.Redirect(http.StatusSeeOther, withChallenge(pathFirst, challenge))
	case flow.State == store.FlowConsent && flow.UserID == u.ID:
	case flow.State == store.FlowConsent || flow.State == store.FlowLogin:
		return consentStep{}, true, h.renderError(c, http.StatusNotFound, errExpired, errors.New("flow is not at consent for this user"))
	default:
		return consentStep{}, true, h.renderError(c, http.StatusConflict, errAnswered, fmt.Errorf("flow already %s", flow.State))
	}
	cl, err := vendorOf(flow.ClientID, flowClient)
	if err != nil {
		return consentStep{}, true, h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	return consentStep{s: s, u: u, access: access, flow: flow, client: cl, listed: listed}, false, nil
}

// handleConsent shows what the vendor asks for, or refuses (and records the
// denial so the vendor gets access_denied) when nothing may be shared.
func (h *Handler) handleConsent(c echo.Context) error {
	st, done, err := h.loadConsentStep(c, false)
	if done {
		return err
	}
	return h.showStep(c, st)
}

// showStep is handleConsent once the step is loaded: the page for st's
// flow, at consent for st's user.
func (h *Handler) showStep(c echo.Context, st consentStep) error {
	ctx := c.Request().Context()
	if st.client.FirstParty {
		return h.firstParty(c, st)
	}
	ent, err := h.entitlementListed(ctx, st.access, true, st.listed)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	offered := offeredScopes(st.flow.RequestedScopes, ent.Allowed)
	if reason := refusal(st.u, offered); reason != "" {
		return h.refuse(c, st, reason)
	}
	b := h.withSession(h.newBase(c, ""), st.s, st.u)
	b.Title = b.L.F("consent_title", st.client.Name)
	b.CSRF = st.s.CSRFToken
	p := consentPage{base: b, Action: withChallenge(pathConsent, st.flow.ID), Vendor: st.client.Name}
	p.Sees, p.Offline = describeScopes(b.L, offered)
	p.Accounts = accountRows(b.L, ent)
	if h.cfg.ConsentLifespan > 0 {
		p.Duration = b.L.F("duration_until", formatDate(h.now().Add(h.cfg.ConsentLifespan)))
	} else {
		p.Duration = b.L.T("duration_forever")
	}
	if isHTTPS(st.client.PolicyURI) {
		p.PolicyURI = st.client.PolicyURI
	}
	if isHTTPS(st.client.TOSURI) {
		p.TOSURI = st.client.TOSURI
	}
	c.Response().Header().Set("Content-Security-Policy", h.csp(redirectOrigins(st.client)...))
	return h.render(c, http.StatusOK, "consent", p)
}

// handleConsentPost records Allow or Deny on the flow and hands the browser
// back to authz with a one-time verifier. Scopes are computed again here:
// nothing in the form is trusted but the decision.
func (h *Handler) handleConsentPost(c echo.Context) error {
	st, done, err := h.loadConsentStep(c, true)
	if done {
		return err
	}
	ctx := c.Request().Context()
	if st.client.FirstParty {
		return h.firstParty(c, st)
	}
	decision := c.FormValue("decision")
	if decision != "allow" && decision != "deny" {
		return h.renderError(c, http.StatusBadRequest, errBadRequest, fmt.Errorf("unknown consent decision %q", decision))
	}
	ent, err := h.entitlementOf(ctx, st.access, false)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	offered := offeredScopes(st.flow.RequestedScopes, ent.Allowed)
	var d store.FlowDecision
	switch reason := refusal(st.u, offered); {
	case reason != "":
		d.DenyReason = reason
	case decision == "deny":
		d.DenyReason = reasonUserDenied
	default:
		d.GrantedScopes = offered
	}
	h.log.InfoContext(ctx, "consent: decided", "request_id", requestID(c), "user_id", st.u.ID,
		"client_id", st.flow.ClientID, "decision", decision, "scopes", strings.Join(offered, " "))
	return h.finish(c, st, d)
}

// finish records d on the flow and hands it back to authz: with
// Config.Finish in one statement on the flow as read (which the store
// finishes only at consent for the read's user and unchanged since:
// loadConsentStep read it so), else (or when the flow changed since read)
// by deciding it, then resuming.
func (h *Handler) finish(c echo.Context, st consentStep, d store.FlowDecision) error {
	if h.cfg.Finish != nil {
		if err := h.cfg.Finish(c, st.flow, st.access, d); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	v, err := h.decide(c.Request().Context(), st, d.GrantedScopes, d.DenyReason)
	if err != nil {
		return h.flowError(c, err)
	}
	return h.resume(c, st.flow.ID, v)
}

// firstParty completes a flow of one of the bank's own applications (the
// online-banking front end) without a consent screen: the user is using the
// bank itself. authz still bounds the scopes (admin only for ordinary users,
// data scopes by the job role), so the request's scopes are passed as agreed.
func (h *Handler) firstParty(c echo.Context, st consentStep) error {
	h.log.InfoContext(c.Request().Context(), "consent: first-party application, no consent screen", "request_id", requestID(c),
		"user_id", st.u.ID, "client_id", st.flow.ClientID)
	return h.finish(c, st, store.FlowDecision{GrantedScopes: st.flow.RequestedScopes})
}

// resume hands a decided flow back to the authorization server: in this
// request with Config.Resume, else by sending the browser to its resume
// endpoint.
func (h *Handler) resume(c echo.Context, challenge, verifier string) error {
	if h.cfg.Resume != nil {
		return h.cfg.Resume(c, challenge, verifier)
	}
	return c.Redirect(http.StatusSeeOther, resumeURL(challenge, verifier))
}

// refusal is why the flow must be denied without asking ("" if it need not).
func refusal(u store.User, offered []string) string {
	if !u.AccountingSoftware {
		return reasonNotAccountingSoftware
	}
	if !hasDataScope(offered) {
		return reasonNoDataScope
	}
	return ""
}

// refuse records the denial and explains it, with a link back to the vendor
// (through authz, which answers access_denied).
func (h *Handler) refuse(c echo.Context, st consentStep, reason string) error {
	ctx := c.Request().Context()
	v, err := h.decide(ctx, st, nil, reason)
	if err != nil {
		return h.flowError(c, err)
	}
	h.log.InfoContext(ctx, "consent: refused", "request_id", requestID(c), "user_id", st.u.ID,
		"client_id", st.flow.ClientID, "reason", reason)
	b := h.withSession(h.newBase(c, ""), st.s, st.u)
	p := refusedPage{base: b, ReturnURL: resumeURL(st.flow.ID, v), Return: b.L.F("return_to", st.client.Name)}
	if reason == reasonNotAccountingSoftware {
		p.Heading, p.Body = b.L.T("not_as_title"), b.L.F("not_as_body", st.client.Name)
	} else {
		p.Heading, p.Body = b.L.T("no_scope_title"), b.L.F("no_scope_body", st.client.Name)
	}
	p.Title = p.Heading
	return h.render(c, http.StatusForbidden, "refused", p)
}

// decide moves the flow from consent to decided (compare-and-swap) with the
// hash of a fresh verifier, which it returns.
func (h *Handler) decide(ctx context.Context, st consentStep, granted []string, denyReason string) (string, error) {
	v := store.RandomToken(32)
	now := h.now()
	_, err := h.updateFlow(ctx, st.flow.ID, st.flow, func(f store.AuthFlow) (store.AuthFlow, error) {
		if !f.ExpiresAt.IsZero() && !now.Before(f.ExpiresAt) {
			return f, fmt.Errorf("flow expired: %w", store.ErrNotFound)
		}
		if f.State != store.FlowConsent || f.UserID != st.u.ID {
			return f, fmt.Errorf("flow is %s: %w", f.State, store.ErrConflict)
		}
		f.State = store.FlowDecided
		f.Denied = denyReason != ""
		f.DenyReason = denyReason
		f.GrantedScopes = nil
		if !f.Denied {
			f.GrantedScopes = granted
		}
		f.VerifierHash = store.HashToken(v)
		return f, nil
	})
	if err != nil {
		return "", fmt.Errorf("consent: decide flow: %w", err)
	}
	return v, nil
}

func resumeURL(challenge, verifier string) string {
	q := url.Values{"login_challenge": {challenge}, "login_verifier": {verifier}}
	return pathResume + "?" + q.Encode()
}

// describeScopes puts data scopes in plain words (package scopewords,
// which the console's Connected applications shares), each once; offline
// reports offline_access.
func describeScopes(l msgs, scopes []string) (sees []string, offline bool) {
	return scopewords.Describe(l.lang, scopes), slices.Contains(scopes, store.ScopeOfflineAccess)
}

func accountRowOf(a store.Account) accountRow {
	name := a.Nickname
	if name == "" {
		name = a.ProductName
	}
	num := a.DisplayNumber
	if num == "" {
		num = store.MaskAccountNumber(a.Number)
	}
	return accountRow{Name: name, Number: num, Currency: a.Currency}
}

func isHTTPS(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// redirectOrigins are the origins of the client's registered redirect URIs.
func redirectOrigins(cl store.Client) []string {
	var out []string
	for _, r := range cl.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			continue
		}
		o := u.Scheme + "://" + u.Host
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

type connectionRow struct {
	ID, Vendor, Since, LastUsed, Label string
	Sees                               []string
	Accounts                           []accountRow // what it can see now: the user's account group
}

type connectionsPage struct {
	base
	Rows   []connectionRow
	Notice string
}

// handleConnections lists the vendors the user allowed and still stand.
func (h *Handler) handleConnections(c echo.Context) error {
	ctx := c.Request().Context()
	s, access, ok, err := h.sessionAccess(c)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, pathLogin)
	}
	u := access.User
	if needsFirstSignIn(u) {
		return c.Redirect(http.StatusSeeOther, pathFirst)
	}
	consents, err := h.store.ListConsents(ctx, u.ID)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, fmt.Errorf("consent: list consents: %w", err))
	}
	b := h.withSession(h.newBase(c, "connections"), s, u)
	b.CSRF = s.CSRFToken
	p := connectionsPage{base: b}
	if c.QueryParam("disconnected") == "1" {
		p.Notice = b.L.T("disconnected")
	}
	// The data API answers for the accounts of the user's account group
	// now, whenever the consent was given.
	ent, err := h.entitlementOf(ctx, access, true)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	accounts := accountRows(b.L, ent)
	now := h.now()
	type vendorInfo struct {
		name       string
		firstParty bool
	}
	vendors := map[string]vendorInfo{}
	for _, cs := range consents {
		if !cs.Active(now) {
			continue
		}
		v, seen := vendors[cs.ClientID]
		if !seen {
			v.name = cs.ClientID
			if cl, err := h.vendor(ctx, cs.ClientID); err == nil {
				v = vendorInfo{name: cl.Name, firstParty: cl.FirstParty}
			} else if !errors.Is(err, store.ErrNotFound) {
				return h.renderError(c, http.StatusInternalServerError, errInternal, err)
			}
			vendors[cs.ClientID] = v
		}
		// The bank's own applications (online banking) are not connections
		// the user manages here (issue 10 §4).
		if v.firstParty {
			continue
		}
		name := v.name
		row := connectionRow{ID: cs.ID, Vendor: name, Since: formatDate(cs.GrantedAt), LastUsed: b.L.T("never_used"),
			Label: b.L.F("disconnect_label", name)}
		if !cs.LastUsedAt.IsZero() {
			row.LastUsed = formatDateTime(cs.LastUsedAt)
		}
		row.Sees, _ = describeScopes(b.L, cs.Scopes)
		if hasDataScope(cs.Scopes) {
			row.Accounts = accounts
		}
		p.Rows = append(p.Rows, row)
	}
	return h.render(c, http.StatusOK, "connections", p)
}

// handleDisconnect revokes one of the user's consents and every token issued
// under it.
func (h *Handler) handleDisconnect(c echo.Context) error {
	ctx := c.Request().Context()
	s, u, ok, err := h.session(c)
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, err)
	}
	if !ok || !h.checkSessionCSRF(c, s) {
		return h.renderError(c, http.StatusForbidden, errCSRF, errors.New("disconnect without a valid session or CSRF token"))
	}
	id := c.Param("id")
	cs, err := h.store.GetConsent(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cs.UserID != u.ID) {
		return h.renderError(c, http.StatusNotFound, errNotFound, fmt.Errorf("consent %q is not the user's", id))
	}
	if err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, fmt.Errorf("consent: get consent: %w", err))
	}
	if err := h.store.RevokeConsent(ctx, id, h.now()); err != nil {
		return h.renderError(c, http.StatusInternalServerError, errInternal, fmt.Errorf("consent: revoke consent: %w", err))
	}
	h.log.InfoContext(ctx, "consent: disconnected", "request_id", requestID(c), "user_id", u.ID, "consent_id", id, "client_id", cs.ClientID)
	if cs.RevokedAt.IsZero() { // a second click revokes nothing more
		e := audit.OriginOf(c).Event(audit.ConsentRevoked, audit.Success, map[string]string{"by": audit.ByUser, "userId": u.ID, "clientId": cs.ClientID})
		e.BusinessGroupID, e.ActorID, e.TargetType, e.TargetID = u.BusinessGroupID, u.ID, "consent", cs.ID
		audit.Record(ctx, h.store, h.log, h.now(), e)
	}
	return c.Redirect(http.StatusSeeOther, pathConnections+"?disconnected=1")
}
