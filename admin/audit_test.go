package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

const auditUA = "AdminConsole/2.1 (audit test)"

// byActionTarget indexes events by action and target ("consent.revoked cns_1").
func byActionTarget(items []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, ev := range items {
		out[fmt.Sprint(ev["action"], " ", ev["targetId"])] = ev
	}
	return out
}

func seqs(items []map[string]any) []float64 {
	var out []float64
	for _, ev := range items {
		out = append(out, ev["seq"].(float64))
	}
	return out
}

// walkEvents follows ?after= through path's pages of limit and returns every item.
func (e *env) walkEvents(token, path string, limit int) []map[string]any {
	e.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var out []map[string]any
	after := ""
	for range 1000 {
		r := e.must(http.StatusOK, token, http.MethodGet, fmt.Sprintf("%s%slimit=%d&after=%s", path, sep, limit, after), nil)
		if len(r.Items()) > limit {
			e.t.Fatalf("%s: page of %d, limit %d", path, len(r.Items()), limit)
		}
		out = append(out, r.Items()...)
		if after = r.Str("next"); after == "" {
			return out
		}
	}
	e.t.Fatalf("%s: no end", path)
	return nil
}

// TestAuditAuthenticationTrail (issue 10 §5): the administration records
// consent.revoked by an administrator and, when a password reset is
// approved, user.password_reset and consent.revoked by password_reset —
// each with actor, outcome, remote address, user agent and X-Request-ID.
// /admin/v1/audit shows the business's events, administrative and
// authentication alike, with those fields and the outcome and action-prefix
// filters; never another business's nor the bank-level ones (failed
// sign-ins of login IDs nobody holds), which /ops/v1/audit shows with
// everything else, filtered by business group ("" for the bank level) and
// keyset-paged.
func TestAuditAuthenticationTrail(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	c := e.newUser(e.bg2, "other-admin", store.AdminGrants())
	cl, err := e.st.CreateClient(ctx, store.Client{ID: "ledgerly", Name: "Ledgerly"})
	if err != nil {
		t.Fatal(err)
	}
	app := e.seedSoftwareUser("books-app")
	reset := e.seedConnections(app.ID, cl.ID, store.TokenRefresh, "reset-refresh")
	app2 := e.seedSoftwareUser("books-app-2")
	revoke := e.seedConnections(app2.ID, cl.ID, store.TokenAccess, "revoke-access")

	// Sign-in events as the bank's pages record them: one of bg1's user,
	// one of bg2's, one of a login ID nobody holds (bank level).
	for _, ev := range []store.AuditEvent{
		{BusinessGroupID: e.bg1, ActorID: app.ID, Action: audit.SignInFailed, Outcome: audit.Failure, TargetType: "user", TargetID: app.ID},
		{BusinessGroupID: e.bg2, ActorID: c.ID, Action: audit.SignInSucceeded, Outcome: audit.Success, TargetType: "user", TargetID: c.ID},
		{Action: audit.SignInFailed, Outcome: audit.Failure, TargetType: "login_key", TargetID: "hmac:0badc0ffee"},
	} {
		ev.RemoteAddr, ev.UserAgent, ev.After = "203.0.113.9", "Browser", json.RawMessage(`{"reason":"bad_credentials"}`)
		if _, err := e.st.AppendAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}

	hdr := func(rid string) []string { return []string{"User-Agent", auditUA, "X-Request-ID", rid} }
	e.must(http.StatusNoContent, a.Token, http.MethodDelete, "/admin/v1/connections/"+revoke.live.ID, nil, hdr("rid-revoke")...)
	e.must(http.StatusConflict, a.Token, http.MethodDelete, "/admin/v1/connections/"+revoke.live.ID, nil, hdr("rid-again")...)
	id := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/users/"+app.ID+"/reset-password", nil, hdr("rid-submit")...).Str("id")
	e.must(http.StatusOK, b.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil, hdr("rid-approve")...)

	// bg1's log.
	list := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/audit?limit=1000", nil)
	for _, bad := range []string{"hmac:0badc0ffee", c.ID} {
		if strings.Contains(string(list.Raw), bad) {
			t.Errorf("bg1's audit shows %s:\n%s", bad, list.Raw)
		}
	}
	got := byActionTarget(list.Items())
	want := []struct {
		key, actor, outcome, rid, by, requestID string
	}{
		{audit.ConsentRevoked + " " + revoke.live.ID, a.ID, audit.Success, "rid-revoke", audit.ByAdministrator, ""},
		{"connection.revoke.refused " + revoke.live.ID, a.ID, audit.Refused, "rid-again", "", ""},
		{"user.reset_password.submitted " + app.ID, a.ID, audit.Success, "rid-submit", "", id},
		{audit.PasswordReset + " " + app.ID, b.ID, audit.Success, "rid-approve", "", id},
		{audit.ConsentRevoked + " " + reset.live.ID, b.ID, audit.Success, "rid-approve", audit.ByPasswordReset, id},
	}
	for _, w := range want {
		ev, ok := got[w.key]
		if !ok {
			t.Errorf("bg1's audit lacks %s:\n%s", w.key, list.Raw)
			continue
		}
		if ev["actorId"] != w.actor || ev["outcome"] != w.outcome || ev["remoteAddr"] != "127.0.0.1" || ev["userAgent"] != auditUA ||
			ev["httpRequestId"] != w.rid || ev["businessGroupId"] != e.bg1 {
			t.Errorf("%s = %v; want actor %s, outcome %s, 127.0.0.1, %q, %s", w.key, ev, w.actor, w.outcome, auditUA, w.rid)
		}
		if w.requestID != "" && ev["requestId"] != w.requestID {
			t.Errorf("%s: requestId %v, want %s", w.key, ev["requestId"], w.requestID)
		}
		if after, _ := ev["after"].(map[string]any); w.by != "" && (after["by"] != w.by || after["userId"] == nil || after["clientId"] != cl.ID) {
			t.Errorf("%s: after %v, want by %s with the user and client", w.key, ev["after"], w.by)
		}
	}
	if _, ok := got[audit.ConsentRevoked+" "+reset.old.ID]; ok {
		t.Error("the reset audited revoking a consent revoked long before")
	}
	if ev := got[audit.SignInFailed+" "+app.ID]; ev == nil || ev["outcome"] != audit.Failure || ev["userAgent"] != "Browser" {
		t.Errorf("bg1's audit lacks its user's failed sign-in: %v", ev)
	}

	// Its filters: an action prefix, an outcome.
	only := func(token, path string, keys ...string) {
		t.Helper()
		var gotKeys []string
		for k := range byActionTarget(e.must(http.StatusOK, token, http.MethodGet, path, nil).Items()) {
			gotKeys = append(gotKeys, k)
		}
		slices.Sort(gotKeys)
		slices.Sort(keys)
		if !slices.Equal(gotKeys, keys) {
			t.Errorf("%s = %v, want %v", path, gotKeys, keys)
		}
	}
	only(a.Token, "/admin/v1/audit?action=signin.*", audit.SignInFailed+" "+app.ID)
	only(a.Token, "/admin/v1/audit?action=consent.*&actor="+b.ID, audit.ConsentRevoked+" "+reset.live.ID)
	only(a.Token, "/admin/v1/audit?outcome=refused", "connection.revoke.refused "+revoke.live.ID)
	only(a.Token, "/admin/v1/audit?outcome=failure", audit.SignInFailed+" "+app.ID)
	only(c.Token, "/admin/v1/audit?action=signin.*", audit.SignInSucceeded+" "+c.ID)
	if r := e.call(a.Token, http.MethodGet, "/admin/v1/audit?outcome=maybe", nil); r.Status != http.StatusBadRequest || !strings.Contains(r.Str("detail"), "outcome") {
		t.Errorf("?outcome=maybe = %d %s", r.Status, r.Raw)
	}

	// The bank's log holds everything, the bank-level events included.
	all := e.walkEvents(e.operator, "/ops/v1/audit", 1000)
	whole := byActionTarget(all)
	for _, k := range []string{audit.SignInFailed + " hmac:0badc0ffee", audit.SignInSucceeded + " " + c.ID, audit.PasswordReset + " " + app.ID} {
		if whole[k] == nil {
			t.Errorf("/ops/v1/audit lacks %s", k)
		}
	}
	if ev := whole[audit.SignInFailed+" hmac:0badc0ffee"]; ev != nil && (ev["businessGroupId"] != nil || ev["actorId"] != "") {
		t.Errorf("bank-level event = %v", ev)
	}
	for _, limit := range []int{1, 2, 5} {
		if p := e.walkEvents(e.operator, "/ops/v1/audit", limit); !slices.Equal(seqs(p), seqs(all)) {
			t.Errorf("pages of %d: %v, want %v", limit, seqs(p), seqs(all))
		}
	}
	only(e.operator, "/ops/v1/audit?businessGroupId=", audit.SignInFailed+" hmac:0badc0ffee")
	only(e.operator, "/ops/v1/audit?businessGroupId="+e.bg2+"&action=signin.*", audit.SignInSucceeded+" "+c.ID)
	only(e.operator, "/ops/v1/audit?action=signin.*&outcome=failure", audit.SignInFailed+" hmac:0badc0ffee", audit.SignInFailed+" "+app.ID)
	only(e.operator, "/ops/v1/audit?action=user.password_reset&actor="+b.ID, audit.PasswordReset+" "+app.ID)
	if p := e.walkEvents(e.operator, "/ops/v1/audit?action=consent.*", 1); len(p) != 2 {
		t.Errorf("consent.* by pages of 1: %d events, want 2", len(p))
	}
	if r := e.call(e.operator, http.MethodGet, "/ops/v1/audit?after=nope", nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("?after=nope = %d %s", r.Status, r.Raw)
	}
	// Each audience reads only its own list.
	if r := e.call(a.Token, http.MethodGet, "/ops/v1/audit", nil); r.Status == http.StatusOK {
		t.Errorf("an administrator read /ops/v1/audit: %s", r.Raw)
	}
}

