package authz

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/bankfeed/bankfeed/store"
)

const (
	signingAlg = "ES256"
	// keyCacheTTL is how long a replica serves its copy of the key set before
	// re-reading it, so a rotation on one replica reaches every other soon.
	keyCacheTTL = 10 * time.Second
	// retiredKeyPublished keeps a retired key in the JWKS long enough for
	// every token it signed to expire.
	retiredKeyPublished = 24 * time.Hour
)

// keySet is an immutable snapshot of the signing keys.
type keySet struct {
	current *jose.JSONWebKey            // private, for signing
	public  map[string]*jose.JSONWebKey // kid → published public key
	jwks    []byte                      // the JWKS document, marshalled once per change
	ids     string                      // fingerprint of the published set
	loaded  time.Time
}

// keyRing caches the key set and reloads it from the database after keyCacheTTL.
type keyRing struct {
	st   store.KeyStore
	seal *sealer
	now  func() time.Time

	mu  sync.Mutex // serializes reloads
	set atomic.Pointer[keySet]
}

func newKeySealer(kek []byte) (*sealer, error) { return newSealer(kek, "signing keys") }

// newSigningKey generates an ES256 (P-256) key with its RFC 7638 thumbprint as kid.
func newSigningKey(ks *sealer, now time.Time) (store.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("authz: generate key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: signingAlg, Use: "sig"}
	pub := jwk.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("authz: key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	privJSON, err := jwk.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("authz: marshal key: %w", err)
	}
	pubJSON, err := jwk.Public().MarshalJSON()
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("authz: marshal public key: %w", err)
	}
	return store.SigningKey{
		ID:         jwk.KeyID,
		Algorithm:  signingAlg,
		PublicJWK:  pubJSON,
		PrivateJWK: ks.seal(privJSON, "key:"+jwk.KeyID),
		CreatedAt:  now.UTC(),
	}, nil
}

// EnsureSigningKey creates a signing key when the database has no current one.
func EnsureSigningKey(ctx context.Context, st store.KeyStore, kek []byte, now time.Time) error {
	keys, err := st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("authz: list signing keys: %w", err)
	}
	for _, k := range keys {
		if k.RetiredAt.IsZero() {
			return nil
		}
	}
	ks, err := newKeySealer(kek)
	if err != nil {
		return err
	}
	k, err := newSigningKey(ks, now)
	if err != nil {
		return err
	}
	if err := st.CreateSigningKey(ctx, k); err != nil {
		return fmt.Errorf("authz: create signing key: %w", err)
	}
	return nil
}

// RotateKey adds a new current signing key and retires the others at now.
// Retired keys stay in the JWKS for a day so that tokens they signed keep
// verifying; every replica signs with the new key within keyCacheTTL.
func RotateKey(ctx context.Context, st store.KeyStore, kek []byte, now time.Time) (string, error) {
	ks, err := newKeySealer(kek)
	if err != nil {
		return "", err
	}
	old, err := st.ListSigningKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("authz: list signing keys: %w", err)
	}
	k, err := newSigningKey(ks, now)
	if err != nil {
		return "", err
	}
	if err := st.CreateSigningKey(ctx, k); err != nil {
		return "", fmt.Errorf("authz: create signing key: %w", err)
	}
	for _, o := range old {
		if o.RetiredAt.IsZero() {
			if err := st.RetireSigningKey(ctx, o.ID, now.UTC()); err != nil {
				return "", fmt.Errorf("authz: retire key %s: %w", o.ID, err)
			}
		}
	}
	return k.ID, nil
}

// get returns the current key set, reloading it when stale. A failed reload
// keeps serving the previous set (and reports the error only if there is none).
// The set's age is measured on r.now (Config.Now), like every other deadline
// here, so a test can move past keyCacheTTL without sleeping.
func (r *keyRing) get(ctx context.Context) (*keySet, error) {
	if ks := r.set.Load(); ks != nil && r.now().Sub(ks.loaded) < keyCacheTTL {
		return ks, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.set.Load()
	if prev != nil && r.now().Sub(prev.loaded) < keyCacheTTL {
		return prev, nil
	}
	ks, err := r.load(ctx, prev)
	if err != nil {
		if prev != nil {
			return prev, nil
		}
		return nil, err
	}
	r.set.Store(ks)
	return ks, nil
}

// reset forces the next get to reload (after a rotation in this process).
func (r *keyRing) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ks := r.set.Load(); ks != nil {
		cp := *ks
		cp.loaded = time.Time{}
		r.set.Store(&cp)
	}
}

func (r *keyRing) load(ctx context.Context, prev *keySet) (*keySet, error) {
	keys, err := r.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("authz: list signing keys: %w", err)
	}
	now := r.now()
	var published []store.SigningKey
	var current *store.SigningKey
	var ids strings.Builder
	for i, k := range keys {
		if !k.RetiredAt.IsZero() && now.Sub(k.RetiredAt) > retiredKeyPublished {
			continue
		}
		published = append(published, k)
		ids.WriteString(k.ID)
		if k.RetiredAt.IsZero() {
			if current == nil {
				current = &keys[i]
			}
		} else {
			ids.WriteString("-retired")
		}
		ids.WriteByte(',')
	}
	if current == nil {
		return nil, errors.New("authz: no current signing key (run EnsureSigningKey)")
	}
	fp := current.ID + "|" + ids.String()
	if prev != nil && prev.ids == fp {
		cp := *prev
		cp.loaded = now
		return &cp, nil
	}
	ks := &keySet{public: map[string]*jose.JSONWebKey{}, ids: fp, loaded: now}
	doc := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: []json.RawMessage{}}
	for _, k := range published {
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON(k.PublicJWK); err != nil {
			return nil, fmt.Errorf("authz: public key %s: %w", k.ID, err)
		}
		ks.public[k.ID] = &pub
		doc.Keys = append(doc.Keys, k.PublicJWK)
	}
	if ks.jwks, err = json.Marshal(doc); err != nil {
		return nil, fmt.Errorf("authz: marshal jwks: %w", err)
	}
	plain, err := r.seal.open(current.PrivateJWK, "key:"+current.ID)
	if err != nil {
		return nil, fmt.Errorf("authz: decrypt signing key %s: %w", current.ID, err)
	}
	var priv jose.JSONWebKey
	if err := priv.UnmarshalJSON(plain); err != nil {
		return nil, fmt.Errorf("authz: signing key %s: %w", current.ID, err)
	}
	priv.KeyID, priv.Algorithm = current.ID, current.Algorithm
	ks.current = &priv
	return ks, nil
}

// privateKey is fosite's key getter: the current signing key as a JWK, so
// the kid and algorithm go into every header.
func (r *keyRing) privateKey(ctx context.Context) (interface{}, error) {
	ks, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	return ks.current, nil
}
