package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }

func testClients(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Client{ID: "vendor-books", Name: "Books Online", SecretHash: "$argon2id$x",
		RedirectURIs: []string{"https://books.example/cb", "http://127.0.0.1:9999/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "accounts.read"}, Audience: []string{"https://bank.example/fdx"},
		TokenEndpointAuthMethod: "private_key_jwt", TokenEndpointAuthSigningAlg: "PS256",
		JWKS: json.RawMessage(`{"keys":[{"kty":"RSA","kid":"k1"}]}`), RequirePAR: true, LogoURI: "https://books.example/logo.png",
		DPoPBoundAccessTokens: true, NativeApp: true, RequireSignedRequestObject: true, Status: store.ClientPending}
	got := must(s.CreateClient(ctx, c))(t)
	c.CreatedAt, c.UpdatedAt = got.CreatedAt, got.UpdatedAt
	diff(t, "CreateClient", c, got)
	diff(t, "GetClient", c, must(s.GetClient(ctx, c.ID))(t))
	_, err := s.CreateClient(ctx, store.Client{ID: c.ID, Name: "dup"})
	mustBe(t, err, store.ErrConflict, "CreateClient(duplicate)")
	first := must(s.CreateClient(ctx, store.Client{ID: "bank-admin", Name: "Online banking", FirstParty: true}))(t)
	diff(t, "ListClients (by ID)", []store.Client{first, got}, must(s.ListClients(ctx))(t))
	upd := must(s.UpdateClient(ctx, c.ID, func(x store.Client) (store.Client, error) {
		x.RedirectURIs = []string{"https://books.example/cb2"}
		x.RequirePAR = false
		return x, nil
	}))(t)
	if len(upd.RedirectURIs) != 1 || upd.RequirePAR {
		t.Errorf("UpdateClient = %+v", upd)
	}
	// Mutual TLS (migration 12): every name a tls_client_auth client may
	// register round-trips (the store holds them; authz keeps one).
	tlsAuth := store.TLSClientAuth{SubjectDN: "CN=books,O=Books Online,C=CA", SANDNS: "books.example",
		SANURI: "https://books.example/id", SANIP: "192.0.2.7", SANEmail: "ops@books.example"}
	upd = must(s.UpdateClient(ctx, c.ID, func(x store.Client) (store.Client, error) {
		x.TLSClientAuth = tlsAuth
		return x, nil
	}))(t)
	diff(t, "GetClient (mutual TLS)", upd, must(s.GetClient(ctx, c.ID))(t))
	if upd.TLSClientAuth != tlsAuth {
		t.Errorf("UpdateClient: TLSClientAuth = %+v, want %+v", upd.TLSClientAuth, tlsAuth)
	}
	cns := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_del", ClientID: c.ID, Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
	other := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_del", ClientID: first.ID, GrantedAt: t0}))(t)
	for _, tk := range []store.TokenRecord{
		{Kind: store.TokenAccess, Signature: "del-at", RequestID: cns.ID, ClientID: c.ID},
		{Kind: store.TokenRefresh, Signature: "del-rt", RequestID: cns.ID, ClientID: c.ID},
		{Kind: store.TokenAccess, Signature: "keep-at", RequestID: other.ID, ClientID: first.ID},
	} {
		tk.Active, tk.RequestedAt, tk.ExpiresAt, tk.Request = true, t0, t0.Add(time.Hour), []byte(`{}`)
		noErr(t, s.CreateToken(ctx, tk), "CreateToken")
	}
	noErr(t, s.DeleteClient(ctx, c.ID), "DeleteClient")
	if got := must(s.GetConsent(ctx, cns.ID))(t); got.RevokedAt.IsZero() {
		t.Error("DeleteClient left the client's consent standing")
	}
	if got := must(s.GetConsent(ctx, other.ID))(t); !got.RevokedAt.IsZero() {
		t.Error("DeleteClient revoked another client's consent")
	}
	for sig, want := range map[string]bool{"del-at": false, "del-rt": false, "keep-at": true} {
		kind := store.TokenAccess
		if sig == "del-rt" {
			kind = store.TokenRefresh
		}
		if got := must(s.GetToken(ctx, kind, sig))(t); got.Active != want {
			t.Errorf("token %s active = %v after DeleteClient, want %v", sig, got.Active, want)
		}
	}
	_, err = s.GetClient(ctx, c.ID)
	mustBe(t, err, store.ErrNotFound, "GetClient(deleted)")
	mustBe(t, s.DeleteClient(ctx, c.ID), store.ErrNotFound, "DeleteClient twice")
}

func testConsents(t *testing.T, s store.Store) {
	ctx := t.Context()
	older := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
	newer := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor2", Scopes: []string{"accounts.read", "statements.read"},
		GrantedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(90 * 24 * time.Hour)}))(t)
	must(s.CreateConsent(ctx, store.Consent{UserID: "usr_2", ClientID: "vendor", GrantedAt: t0}))(t)
	diff(t, "GetConsent", newer, must(s.GetConsent(ctx, newer.ID))(t))
	_, err := s.GetConsent(ctx, "cns_missing")
	mustBe(t, err, store.ErrNotFound, "GetConsent(missing)")
	_, err = s.CreateConsent(ctx, store.Consent{ID: older.ID, UserID: "usr_1", ClientID: "vendor"})
	mustBe(t, err, store.ErrConflict, "CreateConsent(duplicate ID)")
	_, err = s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", GrantedAt: t0.Add(2 * time.Hour)})
	mustBe(t, err, store.ErrConflict, "CreateConsent(a second standing consent of usr_1 and vendor)")
	diff(t, "ListConsents (newest first)", []store.Consent{newer, older}, must(s.ListConsents(ctx, "usr_1"))(t))

	noErr(t, s.TouchConsent(ctx, older.ID, t0.Add(time.Minute)), "TouchConsent")
	noErr(t, s.TouchConsent(ctx, older.ID, t0.Add(time.Minute+30*time.Second)), "TouchConsent within the minute")
	if got := must(s.GetConsent(ctx, older.ID))(t); !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("LastUsedAt = %v, want the first touch (once a minute)", got.LastUsedAt)
	}
	noErr(t, s.TouchConsent(ctx, older.ID, t0.Add(3*time.Minute)), "TouchConsent later")
	if got := must(s.GetConsent(ctx, older.ID))(t); !got.LastUsedAt.Equal(t0.Add(3 * time.Minute)) {
		t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, t0.Add(3*time.Minute))
	}
	mustBe(t, s.TouchConsent(ctx, "cns_missing", t0), store.ErrNotFound, "TouchConsent(missing)")
	mustBe(t, s.RevokeConsent(ctx, "cns_missing", t0), store.ErrNotFound, "RevokeConsent(missing)")
}

// testConsentRevocation: revoking a consent deactivates every token whose
// request ID is the consent's, and no other.
func testConsentRevocation(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
	// Another user's: a user and a client have one standing consent.
	other := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_2", ClientID: "vendor", GrantedAt: t0}))(t)
	tok := func(kind store.TokenKind, sig, req string) store.TokenRecord {
		return store.TokenRecord{Kind: kind, Signature: sig, RequestID: req, ClientID: "vendor", Subject: "usr_1", Active: true,
			RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), Request: []byte(`{"r":1}`)}
	}
	for _, r := range []store.TokenRecord{
		tok(store.TokenAccess, "a1", c.ID), tok(store.TokenRefresh, "r1", c.ID), tok(store.TokenAccess, "a2", c.ID),
		tok(store.TokenAccess, "a3", other.ID), tok(store.TokenRefresh, "r3", other.ID),
	} {
		noErr(t, s.CreateToken(ctx, r), "CreateToken")
	}
	at := t0.Add(2 * time.Hour)
	noErr(t, s.RevokeConsent(ctx, c.ID, at), "RevokeConsent")
	got := must(s.GetConsent(ctx, c.ID))(t)
	if !got.RevokedAt.Equal(at) || got.Active(at) {
		t.Errorf("revoked consent = %+v", got)
	}
	for _, k := range []struct {
		kind   store.TokenKind
		sig    string
		active bool
	}{
		{store.TokenAccess, "a1", false}, {store.TokenRefresh, "r1", false}, {store.TokenAccess, "a2", false},
		{store.TokenAccess, "a3", true}, {store.TokenRefresh, "r3", true},
	} {
		if r := must(s.GetToken(ctx, k.kind, k.sig))(t); r.Active != k.active {
			t.Errorf("token %s active = %v, want %v", k.sig, r.Active, k.active)
		}
	}
	noErr(t, s.RevokeConsent(ctx, c.ID, at.Add(time.Hour)), "RevokeConsent twice")
	if got := must(s.GetConsent(ctx, c.ID))(t); !got.RevokedAt.Equal(at) {
		t.Errorf("second revocation moved RevokedAt to %v", got.RevokedAt)
	}

	// An access or refresh token is created only while its consent stands
	// (issue 10): under a revoked one the creation is refused and writes
	// nothing, in a transaction or not. A grant without a consent
	// (client_credentials) and other kinds are not concerned.
	for _, k := range []store.TokenKind{store.TokenAccess, store.TokenRefresh} {
		sig := "late-" + string(k)
		mustBe(t, s.CreateToken(ctx, tok(k, sig, c.ID)), store.ErrGrantConsentRevoked, "CreateToken("+string(k)+") under a revoked consent")
		_, err := s.GetToken(ctx, k, sig)
		mustBe(t, err, store.ErrNotFound, "GetToken of a refused "+string(k))
	}
	mustBe(t, s.InTx(ctx, func(ctx context.Context) error {
		return s.CreateToken(ctx, tok(store.TokenAccess, "late-in-tx", c.ID))
	}), store.ErrGrantConsentRevoked, "CreateToken in a transaction under a revoked consent")
	noErr(t, s.CreateToken(ctx, tok(store.TokenAccess, "client-credentials", "req-no-consent")), "CreateToken without a consent")
	noErr(t, s.CreateToken(ctx, tok(store.TokenAccess, "a4", other.ID)), "CreateToken under a standing consent")
	t.Run("RacingRevocation", func(t *testing.T) { testTokensRaceRevocation(t, s) })
}

