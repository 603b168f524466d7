package ops_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestOpsOrgRecords pins what the operator API does with business groups and
// legal entities, which share one code path: creation rules and the order
// fields are checked in, reads, PATCH rules and the audit's before/after.
func TestOpsOrgRecords(t *testing.T) {
	type invalid struct {
		name  string
		body  map[string]any
		field string // the field the 422 names
	}
	tests := []struct {
		name, path, prefix, kind string
		// create is a valid body; it gets "name" and "legalName" added.
		create      map[string]any
		badCreate   []invalid
		movingField string // the field a PATCH that changes an ID names
		list        string // the list query
		// auditBG is the business group the audit lands in, given the
		// created record's JSON.
		auditBG func(resp) string
	}{
		{
			name: "business group", path: "/ops/v1/business-groups", prefix: "bg_", kind: "business_group",
			create: map[string]any{},
			badCreate: []invalid{
				{"parent given", map[string]any{"businessGroupId": "bg1", "name": "x"}, "businessGroupId"},
				{"no name", map[string]any{}, "name"},
				{"blank name", map[string]any{"name": "  "}, "name"},
				{"bad ID", map[string]any{"id": "a b", "name": "x"}, "id"},
				// The ID is checked before the name.
				{"bad ID and no name", map[string]any{"id": "a b"}, "id"},
			},
			movingField: "id", list: "",
			auditBG: func(r resp) string { return r.Str("id") },
		},
		{
			name: "legal entity", path: "/ops/v1/legal-entities", prefix: "le_", kind: "legal_entity",
			create: map[string]any{"businessGroupId": "bg1"},
			badCreate: []invalid{
				{"no parent", map[string]any{"name": "x"}, "businessGroupId"},
				{"no name", map[string]any{"businessGroupId": "bg1"}, "name"},
				{"blank name", map[string]any{"businessGroupId": "bg1", "name": "  "}, "name"},
				{"bad ID", map[string]any{"businessGroupId": "bg1", "id": "a b", "name": "x"}, "id"},
				// The name is checked before the ID.
				{"bad ID and no name", map[string]any{"businessGroupId": "bg1", "id": "a b"}, "name"},
			},
			movingField: "businessGroupId", list: "?businessGroupId=bg1",
			auditBG: func(r resp) string { return r.Str("businessGroupId") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			op := e.operator
			for _, bad := range tt.badCreate {
				r := e.call(op, http.MethodPost, tt.path, bad.body)
				if r.Status != http.StatusUnprocessableEntity || r.Str("errors.0.field") != bad.field {
					t.Errorf("create, %s = %d %s, want 422 naming %q", bad.name, r.Status, r.Raw, bad.field)
				}
			}

			body := map[string]any{"name": "  Maple  ", "legalName": " Maple Holdings Ltd. "}
			for k, v := range tt.create {
				body[k] = v
			}
			made := e.must(http.StatusCreated, op, http.MethodPost, tt.path, body)
			id := made.Str("id")
			if !strings.HasPrefix(id, tt.prefix) || made.Str("name") != "Maple" || made.Str("legalName") != "Maple Holdings Ltd." {
				t.Fatalf("created = %s", made.Raw)
			}
			body["id"] = id
			if r := e.call(op, http.MethodPost, tt.path, body); r.Status != http.StatusConflict || !strings.Contains(r.Str("detail"), id) {
				t.Errorf("create again = %d %s, want 409 naming the ID", r.Status, r.Raw)
			}
			body["id"] = "chosen-ID_1"
			if r := e.must(http.StatusCreated, op, http.MethodPost, tt.path, body); r.Str("id") != "chosen-ID_1" {
				t.Errorf("chosen ID = %s", r.Raw)
			}

			if r := e.must(http.StatusOK, op, http.MethodGet, tt.path+"/"+id, nil); string(r.Raw) != string(made.Raw) {
				t.Errorf("get = %s, want %s", r.Raw, made.Raw)
			}
			if r := e.call(op, http.MethodGet, tt.path+"/nope", nil); r.Status != http.StatusNotFound {
				t.Errorf("get missing = %d", r.Status)
			}
			ids := map[string]bool{}
			for _, it := range e.must(http.StatusOK, op, http.MethodGet, tt.path+tt.list, nil).Items() {
				ids[it["id"].(string)] = true
			}
			if !ids[id] || !ids["chosen-ID_1"] {
				t.Errorf("list = %v, want %s and chosen-ID_1", ids, id)
			}

			for _, bad := range []invalid{
				{"ID", map[string]any{"id": "x"}, tt.movingField},
				{"parent", map[string]any{"businessGroupId": "bg2"}, tt.movingField},
				{"blank name", map[string]any{"name": " "}, "name"},
			} {
				r := e.call(op, http.MethodPatch, tt.path+"/"+id, bad.body)
				if r.Status != http.StatusUnprocessableEntity || r.Str("errors.0.field") != bad.field {
					t.Errorf("patch %s = %d %s, want 422 naming %q", bad.name, r.Status, r.Raw, bad.field)
				}
			}
			if r := e.call(op, http.MethodPatch, tt.path+"/nope", map[string]any{"name": "x"}); r.Status != http.StatusNotFound {
				t.Errorf("patch missing = %d", r.Status)
			}
			// Only the fields given change.
			up := e.must(http.StatusOK, op, http.MethodPatch, tt.path+"/"+id, map[string]any{"legalName": " Maple Ltd. "})
			if up.Str("name") != "Maple" || up.Str("legalName") != "Maple Ltd." || up.Str("createdAt") != made.Str("createdAt") {
				t.Errorf("patched legal name = %s", up.Raw)
			}
			up = e.must(http.StatusOK, op, http.MethodPatch, tt.path+"/"+id, map[string]any{"name": " Maple Co "})
			if up.Str("name") != "Maple Co" || up.Str("legalName") != "Maple Ltd." {
				t.Errorf("patched name = %s", up.Raw)
			}

			bg := tt.auditBG(made)
			evs, _, err := e.st.ListAudit(t.Context(), store.AuditFilter{BusinessGroupID: &bg, TargetID: &id}, store.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range evs {
				got = append(got, ev.Action)
				if ev.ActorID != "core-banking" || ev.TargetType != tt.kind {
					t.Errorf("audit %s: actor %q, target type %q", ev.Action, ev.ActorID, ev.TargetType)
				}
			}
			want := []string{tt.kind + ".created", tt.kind + ".updated", tt.kind + ".updated"}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("audit = %v, want %v", got, want)
			}
			var before, after map[string]any
			if err := json.Unmarshal(evs[2].Before, &before); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(evs[2].After, &after); err != nil {
				t.Fatal(err)
			}
			if evs[0].Before != nil || before["name"] != "Maple" || after["name"] != "Maple Co" || after["legalName"] != "Maple Ltd." {
				t.Errorf("audit before %s, after %s (created before %s)", evs[2].Before, evs[2].After, evs[0].Before)
			}
		})
	}
}