// TestAuditDeletionRevokesConsents: deleting a user revokes its standing
// consents, and each revocation is audited as consent.revoked by
// user_deleted, under the approval that did it.
func TestAuditDeletionRevokesConsents(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	cl, err := e.st.CreateClient(ctx, store.Client{ID: "ledgerly", Name: "Ledgerly"})
	if err != nil {
		t.Fatal(err)
	}
	app := e.seedSoftwareUser("books-app")
	conns := e.seedConnections(app.ID, cl.ID, store.TokenRefresh, "deleted-refresh")
	id := e.must(http.StatusAccepted, a.Token, http.MethodDelete, "/admin/v1/users/"+app.ID, nil).Str("id")
	e.must(http.StatusOK, b.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil, "X-Request-ID", "rid-delete")

	got := byActionTarget(e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/audit?action=consent.*", nil).Items())
	ev := got[audit.ConsentRevoked+" "+conns.live.ID]
	after, _ := ev["after"].(map[string]any)
	if ev == nil || after["by"] != audit.ByUserDeleted || after["userId"] != app.ID || ev["requestId"] != id ||
		ev["actorId"] != b.ID || ev["httpRequestId"] != "rid-delete" {
		t.Fatalf("deletion's consent.revoked = %v (all: %v)", ev, got)
	}
	if _, ok := got[audit.ConsentRevoked+" "+conns.old.ID]; ok {
		t.Error("the deletion audited revoking a consent revoked long before")
	}
}