// testTokensRaceRevocation: token grants (a code exchanged, a refresh token
// rotated: consume, then create an access and a refresh token in one
// transaction) race revocations of their consents. Whichever goes first,
// no active token of a revoked consent remains, and neither side fails but
// for the refusal (a code or refresh token already deactivated, or the
// consent revoked): the race CI found on PostgreSQL (issue 10).
func testTokensRaceRevocation(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 24
	now := time.Now().UTC()
	consents := make([]store.Consent, n)
	for i := range consents {
		consents[i] = must(s.CreateConsent(ctx, store.Consent{UserID: fmt.Sprintf("usr_race_%d", i), ClientID: "vendor", GrantedAt: now}))(t)
		kind := store.TokenAuthorizeCode
		if i%2 == 1 {
			kind = store.TokenRefresh
		}
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: kind, Signature: fmt.Sprintf("race-grant-%d", i), RequestID: consents[i].ID,
			ClientID: "vendor", Subject: consents[i].UserID, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour)}), "CreateToken")
	}
	grant := func(i int) error {
		return s.InTx(ctx, func(ctx context.Context) error {
			sig := fmt.Sprintf("race-grant-%d", i)
			if i%2 == 0 {
				if _, err := s.ConsumeToken(ctx, store.TokenAuthorizeCode, sig); err != nil {
					return err
				}
			} else if prev, err := s.RotateRefreshToken(ctx, sig, now); err != nil {
				return err
			} else if !prev.Active {
				return fmt.Errorf("refresh token deactivated: %w", store.ErrConflict)
			}
			var issued []store.TokenRecord
			for _, k := range []store.TokenKind{store.TokenAccess, store.TokenRefresh} {
				issued = append(issued, store.TokenRecord{Kind: k, Signature: fmt.Sprintf("race-%s-%d", k, i), RequestID: consents[i].ID,
					ClientID: "vendor", Subject: consents[i].UserID, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour)})
			}
			if i%4 < 2 {
				return s.CreateTokens(ctx, issued...) // both in one statement
			}
			for _, r := range issued {
				if err := s.CreateToken(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var wg sync.WaitGroup
	grantErrs, revokeErrs := make([]error, n), make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() { <-start; grantErrs[i] = grant(i) })
		wg.Go(func() { <-start; revokeErrs[i] = s.RevokeConsent(ctx, consents[i].ID, now) })
	}
	close(start)
	wg.Wait()
	for i := range n {
		noErr(t, revokeErrs[i], fmt.Sprintf("RevokeConsent %d", i))
		if err := grantErrs[i]; err != nil && !isConflict(err) && !errors.Is(err, store.ErrGrantConsentRevoked) {
			t.Errorf("grant %d: %v, want success, ErrConflict or ErrGrantConsentRevoked", i, err)
		}
		for _, k := range []store.TokenKind{store.TokenAccess, store.TokenRefresh} {
			r, err := s.GetToken(ctx, k, fmt.Sprintf("race-%s-%d", k, i))
			if err == nil && r.Active {
				t.Errorf("grant %d: an active %s of a revoked consent", i, k)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("grant %d: GetToken(%s): %v", i, k, err)
			}
		}
	}
}

// testTokensCreatedTogether: CreateTokens writes all its records or none —
// a duplicate among them, or one naming a revoked consent, leaves none
// behind, in a transaction of the caller's or not.
func testTokensCreatedTogether(t *testing.T, s store.Store) {
	ctx := t.Context()
	standing := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", GrantedAt: t0}))(t)
	revoked := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_2", ClientID: "vendor", GrantedAt: t0}))(t)
	noErr(t, s.RevokeConsent(ctx, revoked.ID, t0), "RevokeConsent")
	tok := func(kind store.TokenKind, sig, req string) store.TokenRecord {
		return store.TokenRecord{Kind: kind, Signature: sig, RequestID: req, ClientID: "vendor", Subject: "usr_1", Active: true,
			RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), TokenType: "bearer", Request: []byte(sig)}
	}
	absent := func(what string, recs ...store.TokenRecord) {
		t.Helper()
		for _, r := range recs {
			if _, err := s.GetToken(ctx, r.Kind, r.Signature); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %s %s was written (GetToken: %v)", what, r.Kind, r.Signature, err)
			}
		}
	}
	noErr(t, s.CreateTokens(ctx), "CreateTokens()")

	// An authorization's code with its sessions (no consent check), and a
	// grant's access and refresh token under a standing consent.
	code := []store.TokenRecord{tok(store.TokenAuthorizeCode, "c1", standing.ID), tok(store.TokenPKCE, "c1", standing.ID),
		tok(store.TokenOIDC, "c1-oidc", standing.ID)}
	grant := []store.TokenRecord{tok(store.TokenAccess, "a1", standing.ID), tok(store.TokenRefresh, "r1", standing.ID)}
	grant[1].AccessSignature = "a1"
	noErr(t, s.CreateTokens(ctx, code...), "CreateTokens(code, PKCE, OIDC)")
	noErr(t, s.InTx(ctx, func(ctx context.Context) error { return s.CreateTokens(ctx, grant...) }), "CreateTokens(access, refresh) in a transaction")
	for _, r := range slices.Concat(code, grant) {
		diff(t, "GetToken("+string(r.Kind)+" "+r.Signature+")", r, must(s.GetToken(ctx, r.Kind, r.Signature))(t))
	}

	// A duplicate among new records: ErrConflict, and the new ones are not
	// kept either.
	fresh := []store.TokenRecord{tok(store.TokenAccess, "a2", standing.ID), tok(store.TokenRefresh, "r2", standing.ID)}
	mustBe(t, s.CreateTokens(ctx, fresh[0], grant[1], fresh[1]), store.ErrConflict, "CreateTokens with a duplicate")
	absent("CreateTokens with a duplicate", fresh...)
	mustBe(t, s.InTx(ctx, func(ctx context.Context) error { return s.CreateTokens(ctx, fresh[0], fresh[1], code[0]) }),
		store.ErrConflict, "CreateTokens with a duplicate, in a transaction")
	absent("CreateTokens with a duplicate, in a transaction", fresh...)
	mustBe(t, s.CreateTokens(ctx, fresh[0], fresh[0]), store.ErrConflict, "CreateTokens of one record twice")
	absent("CreateTokens of one record twice", fresh[0])

	// One record under a revoked consent: nothing written.
	late := tok(store.TokenRefresh, "r-late", revoked.ID)
	mustBe(t, s.CreateTokens(ctx, fresh[0], late), store.ErrGrantConsentRevoked, "CreateTokens with a revoked consent's token")
	absent("CreateTokens with a revoked consent's token", fresh[0], late)
	mustBe(t, s.CreateTokens(ctx, store.TokenRecord{Kind: store.TokenAccess}), store.ErrInvalid, "CreateTokens(no signature)")
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	rec := store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: "code-sig", RequestID: "req-1", ClientID: "vendor",
		Subject: "usr_1", Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Minute), TokenType: "bearer",
		KeyThumbprint: "jkt", Request: []byte{0, 1, 2, 255}}
	noErr(t, s.CreateToken(ctx, rec), "CreateToken")
	diff(t, "GetToken", rec, must(s.GetToken(ctx, rec.Kind, rec.Signature))(t))
	mustBe(t, s.CreateToken(ctx, rec), store.ErrConflict, "CreateToken(duplicate)")
	same := rec
	same.Kind = store.TokenPKCE
	noErr(t, s.CreateToken(ctx, same), "CreateToken(same signature, other kind)")
	_, err := s.GetToken(ctx, store.TokenAccess, rec.Signature)
	mustBe(t, err, store.ErrNotFound, "GetToken(other kind)")

	noErr(t, s.DeactivateToken(ctx, rec.Kind, rec.Signature), "DeactivateToken")
	if must(s.GetToken(ctx, rec.Kind, rec.Signature))(t).Active {
		t.Error("code still active after DeactivateToken")
	}
	mustBe(t, s.DeactivateToken(ctx, rec.Kind, "missing"), store.ErrNotFound, "DeactivateToken(missing)")
	noErr(t, s.DeleteToken(ctx, store.TokenPKCE, rec.Signature), "DeleteToken")
	mustBe(t, s.DeleteToken(ctx, store.TokenPKCE, rec.Signature), store.ErrNotFound, "DeleteToken twice")

	for i, exp := range []time.Time{t0.Add(-time.Hour), t0.Add(-time.Second), t0.Add(time.Hour)} {
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: fmt.Sprintf("acc-%d", i), RequestID: "req-2",
			Active: true, RequestedAt: t0.Add(-2 * time.Hour), ExpiresAt: exp}), "CreateToken")
	}
	noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenRefresh, Signature: "ref-2", RequestID: "req-2", Active: true,
		RequestedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}), "CreateToken")
	noErr(t, s.RevokeTokens(ctx, store.TokenAccess, "req-2"), "RevokeTokens")
	if must(s.GetToken(ctx, store.TokenAccess, "acc-2"))(t).Active {
		t.Error("access token of the request still active")
	}
	if !must(s.GetToken(ctx, store.TokenRefresh, "ref-2"))(t).Active {
		t.Error("RevokeTokens(access) deactivated a refresh token")
	}
	n := must(s.DeleteExpiredTokens(ctx, t0))(t)
	if n != 2 { // acc-0 and acc-1 expired before t0
		t.Errorf("DeleteExpiredTokens removed %d, want 2", n)
	}
	_, err = s.GetToken(ctx, store.TokenAccess, "acc-0")
	mustBe(t, err, store.ErrNotFound, "expired token after DeleteExpiredTokens")
	must(s.GetToken(ctx, store.TokenAccess, "acc-2"))(t)
	must(s.GetToken(ctx, rec.Kind, rec.Signature))(t)
}

