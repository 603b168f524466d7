package authz_test

import (
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// refuseTokenKind makes the database itself refuse every new token record
// of kind (a trigger), until the returned func lifts it: a write that fails
// inside the grant's transaction, as a full disk or a constraint would.
func (e *env) refuseTokenKind(kind store.TokenKind) (lift func()) {
	e.t.Helper()
	var on, off []string
	if os.Getenv(gormtest.PostgresEnv) != "" {
		on = []string{
			`CREATE OR REPLACE FUNCTION refuse_token() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'token kind refused by the test'; END $$`,
			`CREATE TRIGGER refuse_token BEFORE INSERT ON tokens FOR EACH ROW WHEN (NEW.kind = '` + string(kind) + `') EXECUTE FUNCTION refuse_token()`,
		}
		off = []string{`DROP TRIGGER refuse_token ON tokens`}
	} else {
		on = []string{`CREATE TRIGGER refuse_token BEFORE INSERT ON tokens WHEN NEW.kind = '` + string(kind) + `'
			BEGIN SELECT RAISE(ABORT, 'token kind refused by the test'); END`}
		off = []string{`DROP TRIGGER refuse_token`}
	}
	db := e.st.Pools()["postgres"]
	if db == nil {
		db = e.st.Pools()["sqlite_writer"]
	}
	exec := func(qs []string) {
		for _, q := range qs {
			if _, err := db.ExecContext(e.ctx, q); err != nil {
				e.t.Fatalf("%s: %v", q, err)
			}
		}
	}
	exec(on)
	return func() { exec(off) }
}

// TestGrantTokensWrittenTogether: the tokens a grant issues are written
// together just before its transaction commits (one INSERT, issue 15), so
// a refused write must still undo the whole grant. A refresh whose new
// access token cannot be written leaves the refresh token it presented
// unrotated and the access token issued with it active; a resume whose
// code's OpenID Connect session cannot be written issues no code and
// replaces no consent. Once the database accepts them again, the same
// refresh token works.
func TestGrantTokensWrittenTogether(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.clock.Freeze()
	tr := e.exchange(e.vendor.ID, e.secret)

	lift := e.refuseTokenKind(store.TokenAccess)
	refused := e.refresh(tr.RefreshToken)
	if refused.Status < 500 && refused.Error != "invalid_request" {
		t.Fatalf("refresh with the access token's insert refused: %d %s (%s), want a failure", refused.Status, refused.Error, refused.Description)
	}
	if refused.AccessToken != "" || refused.RefreshToken != "" {
		t.Fatal("a refused refresh handed out tokens")
	}
	if !e.introspect(tr.AccessToken) {
		t.Error("the access token issued with the refresh token was ended by a refresh that failed")
	}
	if !e.introspect(tr.RefreshToken) {
		t.Error("the refresh token was rotated by a refresh that failed")
	}
	lift()
	// Past the rotation grace period: only an unrotated token still works.
	e.clock.Advance(3 * 2 * time.Second) // the env's grace period is 2 s
	ok := e.refresh(tr.RefreshToken)
	if ok.Status != http.StatusOK || ok.AccessToken == "" {
		t.Fatalf("refresh after the refused one: %d %s (%s)", ok.Status, ok.Error, ok.Description)
	}

	// The resume: its code, PKCE and OpenID Connect records go in together.
	before, err := e.st.ListConsents(e.ctx, e.user.ID)
	must(t, err)
	lift = e.refuseTokenKind(store.TokenOIDC)
	verifier := oauth2.GenerateVerifier()
	ch := e.startAuthorize(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)))
	v := e.decideFlowInStore(ch, e.user.ID, allScopes, false)
	resp := e.get(e.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode())
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc != nil && loc.Query().Get("code") != "" {
		t.Fatalf("a resume whose records could not be written issued a code: %s", loc)
	}
	lift()
	after, err := e.st.ListConsents(e.ctx, e.user.ID)
	must(t, err)
	if len(after) != len(before) {
		t.Fatalf("consents: %d before the failed resume, %d after", len(before), len(after))
	}
	for i := range after {
		if after[i].ID != before[i].ID || after[i].RevokedAt != before[i].RevokedAt {
			t.Errorf("consent %s changed by a failed resume: %+v, was %+v", after[i].ID, after[i], before[i])
		}
	}
	if !e.introspect(ok.AccessToken) {
		t.Error("a failed resume ended the standing connection's access token")
	}
}
