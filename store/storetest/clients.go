package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// testClientUpdate: UpdateClient (what `clients update` and `clients
// rotate-secret` write) round-trips every field, the previous secret of a
// rotation included, keeps ID and CreatedAt, and touches neither the
// client's consents nor its tokens (issue 10 §4).
func testClientUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.UpdateClient(ctx, "no-such-client", func(c store.Client) (store.Client, error) { return c, nil })
	mustBe(t, err, store.ErrNotFound, "UpdateClient(unknown)")

	c := must(s.CreateClient(ctx, store.Client{ID: "vendor-ledger", Name: "Ledgerly", SecretHash: "hash-1",
		RedirectURIs: []string{"https://ledgerly.example/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "accounts.read"}, TokenEndpointAuthMethod: "client_secret_basic",
		CreatedAt: t0}))(t)
	cns := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_upd", ClientID: c.ID, Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
	for _, kind := range []store.TokenKind{store.TokenAccess, store.TokenRefresh} {
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: kind, Signature: "upd-" + string(kind), RequestID: cns.ID, ClientID: c.ID,
			Subject: "usr_upd", Active: true, RequestedAt: t0, ExpiresAt: time.Now().Add(time.Hour), Request: []byte(`{}`)}), "CreateToken")
	}

	want := c
	want.Name = "Ledgerly Books"
	want.SecretHash = "hash-2"
	want.PreviousSecretHash = "hash-1"
	want.PreviousSecretExpiresAt = t0.Add(time.Hour)
	want.RedirectURIs = []string{"https://ledgerly.example/v2/cb", "http://[::1]:8080/cb"}
	want.LogoURI, want.PolicyURI, want.TOSURI = "https://ledgerly.example/logo.png", "https://ledgerly.example/privacy", "https://ledgerly.example/terms"
	want.RequirePAR = true
	got := must(s.UpdateClient(ctx, c.ID, func(x store.Client) (store.Client, error) {
		diff(t, "UpdateClient's current record", c, x)
		u := want
		u.CreatedAt = t0.Add(time.Hour) // not changeable: ignored
		return u, nil
	}))(t)
	if got.UpdatedAt.Before(c.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v → %v", c.UpdatedAt, got.UpdatedAt)
	}
	want.UpdatedAt = got.UpdatedAt
	diff(t, "UpdateClient", want, got)
	diff(t, "GetClient after UpdateClient", want, must(s.GetClient(ctx, c.ID))(t))

	// A private_key_jwt client's keys change; the end of a rotation's overlap
	// clears the previous secret (zero time round-trips as zero).
	want = must(s.UpdateClient(ctx, c.ID, func(x store.Client) (store.Client, error) {
		x.SecretHash, x.PreviousSecretHash, x.PreviousSecretExpiresAt = "", "", time.Time{}
		x.TokenEndpointAuthMethod, x.TokenEndpointAuthSigningAlg = "private_key_jwt", "ES256"
		x.JWKS = json.RawMessage(`{"keys":[{"kty":"EC","kid":"k2"}]}`)
		x.LogoURI = ""
		return x, nil
	}))(t)
	if !want.PreviousSecretExpiresAt.IsZero() || want.PreviousSecretHash != "" || want.LogoURI != "" || string(want.JWKS) == "" {
		t.Errorf("UpdateClient clearing fields = %+v", want)
	}
	diff(t, "GetClient after clearing", want, must(s.GetClient(ctx, c.ID))(t))

	_, err = s.UpdateClient(ctx, c.ID, func(x store.Client) (store.Client, error) {
		x.ID = "vendor-other"
		return x, nil
	})
	mustBe(t, err, store.ErrInvalid, "UpdateClient changing the ID")
	boom := errors.New("refused by the updater")
	_, err = s.UpdateClient(ctx, c.ID, func(x store.Client) (store.Client, error) {
		x.Name = "never stored"
		return x, boom
	})
	mustBe(t, err, boom, "UpdateClient whose updater fails")
	diff(t, "GetClient after refused updates", want, must(s.GetClient(ctx, c.ID))(t))

	if got := must(s.GetConsent(ctx, cns.ID))(t); !got.RevokedAt.IsZero() {
		t.Error("UpdateClient revoked the client's consent")
	}
	for _, kind := range []store.TokenKind{store.TokenAccess, store.TokenRefresh} {
		if got := must(s.GetToken(ctx, kind, "upd-"+string(kind)))(t); !got.Active {
			t.Errorf("UpdateClient deactivated the client's %s", kind)
		}
	}
}

// testClientCompareAndSwap: an updater that decided on a stale record loses
// (ErrConflict, nothing written), and concurrent updaters that retry on
// ErrConflict all land: no update is lost.
func testClientCompareAndSwap(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := must(s.CreateClient(ctx, store.Client{ID: "vendor-cas", Name: "CAS", SecretHash: "hash-1",
		TokenEndpointAuthMethod: "client_secret_basic"}))(t)
	_, err := s.UpdateClient(ctx, c.ID, func(cur store.Client) (store.Client, error) {
		// Another operator rotates the secret while we decide.
		must(s.UpdateClient(ctx, c.ID, func(x store.Client) (store.Client, error) {
			x.PreviousSecretHash, x.SecretHash = x.SecretHash, "hash-theirs"
			return x, nil
		}))(t)
		cur.PreviousSecretHash, cur.SecretHash = cur.SecretHash, "hash-ours"
		return cur, nil
	})
	mustBe(t, err, store.ErrConflict, "UpdateClient on a stale record")
	if got := must(s.GetClient(ctx, c.ID))(t); got.SecretHash != "hash-theirs" || got.PreviousSecretHash != "hash-1" {
		t.Errorf("after the lost race: secret %q, previous %q; want hash-theirs, hash-1", got.SecretHash, got.PreviousSecretHash)
	}

	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			uri := fmt.Sprintf("https://cas.example/cb/%d", i)
			for {
				_, err := s.UpdateClient(ctx, c.ID, func(x store.Client) (store.Client, error) {
					x.RedirectURIs = append(x.RedirectURIs, uri)
					return x, nil
				})
				if !errors.Is(err, store.ErrConflict) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, err, "concurrent UpdateClient")
	}
	got := must(s.GetClient(ctx, c.ID))(t).RedirectURIs
	slices.Sort(got)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("https://cas.example/cb/%d", i))
	}
	diff(t, "redirect URIs after concurrent updates (none lost)", want, got)
}
