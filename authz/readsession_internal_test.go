package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestReadSessionTakesWithoutTheCodesRead: in a code exchange whose code's
// read took nothing ahead (no client noted: grantRecords reads the code
// alone), fosite's PKCE read still takes the PKCE session with the OpenID
// Connect session of the request's code in one step, the OpenID Connect
// read gets the record taken with it, and both deletes that follow are
// no-ops; a session missing is fosite's not found. With a client noted,
// the code's read takes the sessions of that client only.
func TestReadSessionTakesWithoutTheCodesRead(t *testing.T) {
	st := gormtest.Open(t, "authz_readsession", gormstore.Config{})
	a := &fositeStore{st: st, now: time.Now}
	now := time.Now().UTC().Truncate(time.Microsecond)
	const code, sig = "raw-code.code-sig", "code-sig"
	rec := store.TokenRecord{Kind: store.TokenPKCE, Signature: sig, RequestID: "cns_1", ClientID: "vendor",
		Subject: "usr_1", Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Minute), TokenType: "bearer",
		Request: []byte("pkce")}
	oidc := rec
	oidc.Kind, oidc.Signature, oidc.Request = store.TokenOIDC, store.HashToken(code), []byte("oidc")
	exchange := func() context.Context {
		r := &http.Request{PostForm: url.Values{"code": {code}}}
		return context.WithValue(withExchangeNote(t.Context()), fosite.RequestContextKey, r)
	}
	gone := func(what string) {
		t.Helper()
		for _, r := range []store.TokenRecord{rec, oidc} {
			if _, err := st.GetToken(t.Context(), r.Kind, r.Signature); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %s session: %v, want it taken", what, r.Kind, err)
			}
		}
	}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateTokens(t.Context(), rec, oidc))
	ctx := exchange()
	got, err := a.readSession(ctx, store.TokenPKCE, sig)
	if err != nil || string(got.Request) != "pkce" {
		t.Fatalf("PKCE read: %+v, %v", got, err)
	}
	gone("after the PKCE read")
	if got, err := a.readSession(ctx, store.TokenOIDC, oidc.Signature); err != nil || string(got.Request) != "oidc" {
		t.Fatalf("OpenID Connect read: %+v, %v", got, err)
	}
	must(a.deleteSession(ctx, store.TokenPKCE, sig))
	must(a.deleteSession(ctx, store.TokenOIDC, oidc.Signature))
	if _, err := a.readSession(exchange(), store.TokenPKCE, sig); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PKCE read of a session taken: %v, want not found", err)
	}

	// With a client noted, the code's read takes that client's sessions.
	codeRec := rec
	codeRec.Kind, codeRec.Request = store.TokenAuthorizeCode, []byte("code")
	must(st.CreateTokens(t.Context(), rec, oidc, codeRec))
	for _, client := range []string{"other", "vendor"} {
		ctx := exchange()
		n := exchangeNoteOf(ctx)
		n.authenticatedClient(client)
		if _, _, err := a.grantRecords(ctx, n, store.TokenAuthorizeCode, sig); err != nil {
			t.Fatalf("%s: code's read: %v", client, err)
		}
		got, err := a.readSession(ctx, store.TokenPKCE, sig)
		if client == "other" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("another client's PKCE read: %+v, %v; want not found", got, err)
			}
			if _, err := st.GetToken(t.Context(), store.TokenPKCE, sig); err != nil {
				t.Errorf("another client's exchange took the PKCE session: %v", err)
			}
			continue
		}
		if err != nil || string(got.Request) != "pkce" {
			t.Fatalf("the code's client's PKCE read: %+v, %v", got, err)
		}
		gone("after the code's read")
	}
}