// testRefreshRotationOnce: of 20 concurrent rotations of one refresh token
// exactly one sees it active; FirstUsedAt is set once and kept. The one
// that sees it active also ends the access token issued with it; a
// rotation of a refresh token already used ends nothing.
func testRefreshRotationOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, sig := range []string{"access-1", "access-2"} {
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: sig, RequestID: "req-1",
			ClientID: "vendor", Subject: "usr_1", Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour),
			Request: []byte("session")}), "CreateToken(access)")
	}
	noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenRefresh, Signature: "refresh-1", RequestID: "req-1",
		ClientID: "vendor", Subject: "usr_1", Active: true, RequestedAt: t0, ExpiresAt: t0.Add(24 * time.Hour),
		AccessSignature: "access-1", Request: []byte("session")}), "CreateToken")
	// Used already (inactive), naming access-2: its rotation ends nothing.
	noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenRefresh, Signature: "refresh-used", RequestID: "req-1",
		ClientID: "vendor", Subject: "usr_1", Active: false, RequestedAt: t0, ExpiresAt: t0.Add(24 * time.Hour),
		FirstUsedAt: t0, AccessSignature: "access-2", Request: []byte("session")}), "CreateToken(used)")
	if late := must(s.RotateRefreshToken(ctx, "refresh-used", t0.Add(time.Second)))(t); late.Active {
		t.Errorf("rotation of a used refresh token saw it active: %+v", late)
	}
	if a := must(s.GetToken(ctx, store.TokenAccess, "access-2"))(t); !a.Active {
		t.Error("rotating a used refresh token ended the access token it names")
	}
	const n = 20
	results, errs := atOnce(n, func(i int) (store.TokenRecord, error) {
		return s.RotateRefreshToken(ctx, "refresh-1", t0.Add(time.Duration(i+1)*time.Second))
	})
	active := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("rotation %d: %v", i, errs[i])
			continue
		}
		if results[i].Active {
			active++
			if !results[i].FirstUsedAt.IsZero() || results[i].AccessSignature != "access-1" || string(results[i].Request) != "session" {
				t.Errorf("winner saw %+v, want the record as it was before", results[i])
			}
		}
	}
	if active != 1 {
		t.Fatalf("%d rotations saw the token active, want exactly 1", active)
	}
	if a := must(s.GetToken(ctx, store.TokenAccess, "access-1"))(t); a.Active {
		t.Error("the access token issued with the rotated refresh token is still active")
	}
	after := must(s.GetToken(ctx, store.TokenRefresh, "refresh-1"))(t)
	if after.Active || after.FirstUsedAt.IsZero() {
		t.Fatalf("after rotation: %+v", after)
	}
	again := must(s.RotateRefreshToken(ctx, "refresh-1", t0.Add(time.Hour)))(t)
	if again.Active || !again.FirstUsedAt.Equal(after.FirstUsedAt) {
		t.Errorf("late rotation = %+v, want inactive with FirstUsedAt kept at %v", again, after.FirstUsedAt)
	}
	if got := must(s.GetToken(ctx, store.TokenRefresh, "refresh-1"))(t); !got.FirstUsedAt.Equal(after.FirstUsedAt) {
		t.Errorf("FirstUsedAt moved to %v", got.FirstUsedAt)
	}
	_, err := s.RotateRefreshToken(ctx, "missing", t0)
	mustBe(t, err, store.ErrNotFound, "RotateRefreshToken(missing)")
}

// testTokenConsumedOnce: of 20 concurrent consumers of one code exactly
// one wins (an authorization code's single use), and the code's consent is
// stamped used, unless the consumption is rolled back.
func testTokenConsumedOnce(t *testing.T, s store.Store) {
	tc := s
	ctx := t.Context()
	c := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
	noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: "code-1", RequestID: c.ID,
		Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Minute), Request: []byte("r")}), "CreateToken")
	boom := errors.New("boom")
	mustBe(t, s.InTx(ctx, func(ctx context.Context) error {
		must(s.ConsumeToken(ctx, store.TokenAuthorizeCode, "code-1"))(t)
		return boom
	}), boom, "InTx(consume, then fail)")
	if got := must(s.GetConsent(ctx, c.ID))(t); !got.LastUsedAt.IsZero() {
		t.Errorf("consent after a rolled-back consumption: used at %v, want never", got.LastUsedAt)
	}
	if !must(s.GetToken(ctx, store.TokenAuthorizeCode, "code-1"))(t).Active {
		t.Fatal("code inactive after a rolled-back consumption")
	}
	const n = 20
	got, errs := atOnce(n, func(i int) (store.TokenRecord, error) {
		return tc.ConsumeToken(ctx, store.TokenAuthorizeCode, "code-1")
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			if !got[i].Active || string(got[i].Request) != "r" {
				t.Errorf("winner got %+v, want the record as it was", got[i])
			}
		case !isConflict(err):
			t.Errorf("consumer %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d consumers won, want exactly 1", wins)
	}
	if must(s.GetToken(ctx, store.TokenAuthorizeCode, "code-1"))(t).Active {
		t.Error("code still active after consumption")
	}
	if got := must(s.GetConsent(ctx, c.ID))(t); got.LastUsedAt.IsZero() {
		t.Error("the code's consent was not stamped used by its consumption")
	}
	// A code naming no consent is consumed too, in a transaction or not.
	for _, sig := range []string{"code-orphan-1", "code-orphan-2"} {
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: sig, RequestID: "req-no-consent",
			Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Minute), Request: []byte("r")}), "CreateToken(no consent)")
	}
	noErr(t, s.InTx(ctx, func(ctx context.Context) error {
		_, err := s.ConsumeToken(ctx, store.TokenAuthorizeCode, "code-orphan-1")
		return err
	}), "ConsumeToken(no consent) in a transaction")
	must(s.ConsumeToken(ctx, store.TokenAuthorizeCode, "code-orphan-2"))(t)
	for _, sig := range []string{"code-orphan-1", "code-orphan-2"} {
		if must(s.GetToken(ctx, store.TokenAuthorizeCode, sig))(t).Active {
			t.Errorf("%s still active after its consumption", sig)
		}
	}
	_, err := tc.ConsumeToken(ctx, store.TokenAuthorizeCode, "missing")
	mustBe(t, err, store.ErrNotFound, "ConsumeToken(missing)")
}

