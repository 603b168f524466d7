package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/bankfeed/bankfeed/internal/admission"
)

const (
	// clientJWKSTTL is how long a key set fetched from a client's jwks_uri
	// is used before it is fetched again (fosite's default cache lifetime).
	clientJWKSTTL = time.Hour
	// clientJWKSRefetch is the least time between two fetches of one
	// jwks_uri. An assertion's kid is read before its signature is checked,
	// so without this bound anyone who knows a client ID could make us fetch
	// the vendor's key set once per request by sending unknown kids.
	clientJWKSRefetch = 10 * time.Second
	// clientJWKSTimeout bounds one fetch (a token request waits for it).
	clientJWKSTimeout = 10 * time.Second
	// maxClientJWKSSize bounds the key set document read.
	maxClientJWKSSize = 1 << 20
)

// clientKeySets fetches and caches the key sets of private_key_jwt clients
// registered with a jwks_uri. It is a short-lived copy of what the vendor
// publishes, so replicas may each hold their own.
type clientKeySets struct {
	hc  *http.Client
	now func() time.Time

	mu   sync.Mutex
	sets map[string]*remoteKeySet // jwks_uri → its key set
}

type remoteKeySet struct {
	mu      sync.Mutex // one fetch at a time per URI
	set     *jose.JSONWebKeySet
	fetched time.Time // when set was fetched
	tried   time.Time // the last fetch, successful or not
	err     error     // of the last fetch
}

func newClientKeySets(hc *http.Client, now func() time.Time) *clientKeySets {
	return &clientKeySets{hc: hc, now: now, sets: map[string]*remoteKeySet{}}
}

// get returns the key set at uri: the cached copy while it is younger than
// clientJWKSTTL, unless refresh asks for a newer one (an unknown kid: the
// vendor may have rotated its key). Either way it fetches at most once per
// clientJWKSRefetch; inside that interval it answers with the last fetch's
// set or error.
func (c *clientKeySets) get(ctx context.Context, uri string, refresh bool) (*jose.JSONWebKeySet, error) {
	c.mu.Lock()
	rs := c.sets[uri]
	if rs == nil {
		rs = &remoteKeySet{}
		c.sets[uri] = rs
	}
	c.mu.Unlock()

	// A fetch of this key set by another request can last clientJWKSTimeout:
	// wait for it, and fetch, without an admission slot (a vendor's slow
	// server must not hold the slots every other request waits for).
	if !rs.mu.TryLock() {
		if err := admission.Outside(ctx, rs.mu.Lock); err != nil {
			rs.mu.Unlock()
			return nil, err
		}
	}
	defer rs.mu.Unlock()
	now := c.now()
	if rs.set != nil && !refresh && now.Sub(rs.fetched) < clientJWKSTTL {
		return rs.set, nil
	}
	if !rs.tried.IsZero() && now.Sub(rs.tried) < clientJWKSRefetch {
		if rs.err != nil {
			return nil, rs.err
		}
		return rs.set, nil
	}
	rs.tried = now
	var set *jose.JSONWebKeySet
	var err error
	if werr := admission.Outside(ctx, func() {
		set, err = c.fetch(ctx, uri)
		if err != nil {
			rs.err = err
			return
		}
		rs.set, rs.fetched, rs.err = set, now, nil // kept for the others, whatever becomes of this request
	}); werr != nil {
		return nil, werr
	}
	if err != nil {
		return nil, err
	}
	return set, nil
}

func (c *clientKeySets) fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	// Not cancelled with the request: other requests may be waiting for
	// this fetch, and its result is kept for them.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), clientJWKSTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("client jwks_uri: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch client jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch client jwks: status %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxClientJWKSSize)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode client jwks: %w", err)
	}
	return &set, nil
}
