package dpopkey_test

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/bankfeed/bankfeed/authz/dpop"
	"github.com/bankfeed/bankfeed/authz/loadtest/dpopkey"
)

// TestProofsPassTheServersCheck: the load programs' proofs are what the
// server's checker accepts — htm, htu, ath, the nonce once an answer asked
// for it — and the key survives the JWK hand-over between the programs.
func TestProofsPassTheServersCheck(t *testing.T) {
	c, err := dpop.New(dpop.Config{Secret: bytes.Repeat([]byte("s"), 32), RequireNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	k, err := dpopkey.New()
	if err != nil {
		t.Fatal(err)
	}
	const u = "https://bank.example/fdx/v6/accounts"
	p, err := k.Proof(http.MethodGet, u, "tok")
	if err != nil {
		t.Fatal(err)
	}
	var de *dpop.Error
	if _, err := c.Check(p, dpop.Request{Method: http.MethodGet, URL: u, AccessToken: "tok"}); !errors.As(err, &de) || de.Code != dpop.CodeUseNonce {
		t.Fatalf("without a nonce: %v, want use_dpop_nonce", err)
	}
	res := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{
		"Dpop-Nonce": {c.Nonce()}, "Www-Authenticate": {`DPoP error="use_dpop_nonce"`}}}
	if !k.UseNonce(res, nil) {
		t.Fatal("a use_dpop_nonce challenge does not ask for a retry")
	}
	if k.UseNonce(&http.Response{StatusCode: http.StatusBadRequest, Header: res.Header}, []byte(`{"error":"invalid_grant"}`)) {
		t.Fatal("another error asks for a retry")
	}

	data, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := dpopkey.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	k2.UseNonce(res, nil)
	p, err = k2.Proof(http.MethodGet, u+"?limit=1", "tok")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Check(p, dpop.Request{Method: http.MethodGet, URL: u, AccessToken: "tok"})
	if err != nil {
		t.Fatalf("with the nonce: %v", err)
	}
	if jkt, _ := k.Thumbprint(); got.JKT != jkt {
		t.Fatalf("jkt %s, want the first key's %s", got.JKT, jkt)
	}
	if _, err := c.Check(p, dpop.Request{Method: http.MethodPost, URL: u, AccessToken: "tok"}); err == nil {
		t.Fatal("a GET proof passed for a POST")
	}
	if _, err := c.Check(p, dpop.Request{Method: http.MethodGet, URL: u, AccessToken: "other"}); err == nil {
		t.Fatal("a proof passed for another token (ath)")
	}
}