// testTokenTakenOnce: TakeToken reads and deletes a record in one step
// (a code exchange's PKCE and OpenID Connect sessions): it returns the
// record as stored, and of 20 concurrent takers exactly one gets it, the
// others ErrNotFound, as does a second take; a take rolled back with its
// transaction leaves the record in place.
func testTokenTakenOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	rec := store.TokenRecord{Kind: store.TokenPKCE, Signature: "pkce-1", RequestID: "req-1", ClientID: "vendor",
		Subject: "usr_1", Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Minute), TokenType: "bearer",
		Request: []byte{0, 1, 2, 255}}
	noErr(t, s.CreateToken(ctx, rec), "CreateToken")
	other := rec
	other.Kind = store.TokenOIDC
	noErr(t, s.CreateToken(ctx, other), "CreateToken(same signature, other kind)")

	boom := errors.New("boom")
	mustBe(t, s.InTx(ctx, func(ctx context.Context) error {
		diff(t, "TakeToken in a transaction", rec, must(s.TakeToken(ctx, rec.Kind, rec.Signature))(t))
		return boom
	}), boom, "InTx(take, then fail)")
	diff(t, "GetToken after a rolled-back take", rec, must(s.GetToken(ctx, rec.Kind, rec.Signature))(t))

	const n = 20
	got, errs := atOnce(n, func(i int) (store.TokenRecord, error) { return s.TakeToken(ctx, rec.Kind, rec.Signature) })
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			diff(t, "TakeToken", rec, got[i])
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("taker %d: %v, want nil or ErrNotFound", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d takers got the record, want exactly 1", wins)
	}
	_, err := s.GetToken(ctx, rec.Kind, rec.Signature)
	mustBe(t, err, store.ErrNotFound, "GetToken after TakeToken")
	_, err = s.TakeToken(ctx, rec.Kind, rec.Signature)
	mustBe(t, err, store.ErrNotFound, "TakeToken twice")
	diff(t, "GetToken(other kind)", other, must(s.GetToken(ctx, other.Kind, other.Signature))(t))
}

// testTokensTakenTogether: TakeTokens reads and deletes the records of
// several keys in one step (a code exchange's PKCE and OpenID Connect
// sessions): it returns those that exist, leaves every record it was not
// given (the same signature of another kind), takes nothing when rolled
// back, and of 20 concurrent takers each record goes to exactly one.
func testTokensTakenTogether(t *testing.T, s store.Store) {
	ctx := t.Context()
	pkce := store.TokenRecord{Kind: store.TokenPKCE, Signature: "code-sig", RequestID: "req-1", ClientID: "vendor",
		Subject: "usr_1", Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Minute), TokenType: "bearer",
		Request: []byte("pkce")}
	oidc := pkce
	oidc.Kind, oidc.Signature, oidc.Request = store.TokenOIDC, "code-hash", []byte("oidc")
	code := pkce
	code.Kind, code.Request = store.TokenAuthorizeCode, []byte("code")
	noErr(t, s.CreateTokens(ctx, pkce, oidc, code), "CreateTokens")
	keys := []store.TokenKey{{Kind: pkce.Kind, Signature: pkce.Signature}, {Kind: oidc.Kind, Signature: oidc.Signature},
		{Kind: store.TokenOIDC, Signature: "missing"}}
	byKind := func(rs []store.TokenRecord) map[store.TokenKind]store.TokenRecord {
		m := map[store.TokenKind]store.TokenRecord{}
		for _, r := range rs {
			if _, dup := m[r.Kind]; dup {
				t.Errorf("TakeTokens returned two %s records", r.Kind)
			}
			m[r.Kind] = r
		}
		return m
	}

	boom := errors.New("boom")
	mustBe(t, s.InTx(ctx, func(ctx context.Context) error {
		diff(t, "TakeTokens in a transaction", map[store.TokenKind]store.TokenRecord{pkce.Kind: pkce, oidc.Kind: oidc},
			byKind(must(s.TakeTokens(ctx, keys...))(t)))
		return boom
	}), boom, "InTx(take, then fail)")
	diff(t, "GetToken(pkce) after a rolled-back take", pkce, must(s.GetToken(ctx, pkce.Kind, pkce.Signature))(t))
	diff(t, "GetToken(oidc) after a rolled-back take", oidc, must(s.GetToken(ctx, oidc.Kind, oidc.Signature))(t))

	const n = 20
	got, errs := atOnce(n, func(i int) ([]store.TokenRecord, error) { return s.TakeTokens(ctx, keys...) })
	wins := map[store.TokenKind]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("taker %d: %v", i, err)
		}
		for k, r := range byKind(got[i]) {
			wins[k]++
			diff(t, "TakeTokens", map[store.TokenKind]store.TokenRecord{pkce.Kind: pkce, oidc.Kind: oidc}[k], r)
		}
	}
	diff(t, "takers per record", map[store.TokenKind]int{pkce.Kind: 1, oidc.Kind: 1}, wins)
	for _, k := range keys {
		_, err := s.GetToken(ctx, k.Kind, k.Signature)
		mustBe(t, err, store.ErrNotFound, "GetToken after TakeTokens")
	}
	if again := must(s.TakeTokens(ctx, keys...))(t); len(again) != 0 {
		t.Errorf("TakeTokens twice: %d records, want none", len(again))
	}
	if none := must(s.TakeTokens(ctx))(t); len(none) != 0 {
		t.Errorf("TakeTokens(): %d records, want none", len(none))
	}
	diff(t, "GetToken(code, same signature)", code, must(s.GetToken(ctx, code.Kind, code.Signature))(t))
}

func testJTI(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	noErr(t, s.UseJTI(ctx, "jti-1", now.Add(time.Minute)), "UseJTI")
	mustBe(t, s.UseJTI(ctx, "jti-1", now.Add(time.Minute)), store.ErrConflict, "UseJTI(replayed)")
	if !must(s.JTIUsed(ctx, "jti-1", now))(t) {
		t.Error("JTIUsed = false for a live jti")
	}
	if must(s.JTIUsed(ctx, "jti-1", now.Add(2*time.Minute)))(t) {
		t.Error("JTIUsed = true after expiry")
	}
	if must(s.JTIUsed(ctx, "jti-never", now))(t) {
		t.Error("JTIUsed = true for an unknown jti")
	}
	noErr(t, s.UseJTI(ctx, "jti-old", now.Add(-time.Minute)), "UseJTI(already expired)")
	noErr(t, s.UseJTI(ctx, "jti-old", now.Add(time.Minute)), "UseJTI(reuse after expiry)")
	mustBe(t, s.UseJTI(ctx, "jti-old", now.Add(time.Minute)), store.ErrConflict, "UseJTI(replayed after reuse)")
}

func testAuthFlows(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	f := must(s.CreateAuthFlow(ctx, store.AuthFlow{ID: store.RandomToken(24), ClientID: "vendor",
		RequestedScopes: []string{"openid", "accounts.read"}, Request: []byte("form"), State: store.FlowLogin,
		CSRFToken: "csrf", ExpiresAt: now.Add(10 * time.Minute)}))(t)
	diff(t, "GetAuthFlow", f, must(s.GetAuthFlow(ctx, f.ID))(t))
	_, err := s.CreateAuthFlow(ctx, store.AuthFlow{ID: f.ID, ClientID: "vendor", ExpiresAt: now.Add(time.Minute)})
	mustBe(t, err, store.ErrConflict, "CreateAuthFlow(duplicate)")

	f2 := must(s.UpdateAuthFlow(ctx, f.ID, func(x store.AuthFlow) (store.AuthFlow, error) {
		x.State, x.UserID, x.AuthTime = store.FlowConsent, "usr_1", now
		return x, nil
	}))(t)
	if f2.State != store.FlowConsent || f2.UserID != "usr_1" || !f2.AuthTime.Equal(now) {
		t.Errorf("UpdateAuthFlow = %+v", f2)
	}
	// An update racing another one loses with ErrConflict.
	_, err = s.UpdateAuthFlow(ctx, f.ID, func(x store.AuthFlow) (store.AuthFlow, error) {
		must(s.UpdateAuthFlow(ctx, f.ID, func(y store.AuthFlow) (store.AuthFlow, error) {
			y.State, y.GrantedScopes, y.VerifierHash = store.FlowDecided, []string{"accounts.read"}, "vh"
			return y, nil
		}))(t)
		x.State, x.Denied = store.FlowDecided, true
		return x, nil
	})
	mustBe(t, err, store.ErrConflict, "UpdateAuthFlow(concurrent change)")
	if got := must(s.GetAuthFlow(ctx, f.ID))(t); got.Denied || got.VerifierHash != "vh" {
		t.Errorf("the losing update was written: %+v", got)
	}

	expired := must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", ExpiresAt: now.Add(-time.Second)}))(t)
	_, err = s.GetAuthFlow(ctx, expired.ID)
	mustBe(t, err, store.ErrNotFound, "GetAuthFlow(expired)")
	_, err = s.UpdateAuthFlow(ctx, expired.ID, func(x store.AuthFlow) (store.AuthFlow, error) { return x, nil })
	mustBe(t, err, store.ErrNotFound, "UpdateAuthFlow(expired)")

	// SetAuthFlowState: from the state named only, once, never an expired
	// or missing flow; an update that read the flow before it loses.
	mustBe(t, s.SetAuthFlowState(ctx, f.ID, store.FlowConsent, store.FlowDone), store.ErrConflict, "SetAuthFlowState(wrong state)")
	_, err = s.UpdateAuthFlow(ctx, f.ID, func(x store.AuthFlow) (store.AuthFlow, error) {
		noErr(t, s.SetAuthFlowState(ctx, f.ID, store.FlowDecided, store.FlowDone), "SetAuthFlowState")
		x.Denied = true
		return x, nil
	})
	mustBe(t, err, store.ErrConflict, "UpdateAuthFlow(after SetAuthFlowState)")
	if got := must(s.GetAuthFlow(ctx, f.ID))(t); got.State != store.FlowDone || got.Denied {
		t.Errorf("after SetAuthFlowState = %+v", got)
	}
	mustBe(t, s.SetAuthFlowState(ctx, f.ID, store.FlowDecided, store.FlowDone), store.ErrConflict, "SetAuthFlowState(twice)")
	mustBe(t, s.SetAuthFlowState(ctx, expired.ID, store.FlowLogin, store.FlowDone), store.ErrConflict, "SetAuthFlowState(expired)")
	mustBe(t, s.SetAuthFlowState(ctx, "missing", store.FlowLogin, store.FlowDone), store.ErrConflict, "SetAuthFlowState(missing)")
	_, err = s.GetAuthFlow(ctx, "missing")
	mustBe(t, err, store.ErrNotFound, "GetAuthFlow(missing)")
}

