package admin_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// TestPasswordResetRevokesConnections (issue 10, finding 5): approving a
// password reset is rule 6's "credentials changed" — the user's standing
// consents are revoked, and so their tokens, in the same transaction as the
// reset; a consent revoked earlier keeps its own revocation time. The
// end-to-end counterpart with real tokens is cmd/bankfeed's
// TestPasswordResetCutsSoftwareOff.
func TestPasswordResetRevokesConnections(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	app := e.seedSoftwareUser("books-app")
	cl, err := e.st.CreateClient(ctx, store.Client{ID: "ledgerly", Name: "Ledgerly"})
	if err != nil {
		t.Fatal(err)
	}
	granted := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	live, err := e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: app.ID, ClientID: cl.ID, Scopes: []string{"accounts.read"}, GrantedAt: granted})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateToken(ctx, store.TokenRecord{Kind: store.TokenRefresh, Signature: "live-refresh", RequestID: live.ID, ClientID: cl.ID,
		Subject: app.ID, Active: true, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	old, err := e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: app.ID, ClientID: cl.ID, Scopes: []string{"accounts.read"},
		GrantedAt: granted.Add(-48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	revokedAt := granted.Add(-24 * time.Hour)
	if err := e.st.RevokeConsent(ctx, old.ID, revokedAt); err != nil {
		t.Fatal(err)
	}
	// Another user's connection is left alone.
	other := e.seedSoftwareUser("other-app")
	kept, err := e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: other.ID, ClientID: cl.ID, Scopes: []string{"accounts.read"}, GrantedAt: granted})
	if err != nil {
		t.Fatal(err)
	}

	id := e.submit(a, http.MethodPost, "/admin/v1/users/"+app.ID+"/reset-password", nil)
	if got, _ := e.st.GetConsent(ctx, live.ID); !got.RevokedAt.IsZero() {
		t.Fatal("the consent was revoked on submission, before anyone approved the reset")
	}
	if e.approve(b, id).str("temporaryPassword") == "" {
		t.Fatal("no temporary password on approval")
	}
	if got, err := e.st.GetConsent(ctx, live.ID); err != nil || got.RevokedAt.IsZero() {
		t.Fatalf("consent after the reset = %+v, %v; want revoked", got, err)
	}
	if tr, err := e.st.GetToken(ctx, store.TokenRefresh, "live-refresh"); err != nil || tr.Active {
		t.Fatalf("refresh token after the reset = %+v, %v; want inactive", tr, err)
	}
	if got, err := e.st.GetConsent(ctx, old.ID); err != nil || !got.RevokedAt.Equal(revokedAt) {
		t.Fatalf("the earlier revoked consent = %+v, %v; want revoked at %s still", got, err, revokedAt)
	}
	if got, err := e.st.GetConsent(ctx, kept.ID); err != nil || !got.RevokedAt.IsZero() {
		t.Fatalf("another user's consent = %+v, %v; want untouched", got, err)
	}
	if u, err := e.st.GetUser(ctx, app.ID); err != nil || u.Status != store.UserAwaitingSignIn || !u.MustChangePassword {
		t.Fatalf("user after the reset = %+v, %v", u, err)
	}
	// The connections list says so.
	for _, c := range e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/connections", nil).items() {
		if c["id"] == live.ID && c["active"] != false {
			t.Fatalf("connection after the reset = %v", c)
		}
	}
}
