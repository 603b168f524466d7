package authz

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
)

// exchangeNote, in a token or authorization request's ctx
// (withExchangeNote), holds what the request read already, so that
// fosite's separate storage calls cost one statement each instead of two
// (issue 15):
//
//   - the code's record, read by the authorize-code handler's
//     HandleTokenEndpointRequest and read again by its
//     PopulateTokenEndpointResponse before it consumes the code: the second
//     read takes the first's record. Nothing is judged on stale data: the
//     consumption that follows (store.ConsumeToken) changes only a record
//     still active, so a code used, revoked or replaced in between is
//     refused there as the second read would have refused it.
//   - the PKCE and OpenID Connect sessions fosite reads (Get…Session) and
//     then deletes (Delete…Session): both records are taken in one
//     statement (DELETE … RETURNING; the OpenID Connect one is keyed by the
//     request's code) — with the code's read when the request authenticated
//     the client they belong to (grantRecords,
//     store.GetTokenGrantRecordsTaking), else by the PKCE read
//     (store.TakeTokens) — the reads take the records taken, and the delete
//     of a record taken is a no-op. fosite's PKCE handler deletes its
//     session before it compares the verifier, outside any transaction, so
//     a failed verification leaves no reusable session either way, and of
//     concurrent exchanges only the one that took it gets further; without
//     its PKCE session the code is spent for good, so its OpenID Connect
//     session, which fosite reads after the tokens' transaction committed
//     and which is found only through that code, is of no use to anyone
//     once the PKCE one is taken. Taken with the code's read, they are
//     spent too when fosite refuses the code's own client between that
//     read and the PKCE handler (a redirect_uri that differs); another
//     client presenting the code takes nothing.
//   - the grant's records (consent, user, assignment, job role) that
//     grantPolicy judges, read with the code or the refresh token in one
//     statement (store.GetTokenGrantRecords) instead of a second one
//     (store.GrantRecords) moments later, before the grant's transaction
//     as before; the transaction's share lock on the consent still refuses
//     a grant whose consent is revoked in between.
//
// Without a note (any other caller) the records are read and deleted
// separately, as fosite asks.
type exchangeNote struct {
	mu     sync.Mutex
	client string                        // the client authenticated in the request
	codes  map[string]store.TokenRecord  // code signature → the record read first
	taken  map[string]bool               // recordAD of the PKCE and OIDC records taken
	ahead  map[string]*store.TokenRecord // recordAD → taken with another (nil: none found)
	grants map[[2]string]store.Access    // {consent ID, user ID} → read with its token
}

type exchangeKey struct{}

func withExchangeNote(ctx context.Context) context.Context {
	return context.WithValue(ctx, exchangeKey{}, &exchangeNote{})
}

func exchangeNoteOf(ctx context.Context) *exchangeNote {
	n, _ := ctx.Value(exchangeKey{}).(*exchangeNote)
	return n
}

// authenticatedClient notes the client the request authenticated (none
// without a note).
func (n *exchangeNote) authenticatedClient(id string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.client = id
}

func (n *exchangeNote) authenticated() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.client
}

// rememberCode keeps an active code's record for the request's second read.
func (n *exchangeNote) rememberCode(sig string, rec store.TokenRecord) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.codes == nil {
		n.codes = map[string]store.TokenRecord{}
	}
	n.codes[sig] = rec
}

// code hands back the remembered record once (none without a note).
func (n *exchangeNote) code(sig string) (store.TokenRecord, bool) {
	if n == nil {
		return store.TokenRecord{}, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	rec, ok := n.codes[sig]
	delete(n.codes, sig)
	return rec, ok
}

// rememberGrant keeps the records of the grant (consentID, userID) read
// with its code or refresh token.
func (n *exchangeNote) rememberGrant(consentID, userID string, a store.Access) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.grants == nil {
		n.grants = map[[2]string]store.Access{}
	}
	n.grants[[2]string{consentID, userID}] = a
}

