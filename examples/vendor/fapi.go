package main

// The -fapi mode: the same vendor as a FAPI 2.0 relying party, against a
// bankfeed in oauth.profile fapi2 — private_key_jwt client authentication,
// pushed authorization requests, DPoP-bound tokens (with server nonces) and
// an https redirect URI (this app then serves TLS with a self-signed
// certificate made at start-up; the browser warns once).

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// fapiClient holds the vendor's signing key (client assertions and DPoP
// proofs use the same P-256 key here; a real vendor may keep two).
type fapiClient struct {
	clientID string
	issuer   string
	parURL   string
	key      *ecdsa.PrivateKey
	kid      string

	mu    sync.Mutex
	nonce string // the last DPoP-Nonce the server sent
}

// loadOrCreateKey reads the PEM key at path, or creates it and writes the
// public key set to register (bankfeed clients create --jwks-file) beside it.
func loadOrCreateKey(path string) (*ecdsa.PrivateKey, string, error) {
	if b, err := os.ReadFile(path); err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, "", fmt.Errorf("%s: no PEM block", path)
		}
		k, err := x509.ParseECPrivateKey(blk.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		return k, keyID(k), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, "", err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, "", err
	}
	set, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: keyID(k), Algorithm: "ES256", Use: "sig"}}}, "", "  ")
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(path+".jwks.json", set, 0o644); err != nil {
		return nil, "", err
	}
	return k, keyID(k), nil
}

func keyID(k *ecdsa.PrivateKey) string {
	tp, _ := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	return base64.RawURLEncoding.EncodeToString(tp)
}

func (f *fapiClient) sign(claims map[string]any, opts *jose.SignerOptions) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: f.key}, opts)
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// assertion is a private_key_jwt client assertion, aud = the issuer (FAPI
// 2.0 §5.3.3: a string).
func (f *fapiClient) assertion() (string, error) {
	now := time.Now()
	return f.sign(map[string]any{"iss": f.clientID, "sub": f.clientID, "aud": f.issuer, "jti": randomState(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}, (&jose.SignerOptions{}).WithHeader("kid", f.kid))
}

// proof is a DPoP proof for method and target (without query), with ath
// when token is set and the server's latest nonce.
func (f *fapiClient) proof(method, target, token string) (string, error) {
	claims := map[string]any{"jti": randomState(), "htm": method, "htu": target, "iat": time.Now().Unix()}
	f.mu.Lock()
	if f.nonce != "" {
		claims["nonce"] = f.nonce
	}
	f.mu.Unlock()
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return f.sign(claims, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
}

// RoundTrip adds a DPoP proof to every request (with ath for a DPoP
// Authorization) and retries once when the server asks for its nonce.
func (f *fapiClient) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.send(r)
	if err != nil {
		return nil, err
	}
	if resp.Header.Get("DPoP-Nonce") != "" && (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized) {
		resp.Body.Close()
		return f.send(r)
	}
	return resp, nil
}

// send is one attempt with a proof; it keeps the server's nonce.
func (f *fapiClient) send(r *http.Request) (*http.Response, error) {
	try := func() (*http.Response, error) {
		r2 := r.Clone(r.Context())
		if r.GetBody != nil {
			b, err := r.GetBody()
			if err != nil {
				return nil, err
			}
			r2.Body = b
		}
		u := *r.URL
		u.RawQuery, u.Fragment = "", ""
		p, err := f.proof(r.Method, u.String(), strings.TrimPrefix(r.Header.Get("Authorization"), "DPoP "))
		if err != nil {
			return nil, err
		}
		r2.Header.Set("DPoP", p)
		return http.DefaultTransport.RoundTrip(r2)
	}
	resp, err := try()
	if err != nil {
		return nil, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		f.mu.Lock()
		f.nonce = n
		f.mu.Unlock()
	}
	return resp, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (fn roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return fn(r) }

// push sends the authorization request to the PAR endpoint and returns the
// URL to send the browser to (client_id and request_uri only).
func (f *fapiClient) push(ctx context.Context, authURL string, params url.Values) (string, error) {
	// Twice at most: told use_dpop_nonce, retry with the nonce and a fresh
	// assertion (the server has spent the first one's jti).
	var (
		resp *http.Response
		b    []byte
	)
	for range 2 {
		a, err := f.assertion()
		if err != nil {
			return "", err
		}
		params.Set("client_assertion_type", assertionType)
		params.Set("client_assertion", a)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.parURL, strings.NewReader(params.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = (&http.Client{Transport: roundTripFunc(f.send), Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return "", err
		}
		b, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "use_dpop_nonce") {
			break
		}
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("par: %s: %s", resp.Status, b)
	}
	var out struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("par: %w", err)
	}
	return authURL + "?" + url.Values{"client_id": {f.clientID}, "request_uri": {out.RequestURI}}.Encode(), nil
}

// selfSignedTLS is a certificate for host, made now, valid a day.
func selfSignedTLS(host string) (*tls.Config, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: k}}}, nil
}

// exchangeOptions authenticate the token request with an assertion.
func (f *fapiClient) exchangeOptions() ([]oauth2.AuthCodeOption, error) {
	a, err := f.assertion()
	if err != nil {
		return nil, err
	}
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("client_assertion_type", assertionType), oauth2.SetAuthURLParam("client_assertion", a)}, nil
}

// setupFAPI reads the PAR endpoint from discovery, loads the client's key
// and makes this app's TLS certificate.
func setupFAPI(provider interface{ Claims(any) error }, clientID, issuer, keyFile, addr string) (*fapiClient, *tls.Config, error) {
	var meta struct {
		PAR string `json:"pushed_authorization_request_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil || meta.PAR == "" {
		return nil, nil, fmt.Errorf("discovery: no pushed_authorization_request_endpoint (%v)", err)
	}
	key, kid, err := loadOrCreateKey(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("client key: %w", err)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("-addr: %w", err)
	}
	tc, err := selfSignedTLS(host)
	if err != nil {
		return nil, nil, fmt.Errorf("tls certificate: %w", err)
	}
	return &fapiClient{clientID: clientID, issuer: issuer, parURL: meta.PAR, key: key, kid: kid}, tc, nil
}
