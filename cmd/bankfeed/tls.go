package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/config"
)

// fapiCipherSuites are the only TLS 1.2 suites FAPI 2.0 (§5.2.1, after BCP
// 195) allows; TLS 1.3's suites are all acceptable and not configurable.
var fapiCipherSuites = []uint16{
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
}

// serverTLSConfig is the TLS configuration of serve with tls.cert and
// tls.key: TLS 1.3 preferred, 1.2 only with the FAPI suites; with
// tls.client_ca, every connection is asked for a client certificate, not
// required (the data API's bearer clients have none) and not verified here:
// self_signed_tls_client_auth certificates have no CA, so authz judges each
// certificate by its client's method. No CA list is sent, so that clients
// with self-signed certificates present them too. nil without tls.cert.
func serverTLSConfig(c config.TLS) (*tls.Config, error) {
	if c.Cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, fmt.Errorf("tls.cert, tls.key: %w", err)
	}
	tc := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: fapiCipherSuites,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if c.ClientCA != "" {
		tc.ClientAuth = tls.RequestClientCert
	}
	return tc, nil
}

// mtlsConfig is authz's view of mutual TLS: on when clients can present
// certificates (config.TLS.MTLS), with the client CAs of tls.client_ca.
func mtlsConfig(c config.TLS) (authz.MTLSConfig, error) {
	m := authz.MTLSConfig{Enabled: c.MTLS(), BaseURL: c.MTLSBaseURL}
	if c.ClientCA == "" {
		return m, nil
	}
	pemCAs, err := os.ReadFile(c.ClientCA)
	if err != nil {
		return m, fmt.Errorf("tls.client_ca: %w", err)
	}
	m.ClientCAs = x509.NewCertPool()
	if !m.ClientCAs.AppendCertsFromPEM(pemCAs) {
		return m, fmt.Errorf("tls.client_ca: %s holds no PEM certificate", c.ClientCA)
	}
	return m, nil
}

// forwardedCerts wraps h so that a client certificate forwarded by a
// trusted proxy in tls.client_cert_header is the request's; h itself
// without that setting.
func forwardedCerts(c config.TLS, h http.Handler, log *slog.Logger) http.Handler {
	if c.ClientCertHeader == "" {
		return h
	}
	var nets []netip.Prefix
	for _, p := range c.TrustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, _ := netip.ParseAddr(p) // validated by config
			prefix = netip.PrefixFrom(a, a.BitLen())
		}
		nets = append(nets, prefix)
	}
	return authz.ForwardedClientCertificate(authz.ForwardedCertConfig{Header: c.ClientCertHeader, TrustedProxies: nets, Logger: log}, h)
}
