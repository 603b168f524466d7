package main

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// TestFDXRecipientEndToEnd is issue 13 §2 through the whole wiring and real
// tokens: a recipient registered with `clients create`'s defaults asks for
// FDX's scopes only, the user consents on the bank's pages, the token
// response names the consent (grant_id), the FDX scopes open the data API,
// the Consent API shows what is granted, and the recipient's revocation
// ends the connection at once — its tokens, its refresh token, and its line
// on the bank's connections page.
func TestFDXRecipientEndToEnd(t *testing.T) {
	b := startBank(t)
	biz := seedBrowserBusiness(t, b)
	const redirect = "https://fdx-recipient.example/callback"
	id, secret := b.client(authz.ClientSpec{Name: "FDX Recipient", RedirectURIs: []string{redirect}})
	conf := oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: redirect,
		Scopes:   []string{"openid", "offline_access", "fdx:accountbasic:read", "fdx:transactions:read", "fdx:customercontact:read"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	v := oauth2.GenerateVerifier()
	br := b.browser()
	cb := b.authorize(br, conf.AuthCodeURL("fdx-state", oauth2.S256ChallengeOption(v)), biz.login, biz.tempPassword, "Maple-Ledger-Sync-2026")
	tok, err := conf.Exchange(t.Context(), cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange: %v (callback %s)", err, cb)
	}
	consentID, _ := tok.Extra("grant_id").(string)
	if consentID == "" || !strings.Contains(fmt.Sprint(tok.Extra("scope")), "fdx:transactions:read") {
		t.Fatalf("token response: grant_id %v, scope %v", tok.Extra("grant_id"), tok.Extra("scope"))
	}
	at := tok.AccessToken

	// FDX's scopes open what they name, and nothing else.
	b.api(at, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusOK)
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+biz.groupAccounts[0]+"/transactions", nil, http.StatusOK)
	if c := b.api(at, http.MethodGet, "/fdx/v6/accounts/"+biz.groupAccounts[0]+"/contact", nil, http.StatusOK); len(c["holders"].([]any)) != 1 {
		t.Fatalf("contact %v", c)
	}
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+biz.groupAccounts[0]+"/statements", nil, http.StatusForbidden)
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+biz.outside+"/transactions", nil, http.StatusNotFound)

	// The Consent API: what is granted now.
	c := b.api(at, http.MethodGet, "/fdx/v6/consents/"+consentID, nil, http.StatusOK)
	if c["id"] != consentID || c["status"] != "ACTIVE" {
		t.Fatalf("consent %v", c)
	}
	var accounts []string
	for _, r := range c["resources"].([]any) {
		res := r.(map[string]any)
		accounts = append(accounts, res["resourceId"].(string))
		if got := fmt.Sprint(res["dataClusters"]); got != "[ACCOUNT_BASIC TRANSACTIONS CUSTOMER_CONTACT]" {
			t.Fatalf("clusters %s", got)
		}
	}
	slices.Sort(accounts)
	if !slices.Equal(accounts, biz.groupAccounts) {
		t.Fatalf("resources %v, want %v", accounts, biz.groupAccounts)
	}
	_, page := b.do(br, http.MethodGet, b.URL+"/account/connections", nil)
	if !strings.Contains(page, "FDX Recipient") {
		t.Fatalf("connections page lacks the recipient:\n%s", page)
	}

	// The recipient ends the connection.
	b.api(at, http.MethodPut, "/fdx/v6/consents/"+consentID+"/revocation", map[string]string{"reason": "USER_ACTION", "initiator": "DATA_RECIPIENT"}, http.StatusNoContent)
	b.api(at, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusUnauthorized)
	_, err = conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after revocation: %v", err)
	}
	_, page = b.do(br, http.MethodGet, b.URL+"/account/connections", nil)
	if strings.Contains(page, "FDX Recipient") {
		t.Fatalf("connections page still lists the recipient:\n%s", page)
	}
}
