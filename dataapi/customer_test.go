package dataapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// TestCurrentCustomerNeedsADataScope is issue 10's finding 8: the business
// behind a token is data too. A token that holds no data scope now — its
// user's job role grants none, the user has no assignment, or the token
// itself carries none — gets the 403 insufficient_scope every other route
// gives, not the business's names.
func TestCurrentCustomerNeedsADataScope(t *testing.T) {
	ctx := context.Background()
	refused := func(t *testing.T, e *env, tok string) {
		t.Helper()
		r := e.get(t, tok, base+"/customers/current")
		wantProblem(t, r, 403, "403")
		if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) {
			t.Fatalf("WWW-Authenticate %q", h)
		}
		if strings.Contains(string(r.body), "Acme") {
			t.Fatalf("the business's name in a refusal: %s", r.body)
		}
	}
	t.Run("the role grants no data scope", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		tok := e.token(t)
		wantStatus(t, e.get(t, tok, base+"/customers/current"), 200)
		must(e.st.UpdateJobRole(ctx, e.f.role, func(r store.JobRole) (store.JobRole, error) {
			r.Grants = store.Grants{{Permission: store.PermManageUsers, Rights: store.Rights(store.RightView)}}
			return r, nil
		}))
		refused(t, e, tok)
	})
	t.Run("no assignment", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		tok := e.token(t)
		a := must(e.st.UserAssignment(ctx, e.f.user, ""))
		if err := e.st.DeleteAssignment(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		refused(t, e, tok)
	})
	t.Run("a token of openid only", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		refused(t, e, e.v.issue(e.f.consent, []string{"openid"}, t0.Add(time.Hour)))
	})
	t.Run("either data scope is enough", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		for _, sc := range []string{store.ScopeAccountsRead, store.ScopeStatementsRead} {
			wantStatus(t, e.get(t, e.token(t, sc), base+"/customers/current"), 200)
		}
	})
}