// testAuthFlowUpdateRead: UpdateReadAuthFlow writes what fn made of the
// flow as the caller read it, only while the flow is unchanged since
// (Version) and unexpired; otherwise ErrConflict and nothing written. The
// flow it returns is the one stored, whose Version the next update names.
func testAuthFlowUpdateRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	f := must(s.CreateAuthFlow(ctx, store.AuthFlow{ID: store.RandomToken(24), ClientID: "vendor",
		RequestedScopes: []string{"openid", "accounts.read"}, Request: []byte("form"), State: store.FlowLogin,
		CSRFToken: "csrf", ExpiresAt: now.Add(10 * time.Minute)}))(t)
	read := must(s.GetAuthFlow(ctx, f.ID))(t)
	if read.Version == 0 {
		t.Fatalf("GetAuthFlow = %+v, want a Version", read)
	}
	f2 := must(s.UpdateReadAuthFlow(ctx, read, func(x store.AuthFlow) (store.AuthFlow, error) {
		x.State, x.UserID, x.AuthTime = store.FlowConsent, "usr_1", now
		return x, nil
	}))(t)
	diff(t, "UpdateReadAuthFlow = GetAuthFlow", must(s.GetAuthFlow(ctx, f.ID))(t), f2)
	if f2.State != store.FlowConsent || f2.UserID != "usr_1" || !f2.AuthTime.Equal(now) || f2.Version == read.Version ||
		string(f2.Request) != "form" || !f2.CreatedAt.Equal(f.CreatedAt) {
		t.Errorf("UpdateReadAuthFlow = %+v", f2)
	}

	// The first read is stale now: its update loses and writes nothing.
	_, err := s.UpdateReadAuthFlow(ctx, read, func(x store.AuthFlow) (store.AuthFlow, error) {
		x.State, x.Denied = store.FlowDecided, true
		return x, nil
	})
	mustBe(t, err, store.ErrConflict, "UpdateReadAuthFlow(stale read)")
	// So does one read before SetAuthFlowState or UpdateAuthFlow.
	must(s.UpdateAuthFlow(ctx, f.ID, func(x store.AuthFlow) (store.AuthFlow, error) {
		x.State, x.VerifierHash = store.FlowDecided, "vh"
		return x, nil
	}))(t)
	_, err = s.UpdateReadAuthFlow(ctx, f2, func(x store.AuthFlow) (store.AuthFlow, error) { x.Denied = true; return x, nil })
	mustBe(t, err, store.ErrConflict, "UpdateReadAuthFlow(after UpdateAuthFlow)")
	read = must(s.GetAuthFlow(ctx, f.ID))(t)
	noErr(t, s.SetAuthFlowState(ctx, f.ID, store.FlowDecided, store.FlowDone), "SetAuthFlowState")
	_, err = s.UpdateReadAuthFlow(ctx, read, func(x store.AuthFlow) (store.AuthFlow, error) { x.Denied = true; return x, nil })
	mustBe(t, err, store.ErrConflict, "UpdateReadAuthFlow(after SetAuthFlowState)")
	if got := must(s.GetAuthFlow(ctx, f.ID))(t); got.Denied || got.State != store.FlowDone || got.VerifierHash != "vh" {
		t.Errorf("a losing update was written: %+v", got)
	}

	// fn's refusal is returned as it is, nothing written.
	read = must(s.GetAuthFlow(ctx, f.ID))(t)
	boom := errors.New("boom")
	_, err = s.UpdateReadAuthFlow(ctx, read, func(x store.AuthFlow) (store.AuthFlow, error) { x.Denied = true; return x, boom })
	mustBe(t, err, boom, "UpdateReadAuthFlow(fn fails)")
	_, err = s.UpdateReadAuthFlow(ctx, read, func(x store.AuthFlow) (store.AuthFlow, error) { x.ID = "other"; return x, nil })
	mustBe(t, err, store.ErrInvalid, "UpdateReadAuthFlow(ID changed)")
	diff(t, "after refused updates", read, must(s.GetAuthFlow(ctx, f.ID))(t))

	// A flow that expired since it was read, or is gone, is not written.
	short := must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", State: store.FlowLogin, ExpiresAt: time.Now().Add(300 * time.Millisecond)}))(t)
	read = must(s.GetAuthFlow(ctx, short.ID))(t)
	for time.Now().Before(short.ExpiresAt.Add(10 * time.Millisecond)) {
		time.Sleep(20 * time.Millisecond)
	}
	_, err = s.UpdateReadAuthFlow(ctx, read, func(x store.AuthFlow) (store.AuthFlow, error) { x.State = store.FlowConsent; return x, nil })
	mustBe(t, err, store.ErrConflict, "UpdateReadAuthFlow(expired since read)")
	read.ID = "missing"
	_, err = s.UpdateReadAuthFlow(ctx, read, func(x store.AuthFlow) (store.AuthFlow, error) { return x, nil })
	mustBe(t, err, store.ErrConflict, "UpdateReadAuthFlow(missing)")
}

