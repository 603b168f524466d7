package authz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fstorage "github.com/ory/fosite/storage"

	"github.com/bankfeed/bankfeed/store"
)

// fositeStore adapts store.Store to fosite's storage interfaces. It is the
// only code that maps store sentinels to fosite's (store.ErrNotFound →
// fosite.ErrNotFound, an inactive code → ErrInvalidatedAuthorizeCode, an
// inactive refresh token → ErrInactiveToken), always returning the hydrated
// request with those errors so fosite can revoke the grant family.
type fositeStore struct {
	st          store.Store
	seal        *sealer
	now         func() time.Time
	grace       time.Duration // refresh-token rotation grace period
	parLifespan time.Duration
	pushed      *pushedRequests
	lifespans   map[fosite.TokenType]time.Duration

	clients sync.Map // client ID → cachedClient
	// decoded holds access tokens' decoded requests (open); nil: none.
	decoded *sigCache[decodedRequest]
}

var (
	_ fosite.ClientManager                 = (*fositeStore)(nil)
	_ oauth2.CoreStorage                   = (*fositeStore)(nil)
	_ oauth2.TokenRevocationStorage        = (*fositeStore)(nil)
	_ oauth2.ClientCredentialsGrantStorage = (*fositeStore)(nil)
	_ pkce.PKCERequestStorage              = (*fositeStore)(nil)
	_ openid.OpenIDConnectRequestStorage   = (*fositeStore)(nil)
	_ fosite.PARStorage                    = (*fositeStore)(nil)
	_ fstorage.Transactional               = (*fositeStore)(nil)
)

type cachedClient struct {
	c      *fositeClient
	expiry time.Time
}

// GetClient returns the client, from a copy at most clientCacheTTL old.
func (a *fositeStore) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	return a.client(ctx, id)
}

func (a *fositeStore) client(ctx context.Context, id string) (*fositeClient, error) {
	if id == "" {
		return nil, fmt.Errorf("authz: empty client id: %w", fosite.ErrNotFound)
	}
	now := a.now()
	if v, ok := a.clients.Load(id); ok {
		if cc := v.(cachedClient); now.Before(cc.expiry) {
			return cc.c, nil
		}
	}
	c, err := a.st.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		a.clients.Delete(id)
		return nil, fmt.Errorf("authz: client not found: %w", fosite.ErrNotFound)
	} else if err != nil {
		return nil, noteOutage(ctx, fmt.Errorf("authz: get client: %w", err))
	}
	fc, err := newFositeClient(c, a.now)
	if err != nil {
		return nil, err
	}
	a.clients.Store(id, cachedClient{c: fc, expiry: now.Add(clientCacheTTL)})
	return fc, nil
}

// ClientAssertionJWTValid reports fosite.ErrJTIKnown for a jti already used.
func (a *fositeStore) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	used, err := a.st.JTIUsed(ctx, jti, a.now())
	if err != nil {
		return noteOutage(ctx, fmt.Errorf("authz: jti lookup: %w", err))
	}
	if used {
		return fosite.ErrJTIKnown
	}
	return nil
}

// SetClientAssertionJWT records a jti until exp (single use).
func (a *fositeStore) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	if err := a.st.UseJTI(ctx, jti, exp); errors.Is(err, store.ErrConflict) {
		return fosite.ErrJTIKnown
	} else if err != nil {
		return noteOutage(ctx, fmt.Errorf("authz: record jti: %w", err))
	}
	return nil
}

