package authz

import (
	"context"
	"sync"

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
//     then deletes (Delete…Session): the read takes the record
//     (store.TakeToken, DELETE … RETURNING) and the delete of a record taken
//     is a no-op. fosite's PKCE handler deletes the session before it
//     compares the verifier, outside any transaction, so a failed
//     verification leaves no reusable session either way, and of concurrent
//     exchanges only the one that took it gets further. The OpenID Connect
//     handler reads its session after the tokens' transaction committed,
//     the code spent: a refusal after the take leaves no session reachable,
//     as before (the session is found only through that code).
//   - the pushed authorization request an authorization request names,
//     which fosite reads (GetPARSession) and then deletes: taken too, by a
//     delete that matches only the record GetPARSession accepts (active,
//     unexpired, pushed by the client the request names), so another
//     client's or an expired request_uri is left as it was.
//
// Without a note (any other caller) the records are read and deleted
// separately, as fosite asks.
type exchangeNote struct {
	mu    sync.Mutex
	codes map[string]store.TokenRecord // code signature → the record read first
	taken map[string]bool              // recordAD of the PKCE and OIDC records taken
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

// readSession reads a PKCE or OIDC session record for fosite: taken (read
// and deleted) when ctx carries an exchange note, read otherwise.
func (a *fositeStore) readSession(ctx context.Context, kind store.TokenKind, sig string) (store.TokenRecord, error) {
	n := exchangeNoteOf(ctx)
	if n == nil {
		return a.st.GetToken(ctx, kind, sig)
	}
	rec, err := a.st.TakeToken(ctx, kind, sig)
	if err == nil {
		n.took(kind, sig)
	}
	return rec, err
}

// deleteSession deletes a PKCE, OIDC or PAR session record, unless the
// request took it already.
func (a *fositeStore) deleteSession(ctx context.Context, kind store.TokenKind, sig string) error {
	if n := exchangeNoteOf(ctx); n != nil && n.wasTaken(kind, sig) {
		return nil
	}
	return notFoundOK(a.st.DeleteToken(ctx, kind, sig))
}
