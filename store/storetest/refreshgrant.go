package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// testRefreshRotationCreating: a refresh grant's rotation and its new
// records in one step (RotateRefreshTokenCreating). It rotates an active
// token of a standing consent, ends the access token issued with it and
// writes the new records, once of 20 concurrent callers; in every other
// case it changes nothing and says so: the token rotated already, missing,
// of a revoked or a missing consent, new records of another request, or a
// new record already stored (ErrConflict).
func testRefreshRotationCreating(t *testing.T, s store.Store) {
	ctx := t.Context()
	consent := func(revoked bool) store.Consent {
		c := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
		if revoked {
			noErr(t, s.RevokeConsent(ctx, c.ID, t0), "RevokeConsent")
		}
		return c
	}
	token := func(kind store.TokenKind, sig, requestID, accessSig string) store.TokenRecord {
		return store.TokenRecord{Kind: kind, Signature: sig, RequestID: requestID, ClientID: "vendor", Subject: "usr_1",
			Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), AccessSignature: accessSig, TokenType: "bearer",
			Request: []byte("session of " + sig)}
	}
	// grant stores an access token and the refresh token issued with it.
	grant := func(requestID, name string) {
		noErr(t, s.CreateTokens(ctx, token(store.TokenAccess, name+"-access", requestID, ""),
			token(store.TokenRefresh, name, requestID, name+"-access")), "CreateTokens("+name+")")
	}
	newPair := func(requestID, name string) []store.TokenRecord {
		return []store.TokenRecord{token(store.TokenAccess, name+"-access", requestID, ""),
			token(store.TokenRefresh, name, requestID, name+"-access")}
	}
	active := func(kind store.TokenKind, sig string) bool {
		t.Helper()
		return must(s.GetToken(ctx, kind, sig))(t).Active
	}
	missing := func(what string, recs ...store.TokenRecord) {
		t.Helper()
		for _, r := range recs {
			_, err := s.GetToken(ctx, r.Kind, r.Signature)
			mustBe(t, err, store.ErrNotFound, what+": new record "+r.Signature)
		}
	}
	unchanged := func(what, refresh string, recs ...store.TokenRecord) {
		t.Helper()
		if !active(store.TokenRefresh, refresh) || !active(store.TokenAccess, refresh+"-access") {
			t.Errorf("%s: the refresh token or its access token was ended", what)
		}
		if got := must(s.GetToken(ctx, store.TokenRefresh, refresh))(t); !got.FirstUsedAt.IsZero() {
			t.Errorf("%s: the refresh token was stamped used at %v", what, got.FirstUsedAt)
		}
		missing(what, recs...)
	}
	refuses := func(what, refresh string, recs []store.TokenRecord) {
		t.Helper()
		if ok, err := s.RotateRefreshTokenCreating(ctx, refresh, t0.Add(time.Minute), recs...); err != nil || ok {
			t.Errorf("%s: RotateRefreshTokenCreating = %v, %v; want false, nil", what, ok, err)
		}
		unchanged(what, refresh, recs...)
	}

	c := consent(false)
	grant(c.ID, "rc-1")
	other := consent(false)
	refuses("new records of another consent", "rc-1", newPair(other.ID, "rc-x"))
	refuses("new records of two consents", "rc-1", []store.TokenRecord{token(store.TokenAccess, "rc-y-access", c.ID, ""),
		token(store.TokenRefresh, "rc-y", other.ID, "rc-y-access")})

	revoked := consent(false)
	grant(revoked.ID, "rc-revoked")
	noErr(t, s.RevokeConsent(ctx, revoked.ID, t0), "RevokeConsent")
	if active(store.TokenRefresh, "rc-revoked") {
		t.Fatal("the revocation left the refresh token active")
	}
	if ok, err := s.RotateRefreshTokenCreating(ctx, "rc-revoked", t0.Add(time.Minute), newPair(revoked.ID, "rc-r2")...); err != nil || ok {
		t.Errorf("revoked consent: RotateRefreshTokenCreating = %v, %v; want false, nil", ok, err)
	}
	missing("revoked consent", newPair(revoked.ID, "rc-r2")...)

	grant("no-such-consent", "rc-orphan")
	refuses("a token of no consent", "rc-orphan", newPair("no-such-consent", "rc-o2"))
	if ok, err := s.RotateRefreshTokenCreating(ctx, "rc-missing", t0, newPair(c.ID, "rc-m2")...); err != nil || ok {
		t.Errorf("missing token: RotateRefreshTokenCreating = %v, %v; want false, nil", ok, err)
	}
	missing("missing token", newPair(c.ID, "rc-m2")...)

	// A new record already stored: nothing is kept, the rotation included.
	clash := newPair(c.ID, "rc-clash")
	clash[0].Signature = "rc-1-access"
	_, err := s.RotateRefreshTokenCreating(ctx, "rc-1", t0.Add(time.Minute), clash...)
	mustBe(t, err, store.ErrConflict, "RotateRefreshTokenCreating(a record already stored)")
	unchanged("a record already stored", "rc-1", clash[1])

	const n = 20
	wins, errs := atOnce(n, func(i int) (bool, error) {
		return s.RotateRefreshTokenCreating(ctx, "rc-1", t0.Add(time.Duration(i+1)*time.Second), newPair(c.ID, fmt.Sprintf("rc-2-%d", i))...)
	})
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
		} else if wins[i] && winner >= 0 {
			t.Fatalf("callers %d and %d both rotated the token", winner, i)
		} else if wins[i] {
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no caller rotated the token")
	}
	for i := range n {
		pair := newPair(c.ID, fmt.Sprintf("rc-2-%d", i))
		if i != winner {
			missing(fmt.Sprintf("caller %d (lost)", i), pair...)
			continue
		}
		for _, r := range pair {
			got := must(s.GetToken(ctx, r.Kind, r.Signature))(t)
			if !got.Active || got.RequestID != c.ID || got.AccessSignature != r.AccessSignature || string(got.Request) != string(r.Request) ||
				!got.ExpiresAt.Equal(r.ExpiresAt) || got.TokenType != "bearer" {
				t.Errorf("new record %s = %+v, want %+v", r.Signature, got, r)
			}
		}
	}
	after := must(s.GetToken(ctx, store.TokenRefresh, "rc-1"))(t)
	if after.Active || !after.FirstUsedAt.Equal(t0.Add(time.Duration(winner+1)*time.Second)) {
		t.Errorf("rotated token = active %v, first used %v; want inactive, used at the winner's time", after.Active, after.FirstUsedAt)
	}
	if active(store.TokenAccess, "rc-1-access") {
		t.Error("the access token issued with the rotated refresh token is still active")
	}
	// Rotated already: the steps one by one tell the rest.
	if ok, err := s.RotateRefreshTokenCreating(ctx, "rc-1", t0.Add(time.Hour), newPair(c.ID, "rc-3")...); err != nil || ok {
		t.Errorf("rotated token: RotateRefreshTokenCreating = %v, %v; want false, nil", ok, err)
	}
	missing("rotated token", newPair(c.ID, "rc-3")...)
	if got := must(s.GetToken(ctx, store.TokenRefresh, "rc-1"))(t); !got.FirstUsedAt.Equal(after.FirstUsedAt) {
		t.Errorf("a refused rotation moved FirstUsedAt to %v", got.FirstUsedAt)
	}
}
