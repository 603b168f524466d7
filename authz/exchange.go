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
//     then deletes (Delete…Session): the PKCE read takes both records in
//     one statement (store.TakeTokens, DELETE … RETURNING; the OpenID
//     Connect one is keyed by the request's code), the OpenID Connect read
//     takes the record taken with it, and the delete of a record taken is
//     a no-op. fosite's PKCE handler deletes its session before it compares
//     the verifier, outside any transaction, so a failed verification
//     leaves no reusable session either way, and of concurrent exchanges
//     only the one that took it gets further; without its PKCE session the
//     code is spent for good, so its OpenID Connect session, which fosite
//     reads after the tokens' transaction committed and which is found only
//     through that code, is of no use to anyone once the PKCE one is taken.
//   - the pushed authorization request an authorization request names,
//     which fosite reads (GetPARSession) and then deletes: taken too, by a
//     delete that matches only the record GetPARSession accepts (active,
//     unexpired, pushed by the client the request names), so another
//     client's or an expired request_uri is left as it was.
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
// and deleted) when ctx carries an exchange note, read otherwise. A PKCE
// session is taken with the OpenID Connect session of the request's code.
func (a *fositeStore) readSession(ctx context.Context, kind store.TokenKind, sig string) (store.TokenRecord, error) {
	n := exchangeNoteOf(ctx)
	if n == nil {
		return a.st.GetToken(ctx, kind, sig)
	}
	if rec, ok := n.takenAhead(kind, sig); ok {
		if rec == nil {
			return store.TokenRecord{}, fmt.Errorf("authz: take %s session: %w", kind, store.ErrNotFound)
		}
		n.took(kind, sig)
		return *rec, nil
	}
	keys := []store.TokenKey{{Kind: kind, Signature: sig}}
	if r, ok := ctx.Value(fosite.RequestContextKey).(*http.Request); ok && kind == store.TokenPKCE {
		if code := r.PostForm.Get("code"); code != "" {
			keys = append(keys, store.TokenKey{Kind: store.TokenOIDC, Signature: store.HashToken(code)})
		}
	}
	recs, err := a.st.TakeTokens(ctx, keys...)
	if err != nil {
		return store.TokenRecord{}, err
	}
	byKey := make(map[string]*store.TokenRecord, len(recs))
	for i, r := range recs {
		byKey[recordAD(r.Kind, r.Signature)] = &recs[i]
	}
	n.mu.Lock()
	for _, k := range keys[1:] {
		if n.ahead == nil {
			n.ahead = map[string]*store.TokenRecord{}
		}
		ad := recordAD(k.Kind, k.Signature)
		n.ahead[ad] = byKey[ad]
	}
	n.mu.Unlock()
	found := byKey[recordAD(kind, sig)]
	if found == nil {
		return store.TokenRecord{}, fmt.Errorf("authz: take %s session: %w", kind, store.ErrNotFound)
	}
	n.took(kind, sig)
	return *found, nil
}

// deleteSession deletes a PKCE, OIDC or PAR session record, unless the
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