// storedRequest is the serialized form of a fosite request (and, for codes,
// PAR and flows, of an authorize request).
type storedRequest struct {
	ID                string     `json:"id"`
	RequestedAt       time.Time  `json:"requested_at"`
	ClientID          string     `json:"client_id"`
	RequestedScope    []string   `json:"scopes,omitempty"`
	GrantedScope      []string   `json:"granted_scopes,omitempty"`
	RequestedAudience []string   `json:"audience,omitempty"`
	GrantedAudience   []string   `json:"granted_audience,omitempty"`
	Form              url.Values `json:"form,omitempty"`
	// Session is the fosite.Session itself, encoded and decoded in the
	// request's own pass (a separate json.RawMessage was marshalled, then
	// compacted into the request, and scanned twice when read: issue 15).
	// Decoding needs the session to fill here (parseRequest); nil after.
	Session any `json:"session,omitempty"`

	Authorize           bool     `json:"authorize,omitempty"`
	ResponseTypes       []string `json:"response_types,omitempty"`
	RedirectURI         string   `json:"redirect_uri,omitempty"`
	State               string   `json:"state,omitempty"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	DefaultResponseMode string   `json:"default_response_mode,omitempty"`
}

// storedForm copies a form without client credentials, which must not be
// kept (a pushed request's form still holds the client assertion), and
// without the request_uri that brought a pushed request to authorization:
// nothing reads it afterwards, and at about 1.2 KB it took a flow's row
// past PostgreSQL's TOAST threshold, two TOAST rows more per flow (issue 15).
func storedForm(f url.Values) url.Values {
	if f == nil {
		return nil
	}
	out := make(url.Values, len(f))
	for k, v := range f {
		switch k {
		case "client_assertion", "client_assertion_type", "client_secret", "request_uri":
			continue
		}
		out[k] = v
	}
	return out
}

// encodeRequest is a request as stored. The stored requests' codec is
// github.com/goccy/go-json, not encoding/json: their JSON was about 14 % of
// the server's CPU in a flow (issue 15). It writes encoding/json's bytes and
// reads them alike (TestStoredRequestCodecMatchesEncodingJSON), so records
// written by either release read the same during a rolling upgrade.
func encodeRequest(req fosite.Requester) ([]byte, error) { return encodeRequestSession(req, true) }

// encodeRequestSession is encodeRequest, without the session unless
// withSession: a PKCE record's request is read for its form alone (fosite's
// PKCE handler compares the verifier with the challenge in it), and an
// OpenID Connect session's is read in the code exchange with the session
// the code's record restored already (GetOpenIDConnectSession), so their
// copies of the session were encoded at every authorization and decoded
// at every code exchange for nothing (issue 15).
func encodeRequestSession(req fosite.Requester, withSession bool) ([]byte, error) {
	b, err := json.Marshal(storedRequestOf(req, withSession))
	if err != nil {
		return nil, fmt.Errorf("authz: encode request: %w", err)
	}
	return b, nil
}

// storedRequestOf is what encodeRequestSession encodes of req.
func storedRequestOf(req fosite.Requester, withSession bool) storedRequest {
	sr := storedRequest{
		ID:                req.GetID(),
		RequestedAt:       req.GetRequestedAt().UTC(),
		RequestedScope:    req.GetRequestedScopes(),
		GrantedScope:      req.GetGrantedScopes(),
		RequestedAudience: req.GetRequestedAudience(),
		GrantedAudience:   req.GetGrantedAudience(),
		Form:              storedForm(req.GetRequestForm()),
	}
	if c := req.GetClient(); c != nil {
		sr.ClientID = c.GetID()
	}
	if s := req.GetSession(); s != nil && withSession {
		sr.Session = s
		if s, ok := s.(*Session); ok {
			sr.Session = s.stored()
		}
	}
	if ar, ok := req.(fosite.AuthorizeRequester); ok {
		sr.Authorize = true
		sr.ResponseTypes = ar.GetResponseTypes()
		if u := ar.GetRedirectURI(); u != nil {
			sr.RedirectURI = u.String()
		}
		sr.State = ar.GetState()
		sr.ResponseMode = string(ar.GetResponseMode())
		sr.DefaultResponseMode = string(ar.GetDefaultResponseMode())
	}
	return sr
}

// decodeRequest rebuilds a request; the session is unmarshalled into sess
// (fosite passes the empty session it wants filled) or a new Session.
func (a *fositeStore) decodeRequest(ctx context.Context, b []byte, sess fosite.Session) (*fosite.AuthorizeRequest, error) {
	sr, sess, err := parseRequest(b, sess)
	if err != nil {
		return nil, err
	}
	return a.buildRequest(ctx, &sr, sess, ownCopies)
}

// parseRequest unmarshals a stored request, its session into sess (or a
// new Session when sess is nil).
func parseRequest(b []byte, sess fosite.Session) (storedRequest, fosite.Session, error) {
	if sess == nil {
		sess = newSession()
	}
	// The codec, like encoding/json, decodes into the value an interface
	// field points to when it holds a non-nil pointer (every fosite.Session
	// is one); JSON null leaves sess as it was and the field nil.
	sr := storedRequest{Session: sess}
	if err := json.Unmarshal(b, &sr); err != nil {
		return sr, nil, fmt.Errorf("authz: decode request: %w", err)
	}
	if sr.Session != nil && sr.Session != any(sess) {
		return sr, nil, fmt.Errorf("authz: decode request: session of type %T not decoded in place", sess)
	}
	sr.Session = nil // decoded into sess
	return sr, sess, nil
}

// How buildRequest treats a stored request's slices and form.
const (
	ownCopies    = false // the request gets copies of its own
	sharedFields = true  // the request holds sr's own (read-only use: readGrant)
)

// buildRequest is the request sr describes, with sess as its session. The
// request gets its own copies of sr's slices and form unless share: sr may
// be a cached one (decodedRequest) and fosite appends to a request's
// scopes. A shared request must only be read.
func (a *fositeStore) buildRequest(ctx context.Context, sr *storedRequest, sess fosite.Session, share bool) (*fosite.AuthorizeRequest, error) {
	c, err := a.client(ctx, sr.ClientID)
	if err != nil {
		return nil, err
	}
	own := slices.Clone[[]string]
	if share {
		own = func(v []string) []string { return v }
	}
	ar := fosite.NewAuthorizeRequest()
	ar.ID = sr.ID
	ar.RequestedAt = sr.RequestedAt
	ar.Client = c
	ar.RequestedScope = fosite.Arguments(own(sr.RequestedScope))
	ar.GrantedScope = fosite.Arguments(own(sr.GrantedScope))
	ar.RequestedAudience = fosite.Arguments(own(sr.RequestedAudience))
	ar.GrantedAudience = fosite.Arguments(own(sr.GrantedAudience))
	if share {
		ar.Form = sr.Form
	} else if sr.Form != nil {
		ar.Form = make(url.Values, len(sr.Form))
		for k, v := range sr.Form {
			ar.Form[k] = slices.Clone(v)
		}
	}
	ar.Session = sess
	ar.ResponseTypes = fosite.Arguments(own(sr.ResponseTypes))
	if sr.RedirectURI != "" {
		u, err := url.Parse(sr.RedirectURI)
		if err != nil {
			return nil, fmt.Errorf("authz: decode redirect URI: %w", err)
		}
		ar.RedirectURI = u
	}
	ar.State = sr.State
	if sr.ResponseMode != "" {
		ar.ResponseMode = fosite.ResponseModeType(sr.ResponseMode)
	}
	ar.DefaultResponseMode = fosite.ResponseModeType(sr.DefaultResponseMode)
	return ar, nil
}

func recordAD(kind store.TokenKind, sig string) string { return string(kind) + ":" + sig }

// create stores a token record of kind under sig.
func (a *fositeStore) create(ctx context.Context, kind store.TokenKind, sig, accessSig string, req fosite.Requester, expires time.Time) error {
	b, err := encodeRequestSession(req, kind != store.TokenPKCE && kind != store.TokenOIDC)
	if err != nil {
		return err
	}
	rec := store.TokenRecord{
		Kind:            kind,
		Signature:       sig,
		RequestID:       req.GetID(),
		Active:          true,
		RequestedAt:     req.GetRequestedAt().UTC(),
		ExpiresAt:       expires.UTC(),
		AccessSignature: accessSig,
		TokenType:       "bearer",
		Request:         a.seal.seal(b, recordAD(kind, sig)),
	}
	if c := req.GetClient(); c != nil {
		rec.ClientID = c.GetID()
	}
	if s := req.GetSession(); s != nil {
		rec.Subject = s.GetSubject()
	}
	if s, ok := req.GetSession().(*Session); ok && s.DPoPJKT != "" && (kind == store.TokenAccess || kind == store.TokenRefresh) {
		rec.TokenType, rec.KeyThumbprint = "DPoP", s.DPoPJKT
	} else if ok && s.CertThumbprint != "" && (kind == store.TokenAccess || kind == store.TokenRefresh) {
		rec.KeyThumbprint = x5tPrefix + s.CertThumbprint // still a bearer token (RFC 8705 §3)
	}
	if b := tokenBatchOf(ctx); b != nil {
		b.add(rec) // written when the transaction commits (flushTokens)
		return nil
	}
	return createError(string(kind), a.st.CreateToken(ctx, rec))
}

// createError maps the store's refusal of new records to fosite's.
func createError(what string, err error) error {
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("authz: create %s: %w", what, fosite.ErrSerializationFailure)
	} else if err != nil {
		return fmt.Errorf("authz: create %s: %w", what, err)
	}
	return nil
}

// flushTokens writes the records b collected, in one statement; nil when
// there are none.
func (a *fositeStore) flushTokens(ctx context.Context, b *tokenBatch) error {
	return createError("tokens", a.createTokens(ctx, b.take()))
}

// introspectingKey marks the ctx of an introspection: the access and
// refresh tokens it reads are judged (judgedGet).
type introspectingKey struct{}

// get loads a token record and its request; fosite.ErrNotFound if missing.
// During an introspection, an access or refresh token is read with its
// grant and judged (judgedGet); at the token endpoint, a code or refresh
// token is read with its grant's records (exchangeNote).
func (a *fositeStore) get(ctx context.Context, kind store.TokenKind, sig string, sess fosite.Session) (store.TokenRecord, *fosite.AuthorizeRequest, error) {
	if on, _ := ctx.Value(introspectingKey{}).(bool); on && (kind == store.TokenAccess || kind == store.TokenRefresh) {
		return a.judgedGet(ctx, kind, sig, sess)
	}
	if n := exchangeNoteOf(ctx); n != nil && (kind == store.TokenAuthorizeCode || kind == store.TokenRefresh) {
		// A token grant: its records come with it, for grantPolicy.
		rec, acc, err := a.grantRecords(ctx, n, kind, sig)
		if err == nil && rec.RequestID != "" && rec.Subject != "" {
			n.rememberGrant(rec.RequestID, rec.Subject, acc)
		}
		return a.open(ctx, kind, sig, sess, rec, err)
	}
	rec, err := a.st.GetToken(ctx, kind, sig)
	return a.open(ctx, kind, sig, sess, rec, err)
}

// judgedGet is get for introspection: the record, its consent and its user
// in one read (store.GetTokenGrant), and a user grant that no longer stands
// by store.JudgeGrant — consent revoked, expired or replaced, user locked
// by an administrator or deleted — is reported inactive
// (fosite.ErrInactiveToken), as the token endpoint and the data API would
// refuse it. Only introspection: the refresh grant reads refresh tokens
// with get, because to fosite an inactive refresh token is a reuse, which
// would revoke the grant for good.
func (a *fositeStore) judgedGet(ctx context.Context, kind store.TokenKind, sig string, sess fosite.Session) (store.TokenRecord, *fosite.AuthorizeRequest, error) {
	rec, acc, req, err := a.readGrant(ctx, kind, sig, sess)
	if err != nil || rec.Subject == "" {
		return rec, req, err // a client_credentials grant has no user to judge
	}
	s, _ := req.GetSession().(*Session)
	g := store.Grant{RequestID: rec.RequestID, ClientID: rec.ClientID, UserID: rec.Subject, Scopes: req.GetGrantedScopes(),
		FirstParty: s != nil && s.FirstParty}
	if _, err := store.JudgeGrant(g, acc, a.now(), false); errors.Is(err, store.ErrGrantEnded) {
		return rec, req, fmt.Errorf("authz: %s: %w: %w", kind, err, fosite.ErrInactiveToken)
	} else if err != nil {
		return rec, nil, fmt.Errorf("authz: judge %s: %w", kind, err)
	}
	return rec, req, nil
}

// readGrant reads the record with its grant (store.GetTokenGrant) and
// opens its request. An access token whose request this replica decoded
// already is read without it (store.GetTokenGrantState): a record's sealed
// request never changes once written (as grantCache relies on), and its
// ~1 KB was sent on every introspection only to be compared (issue 15).
// That request is handed out shared, not copied (decodedRequest.sharedInto,
// buildRequest): only introspection reads grants here, and it changes
// nothing of the request it is given (TestIntrospectionChangesNoDecodedRequest).
func (a *fositeStore) readGrant(ctx context.Context, kind store.TokenKind, sig string, sess fosite.Session) (store.TokenRecord, store.Access, *fosite.AuthorizeRequest, error) {
	if kind == store.TokenAccess && a.decoded != nil {
		if d, ok := a.decoded.get(sig); ok {
			if s, ok := d.sharedInto(sess); ok {
				rec, acc, err := a.st.GetTokenGrantState(ctx, kind, sig)
				if err := readError(ctx, kind, err); err != nil {
					return rec, acc, nil, err
				}
				req, err := a.buildRequest(ctx, &d.req, s, sharedFields)
				return rec, acc, req, err
			}
		}
	}
	rec, acc, err := a.st.GetTokenGrant(ctx, kind, sig)
	rec, req, err := a.open(ctx, kind, sig, sess, rec, err)
	return rec, acc, req, err
}

// readError is the error of a token record's read, for fosite: its
// ErrNotFound for a record not found, an outage noted (noteOutage).
func readError(ctx context.Context, kind store.TokenKind, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("authz: %s not found: %w", kind, fosite.ErrNotFound)
	} else if err != nil {
		return noteOutage(ctx, fmt.Errorf("authz: get %s: %w", kind, err))
	}
	return nil
}

// open decodes the request of a record just read (err: the read's error).
// An access token's decoded request is kept (a.decoded) and reused while
// the record read holds the very bytes it was decoded from: introspection
// decoded the same request's JSON on every call. The record itself —
// activity, expiry, the grant — is still read and judged every time.
func (a *fositeStore) open(ctx context.Context, kind store.TokenKind, sig string, sess fosite.Session, rec store.TokenRecord, err error) (store.TokenRecord, *fosite.AuthorizeRequest, error) {
	if err := readError(ctx, kind, err); err != nil {
		return rec, nil, err
	}
	cacheable := kind == store.TokenAccess && a.decoded != nil
	if cacheable {
		if d, ok := a.decoded.get(sig); ok && bytes.Equal(d.sealed, rec.Request) {
			if s, ok := d.sessionInto(sess); ok {
				req, err := a.buildRequest(ctx, &d.req, s, ownCopies)
				return rec, req, err
			}
		}
	}
	b, err := a.seal.open(rec.Request, recordAD(kind, sig))
	if err != nil {
		return rec, nil, err
	}
	sr, sess, err := parseRequest(b, sess)
	if err != nil {
		return rec, nil, err
	}
	if s, ok := sess.(*Session); ok && cacheable {
		a.decoded.put(sig, decodedRequest{sealed: bytes.Clone(rec.Request), req: sr, sess: s.deepCopy()}, rec.ExpiresAt, a.now())
	}
	req, err := a.buildRequest(ctx, &sr, sess, ownCopies)
	if err != nil {
		return rec, nil, err
	}
	return rec, req, nil
}

// expiry is the stored expiry of a new code or token: the lifespan from
// now on the server's clock (Config.Now), which judges it (Verify, the
// store's reads). fosite stamps its session with time.Now and judges that
// stamp with time.Now; taking its stamp here mixed the two clocks, so a
// server whose clock differs from time.Now stored codes born expired.
// Every token type stored has a configured lifespan; the session's stamp
// stays the fallback.
func (a *fositeStore) expiry(req fosite.Requester, t fosite.TokenType) time.Time {
	if l, ok := a.lifespans[t]; ok && l > 0 {
		return a.now().Add(l)
	}
	if s := req.GetSession(); s != nil {
		if e := s.GetExpiresAt(t); !e.IsZero() {
			return e
		}
	}
	return a.now()
}

func notFoundOK(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// --- authorization codes ---

func (a *fositeStore) CreateAuthorizeCodeSession(ctx context.Context, sig string, req fosite.Requester) error {
	return a.create(ctx, store.TokenAuthorizeCode, sig, "", req, a.expiry(req, fosite.AuthorizeCode))
}

// GetAuthorizeCodeSession: fosite reads the code twice in one exchange;
// the second takes the record the first one read (exchangeNote).
func (a *fositeStore) GetAuthorizeCodeSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	n := exchangeNoteOf(ctx)
	var rec store.TokenRecord
	var req *fosite.AuthorizeRequest
	var err error
	if first, ok := n.code(sig); ok {
		rec, req, err = a.open(ctx, store.TokenAuthorizeCode, sig, sess, first, nil)
	} else {
		rec, req, err = a.get(ctx, store.TokenAuthorizeCode, sig, sess)
		if err == nil && rec.Active && n != nil {
			n.rememberCode(sig, rec)
		}
	}
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession marks the code used: of two concurrent
// exchanges of one code only one wins (store.TokenStore.ConsumeToken). In a
// deferred transaction (BeginTX) it only notes the code: the commit
// consumes it with the new tokens (spend).
func (a *fositeStore) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	return a.spend(ctx, store.TokenAuthorizeCode, sig)
}

// invalidate is InvalidateAuthorizeCodeSession's step, in ctx's
// transaction.
func (a *fositeStore) invalidate(ctx context.Context, sig string) error {
	if _, err := a.st.ConsumeToken(ctx, store.TokenAuthorizeCode, sig); errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("authz: code already used: %w", fosite.ErrInvalidatedAuthorizeCode)
	} else if err != nil {
		return fmt.Errorf("authz: invalidate code: %w", err)
	}
	return nil
}

// --- access tokens ---

func (a *fositeStore) CreateAccessTokenSession(ctx context.Context, sig string, req fosite.Requester) error {
	return a.create(ctx, store.TokenAccess, sig, "", req, a.expiry(req, fosite.AccessToken))
}

func (a *fositeStore) GetAccessTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	rec, req, err := a.get(ctx, store.TokenAccess, sig, sess)
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

func (a *fositeStore) DeleteAccessTokenSession(ctx context.Context, sig string) error {
	if err := notFoundOK(a.st.DeleteToken(ctx, store.TokenAccess, sig)); err != nil {
		return fmt.Errorf("authz: delete access token: %w", err)
	}
	return nil
}

// --- refresh tokens ---

func (a *fositeStore) CreateRefreshTokenSession(ctx context.Context, sig, accessSig string, req fosite.Requester) error {
	return a.create(ctx, store.TokenRefresh, sig, accessSig, refreshRecordRequest(req), a.expiry(req, fosite.RefreshToken))
}

// GetRefreshTokenSession treats a rotated token as still valid during the
// grace period (a retried network request gets a fresh pair in the same
// family), provided the grant itself still stands; otherwise an inactive
// token is reported as ErrInactiveToken with its request, which makes fosite
// revoke the whole family (reuse detection).
func (a *fositeStore) GetRefreshTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	rec, req, err := a.get(ctx, store.TokenRefresh, sig, sess)
	if err != nil {
		return nil, err
	}
	if rec.Active {
		return req, nil
	}
	if on, _ := ctx.Value(introspectingKey{}).(bool); on {
		return req, fosite.ErrInactiveToken // rotated: no longer the grant's token
	}
	if a.inGrace(rec) {
		c, err := a.st.GetConsent(ctx, rec.RequestID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("authz: consent of refresh token: %w", err)
		}
		if err == nil && c.Active(a.now()) {
			if on, _ := ctx.Value(revokingKey{}).(bool); on {
				// A revocation spends nothing: fosite checks the requesting
				// client owns the token only after this read, and another
				// client's request must change nothing (RFC 7009 §2.1).
				// The owner's revocation ends the family anyway.
				return req, nil
			}
			err := a.spendRetry(ctx, rec)
			if err == nil {
				return req, nil
			} else if !errors.Is(err, errRetrySpent) {
				return nil, err
			}
			// A second reuse: the token was stolen, or the client is broken.
		}
	}
	return req, fosite.ErrInactiveToken
}

// revokingKey marks the ctx of a revocation request (handleRevoke).
type revokingKey struct{}

// errRetrySpent: the rotated refresh token's one retry was used already.
var errRetrySpent = errors.New("authz: refresh token retry already used")

// spendRetry uses up the one retry a rotated refresh token has inside the
// grace period, in the database (used_jtis), so every replica agrees and
// each rotation opens at most one more branch of the family. It is noted
// in ctx (retrySpent) so that the same request's rotation does not spend
// it again.
func (a *fositeStore) spendRetry(ctx context.Context, rec store.TokenRecord) error {
	err := a.st.UseJTI(ctx, "refresh-retry:"+rec.Signature, rec.FirstUsedAt.Add(a.grace))
	if errors.Is(err, store.ErrConflict) {
		return errRetrySpent
	} else if err != nil {
		return noteOutage(ctx, fmt.Errorf("authz: refresh token retry: %w", err))
	}
	if h, ok := ctx.Value(retryKey{}).(*retryNote); ok {
		h.spent.Store(true)
	}
	return nil
}

// retryNote, in a token request's ctx, says whether the request spent its
// refresh token's retry (withRetryNote).
type retryNote struct{ spent atomic.Bool }

type retryKey struct{}

func withRetryNote(ctx context.Context) context.Context {
	return context.WithValue(ctx, retryKey{}, &retryNote{})
}

func retrySpent(ctx context.Context) bool {
	h, ok := ctx.Value(retryKey{}).(*retryNote)
	return ok && h.spent.Load()
}

func (a *fositeStore) inGrace(rec store.TokenRecord) bool {
	return a.grace > 0 && !rec.FirstUsedAt.IsZero() && a.now().Before(rec.FirstUsedAt.Add(a.grace))
}

func (a *fositeStore) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	ctx, err := a.inTx(ctx)
	if err != nil {
		return err
	}
	if err := notFoundOK(a.st.DeleteToken(ctx, store.TokenRefresh, sig)); err != nil {
		return fmt.Errorf("authz: delete refresh token: %w", err)
	}
	return nil
}

// RotateRefreshToken marks the old refresh token used (keeping the time of
// its first use for the grace period) and, in the same store call,
// deactivates the access token that was issued with it. A token that was
// already rotated passes only inside the grace period; a lost race outside
// it is a serialization failure that fosite reports as "retry".
//
// In a deferred transaction (BeginTX) it only notes the token: the commit
// rotates it with the new tokens (spend).
func (a *fositeStore) RotateRefreshToken(ctx context.Context, _ string, sig string) error {
	return a.spend(ctx, store.TokenRefresh, sig)
}

// rotate is RotateRefreshToken's steps, in ctx's transaction.
func (a *fositeStore) rotate(ctx context.Context, sig string) error {
	prev, err := a.st.RotateRefreshToken(ctx, sig, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("authz: rotate refresh token: %w", fosite.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("authz: rotate refresh token: %w", err)
	}
	if !prev.Active && !a.inGrace(prev) {
		return fmt.Errorf("authz: refresh token already rotated: %w", fosite.ErrSerializationFailure)
	}
	if !prev.Active && !retrySpent(ctx) {
		// Read while still active, rotated meanwhile by a concurrent
		// request: this one is the retry, if it is still to be had.
		if err := a.spendRetry(ctx, prev); errors.Is(err, errRetrySpent) {
			return fmt.Errorf("authz: refresh token already rotated and retried: %w", fosite.ErrSerializationFailure)
		} else if err != nil {
			return err
		}
	}
	// The access token issued with prev was ended by the rotation that saw
	// prev active: this one, or the concurrent one this retry follows.
	return nil
}

// RevokeRefreshToken revokes a grant family. For a user grant the family is
// the consent (request ID = consent ID), so the consent is revoked with every
// token it issued: refresh-token reuse, code reuse or the client revoking its
// refresh token all end the connection, and the user sees it as such.
//
// A consent this call revoked (it stood before) is noted in ctx for the
// handler's audit event (noteEnded).
func (a *fositeStore) RevokeRefreshToken(ctx context.Context, requestID string) error {
	ctx, err := a.inTx(ctx)
	if err != nil {
		return err
	}
	c, err := a.st.GetConsent(ctx, requestID)
	if err == nil {
		err = a.st.RevokeConsent(ctx, requestID, a.now())
	}
	if err == nil {
		if c.RevokedAt.IsZero() {
			noteEnded(ctx, c)
		}
		return nil
	}
	// ErrNotFound: a grant without consent; ErrConflict: already revoked.
	if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("authz: revoke consent: %w", err)
	}
	if err := a.st.RevokeTokens(ctx, store.TokenRefresh, requestID); err != nil {
		return fmt.Errorf("authz: revoke refresh tokens: %w", err)
	}
	return nil
}

// RevokeAccessToken deactivates every access token of the family.
func (a *fositeStore) RevokeAccessToken(ctx context.Context, requestID string) error {
	ctx, err := a.inTx(ctx)
	if err != nil {
		return err
	}
	if err := a.st.RevokeTokens(ctx, store.TokenAccess, requestID); err != nil {
		return fmt.Errorf("authz: revoke access tokens: %w", err)
	}
	return nil
}

// --- PKCE ---

func (a *fositeStore) CreatePKCERequestSession(ctx context.Context, sig string, req fosite.Requester) error {
	return a.create(ctx, store.TokenPKCE, sig, "", req, a.expiry(req, fosite.AuthorizeCode))
}

// GetPKCERequestSession takes the session in a code exchange
// (exchangeNote): fosite deletes it next anyway.
func (a *fositeStore) GetPKCERequestSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	rec, err := a.readSession(ctx, store.TokenPKCE, sig)
	_, req, err := a.open(ctx, store.TokenPKCE, sig, sess, rec, err)
	if err != nil {
		return nil, err
	}
	return req, nil
}

func (a *fositeStore) DeletePKCERequestSession(ctx context.Context, sig string) error {
	if err := a.deleteSession(ctx, store.TokenPKCE, sig); err != nil {
		return fmt.Errorf("authz: delete pkce session: %w", err)
	}
	return nil
}

// --- OpenID Connect sessions: keyed by a hash of the raw code ---

func (a *fositeStore) CreateOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) error {
	return a.create(ctx, store.TokenOIDC, store.HashToken(code), "", req, a.expiry(req, fosite.AuthorizeCode))
}

// GetOpenIDConnectSession takes the session in a code exchange
// (exchangeNote): fosite deletes it next anyway. The record holds the
// request without its session (encodeRequestSession): fosite asks for it
// only in the code exchange, with the request whose session the code's
// record restored, a copy of the same session written by the same
// authorization; that session is the one the ID token is made from. A
// record written before carries its copy, decoded into it as before.
func (a *fositeStore) GetOpenIDConnectSession(ctx context.Context, code string, requester fosite.Requester) (fosite.Requester, error) {
	sig := store.HashToken(code)
	rec, err := a.readSession(ctx, store.TokenOIDC, sig)
	_, req, err := a.open(ctx, store.TokenOIDC, sig, requester.GetSession(), rec, err)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, openid.ErrNoSessionFound
	} else if err != nil {
		return nil, err
	}
	return req, nil
}

func (a *fositeStore) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	if err := a.deleteSession(ctx, store.TokenOIDC, store.HashToken(code)); err != nil {
		return fmt.Errorf("authz: delete oidc session: %w", err)
	}
	return nil
}

// --- PAR: the request sealed into its request_uri (pushedRequests) ---

// CreatePARSession seals req into the request_uri that handlePAR answers
// (its pushNote), in place of the one fosite made: nothing is stored.
func (a *fositeStore) CreatePARSession(ctx context.Context, _ string, req fosite.AuthorizeRequester) error {
	n := pushNoteOf(ctx)
	if n == nil {
		return errors.New("authz: pushed request outside the PAR endpoint")
	}
	b, err := encodeRequest(req)
	if err != nil {
		return err
	}
	n.uri = a.pushed.uri(b, req.GetClient().GetID(), a.now().Add(a.parLifespan))
	return nil
}

// GetPARSession opens the request sealed in requestURI for the client the
// authorization request names, refusing another client's (or none) and an
// expired one: the client that pushed it can still use it until then.
func (a *fositeStore) GetPARSession(ctx context.Context, requestURI string) (fosite.AuthorizeRequester, error) {
	r, ok := ctx.Value(fosite.RequestContextKey).(*http.Request)
	if !ok {
		return nil, fmt.Errorf("authz: request_uri outside an authorization request: %w", fosite.ErrNotFound)
	}
	b, err := a.pushed.open(requestURI, r.Form.Get("client_id"), a.now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, fosite.ErrNotFound)
	}
	req, err := a.decodeRequest(ctx, b, nil)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePARSession has nothing to delete: the authorization step uses a
// request_uri once by starting the one flow it names (pushedRequests).
func (a *fositeStore) DeletePARSession(context.Context, string) error { return nil }

// --- transactions ---

// store.InTx takes a closure while fosite wants BeginTX/Commit/Rollback, so
// the transaction runs in a goroutine that waits for the decision; the ctx
// returned by BeginTX carries the handle (and, once begun, the store's
// transaction).
//
// In a refresh grant's or a code exchange's response (grantResponseKey)
// the transaction is deferred: fosite's RefreshTokenGrantHandler calls
// RotateRefreshToken, and its AuthorizeExplicitGrantHandler
// InvalidateAuthorizeCodeSession, then each creates the new tokens and
// commits, and the usual grant needs no transaction at all. Rotate and
// Invalidate only note the token they spend, and the commit spends it and
// writes the new tokens in one statement
// (store.TokenStore.RotateRefreshTokenCreating, ConsumeCodeCreating):
// BEGIN, the rotation or consumption, the insert and COMMIT were four round
// trips to the database (issue 15). When the statement finds anything but
// the usual case (the token spent already: a retry in the grace period, a
// lost race, a code used twice; its consent revoked), it has changed
// nothing, and the commit takes the steps one by one in a transaction,
// which decide as they always did. Any other call that needs the
// transaction begins it (inTx).
type txHandle struct {
	decide chan bool
	done   chan error
	once   sync.Once
	err    error
	batch  *tokenBatch // the tokens created in the transaction

	deferred  bool            // begun by the first call that needs it, if any
	begun     bool            // the store's transaction is open
	txCtx     context.Context // the store's transaction, once begun
	spendKind store.TokenKind // the code or refresh token the commit spends
	spendSig  string
}

// spend spends the code or refresh token (kind, sig) in ctx's
// transaction, begun now if BeginTX deferred it, or, while a deferred
// transaction is not begun, only notes it: the commit spends it with the
// new tokens (end).
func (a *fositeStore) spend(ctx context.Context, kind store.TokenKind, sig string) error {
	if defers(ctx, kind, sig) {
		return nil
	}
	ctx, err := a.inTx(ctx)
	if err != nil {
		return err
	}
	return a.spendStep(kind)(ctx, sig)
}

// spendStep is the step that spends a token of kind in a transaction:
// rotate for a refresh token, invalidate for a code.
func (a *fositeStore) spendStep(kind store.TokenKind) func(context.Context, string) error {
	if kind == store.TokenAuthorizeCode {
		return a.invalidate
	}
	return a.rotate
}

// defers reports whether a call in ctx may leave its token to the commit
// (h.spendKind), and notes it if so.
func defers(ctx context.Context, kind store.TokenKind, sig string) bool {
	h, ok := ctx.Value(txKey{}).(*txHandle)
	if !ok || !h.deferred || h.begun || h.spendSig != "" {
		return false
	}
	h.spendKind, h.spendSig = kind, sig
	return true
}

type txKey struct{}

// grantResponseKey marks the ctx of a refresh grant's or a code exchange's
// NewAccessResponse (handleToken), whose transaction BeginTX defers.
type grantResponseKey struct{}

var errRollback = errors.New("authz: rollback")

func (a *fositeStore) BeginTX(ctx context.Context) (context.Context, error) {
	h := &txHandle{}
	ctx, h.batch = withTokenBatch(ctx)
	ctx = context.WithValue(ctx, txKey{}, h)
	if on, _ := ctx.Value(grantResponseKey{}).(bool); on {
		h.deferred = true
		return ctx, nil
	}
	return a.begin(ctx, h)
}

// begin opens h's transaction and returns its ctx.
func (a *fositeStore) begin(ctx context.Context, h *txHandle) (context.Context, error) {
	h.decide, h.done = make(chan bool, 1), make(chan error, 1)
	ready := make(chan context.Context, 1)
	go func() {
		err := a.st.InTx(ctx, func(txCtx context.Context) error {
			ready <- txCtx
			select {
			case commit := <-h.decide:
				if !commit {
					return errRollback
				}
				return nil
			case <-ctx.Done(): // the request ended without a decision
				return ctx.Err()
			}
		})
		if errors.Is(err, errRollback) {
			err = nil
		}
		h.done <- err
	}()
	select {
	case txCtx := <-ready:
		h.begun, h.txCtx = true, txCtx
		return txCtx, nil
	case err := <-h.done:
		if err == nil {
			err = errors.New("transaction ended before it began")
		}
		return ctx, fmt.Errorf("authz: begin transaction: %w", err)
	}
}

// inTx is ctx in its transaction, begun now if BeginTX deferred it.
func (a *fositeStore) inTx(ctx context.Context) (context.Context, error) {
	h, ok := ctx.Value(txKey{}).(*txHandle)
	if !ok || !h.deferred {
		return ctx, nil
	}
	if h.begun {
		return h.txCtx, nil
	}
	return a.begin(ctx, h)
}

func (a *fositeStore) finish(ctx context.Context, commit bool) error {
	h, ok := ctx.Value(txKey{}).(*txHandle)
	if !ok {
		return errors.New("authz: no transaction in context")
	}
	h.once.Do(func() { h.err = a.end(ctx, h, commit) })
	return h.err
}

// end commits or rolls back h. A deferred transaction never begun commits
// in one statement when it spends a token (spendCreating) and otherwise
// writes the tokens fosite created, if any; when the statement found
// anything but the usual case, the transaction begins here. An open
// transaction spends the token it left to the commit, if any (the steps:
// rotate, invalidate), then writes the tokens just before it commits; if
// either fails, nothing of it is kept.
func (a *fositeStore) end(ctx context.Context, h *txHandle, commit bool) error {
	recs := h.batch.take()
	if !h.begun {
		switch {
		case !commit:
			return nil
		case h.spendSig == "":
			return createError("tokens", a.createTokens(ctx, recs))
		}
		if spent, err := a.spendCreating(ctx, h, recs); spent || err != nil {
			return createError("tokens", err)
		}
		if _, err := a.begin(ctx, h); err != nil {
			return err
		}
	}
	if commit && h.spendSig != "" {
		if err := a.spendStep(h.spendKind)(h.txCtx, h.spendSig); err != nil {
			_ = a.endTx(h, false, nil)
			return err
		}
	}
	return a.endTx(h, commit, recs)
}

// spendCreating spends h's token and writes recs in one statement, in the
// usual case only (store.TokenStore.RotateRefreshTokenCreating,
// ConsumeCodeCreating); false: nothing was written.
func (a *fositeStore) spendCreating(ctx context.Context, h *txHandle, recs []store.TokenRecord) (bool, error) {
	if h.spendKind == store.TokenRefresh {
		return a.st.RotateRefreshTokenCreating(ctx, h.spendSig, a.now(), recs...)
	}
	return a.st.ConsumeCodeCreating(ctx, h.spendSig, recs...)
}

// createTokens writes recs in one statement; nothing when there are none.
func (a *fositeStore) createTokens(ctx context.Context, recs []store.TokenRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return a.st.CreateTokens(ctx, recs...)
}

// endTx ends h's open transaction, writing recs first when it commits.
func (a *fositeStore) endTx(h *txHandle, commit bool, recs []store.TokenRecord) error {
	var flushErr error
	if commit {
		flushErr = createError("tokens", a.createTokens(h.txCtx, recs))
		commit = flushErr == nil
	}
	h.decide <- commit
	err := <-h.done
	if flushErr != nil {
		return flushErr
	}
	if err != nil {
		return fmt.Errorf("authz: end transaction: %w", err)
	}
	return nil
}

func (a *fositeStore) Commit(ctx context.Context) error   { return a.finish(ctx, true) }
func (a *fositeStore) Rollback(ctx context.Context) error { return a.finish(ctx, false) }