// testSessionAccessFlow: SessionAccessFlow reads what SessionAccess,
// GetAuthFlow and GetClient read, each zero where those answer ErrNotFound
// (a session or flow missing or expired) and every record missing zero
// (a user gone or without an assignment, a client gone), in any
// combination.
func testSessionAccessFlow(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	fx := newAccessFixture(t, s)
	unassigned := newUser(t, s, fx.o.group.ID, "unassigned-"+store.RandomToken(4), true)
	session := func(userID string, expires time.Time) string {
		t.Helper()
		id := store.HashToken(store.RandomToken(16))
		noErr(t, s.CreateBrowserSession(ctx, store.BrowserSession{ID: id, UserID: userID, AuthTime: now,
			CSRFToken: store.RandomToken(8), ExpiresAt: expires, CreatedAt: now}), "CreateBrowserSession")
		return id
	}
	cl := must(s.CreateClient(ctx, store.Client{ID: "vendor-" + store.RandomToken(4), Name: "Books Online", SecretHash: "$argon2id$x",
		PreviousSecretHash: "$argon2id$old", PreviousSecretExpiresAt: now.Add(time.Hour), RegistrationTokenHash: "registration-hash",
		RedirectURIs: []string{"https://books.example/cb"}, GrantTypes: []string{"authorization_code"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "accounts.read"}, TokenEndpointAuthMethod: "client_secret_basic"}))(t)
	flow := func(clientID string, expires time.Time) string {
		t.Helper()
		return must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: clientID, RequestedScopes: []string{"openid", "accounts.read"},
			Request: []byte("form"), State: store.FlowConsent, UserID: fx.user.ID, ExpiresAt: expires}))(t).ID
	}
	sessions := map[string]string{
		"a session": session(fx.user.ID, now.Add(time.Hour)),
		"a session of a user without an assignment": session(unassigned.ID, now.Add(time.Hour)),
		"a session of a user gone":                  session("usr_gone", now.Add(time.Hour)),
		"an expired session":                        session(fx.user.ID, now.Add(-time.Second)),
		"no session":                                "missing",
	}
	flows := map[string]string{
		"a flow":                  flow(cl.ID, now.Add(10*time.Minute)),
		"a flow of a client gone": flow("vendor-gone", now.Add(10*time.Minute)),
		"an expired flow":         flow(cl.ID, now.Add(-time.Second)),
		"no flow":                 "missing",
	}
	for sw, sid := range sessions {
		var want store.SessionFlow
		if b, a, err := s.SessionAccess(ctx, sid); err == nil {
			a.User = a.User.Secretless()
			want.Session, want.Access = b, a
		} else {
			mustBe(t, err, store.ErrNotFound, "SessionAccess("+sw+")")
		}
		for fw, fid := range flows {
			w := want
			if f, err := s.GetAuthFlow(ctx, fid); err == nil {
				w.Flow = f
				if c, err := s.GetClient(ctx, f.ClientID); err == nil {
					w.Client = c.Secretless()
				} else {
					mustBe(t, err, store.ErrNotFound, "GetClient("+fw+")")
				}
			} else {
				mustBe(t, err, store.ErrNotFound, "GetAuthFlow("+fw+")")
			}
			diff(t, "SessionAccessFlow("+sw+", "+fw+")", w, must(s.SessionAccessFlow(ctx, sid, fid))(t))
		}
	}
	got := must(s.SessionAccessFlow(ctx, sessions["a session"], flows["a flow"]))(t)
	if got.Session.UserID != fx.user.ID || got.Access.Group.ID == "" || got.Access.Role.ID == "" || got.Flow.ClientID != cl.ID || got.Client.Name != "Books Online" {
		t.Errorf("SessionAccessFlow(a session, a flow) = %+v", got)
	}
	// The secrets stay behind (Secretless), though the records hold them.
	if u, c := must(s.GetUser(ctx, fx.user.ID))(t), must(s.GetClient(ctx, cl.ID))(t); u.PasswordHash == "" || u.SecurityAnswerHash == "" ||
		c.SecretHash == "" || c.PreviousSecretHash == "" || c.RegistrationTokenHash == "" {
		t.Fatalf("the fixture's user or client lacks a secret: %+v %+v", u, c)
	}
	if u, c := got.Access.User, got.Client; u.PasswordHash != "" || u.SecurityAnswerHash != "" || c.SecretHash != "" ||
		c.PreviousSecretHash != "" || c.RegistrationTokenHash != "" {
		t.Errorf("SessionAccessFlow returned secrets: user %q %q, client %q %q %q", u.PasswordHash, u.SecurityAnswerHash,
			c.SecretHash, c.PreviousSecretHash, c.RegistrationTokenHash)
	}
	if got := must(s.SessionAccessFlow(ctx, sessions["a session of a user without an assignment"], "missing"))(t); got.Access.User.ID != unassigned.ID || got.Access.Assignment.ID != "" {
		t.Errorf("SessionAccessFlow(a user without an assignment) = %+v", got)
	}
}

// testAuthFlowFinish: FinishAuthFlow marks done only a decided, unexpired
// flow holding the verifier hash given, once; of concurrent finishers
// exactly one gets it; a finish rolled back with its transaction leaves
// the flow decided. The access that comes with the flow is what UserAccess
// reads of its user; a record missing is zero, and all of it when the user
// is gone.
func testAuthFlowFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	fx := newAccessFixture(t, s)
	wantAccess := fx.want
	wantAccess.Consent, wantAccess.MaxSeq = store.Consent{}, 0
	withSecrets := wantAccess
	withSecrets.User = must(s.GetUser(ctx, fx.user.ID))(t)
	diff(t, "UserAccess", withSecrets, must(s.UserAccess(ctx, fx.user.ID))(t))
	decidedFor := func(userID string) store.AuthFlow {
		t.Helper()
		return must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", Request: []byte("form"), State: store.FlowDecided,
			UserID: userID, GrantedScopes: []string{"accounts.read"}, VerifierHash: "vh", ExpiresAt: now.Add(10 * time.Minute)}))(t)
	}
	finish := func(id, hash string) (store.AuthFlow, error) {
		f, _, err := s.FinishAuthFlow(ctx, id, hash)
		return f, err
	}
	f := decidedFor(fx.user.ID)
	for _, c := range []struct{ what, id, hash string }{
		{"another hash", f.ID, "other"}, {"no hash", f.ID, ""}, {"missing", "missing", "vh"},
	} {
		_, err := finish(c.id, c.hash)
		mustBe(t, err, store.ErrConflict, "FinishAuthFlow("+c.what+")")
	}
	diff(t, "flow after refused finishes", f, must(s.GetAuthFlow(ctx, f.ID))(t))
	atConsent := must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", State: store.FlowConsent, VerifierHash: "vh", ExpiresAt: now.Add(time.Minute)}))(t)
	_, err := finish(atConsent.ID, "vh")
	mustBe(t, err, store.ErrConflict, "FinishAuthFlow(not decided)")
	expired := must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", State: store.FlowDecided, VerifierHash: "vh", ExpiresAt: now.Add(-time.Second)}))(t)
	_, err = finish(expired.ID, "vh")
	mustBe(t, err, store.ErrConflict, "FinishAuthFlow(expired)")

	boom := errors.New("boom")
	mustBe(t, s.InTx(ctx, func(ctx context.Context) error {
		_, a, err := s.FinishAuthFlow(ctx, f.ID, "vh")
		noErr(t, err, "FinishAuthFlow in a transaction")
		diff(t, "access with the flow", wantAccess, a)
		return boom
	}), boom, "InTx(finish, then fail)")
	if got := must(s.GetAuthFlow(ctx, f.ID))(t); got.State != store.FlowDecided {
		t.Fatalf("after a rolled-back finish: %+v, want decided", got)
	}

	unassigned := newUser(t, s, fx.o.group.ID, "unassigned-"+store.RandomToken(4), true)
	for _, c := range []struct {
		what, userID string
		want         store.Access
	}{
		{"a user without an assignment", unassigned.ID, secretless(must(s.UserAccess(ctx, unassigned.ID))(t))},
		{"a user gone", "usr_gone", store.Access{}},
	} {
		_, a, err := s.FinishAuthFlow(ctx, decidedFor(c.userID).ID, "vh")
		noErr(t, err, "FinishAuthFlow("+c.what+")")
		diff(t, "access with the flow of "+c.what, c.want, a)
	}
	if a := must(s.UserAccess(ctx, unassigned.ID))(t); a.User.ID != unassigned.ID || a.Assignment.ID != "" {
		t.Errorf("UserAccess(without an assignment) = %+v", a)
	}

	finishedOnce(t, "FinishAuthFlow", func() (store.AuthFlow, store.Access, error) { return s.FinishAuthFlow(ctx, f.ID, "vh") },
		func(got store.AuthFlow, a store.Access) {
			want := f
			want.State, want.Version, want.UpdatedAt = store.FlowDone, got.Version, got.UpdatedAt
			diff(t, "FinishAuthFlow", want, got)
			diff(t, "FinishAuthFlow's access", wantAccess, a)
		})
	if g := must(s.GetAuthFlow(ctx, f.ID))(t); g.State != store.FlowDone || g.Version <= f.Version {
		t.Errorf("after FinishAuthFlow: %+v", g)
	}
	// An update that read the flow before loses.
	_, err = s.UpdateReadAuthFlow(ctx, f, func(x store.AuthFlow) (store.AuthFlow, error) { return x, nil })
	mustBe(t, err, store.ErrConflict, "UpdateReadAuthFlow(after FinishAuthFlow)")
}

