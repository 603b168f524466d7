// Package dpop checks DPoP proofs (RFC 9449): the JWS a client signs with
// its own key for each request, which binds tokens to that key. It parses
// and validates a proof (§4.3), computes the key's RFC 7638 thumbprint,
// issues and checks stateless server nonces (§8, §9) and leaves the replay
// store of proof jtis to the caller, which knows whether a database or a
// per-replica cache fits. Signatures are go-jose's.
package dpop

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Algs are the proof algorithms accepted and advertised
// (dpop_signing_alg_values_supported): FAPI 2.0's asymmetric ones.
var Algs = []string{"ES256", "PS256", "EdDSA"}

var joseAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.EdDSA}

// Error codes (RFC 9449 §5, §7.1, §8, §9).
const (
	CodeInvalidProof = "invalid_dpop_proof"
	CodeUseNonce     = "use_dpop_nonce"
)

// Error is a refused proof: Code is the OAuth error, Description says why
// (never echoing the proof).
type Error struct {
	Code        string
	Description string
}

func (e *Error) Error() string { return "dpop: " + e.Code + ": " + e.Description }

func invalid(format string, a ...any) *Error {
	return &Error{Code: CodeInvalidProof, Description: fmt.Sprintf(format, a...)}
}

const (
	// maxProofLen bounds what we parse: an RSA 4096 jwk and the claims fit.
	maxProofLen = 8192
	// futureLeeway is how far in the future an iat may be (clock skew;
	// FAPI 2.0 accepts 10 s).
	futureLeeway = 10 * time.Second
	// DefaultIATWindow is how old a proof may be.
	DefaultIATWindow = 60 * time.Second
	// nonceBucket is a nonce's time slot; the current and previous slots
	// are accepted, so a nonce lives between 5 and 10 minutes.
	nonceBucket = 5 * time.Minute
)

// Config configures a Checker.
type Config struct {
	// Secret keys the nonce MACs (≥ 32 bytes); every replica sharing it
	// accepts every other's nonces.
	Secret []byte
	// IATWindow is how old a proof's iat may be (default 60 s); a proof is
	// also refused more than 10 s in the future.
	IATWindow time.Duration
	// RequireNonce makes a server nonce mandatory in every proof.
	RequireNonce bool
	Now          func() time.Time
}

// Checker validates proofs.
type Checker struct {
	cfg Config
}

