package authz

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
)

// Mutual-TLS client authentication methods (RFC 8705 §2).
const (
	authTLSClientAuth = "tls_client_auth"
	authSelfSignedTLS = "self_signed_tls_client_auth"
)

// x5tPrefix marks a token record's KeyThumbprint as a certificate's
// x5t#S256 (RFC 8705 §3); a DPoP binding is a bare JWK thumbprint.
const x5tPrefix = "x5t#S256:"

// MTLSConfig configures mutual TLS (RFC 8705). Client certificates come
// from the TLS connection (serve asks for them) or, behind a reverse proxy,
// from ForwardedClientCertificate.
type MTLSConfig struct {
	// Enabled: clients can present certificates. Without it a request's
	// certificate is ignored and no mTLS method is offered.
	Enabled bool
	// ClientCAs verify the certificates of tls_client_auth clients; nil:
	// only self_signed_tls_client_auth is offered.
	ClientCAs *x509.CertPool
	// BaseURL, when the mTLS endpoints are served at another origin than
	// the issuer (e.g. https://mtls.bank.example): discovery lists them as
	// mtls_endpoint_aliases.
	BaseURL string
}

func isMTLSMethod(m string) bool { return m == authTLSClientAuth || m == authSelfSignedTLS }

type clientCertKey struct{}

// WithClientCertificate marks ctx with the client certificate chain (leaf
// first) a trusted reverse proxy forwarded; it stands for the TLS
// connection's own.
func WithClientCertificate(ctx context.Context, chain []*x509.Certificate) context.Context {
	return context.WithValue(ctx, clientCertKey{}, chain)
}

// requestCertificates is the request's client certificate chain, leaf
// first: the one a trusted proxy forwarded, else the TLS connection's; nil
// without one or when mTLS is off.
func (s *Server) requestCertificates(r *http.Request) []*x509.Certificate {
	if !s.cfg.MTLS.Enabled {
		return nil
	}
	if chain, ok := r.Context().Value(clientCertKey{}).([]*x509.Certificate); ok {
		return chain
	}
	if r.TLS != nil {
		return r.TLS.PeerCertificates
	}
	return nil
}

// requestCertThumbprint is the x5t#S256 of the request's client
// certificate, "" without one.
func (s *Server) requestCertThumbprint(r *http.Request) string {
	chain := s.requestCertificates(r)
	if len(chain) == 0 {
		return ""
	}
	return CertThumbprint(chain[0])
}

// requestBase is the base URL a request was sent to, which a DPoP proof's
// htu names: the mTLS alias (MTLSConfig.BaseURL) for a request to its host,
// else the issuer.
func (s *Server) requestBase(r *http.Request) string {
	if b := s.cfg.MTLS.BaseURL; b != "" {
		if u, err := url.Parse(b); err == nil && strings.EqualFold(r.Host, u.Host) {
			return b
		}
	}
	return s.cfg.Issuer
}

// CertThumbprint is a certificate's x5t#S256: base64url(SHA-256(DER)).
func CertThumbprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// certificateClient authenticates a client registered with an mTLS method
// by the request's certificate. ok is false when the request is not such a
// client's (HTTP Basic credentials, no client_id, another method): the
// other methods judge it.
func (s *Server) certificateClient(ctx context.Context, r *http.Request, form url.Values) (c fosite.Client, ok bool, err error) {
	id := form.Get("client_id")
	if _, _, basic := r.BasicAuth(); basic || id == "" || form.Get("client_assertion") != "" {
		return nil, false, nil
	}
	fc, err := s.store.client(ctx, id)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, true, err
	}
	if !isMTLSMethod(fc.c.TokenEndpointAuthMethod) {
		return nil, false, nil
	}
	c, err = s.authenticateCertificate(ctx, r, fc)
	if err != nil {
		// The registration may have changed (clients update) after this
		// replica cached the client: read it again, once.
		if _, cached := s.store.clients.LoadAndDelete(id); cached {
			if fc, rerr := s.store.client(ctx, id); rerr == nil && isMTLSMethod(fc.c.TokenEndpointAuthMethod) {
				c, err = s.authenticateCertificate(ctx, r, fc)
			}
		}
	}
	return c, true, err
}

// authenticateCertificate is RFC 8705 §2: a tls_client_auth client's
// certificate is issued by a configured client CA and carries the
// registered subject DN or SAN; a self_signed_tls_client_auth client's
// certificate holds one of its registered public keys (no CA involved).
func (s *Server) authenticateCertificate(ctx context.Context, r *http.Request, fc *fositeClient) (fosite.Client, error) {
	chain := s.requestCertificates(r)
	if len(chain) == 0 {
		return nil, invalidClient("This client authenticates with a TLS client certificate (RFC 8705); the request presented none.", nil)
	}
	leaf := chain[0]
	switch fc.c.TokenEndpointAuthMethod {
	case authTLSClientAuth:
		if s.cfg.MTLS.ClientCAs == nil {
			return nil, invalidClient("tls_client_auth is not available: the server trusts no client CA.", nil)
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.cfg.MTLS.ClientCAs, Intermediates: inter, CurrentTime: s.now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return nil, invalidClient("The client certificate is not issued by a CA the server trusts.", err)
		}
		if !matchTLSName(leaf, fc.c.TLSClientAuth) {
			return nil, invalidClient("The client certificate does not carry the subject DN or name registered for this client.", nil)
		}
	case authSelfSignedTLS:
		ok, err := s.certKeyRegistered(ctx, fc, leaf.PublicKey)
		if err != nil && !ok {
			return nil, invalidClient("The client's keys could not be read.", err)
		}
		if !ok {
			return nil, invalidClient("The client certificate's public key is not one of the client's registered keys.", nil)
		}
	default:
		return nil, invalidClient("This client does not authenticate with a certificate.", nil)
	}
	return fc, nil
}

