package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// testAuditAuthentication (issue 10 §5): authentication events share the
// log with administrative ones. Their origin and outcome round-trip; the
// filters select bank-level events (business group ""), an outcome and an
// action prefix — matched exactly: LIKE's "_" wildcard and SQLite's
// case-insensitive LIKE must not widen it — and every filter pages by Seq.
func testAuditAuthentication(t *testing.T, s store.Store) {
	ctx := t.Context()
	type ev struct{ bg, actor, action, outcome string }
	evs := []ev{
		{"bg_a", "usr_a", "signin.succeeded", "success"},
		{"", "", "signin.failed", "failure"},
		{"bg_a", "usr_a", "signin.failed", "failure"},
		{"bg_a", "usr_a", "job_role.create.submitted", "success"},
		{"bg_b", "usr_b", "signin.failed", "refused"},
		{"bg_a", "usr_a", "signin.locked_out", "failure"},
		{"bg_a", "usr_c", "user.password_reset", "success"},
		{"bg_a", "usr_c", "user.passwordXreset", "success"},
		{"", "", "SIGNIN.failed", "failure"},
		{"bg_a", "usr_a", "consent.revoked", "success"},
		{"", "", "signin.failed", "failure"},
		{"bg_a", "usr_a", "user.edit.refused", "refused"},
	}
	var made []store.AuditEvent
	for i, e := range evs {
		made = append(made, must(s.AppendAudit(ctx, store.AuditEvent{
			BusinessGroupID: e.bg, ActorID: e.actor, Action: e.action, Outcome: e.outcome, TargetType: "user", TargetID: e.actor,
			RemoteAddr: "198.51.100.7", UserAgent: "Mozilla/5.0 (audit test)", HTTPRequestID: "req-" + e.action,
			After: json.RawMessage(`{"reason":"bad_credentials"}`), At: t0.Add(time.Duration(i) * time.Second),
		}))(t))
	}
	got, _ := must2(s.ListAudit(ctx, store.AuditFilter{}, store.Page{Limit: 100}))(t)
	diff(t, "round trip of origin and outcome", made, got)
	if got[0].UserAgent != "Mozilla/5.0 (audit test)" || got[0].Outcome != "success" || got[0].HTTPRequestID != "req-signin.succeeded" {
		t.Fatalf("origin lost: %+v", got[0])
	}

	pick := func(idx ...int) []store.AuditEvent {
		var out []store.AuditEvent
		for _, i := range idx {
			out = append(out, made[i])
		}
		return out
	}
	ptr := func(s string) *string { return &s }
	cases := []struct {
		name string
		f    store.AuditFilter
		want []store.AuditEvent
	}{
		{"bank-level", store.AuditFilter{BusinessGroupID: ptr("")}, pick(1, 8, 10)},
		{"outcome", store.AuditFilter{Outcome: ptr("refused")}, pick(4, 11)},
		{"prefix", store.AuditFilter{ActionPrefix: ptr("signin.")}, pick(0, 1, 2, 4, 5, 10)},
		{"prefix with an underscore", store.AuditFilter{ActionPrefix: ptr("user.password_")}, pick(6)},
		{"prefix is the whole name", store.AuditFilter{ActionPrefix: ptr("consent.revoked")}, pick(9)},
		{"prefix matching nothing", store.AuditFilter{ActionPrefix: ptr("signin.%")}, nil},
		{"prefix and business group", store.AuditFilter{ActionPrefix: ptr("signin."), BusinessGroupID: ptr("bg_a")}, pick(0, 2, 5)},
		{"prefix, outcome, bank-level", store.AuditFilter{ActionPrefix: ptr("signin."), Outcome: ptr("failure"), BusinessGroupID: ptr("")}, pick(1, 10)},
		{"actor and exact action", store.AuditFilter{ActorID: ptr("usr_a"), Action: ptr("signin.failed")}, pick(2)},
	}
	for _, c := range cases {
		// Every filtered list walks page by page to the same events.
		for _, limit := range []int{1, 2, 100} {
			var walked []store.AuditEvent
			after := ""
			for range len(made) + 1 {
				page, next := must2(s.ListAudit(ctx, c.f, store.Page{After: after, Limit: limit}))(t)
				if len(page) > limit {
					t.Fatalf("%s: page of %d with limit %d", c.name, len(page), limit)
				}
				walked = append(walked, page...)
				if next == "" {
					break
				}
				after = next
			}
			diff(t, c.name, c.want, walked)
		}
	}
}
