package admin_test

import (
	"net/http"
	"testing"

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
	conns := e.seedConnections(app.ID, cl.ID, store.TokenRefresh, "live-refresh")
	// Another user's connection is left alone.
	other := e.seedSoftwareUser("other-app")
	kept, err := e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: other.ID, ClientID: cl.ID, Scopes: []string{"accounts.read"}, GrantedAt: conns.live.GrantedAt})
	if err != nil {
		t.Fatal(err)
	}

	id := e.submit(a, http.MethodPost, "/admin/v1/users/"+app.ID+"/reset-password", nil)
	if got, _ := e.st.GetConsent(ctx, conns.live.ID); !got.RevokedAt.IsZero() {
		t.Fatal("the consent was revoked on submission, before anyone approved the reset")
	}
	if e.approve(b, id).Str("temporaryPassword") == "" {
		t.Fatal("no temporary password on approval")
	}
	e.checkCut(conns, "the reset")
	if got, err := e.st.GetConsent(ctx, kept.ID); err != nil || !got.RevokedAt.IsZero() {
		t.Fatalf("another user's consent = %+v, %v; want untouched", got, err)
	}
	if u, err := e.st.GetUser(ctx, app.ID); err != nil || u.Status != store.UserAwaitingSignIn || !u.MustChangePassword {
		t.Fatalf("user after the reset = %+v, %v", u, err)
	}
	// The connections list says so.
	for _, c := range e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/connections", nil).Items() {
		if c["id"] == conns.live.ID && c["active"] != false {
			t.Fatalf("connection after the reset = %v", c)
		}
	}
}