// grant hands back (once) the records remembered for the grant (none
// without a note).
func (n *exchangeNote) grant(consentID, userID string) (store.Access, bool) {
	if n == nil {
		return store.Access{}, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	k := [2]string{consentID, userID}
	a, ok := n.grants[k]
	delete(n.grants, k)
	return a, ok
}

func (n *exchangeNote) took(kind store.TokenKind, sig string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.taken == nil {
		n.taken = map[string]bool{}
	}
	n.taken[recordAD(kind, sig)] = true
}

// wasTaken reports (once) whether the request took the record already.
func (n *exchangeNote) wasTaken(kind store.TokenKind, sig string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := recordAD(kind, sig)
	ok := n.taken[k]
	delete(n.taken, k)
	return ok
}

// takenAhead hands back (once) a record taken with another, and whether
// there was a take that looked for it.
func (n *exchangeNote) takenAhead(kind store.TokenKind, sig string) (*store.TokenRecord, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := recordAD(kind, sig)
	rec, ok := n.ahead[k]
	delete(n.ahead, k)
	return rec, ok
}

// readSession reads a PKCE or OIDC session record for fosite: taken (read
// and deleted) when ctx carries an exchange note, read otherwise. The
// code's read took it already when its client was known (grantRecords);
// else a PKCE session is taken here with the OpenID Connect session of
// the request's code.
func (a *fositeStore) readSession(ctx context.Context, kind store.TokenKind, sig string) (store.TokenRecord, error) {
	n := exchangeNoteOf(ctx)
	if n == nil {
		return a.st.GetToken(ctx, kind, sig)
	}
	rec, ok := n.takenAhead(kind, sig)
	if !ok {
		keys := []store.TokenKey{{Kind: kind, Signature: sig}}
		if kind == store.TokenPKCE {
			keys = codeSessionKeys(ctx, sig)
		}
		recs, err := a.st.TakeTokens(ctx, keys...)
		if err != nil {
			return store.TokenRecord{}, err
		}
		n.takeAhead(keys, recs)
		rec, _ = n.takenAhead(kind, sig)
	}
	if rec == nil {
		return store.TokenRecord{}, fmt.Errorf("authz: take %s session: %w", kind, store.ErrNotFound)
	}
	n.took(kind, sig)
	return *rec, nil
}

// codeSessionKeys are the keys of the PKCE and OpenID Connect sessions of
// the code whose signature is sig, presented in the request in ctx: the
// OpenID Connect one is keyed by the code itself (none without it).
func codeSessionKeys(ctx context.Context, sig string) []store.TokenKey {
	keys := []store.TokenKey{{Kind: store.TokenPKCE, Signature: sig}}
	if r, ok := ctx.Value(fosite.RequestContextKey).(*http.Request); ok {
		if code := r.PostForm.Get("code"); code != "" {
			keys = append(keys, store.TokenKey{Kind: store.TokenOIDC, Signature: store.HashToken(code)})
		}
	}
	return keys
}

// takeAhead notes the records taken of keys (recs; a key without one
// found none), for the reads that follow (readSession).
func (n *exchangeNote) takeAhead(keys []store.TokenKey, recs []store.TokenRecord) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ahead == nil {
		n.ahead = make(map[string]*store.TokenRecord, len(keys))
	}
	for _, k := range keys {
		n.ahead[recordAD(k.Kind, k.Signature)] = nil
	}
	for i, r := range recs {
		n.ahead[recordAD(r.Kind, r.Signature)] = &recs[i]
	}
}

// grantRecords reads a token grant's code or refresh token with its
// records (store.GetTokenGrantRecords). A code presented by a client
// authenticated in this request takes its PKCE and OpenID Connect
// sessions in the same statement (store.GetTokenGrantRecordsTaking),
// provided they are that client's: the client spends the code by
// presenting it, whatever fosite finds wrong next (a redirect_uri that
// differs, a verifier that does not match), as the PKCE handler's take
// before its comparison spent it; another client's attempt leaves them.
func (a *fositeStore) grantRecords(ctx context.Context, n *exchangeNote, kind store.TokenKind, sig string) (store.TokenRecord, store.Access, error) {
	client := n.authenticated()
	if kind != store.TokenAuthorizeCode || client == "" {
		return a.st.GetTokenGrantRecords(ctx, kind, sig)
	}
	keys := codeSessionKeys(ctx, sig)
	rec, acc, taken, err := a.st.GetTokenGrantRecordsTaking(ctx, kind, sig, client, keys...)
	n.takeAhead(keys, taken) // taken whatever the read found
	return rec, acc, err
}

// deleteSession deletes a PKCE or OIDC session record, unless the
// request took it already.
func (a *fositeStore) deleteSession(ctx context.Context, kind store.TokenKind, sig string) error {
	if n := exchangeNoteOf(ctx); n != nil && n.wasTaken(kind, sig) {
		return nil
	}
	return notFoundOK(a.st.DeleteToken(ctx, kind, sig))
}

// tokenBatch, in the ctx of a transaction that issues tokens (fosite's
// BeginTX for a code exchange or a refresh grant, the resume's for an
// authorization code), collects the records fosite creates one call at a
// time, and the transaction writes them with one statement just before it
// commits (fositeStore.flushTokens, store.CreateTokens): a refresh grant's
// two inserts and a flow's five were a round trip each (issue 15). Nothing
// in these transactions reads back a token it created, and a record that
// cannot be written fails the commit, as its own insert failed the
// transaction before: all are kept or none.
type tokenBatch = collector[store.TokenRecord]

type tokenBatchKey struct{}

func withTokenBatch(ctx context.Context) (context.Context, *tokenBatch) {
	b := &tokenBatch{}
	return context.WithValue(ctx, tokenBatchKey{}, b), b
}

func tokenBatchOf(ctx context.Context) *tokenBatch {
	b, _ := ctx.Value(tokenBatchKey{}).(*tokenBatch)
	return b
}
