// Package dpopkey is the load programs' DPoP client side (RFC 9449): a key
// of its own, a fresh proof per request, and the server's last nonce.
package dpopkey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bankfeed/bankfeed/store"
)

// Key signs proofs with one ES256 key; safe for concurrent use.
type Key struct {
	priv   *ecdsa.PrivateKey
	signer jose.Signer
	mu     sync.Mutex
	nonce  string
}

// New generates a key.
func New() (*Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	return FromPrivate(k)
}

// FromPrivate wraps an existing P-256 key.
func FromPrivate(k *ecdsa.PrivateKey) (*Key, error) {
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, opts)
	if err != nil {
		return nil, fmt.Errorf("dpop signer: %w", err)
	}
	return &Key{priv: k, signer: s}, nil
}

// Parse reads a private JWK as MarshalJSON writes it.
func Parse(data []byte) (*Key, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	k, ok := jwk.Key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("dpop key: not a private P-256 key")
	}
	return FromPrivate(k)
}

// MarshalJSON is the private key as a JWK (for handing a bound token and
// its key from one program to another).
func (k *Key) MarshalJSON() ([]byte, error) {
	return jose.JSONWebKey{Key: k.priv, Algorithm: string(jose.ES256)}.MarshalJSON()
}

// Thumbprint is the key's RFC 7638 thumbprint (cnf.jkt).
func (k *Key) Thumbprint() (string, error) {
	tp, err := (&jose.JSONWebKey{Key: &k.priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// Proof signs a fresh proof for method and target URL (without query), with
// ath when token is not empty and the last nonce the server sent. The
// query and fragment are cut from htu (RFC 9449 §4.2).
func (k *Key) Proof(method, target, token string) (string, error) {
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	claims := map[string]any{"jti": store.RandomToken(16), "htm": method, "htu": target, "iat": time.Now().Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if n := k.Nonce(); n != "" {
		claims["nonce"] = n
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dpop proof: %w", err)
	}
	return jws.CompactSerialize()
}

// Nonce is the last nonce the server sent.
func (k *Key) Nonce() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.nonce
}

// UseNonce keeps an answer's DPoP-Nonce, if any, and reports whether the
// answer asked for it (use_dpop_nonce: 400 at the token endpoint, a 401
// challenge at resources): the caller then retries once with a new proof.
func (k *Key) UseNonce(res *http.Response, body []byte) bool {
	n := res.Header.Get("DPoP-Nonce")
	if n == "" {
		return false
	}
	k.mu.Lock()
	k.nonce = n
	k.mu.Unlock()
	switch res.StatusCode {
	case http.StatusBadRequest:
		return bytes.Contains(body, []byte("use_dpop_nonce"))
	case http.StatusUnauthorized:
		return strings.Contains(res.Header.Get("WWW-Authenticate"), "use_dpop_nonce")
	}
	return false
}
