package gormstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// openSQLiteTemp opens an unmigrated store on a fresh SQLite file.
func openSQLiteTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{DSN: filepath.Join(t.TempDir(), "bankfeed.db")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// testMigrations runs the migration checks on a fresh, unmigrated store.
func testMigrations(t *testing.T, open func(t *testing.T) *Store) {
	t.Run("MigrateTwiceIsNoOp", func(t *testing.T) {
		ctx := t.Context()
		s := open(t)
		if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "pending") {
			t.Fatalf("Ping before Migrate = %v, want a pending-migrations error", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		first, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatalf("MigrationStatus: %v", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		second, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatalf("MigrationStatus: %v", err)
		}
		if len(second) != len(migrations) {
			t.Fatalf("status lists %d migrations, want %d", len(second), len(migrations))
		}
		for i, m := range second {
			if m.Version != migrations[i].version || m.Name != migrations[i].name {
				t.Errorf("status[%d] = %d %q, want %d %q", i, m.Version, m.Name, migrations[i].version, migrations[i].name)
			}
			if m.AppliedAt.IsZero() {
				t.Errorf("migration %d not applied", m.Version)
			}
			if !m.AppliedAt.Equal(first[i].AppliedAt) {
				t.Errorf("migration %d re-applied: %v then %v", m.Version, first[i].AppliedAt, m.AppliedAt)
			}
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping after Migrate: %v", err)
		}
	})
	t.Run("FailingMigrationRollsBack", func(t *testing.T) {
		ctx := t.Context()
		s := open(t)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		bad := append(append([]migration{}, migrations...), migration{
			version: 9999, name: "broken",
			up: func(dialect) []string {
				return []string{
					`CREATE TABLE half_done (id TEXT PRIMARY KEY)`,
					`ALTER TABLE users ADD COLUMN half_done_col TEXT`,
					`THIS IS NOT SQL`,
				}
			},
		})
		err := s.migrate(ctx, bad)
		if err == nil || !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), "rolled back") {
			t.Fatalf("migrate(broken) = %v, want an error naming migration 9999 and the rollback", err)
		}
		if s.w.Migrator().HasTable("half_done") {
			t.Error("table half_done exists after the failed migration")
		}
		if s.w.Migrator().HasColumn(&userRow{}, "half_done_col") {
			t.Error("column users.half_done_col exists after the failed migration")
		}
		status, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(status) != len(migrations) {
			t.Errorf("status has %d entries, want %d", len(status), len(migrations))
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping after failed extra migration: %v", err)
		}
	})
	t.Run("MembersFilledFromExistingLists", func(t *testing.T) {
		// A database at version 1 with account groups gets their lists as
		// account_group_members rows, duplicates and non-account IDs as listed.
		ctx := t.Context()
		s := open(t)
		if err := s.migrate(ctx, migrations[:1]); err != nil {
			t.Fatal(err)
		}
		db := s.w.WithContext(ctx)
		for _, q := range []string{
			`INSERT INTO business_groups (id, name, created_at, updated_at) VALUES ('bg_1', 'One', 0, 0)`,
			`INSERT INTO account_groups (id, business_group_id, name, account_ids, created_at, updated_at, version)
				VALUES ('ag_1', 'bg_1', 'Synced', '["acc_a","acc_b","acc_b","not an account"]', 0, 0, 1),
				       ('ag_2', 'bg_1', 'Empty', '[]', 0, 0, 1)`,
		} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := db.Raw(`SELECT group_id || ':' || account_id FROM account_group_members ORDER BY 1`).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if want := []string{"ag_1:acc_a", "ag_1:acc_b", "ag_1:not an account"}; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("members = %q, want %q", got, want)
		}
		// Written with the list from then on, and gone with the group.
		if _, err := s.UpdateAccountGroup(ctx, "ag_1", func(g store.AccountGroup) (store.AccountGroup, error) {
			g.AccountIDs = []string{"acc_c"}
			return g, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccountGroup(ctx, "ag_2"); err != nil {
			t.Fatal(err)
		}
		g, err := s.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: "bg_1", Name: "New", AccountIDs: []string{"acc_z", "acc_y"}})
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		if err := db.Raw(`SELECT group_id || ':' || account_id FROM account_group_members ORDER BY 1`).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if want := []string{"ag_1:acc_c", g.ID + ":acc_y", g.ID + ":acc_z"}; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("members after writes = %q, want %q", got, want)
		}
		if err := s.DeleteAccountGroup(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.Raw(`SELECT COUNT(*) FROM account_group_members WHERE group_id = ?`, g.ID).Scan(&n).Error; err != nil || n != 0 {
			t.Fatalf("members of a deleted group: %d, %v", n, err)
		}
	})
	t.Run("SignInV3", func(t *testing.T) {
		// A database at version 2: users keep their counters (with no time
		// of last failure), deleted users' login IDs become free, live ones
		// stay unique, and login_failures exists.
		ctx := t.Context()
		s := open(t)
		if err := s.migrate(ctx, migrations[:2]); err != nil {
			t.Fatal(err)
		}
		db := s.w.WithContext(ctx)
		for _, q := range []string{
			`INSERT INTO business_groups (id, name, created_at, updated_at) VALUES ('bg_1', 'One', 0, 0)`,
			`INSERT INTO users (id, business_group_id, login_id, display_name, email, accounting_software, status, password_hash,
				must_change_password, security_question, security_answer_hash, failed_attempts, locked_until, created_at, updated_at, deleted_at, version)
				VALUES ('usr_old', 'bg_1', 'Books', 'Old', '', TRUE, 'DELETED', 'h', FALSE, 'q', 'a', 3, 0, 0, 0, 1, 2),
				       ('usr_live', 'bg_1', 'Live', 'Live', '', FALSE, 'ACTIVE', 'h', FALSE, 'q', 'a', 2, 0, 0, 0, 0, 1)`,
		} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		live, err := s.GetUser(ctx, "usr_live")
		if err != nil || live.FailedAttempts != 2 || !live.LastFailedAt.IsZero() || live.Version != 1 {
			t.Fatalf("live user after migration = %+v, %v", live, err)
		}
		nu, err := s.CreateUser(ctx, store.User{BusinessGroupID: "bg_1", LoginID: "books", DisplayName: "New", Status: store.UserAwaitingSignIn})
		if err != nil {
			t.Fatalf("CreateUser with a deleted user's login ID: %v", err)
		}
		if got, err := s.GetUserByLogin(ctx, "BOOKS"); err != nil || got.ID != nu.ID {
			t.Fatalf("GetUserByLogin = %+v, %v; want the new user", got, err)
		}
		if _, err := s.CreateUser(ctx, store.User{BusinessGroupID: "bg_1", LoginID: "LIVE", DisplayName: "Twin", Status: store.UserActive}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("CreateUser with a live user's login ID = %v, want ErrConflict", err)
		}
		if _, err := s.GetLoginFailures(ctx, "k"); err != nil {
			t.Fatalf("login_failures: %v", err)
		}
	})
	t.Run("ConsentUniqueV15", func(t *testing.T) {
		// A database at version 14 where a user and a client have three
		// standing consents (a direct CreateConsent could make them) keeps
		// the newest, revokes the others at its grant and ends their
		// tokens; from then on a second standing consent is refused.
		ctx := t.Context()
		s := open(t)
		if err := s.migrate(ctx, migrations[:14]); err != nil {
			t.Fatal(err)
		}
		db := s.w.WithContext(ctx)
		for _, q := range []string{
			`INSERT INTO consents (id, user_id, client_id, scopes, granted_at, expires_at, revoked_at, last_used_at) VALUES
				('cns_a', 'usr_1', 'cl_1', '[]', 10, 0, 0, 0), ('cns_c', 'usr_1', 'cl_1', '[]', 30, 0, 0, 0),
				('cns_b', 'usr_1', 'cl_1', '[]', 30, 0, 0, 0), ('cns_old', 'usr_1', 'cl_1', '[]', 5, 0, 7, 0),
				('cns_other', 'usr_1', 'cl_2', '[]', 10, 0, 0, 0)`,
			`INSERT INTO tokens (` + tokenColumns + `) VALUES
				('access_token', 'sig_a', 'cns_a', 'cl_1', 'usr_1', TRUE, 0, 0, 0, '', '', '', ''),
				('access_token', 'sig_b', 'cns_b', 'cl_1', 'usr_1', TRUE, 0, 0, 0, '', '', '', ''),
				('access_token', 'sig_c', 'cns_c', 'cl_1', 'usr_1', TRUE, 0, 0, 0, '', '', '', ''),
				('access_token', 'sig_o', 'cns_other', 'cl_2', 'usr_1', TRUE, 0, 0, 0, '', '', '', '')`,
		} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := db.Raw(`SELECT id || ':' || CAST(revoked_at AS TEXT) FROM consents ORDER BY id`).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if want := "cns_a:30|cns_b:30|cns_c:0|cns_old:7|cns_other:0"; strings.Join(got, "|") != want {
			t.Fatalf("consents = %q, want %q", strings.Join(got, "|"), want)
		}
		got = nil
		if err := db.Raw(`SELECT signature FROM tokens WHERE active ORDER BY signature`).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if want := "sig_c|sig_o"; strings.Join(got, "|") != want {
			t.Fatalf("active tokens = %q, want %q", strings.Join(got, "|"), want)
		}
		if _, err := s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "cl_1"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second standing consent = %v, want ErrConflict", err)
		}
		if _, err := s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "cl_1", RevokedAt: time.Unix(40, 0)}); err != nil {
			t.Fatalf("a revoked consent beside the standing one: %v", err)
		}
	})
	t.Run("StatusBeforeMigrate", func(t *testing.T) {
		s := open(t)
		st, err := s.MigrationStatus(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range st {
			if !m.AppliedAt.IsZero() {
				t.Errorf("migration %d applied on a fresh database", m.Version)
			}
		}
	})
}

func TestSQLiteMigrations(t *testing.T) {
	testMigrations(t, func(t *testing.T) *Store { return openSQLiteTemp(t) })
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, Config{DSN: "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"})
	if err == nil {
		t.Fatal("Open on a closed port succeeded")
	}
	_, err = Open(ctx, Config{DSN: filepath.Join(t.TempDir(), "missing-dir", "x.db")})
	if err == nil {
		t.Fatal("Open on a missing directory succeeded")
	}
}