// testAuthFlowFinishRead: FinishReadAuthFlow records the decision and
// marks done only the flow as read — unchanged since, at consent for the
// read's user, unexpired — once; of concurrent finishers exactly one gets
// it; bad text, or a finish rolled back with its transaction, leaves the
// flow as it was. The access comes with it as with FinishAuthFlow.
func testAuthFlowFinishRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	fx := newAccessFixture(t, s)
	wantAccess := fx.want
	wantAccess.Consent, wantAccess.MaxSeq = store.Consent{}, 0
	atConsent := func(userID string, expires time.Time) store.AuthFlow {
		t.Helper()
		return must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", Request: []byte("form"), State: store.FlowConsent,
			RequestedScopes: []string{"openid", "accounts.read"}, UserID: userID, AuthTime: now, ExpiresAt: expires}))(t)
	}
	allow := store.FlowDecision{GrantedScopes: []string{"openid", "accounts.read"}}
	read := atConsent(fx.user.ID, now.Add(10*time.Minute))

	for _, c := range unfinishableReads(t, s, read, func(expires time.Time) store.AuthFlow { return atConsent(fx.user.ID, expires) }) {
		_, _, err := s.FinishReadAuthFlow(ctx, c.read, allow)
		mustBe(t, err, store.ErrConflict, "FinishReadAuthFlow("+c.what+")")
	}
	_, _, err := s.FinishReadAuthFlow(ctx, read, store.FlowDecision{DenyReason: "bad\x00reason"})
	mustBe(t, err, store.ErrInvalid, "FinishReadAuthFlow(a NUL in the reason)")
	diff(t, "flow after refused finishes", read, must(s.GetAuthFlow(ctx, read.ID))(t))

	boom := errors.New("boom")
	mustBe(t, s.InTx(ctx, func(ctx context.Context) error {
		_, a, err := s.FinishReadAuthFlow(ctx, read, allow)
		noErr(t, err, "FinishReadAuthFlow in a transaction")
		diff(t, "access with the flow", wantAccess, a)
		return boom
	}), boom, "InTx(finish, then fail)")
	diff(t, "flow after a rolled-back finish", read, must(s.GetAuthFlow(ctx, read.ID))(t))

	finishedOnce(t, "FinishReadAuthFlow", func() (store.AuthFlow, store.Access, error) { return s.FinishReadAuthFlow(ctx, read, allow) },
		func(got store.AuthFlow, a store.Access) {
			want := read
			want.State, want.GrantedScopes, want.Version, want.UpdatedAt = store.FlowDone, allow.GrantedScopes, read.Version+1, got.UpdatedAt
			diff(t, "FinishReadAuthFlow", want, got)
			diff(t, "FinishReadAuthFlow's access", wantAccess, a)
			diff(t, "the flow as stored", want, must(s.GetAuthFlow(ctx, read.ID))(t))
		})
	_, err = s.UpdateReadAuthFlow(ctx, read, func(x store.AuthFlow) (store.AuthFlow, error) { return x, nil })
	mustBe(t, err, store.ErrConflict, "UpdateReadAuthFlow(after FinishReadAuthFlow)")

	// A denial records its reason and no scopes, whatever it is given.
	denied := atConsent(fx.user.ID, now.Add(10*time.Minute))
	f, a, err := s.FinishReadAuthFlow(ctx, denied, store.FlowDecision{GrantedScopes: allow.GrantedScopes, DenyReason: "user_denied"})
	noErr(t, err, "FinishReadAuthFlow(denied)")
	want := denied
	want.State, want.Denied, want.DenyReason, want.Version, want.UpdatedAt = store.FlowDone, true, "user_denied", denied.Version+1, f.UpdatedAt
	diff(t, "FinishReadAuthFlow(denied)", want, f)
	diff(t, "denied flow as stored", want, must(s.GetAuthFlow(ctx, denied.ID))(t))
	diff(t, "access with the denied flow", wantAccess, a)

	// A user gone: the flow, and no access.
	f, a, err = s.FinishReadAuthFlow(ctx, atConsent("usr_gone", now.Add(time.Minute)), allow)
	noErr(t, err, "FinishReadAuthFlow(a user gone)")
	if f.State != store.FlowDone || a.User.ID != "" || a.Assignment.ID != "" {
		t.Errorf("FinishReadAuthFlow(a user gone) = %+v, %+v", f, a)
	}
}

// finishedOnce runs finish ten times at once: exactly one call gets the
// flow, whose flow and access check judges; the others are ErrConflict.
func finishedOnce(t *testing.T, what string, finish func() (store.AuthFlow, store.Access, error), check func(store.AuthFlow, store.Access)) {
	t.Helper()
	const n = 10
	var accesses [n]store.Access
	got, errs := atOnce(n, func(i int) (store.AuthFlow, error) {
		f, a, err := finish()
		accesses[i] = a
		return f, err
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			check(got[i], accesses[i])
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("%s, call %d: %v, want nil or ErrConflict", what, i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%s: %d calls got the flow, want exactly 1", what, wins)
	}
}

func testBrowserSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	b := store.BrowserSession{ID: store.HashToken("cookie-1"), UserID: "usr_1", AuthTime: now, CSRFToken: "c1",
		ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	noErr(t, s.CreateBrowserSession(ctx, b), "CreateBrowserSession")
	diff(t, "GetBrowserSession", b, must(s.GetBrowserSession(ctx, b.ID))(t))
	mustBe(t, s.CreateBrowserSession(ctx, b), store.ErrConflict, "CreateBrowserSession(duplicate)")
	old := b
	old.ID, old.ExpiresAt = store.HashToken("cookie-old"), now.Add(-time.Minute)
	noErr(t, s.CreateBrowserSession(ctx, old), "CreateBrowserSession(expired)")
	_, err := s.GetBrowserSession(ctx, old.ID)
	mustBe(t, err, store.ErrNotFound, "GetBrowserSession(expired)")
	b2 := b
	b2.ID = store.HashToken("cookie-2")
	noErr(t, s.CreateBrowserSession(ctx, b2), "CreateBrowserSession")
	other := b
	other.ID, other.UserID = store.HashToken("cookie-3"), "usr_2"
	noErr(t, s.CreateBrowserSession(ctx, other), "CreateBrowserSession")

	noErr(t, s.DeleteBrowserSession(ctx, b.ID), "DeleteBrowserSession")
	mustBe(t, s.DeleteBrowserSession(ctx, b.ID), store.ErrNotFound, "DeleteBrowserSession twice")
	noErr(t, s.DeleteUserBrowserSessions(ctx, "usr_1"), "DeleteUserBrowserSessions")
	_, err = s.GetBrowserSession(ctx, b2.ID)
	mustBe(t, err, store.ErrNotFound, "session of a signed-out user")
	must(s.GetBrowserSession(ctx, other.ID))(t)
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	k1 := store.SigningKey{ID: "k1", Algorithm: "PS256", PublicJWK: json.RawMessage(`{"kty":"RSA","kid":"k1"}`), PrivateJWK: []byte{9, 8, 7}, CreatedAt: t0}
	k2 := store.SigningKey{ID: "k2", Algorithm: "ES256", PublicJWK: json.RawMessage(`{"kty":"EC","kid":"k2"}`), PrivateJWK: []byte{1}, CreatedAt: t0.Add(time.Hour)}
	noErr(t, s.CreateSigningKey(ctx, k1), "CreateSigningKey")
	noErr(t, s.CreateSigningKey(ctx, k2), "CreateSigningKey")
	mustBe(t, s.CreateSigningKey(ctx, k1), store.ErrConflict, "CreateSigningKey(duplicate)")
	diff(t, "ListSigningKeys (newest first)", []store.SigningKey{k2, k1}, must(s.ListSigningKeys(ctx))(t))
	noErr(t, s.RetireSigningKey(ctx, "k1", t0.Add(2*time.Hour)), "RetireSigningKey")
	keys := must(s.ListSigningKeys(ctx))(t)
	if !keys[1].RetiredAt.Equal(t0.Add(2*time.Hour)) || !keys[0].RetiredAt.IsZero() {
		t.Errorf("after retiring k1: %+v", keys)
	}
	mustBe(t, s.RetireSigningKey(ctx, "missing", t0), store.ErrNotFound, "RetireSigningKey(missing)")
}

// testInTx: a transaction commits whole or not at all, on error and on
// panic; nested calls join it.
func testInTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context) error {
		must(s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_err", Name: "rolled back"}))(t)
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: "tx-err", Active: true}), "CreateToken in tx")
		if _, err := s.GetBusinessGroup(ctx, "bg_err"); err != nil {
			t.Errorf("read-your-writes inside the transaction: %v", err)
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	mustBe(t, err, boom, "InTx(fn error)")
	_, err = s.GetBusinessGroup(ctx, "bg_err")
	mustBe(t, err, store.ErrNotFound, "group written by a rolled-back transaction")
	_, err = s.GetToken(ctx, store.TokenAccess, "tx-err")
	mustBe(t, err, store.ErrNotFound, "token written by a rolled-back transaction")

	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Errorf("recovered %v, want the panic re-raised", r)
			}
		}()
		_ = s.InTx(ctx, func(ctx context.Context) error {
			must(s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_panic", Name: "rolled back"}))(t)
			panic("kaboom")
		})
	}()
	_, err = s.GetBusinessGroup(ctx, "bg_panic")
	mustBe(t, err, store.ErrNotFound, "group written before a panic")

	// Nested: the inner call joins; an outer failure undoes the inner work.
	err = s.InTx(ctx, func(ctx context.Context) error {
		if err := s.InTx(ctx, func(ctx context.Context) error {
			_, err := s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_inner", Name: "inner"})
			return err
		}); err != nil {
			return err
		}
		return boom
	})
	mustBe(t, err, boom, "nested InTx")
	_, err = s.GetBusinessGroup(ctx, "bg_inner")
	mustBe(t, err, store.ErrNotFound, "inner write after the outer rollback")

	// A store error inside the transaction rolls back the writes before it.
	o := newOrg(t, s)
	err = s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.CreateTransactions(ctx, []store.Transaction{posted(o.accounts[0].ID, "in-tx", "2025-01-02", store.Credit, "1.00")}); err != nil {
			return err
		}
		_, err := s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: o.group.ID, Name: "duplicate"})
		return err
	})
	mustBe(t, err, store.ErrConflict, "InTx(duplicate inside)")
	_, err = s.GetTransactionByExternalID(ctx, o.accounts[0].ID, "in-tx")
	mustBe(t, err, store.ErrNotFound, "transaction written before the failing statement")
	if m := must(s.MaxSeq(ctx))(t); m != 0 {
		t.Errorf("MaxSeq = %d after a rolled-back insert, want 0", m)
	}

	// Commit.
	noErr(t, s.InTx(ctx, func(ctx context.Context) error {
		_, err := s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_ok", Name: "kept"})
		return err
	}), "InTx(commit)")
	must(s.GetBusinessGroup(ctx, "bg_ok"))(t)
}