// matchTLSName reports whether leaf carries the registered name: the
// subject DN as an RFC 4514 string (compared as Go prints it), or one of
// the SANs.
func matchTLSName(leaf *x509.Certificate, want store.TLSClientAuth) bool {
	switch {
	case want.SubjectDN != "":
		return leaf.Subject.String() == want.SubjectDN
	case want.SANDNS != "":
		for _, n := range leaf.DNSNames {
			if strings.EqualFold(n, want.SANDNS) {
				return true
			}
		}
	case want.SANURI != "":
		for _, u := range leaf.URIs {
			if u.String() == want.SANURI {
				return true
			}
		}
	case want.SANIP != "":
		ip := net.ParseIP(want.SANIP)
		for _, a := range leaf.IPAddresses {
			if ip != nil && a.Equal(ip) {
				return true
			}
		}
	case want.SANEmail != "":
		for _, e := range leaf.EmailAddresses {
			if e == want.SANEmail {
				return true
			}
		}
	}
	return false
}

// certKeyRegistered reports whether pub is one of the client's keys: its
// registered JWKS, or its jwks_uri (fetched again once when no key
// matches, as for assertions).
func (s *Server) certKeyRegistered(ctx context.Context, fc *fositeClient, pub crypto.PublicKey) (bool, error) {
	if set := fc.GetJSONWebKeys(); set != nil {
		return setHasKey(set, pub), nil
	}
	uri := fc.GetJSONWebKeysURI()
	if uri == "" {
		return false, errors.New("client has no keys")
	}
	set, err := s.clientKeys.get(ctx, uri, false)
	if err == nil && setHasKey(set, pub) {
		return true, nil
	}
	if set, err = s.clientKeys.get(ctx, uri, true); err != nil {
		return false, err
	}
	return setHasKey(set, pub), nil
}

func setHasKey(set *jose.JSONWebKeySet, pub crypto.PublicKey) bool {
	p, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return false
	}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if p.Equal(k.Key) {
			return true
		}
	}
	return false
}

// checkCertificateBound enforces a certificate-bound token at a resource
// (RFC 8705 §3): presented as Bearer over a request whose client
// certificate is the bound one.
func (s *Server) checkCertificateBound(r *http.Request, scheme, x5t string) error {
	if scheme != "Bearer" {
		return resourceErr("invalid_token", "the access token is bound to a client certificate, not a DPoP key: send it as Bearer")
	}
	if s.requestCertThumbprint(r) != x5t {
		return resourceErr("invalid_token", "the access token is bound to a client certificate this request did not present")
	}
	return nil
}

// errCertificateRequired refuses a token request for a grant bound to a
// certificate that came without one: its tokens would lose the binding.
var errCertificateRequired = fosite.ErrInvalidGrant.WithHint("This grant's tokens are bound to a client certificate: present it (mutual TLS, RFC 8705).")

// ForwardedCertConfig configures ForwardedClientCertificate.
type ForwardedCertConfig struct {
	// Header carries the client certificate: PEM URL-encoded (nginx's
	// $ssl_client_escaped_cert) or base64 DER.
	Header string
	// TrustedProxies are the only peers whose Header is believed.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
}

// ForwardedClientCertificate is the middleware of a server behind a TLS
// terminating reverse proxy: the certificate in cfg.Header is the
// request's client certificate (WithClientCertificate) only when the TCP
// peer is a trusted proxy. From anyone else the header is ignored and
// logged at WARN (never its content); the header is removed either way.
func ForwardedClientCertificate(cfg ForwardedCertConfig, next http.Handler) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	header := http.CanonicalHeaderKey(cfg.Header)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header.Values(header)
		if len(vals) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		r.Header.Del(header)
		peer := peerAddr(r)
		if !trusted(cfg.TrustedProxies, peer) {
			log.WarnContext(r.Context(), "client certificate header from an untrusted peer ignored", "header", header, "peer", peer.String())
			next.ServeHTTP(w, r)
			return
		}
		if len(vals) > 1 || strings.TrimSpace(vals[0]) == "" {
			next.ServeHTTP(w, r)
			return
		}
		chain, err := ParseForwardedCertificate(vals[0])
		if err != nil {
			log.WarnContext(r.Context(), "forwarded client certificate unreadable: ignored", "header", header, "err", err)
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithClientCertificate(r.Context(), chain)))
	})
}

func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func trusted(nets []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// ParseForwardedCertificate reads a forwarded client certificate: PEM,
// URL-encoded or not (a chain, leaf first), or base64 DER.
func ParseForwardedCertificate(v string) ([]*x509.Certificate, error) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "%") {
		u, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("authz: forwarded certificate: %w", err)
		}
		v = u
	}
	if strings.HasPrefix(v, "-----BEGIN") {
		var chain []*x509.Certificate
		rest := []byte(v)
		for {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("authz: forwarded certificate: %w", err)
			}
			chain = append(chain, c)
		}
		if len(chain) == 0 {
			return nil, errors.New("authz: forwarded certificate: no PEM certificate")
		}
		return chain, nil
	}
	der, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if der, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil {
			return nil, errors.New("authz: forwarded certificate: neither PEM nor base64 DER")
		}
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("authz: forwarded certificate: %w", err)
	}
	return []*x509.Certificate{c}, nil
}