// New returns a Checker; zero fields take their defaults.
func New(cfg Config) (*Checker, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("dpop: the nonce secret must be at least 32 bytes")
	}
	if cfg.IATWindow == 0 {
		cfg.IATWindow = DefaultIATWindow
	}
	if cfg.IATWindow < 0 {
		return nil, errors.New("dpop: the iat window must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Checker{cfg: cfg}, nil
}

// IATWindow is the accepted age of a proof: a replay cache must keep a jti
// at least this long (plus the future leeway) after its iat.
func (c *Checker) IATWindow() time.Duration { return c.cfg.IATWindow + futureLeeway }

// RequireNonce reports whether proofs must carry a server nonce.
func (c *Checker) RequireNonce() bool { return c.cfg.RequireNonce }

// Request is what a proof must match.
type Request struct {
	Method string
	// URL is the target URI as the client addressed it (scheme and host of
	// the issuer, not of the listener behind a proxy); query and fragment
	// are ignored.
	URL string
	// AccessToken, at a resource, must hash to the proof's ath; empty at the
	// token and PAR endpoints, where a proof must not carry ath.
	AccessToken string
}

// Proof is a validated proof.
type Proof struct {
	JKT   string // RFC 7638 SHA-256 thumbprint of the key, base64url
	JTI   string
	IAT   time.Time
	Nonce string
}

// ReplayKey is the key under which the proof's jti is remembered: per
// key, so one client cannot burn another's jtis, and fixed length.
func (p Proof) ReplayKey() string {
	sum := sha256.Sum256([]byte(p.JKT + "\x00" + p.JTI))
	return "dpop:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

type claims struct {
	JTI   string      `json:"jti"`
	HTM   string      `json:"htm"`
	HTU   string      `json:"htu"`
	IAT   json.Number `json:"iat"`
	ATH   string      `json:"ath"`
	Nonce string      `json:"nonce"`
}

// Check validates the proof (the DPoP header's value) against req, per
// RFC 9449 §4.3. The jti is not checked here: the caller records
// Proof.ReplayKey and refuses a replay. A missing or stale nonce, when one
// is required, is an Error with CodeUseNonce; the caller sends Nonce().
func (c *Checker) Check(proof string, req Request) (Proof, error) {
	if proof == "" {
		return Proof{}, invalid("the DPoP proof is missing")
	}
	if len(proof) > maxProofLen {
		return Proof{}, invalid("the DPoP proof is too long")
	}
	jws, err := jose.ParseSigned(proof, joseAlgs)
	if err != nil {
		return Proof{}, invalid("the DPoP proof is not a compact JWS signed with %s", strings.Join(Algs, ", "))
	}
	if len(jws.Signatures) != 1 {
		return Proof{}, invalid("the DPoP proof must have exactly one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return Proof{}, invalid("the DPoP proof's typ must be dpop+jwt")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() {
		return Proof{}, invalid("the DPoP proof's header must carry the public key as jwk")
	}
	if !jwk.IsPublic() {
		return Proof{}, invalid("the DPoP proof's jwk must be a public key")
	}
	if k, ok := jwk.Key.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		return Proof{}, invalid("the DPoP proof's RSA key must have at least 2048 bits")
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return Proof{}, invalid("the DPoP proof's signature does not verify with its jwk")
	}
	var cl claims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&cl); err != nil {
		return Proof{}, invalid("the DPoP proof's claims are not a JSON object")
	}
	if cl.JTI == "" || len(cl.JTI) > 256 {
		return Proof{}, invalid("the DPoP proof's jti is missing or too long")
	}
	if cl.HTM != req.Method {
		return Proof{}, invalid("the DPoP proof's htm does not match the request method")
	}
	want, err := NormalizeHTU(req.URL)
	if err != nil {
		return Proof{}, fmt.Errorf("dpop: the request URL: %w", err)
	}
	if got, err := NormalizeHTU(cl.HTU); err != nil || got != want {
		return Proof{}, invalid("the DPoP proof's htu does not match the request URL")
	}
	iat, err := cl.IAT.Float64()
	if err != nil || cl.IAT == "" {
		return Proof{}, invalid("the DPoP proof's iat is missing")
	}
	now := c.cfg.Now()
	at := time.Unix(int64(iat), 0)
	if at.Before(now.Add(-c.cfg.IATWindow)) {
		return Proof{}, invalid("the DPoP proof is too old (iat)")
	}
	if at.After(now.Add(futureLeeway)) {
		return Proof{}, invalid("the DPoP proof's iat is in the future")
	}
	if req.AccessToken != "" {
		sum := sha256.Sum256([]byte(req.AccessToken))
		if !hmac.Equal([]byte(cl.ATH), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) {
			return Proof{}, invalid("the DPoP proof's ath does not match the access token")
		}
	} else if cl.ATH != "" {
		return Proof{}, invalid("the DPoP proof carries ath where no access token is presented")
	}
	if c.cfg.RequireNonce {
		if cl.Nonce == "" {
			return Proof{}, &Error{Code: CodeUseNonce, Description: "the DPoP proof must carry the server's nonce"}
		}
		if !c.validNonce(cl.Nonce, now) {
			return Proof{}, &Error{Code: CodeUseNonce, Description: "the DPoP proof's nonce is stale or unknown"}
		}
	}
	jkt, err := Thumbprint(jwk)
	if err != nil {
		return Proof{}, invalid("the DPoP proof's jwk has no thumbprint")
	}
	return Proof{JKT: jkt, JTI: cl.JTI, IAT: at, Nonce: cl.Nonce}, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a key, base64url.
func Thumbprint(k *jose.JSONWebKey) (string, error) {
	b, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidJKT reports whether s looks like a SHA-256 thumbprint (dpop_jkt).
func ValidJKT(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// NormalizeHTU is RFC 9449 §4.3's comparison form of a URI: RFC 3986 §6
// syntax- and scheme-based normalisation (lower-case scheme and host,
// default port dropped, empty path as "/"), without query and fragment.
func NormalizeHTU(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", errors.New("not an absolute http(s) URI")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", errors.New("not an http(s) URI")
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "https" && p == "443") && !(scheme == "http" && p == "80") {
		host += ":" + p
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// Nonce is the server nonce to send now (DPoP-Nonce): the time slot and
// its MAC under the secret, so every replica can check it without state.
func (c *Checker) Nonce() string {
	return c.nonceAt(c.cfg.Now().Unix() / int64(nonceBucket/time.Second))
}

func (c *Checker) nonceAt(slot int64) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(slot))
	m := hmac.New(sha256.New, c.cfg.Secret)
	m.Write([]byte("bankfeed dpop nonce\x00"))
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validNonce accepts a nonce of the current or the previous slot.
func (c *Checker) validNonce(n string, now time.Time) bool {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 24 {
		return false
	}
	slot := int64(binary.BigEndian.Uint64(b[:8]))
	cur := now.Unix() / int64(nonceBucket/time.Second)
	if slot != cur && slot != cur-1 {
		return false
	}
	return hmac.Equal([]byte(n), []byte(c.nonceAt(slot)))
}

// Replay remembers proof jtis; Use returns ErrReplay for one already seen
// before exp.
type Replay interface {
	Use(ctx context.Context, key string, exp time.Time) error
}

// ErrReplay is a proof jti used before.
var ErrReplay = errors.New("dpop: proof replayed")
