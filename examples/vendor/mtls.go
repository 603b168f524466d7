package main

// The -mtls-cert mode: the vendor authenticates to bankfeed with a TLS
// client certificate (RFC 8705) — tls_client_auth with a certificate the
// bank's client CA issued, or self_signed_tls_client_auth with a
// self-signed one whose key the bank registered — and its tokens are bound
// to that certificate, so every call (token, refresh, /fdx/v6) goes over
// the same TLS client.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// loadOrCreateCert reads the client certificate and key (PEM). When neither
// file exists it makes a self-signed certificate (P-256, a year) for
// self_signed_tls_client_auth, writes both, and writes beside the
// certificate the public key set to register: bankfeed clients create
// --auth-method self_signed_tls_client_auth --jwks-file <certFile>.jwks.json.
func loadOrCreateCert(certFile, keyFile string) (tls.Certificate, error) {
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	if !errors.Is(certErr, os.ErrNotExist) || !errors.Is(keyErr, os.ErrNotExist) {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("client certificate %s, key %s: %w", certFile, keyFile, err)
		}
		return c, nil
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "ledgerly-demo-vendor"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	tp, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return tls.Certificate{}, err
	}
	set, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: fmt.Sprintf("%x", tp[:8]), Algorithm: "ES256", Use: "sig"}}}, "", "  ")
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(certFile+".jwks.json", set, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certFile, keyFile)
}

// mtlsClient is the vendor's one HTTP client towards the bank: it presents
// cert on every connection and trusts the bank's certificate by the system
// roots, or by the PEM CAs in caFile ("" for none).
func mtlsClient(cert tls.Certificate, caFile string) (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("-bank-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("-bank-ca %s: no PEM certificate", caFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// mtlsTokenURL is discovery's mtls_endpoint_aliases token endpoint when
// the bank has one (RFC 8705 §5: where certificates are asked for), else
// the token endpoint.
func mtlsTokenURL(provider interface{ Claims(any) error }, tokenURL string) string {
	var meta struct {
		Aliases struct {
			Token string `json:"token_endpoint"`
		} `json:"mtls_endpoint_aliases"`
	}
	if err := provider.Claims(&meta); err == nil && meta.Aliases.Token != "" {
		return meta.Aliases.Token
	}
	return tokenURL
}
