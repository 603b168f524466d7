package consent

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestConsentForADeletedClient: the consent pages read the flow with its
// client in one statement (issue 15); a client deleted after the
// authorization step still gets no consent page and no decision — the
// page fails as it did when the client was read on its own, and the form
// posted after the deletion records nothing.
func TestConsentForADeletedClient(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	f := en.flow()
	b := en.browser()
	p := b.signIn(pathLogin+"?login_challenge="+f.ID, "alice", goodPassword)
	p.mustContain(t, en.client.Name)
	csrf, action := p.form(t)
	if err := en.st.DeleteClient(t.Context(), en.client.ID); err != nil {
		t.Fatal(err)
	}
	b.get(pathConsent+"?login_challenge="+f.ID).status(t, http.StatusInternalServerError)
	b.post(action, url.Values{"csrf": {csrf}, "decision": {"allow"}}).status(t, http.StatusInternalServerError)
	if got := en.getFlow(f.ID); got.State != store.FlowConsent || got.VerifierHash != "" {
		t.Errorf("flow after a deleted client's form = %+v, want still at consent, undecided", got)
	}
}
