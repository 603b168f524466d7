package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// businessOut is what `business create` prints.
type businessOut struct {
	ID                           string `json:"id"`
	Name                         string `json:"name"`
	LegalName                    string `json:"legalName"`
	AdministratorRoleID          string `json:"administratorRoleId"`
	AdministratorsAccountGroupID string `json:"administratorsAccountGroupId"`
	CreatedAt                    string `json:"createdAt"`
}

// adminOut is what `business add-admin` prints, as the operator API answers.
type adminOut struct {
	User struct {
		ID                 string `json:"id"`
		LoginID            string `json:"loginId"`
		DisplayName        string `json:"displayName"`
		Email              string `json:"email"`
		Status             string `json:"status"`
		MustChangePassword bool   `json:"mustChangePassword"`
	} `json:"user"`
	JobRoleID         string `json:"jobRoleId"`
	AccountGroupID    string `json:"accountGroupId"`
	TemporaryPassword string `json:"temporaryPassword"`
}

func decodeStrict[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not the expected JSON: %v\n%s", err, s)
	}
	return v
}

// TestBusinessCreateAndAddAdmin is issue 10 §3 on the command line: the
// bank's operator creates a business group (with its built-in
// Administrator role) and its first administrators, as /ops/v1 does.
func TestBusinessCreateAndAddAdmin(t *testing.T) {
	dir := migratedDir(t)
	out, stderr, err := cli(t, dir, "business", "create", "--name", " Maple Leaf ", "--legal-name", "Maple Leaf Inc.")
	if err != nil {
		t.Fatalf("business create: %v\n%s", err, stderr)
	}
	if !strings.HasPrefix(out, "{\n  \"id\"") {
		t.Errorf("not indented JSON starting with id:\n%s", out)
	}
	bg := decodeStrict[businessOut](t, out)
	if !strings.HasPrefix(bg.ID, "bg_") || bg.Name != "Maple Leaf" || bg.LegalName != "Maple Leaf Inc." || bg.AdministratorRoleID == "" || bg.AdministratorsAccountGroupID == "" || bg.CreatedAt == "" {
		t.Fatalf("created = %+v", bg)
	}
	st := dirStore(t, dir)
	ctx := t.Context()
	role, err := st.GetJobRole(ctx, bg.AdministratorRoleID)
	if err != nil || role.Name != "Administrator" || role.BusinessGroupID != bg.ID || !slices.Equal(role.Grants.Normalize(), store.AdminGrants().Normalize()) {
		t.Errorf("Administrator role %+v (%v)", role, err)
	}

	out, stderr, err = cli(t, dir, "business", "add-admin", bg.ID, "--login-id", "maple.admin", "--name", "Olivia Bennett", "--email", "olivia@maple.example")
	if err != nil {
		t.Fatalf("business add-admin: %v\n%s", err, stderr)
	}
	ad := decodeStrict[adminOut](t, out)
	if ad.User.ID == "" || ad.User.LoginID != "maple.admin" || ad.User.DisplayName != "Olivia Bennett" || ad.User.Email != "olivia@maple.example" ||
		ad.User.Status != "AWAITING_FIRST_SIGN_IN" || !ad.User.MustChangePassword || ad.JobRoleID != bg.AdministratorRoleID ||
		ad.AccountGroupID != bg.AdministratorsAccountGroupID || len(ad.TemporaryPassword) < 12 {
		t.Fatalf("added = %s", out)
	}
	u, err := st.GetUser(ctx, ad.User.ID)
	if err != nil || !store.VerifySecret(u.PasswordHash, ad.TemporaryPassword) {
		t.Errorf("stored administrator %+v (%v): the printed password does not verify", u, err)
	}
	if strings.Contains(stderr, ad.TemporaryPassword) {
		t.Error("the temporary password reached stderr (the log)")
	}
	actor := "cli"
	evs, _, err := st.ListAudit(ctx, store.AuditFilter{BusinessGroupID: &bg.ID, ActorID: &actor}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action)
		if strings.Contains(string(ev.After), ad.TemporaryPassword) || strings.Contains(string(ev.After), "argon2") {
			t.Errorf("audit event %s holds the password or its hash", ev.Action)
		}
	}
	if want := []string{"business_group.created", "job_role.created", "account_group.created", "business_group.administrator_added"}; !slices.Equal(actions, want) {
		t.Errorf("audit actions %v; want %v", actions, want)
	}

	// Refusals: a clear message naming the flag, exit 1, nothing printed
	// or written.
	if _, _, err := cli(t, dir, "business", "create", "--name", "Again", "--id", "bg-fixed"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"duplicate ID", []string{"business", "create", "--name", "Again", "--id", "bg-fixed"}, `a business group with ID "bg-fixed" exists`},
		{"bad ID", []string{"business", "create", "--name", "Spaced", "--id", "a b"}, "--id: must be 1 to 64"},
		{"blank name", []string{"business", "create", "--name", " "}, "--name: is required"},
		{"unknown business group", []string{"business", "add-admin", "bg_nope", "--login-id", "x.admin", "--name", "X"}, `no business group with ID "bg_nope"`},
		{"invalid flags", []string{"business", "add-admin", bg.ID, "--login-id", "-x", "--name", " ", "--email", "nope"}, "--login-id: must be 3 to 64"},
		{"login ID taken", []string{"business", "add-admin", "bg-fixed", "--login-id", "MAPLE.admin", "--name", "X"}, `the user ID "MAPLE.admin" is already taken`},
		{"no login ID", []string{"business", "add-admin", bg.ID, "--name", "X"}, `required flag(s) "login-id" not set`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, nil, append(tc.args, "--data-dir", dir)...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
	if code, _, stderr := runMain(t, nil, "business", "add-admin", bg.ID, "--login-id", "-x", "--name", " ", "--email", "nope", "--data-dir", dir); code != 1 ||
		!strings.Contains(stderr, "--name: is required") || !strings.Contains(stderr, "--email: is not an e-mail address") {
		t.Errorf("every bad flag is not named: %s", stderr)
	}
	gs, err := st.ListBusinessGroups(ctx)
	if err != nil || len(gs) != 2 {
		t.Errorf("business groups %+v (%v); want the two created", gs, err)
	}
	for _, g := range gs {
		us, _, err := st.ListUsers(ctx, store.UserFilter{BusinessGroupID: g.ID, IncludeDeleted: true}, store.Page{})
		if want := map[bool]int{true: 1, false: 0}[g.ID == bg.ID]; err != nil || len(us) != want {
			t.Errorf("%s: users %+v (%v); want %d", g.ID, us, err, want)
		}
	}
}