// testConcurrentOAuthWrites runs 32 concurrent sign-in-like flows (each a
// few reads and writes, some in a transaction): none may fail, whatever the
// backend's locking.
func testConcurrentOAuthWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 32
	now := time.Now().UTC()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			err := func() error {
				f, err := s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", State: store.FlowLogin, ExpiresAt: now.Add(10 * time.Minute)})
				if err != nil {
					return fmt.Errorf("create flow: %w", err)
				}
				for _, st := range []store.AuthFlowState{store.FlowConsent, store.FlowDecided, store.FlowDone} {
					if _, err := s.UpdateAuthFlow(ctx, f.ID, func(x store.AuthFlow) (store.AuthFlow, error) {
						x.State = st
						return x, nil
					}); err != nil {
						return fmt.Errorf("update flow to %s: %w", st, err)
					}
				}
				c, err := s.CreateConsent(ctx, store.Consent{UserID: fmt.Sprintf("usr_%d", i), ClientID: "vendor", GrantedAt: now})
				if err != nil {
					return fmt.Errorf("create consent: %w", err)
				}
				return s.InTx(ctx, func(ctx context.Context) error {
					if _, err := s.GetConsent(ctx, c.ID); err != nil {
						return err
					}
					for _, k := range []store.TokenKind{store.TokenAuthorizeCode, store.TokenPKCE, store.TokenAccess, store.TokenRefresh} {
						if err := s.CreateToken(ctx, store.TokenRecord{Kind: k, Signature: fmt.Sprintf("%s-%d", k, i), RequestID: c.ID,
							Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
							return fmt.Errorf("create %s: %w", k, err)
						}
					}
					return s.DeactivateToken(ctx, store.TokenAuthorizeCode, fmt.Sprintf("%s-%d", store.TokenAuthorizeCode, i))
				})
			}()
			if err != nil {
				errs <- fmt.Errorf("flow %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testReplaceConsent: an authorization's consent replaces the (user, client)'s
// unrevoked ones and deactivates their tokens, leaving other users' and
// clients' alone; concurrent replacements leave exactly one active consent
// (issue 10 §4).
func testReplaceConsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := must(s.ReplaceConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
	otherClient := must(s.ReplaceConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor2", GrantedAt: t0}))(t)
	otherUser := must(s.ReplaceConsent(ctx, store.Consent{UserID: "usr_2", ClientID: "vendor", GrantedAt: t0}))(t)
	for i, req := range []string{first.ID, otherClient.ID, otherUser.ID} {
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenRefresh, Signature: fmt.Sprintf("r%d", i), RequestID: req,
			ClientID: "vendor", Subject: "usr_1", Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), Request: []byte(`{"r":1}`)}), "CreateToken")
	}
	at := t0.Add(time.Hour)
	second := must(s.ReplaceConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read", "statements.read"}, GrantedAt: at}))(t)
	if second.ID == first.ID || !second.GrantedAt.Equal(at) || !second.Active(at) {
		t.Errorf("second consent = %+v (first %s)", second, first.ID)
	}
	if !slices.Equal(second.Replaced, []string{first.ID}) || len(first.Replaced) != 0 {
		t.Errorf("second consent replaced %q, want [%s]; the first replaced %q", second.Replaced, first.ID, first.Replaced)
	}
	if got := must(s.GetConsent(ctx, first.ID))(t); !got.RevokedAt.Equal(at) {
		t.Errorf("replaced consent = %+v, want revoked at %v", got, at)
	}
	for i, active := range []bool{false, true, true} {
		if r := must(s.GetToken(ctx, store.TokenRefresh, fmt.Sprintf("r%d", i)))(t); r.Active != active {
			t.Errorf("token r%d active = %v, want %v", i, r.Active, active)
		}
	}
	for _, id := range []string{otherClient.ID, otherUser.ID} {
		if got := must(s.GetConsent(ctx, id))(t); !got.Active(at) {
			t.Errorf("consent %s of another (user, client) = %+v", id, got)
		}
	}
	_, err := s.ReplaceConsent(ctx, store.Consent{UserID: "usr_1"})
	mustBe(t, err, store.ErrInvalid, "ReplaceConsent(no client)")
	// A new consent whose ID is taken: ErrConflict, and the consent it
	// would have replaced still stands with its tokens.
	_, err = s.ReplaceConsent(ctx, store.Consent{ID: otherUser.ID, UserID: "usr_1", ClientID: "vendor2", GrantedAt: at})
	mustBe(t, err, store.ErrConflict, "ReplaceConsent(an ID taken)")
	if got := must(s.GetConsent(ctx, otherClient.ID))(t); !got.Active(at) {
		t.Errorf("a refused ReplaceConsent revoked %+v", got)
	}
	if r := must(s.GetToken(ctx, store.TokenRefresh, "r1"))(t); !r.Active {
		t.Error("a refused ReplaceConsent ended the standing consent's token")
	}

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ReplaceConsent(ctx, store.Consent{UserID: "usr_c", ClientID: "vendor", GrantedAt: at.Add(time.Duration(i) * time.Second)})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		noErr(t, err, "concurrent ReplaceConsent")
	}
	active := 0
	for _, c := range must(s.ListConsents(ctx, "usr_c"))(t) {
		if c.RevokedAt.IsZero() {
			active++
		}
	}
	if active != 1 {
		t.Errorf("after %d concurrent authorizations, %d active consents, want 1", n, active)
	}
}

// testFinishedFlowHoldsItsConsent: a transaction that finished a flow holds
// the consent of the flow's (user, client) until it ends, as ReplaceConsent
// does: another authorization of the same (user, client) waits for it (the
// resume records its consent after judging the flow; issue 15 moved the
// lock into the statement that finishes the flow), then replaces the
// consent that transaction recorded, and one consent stays active.
func testFinishedFlowHoldsItsConsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	fx := newAccessFixture(t, s)
	f := must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", Request: []byte("form"), State: store.FlowDecided,
		UserID: fx.user.ID, GrantedScopes: []string{"accounts.read"}, VerifierHash: "vh", ExpiresAt: now.Add(10 * time.Minute)}))(t)
	other := make(chan error, 1)
	var first store.Consent
	noErr(t, s.InTx(ctx, func(ctx context.Context) error {
		if _, _, err := s.FinishAuthFlow(ctx, f.ID, "vh"); err != nil {
			return err
		}
		go func() {
			_, err := s.ReplaceConsent(t.Context(), store.Consent{UserID: fx.user.ID, ClientID: "vendor", GrantedAt: now.Add(time.Second)})
			other <- err
		}()
		// The other authorization cannot get past the flow's lock while
		// this transaction lasts: give it time to try.
		select {
		case err := <-other:
			t.Errorf("another authorization of the flow's (user, client) ended (%v) before the transaction that finished the flow", err)
			other <- err
		case <-time.After(300 * time.Millisecond):
		}
		var err error
		first, err = s.ReplaceConsent(ctx, store.Consent{UserID: fx.user.ID, ClientID: "vendor", GrantedAt: now})
		return err
	}), "finish the flow and record its consent")
	noErr(t, <-other, "the other authorization")
	var active []store.Consent
	for _, c := range must(s.ListConsents(ctx, fx.user.ID))(t) {
		if c.ClientID == "vendor" && c.RevokedAt.IsZero() {
			active = append(active, c)
		}
	}
	if len(active) != 1 || active[0].ID == first.ID {
		t.Errorf("active consents after the flow's and the later authorization: %+v, want only the later one (the flow's was %s)", active, first.ID)
	}
}

// secretless is a with its user Secretless, as the joined reads return it.
func secretless(a store.Access) store.Access {
	a.User = a.User.Secretless()
	return a
}
