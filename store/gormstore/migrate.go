package gormstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Migration is one applied (or pending) schema version.
type Migration struct {
	Version   int64
	Name      string
	AppliedAt time.Time // zero while pending
}

// migration is one step of the schema. up returns the statements for the
// dialect; they run in one transaction with the version row, so a failing
// step leaves the database as it was.
type migration struct {
	version int64
	name    string
	up      func(d dialect) []string
}

// migrations is the ordered, append-only schema history. Never edit an
// entry that has shipped: add a new one.
var migrations = []migration{
	{1, "initial schema", schemaV1},
	{2, "account group members", accountGroupMembersV2},
	{3, "sign-in bookkeeping; login IDs of deleted users reusable", signInV3},
	{4, "audit of authentication; client secret rotation; users' legal entity", authAuditV4},
	{5, "outbox of notification deliveries", outboxV5},
	{6, "outbox: indexes for the sweep of delivered rows and operators' lists", outboxV6},
	{7, "clients: DPoP-bound access tokens, native apps", dpopV7},
	{8, "FDX: accounts' interest rate, legal entities' contact", fdxV8},
	{9, "clients: signed request objects required", jarV9},
	{10, "clients: status and registration metadata; initial access tokens", registrationV10},
	{11, "legal entities' language of documents", languageV11},
	{12, "clients: mutual-TLS client authentication", mtlsV12},
	{13, "consents: index of a user's standing consent of a client", consentIndexV13},
	{14, "tokens: room on each page for the update every token gets (PostgreSQL)", tokensFillFactorV14},
	{15, "consents: at most one standing consent of a user and a client", consentUniqueV15},
}

const migrationsTable = "schema_migrations"

// advisoryLockKey serializes concurrent migrators on PostgreSQL.
const advisoryLockKey = 0x62616e6b66656564 // "bankfeed"

// Migrate applies every pending migration in order, each in its own
// transaction. Running it again is a no-op.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, migrations)
}

// MigrationStatus lists every known migration with when it was applied.
func (s *Store) MigrationStatus(ctx context.Context) ([]Migration, error) {
	applied, err := s.applied(ctx)
	if err != nil {
		return nil, fmt.Errorf("gormstore: migration status: %w", err)
	}
	out := make([]Migration, 0, len(migrations))
	for _, m := range migrations {
		out = append(out, Migration{Version: m.version, Name: m.name, AppliedAt: applied[m.version]})
	}
	return out, nil
}

func (s *Store) ensureMigrationsTable(ctx context.Context) error {
	err := s.w.WithContext(ctx).Exec(`CREATE TABLE IF NOT EXISTS ` + migrationsTable + ` (
		version BIGINT PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`).Error
	if err != nil {
		return fmt.Errorf("create %s: %w", migrationsTable, err)
	}
	return nil
}

// applied maps version → applied time; an absent table means none applied.
func (s *Store) applied(ctx context.Context) (map[int64]time.Time, error) {
	type row struct {
		Version   int64 `gorm:"column:version"`
		AppliedAt int64 `gorm:"column:applied_at"`
	}
	db := s.r.WithContext(ctx)
	if !db.Migrator().HasTable(migrationsTable) {
		return map[int64]time.Time{}, nil
	}
	var rows []row
	if err := db.Table(migrationsTable).Order("version").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
	}
	out := make(map[int64]time.Time, len(rows))
	for _, r := range rows {
		out[r.Version] = fromMicros(r.AppliedAt)
	}
	return out, nil
}

func (s *Store) pending(ctx context.Context, list []migration) ([]migration, error) {
	applied, err := s.applied(ctx)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, m := range list {
		if _, ok := applied[m.version]; !ok {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Store) migrate(ctx context.Context, list []migration) error {
	if err := s.ensureMigrationsTable(ctx); err != nil {
		return fmt.Errorf("gormstore: migrate: %w", err)
	}
	for i := 1; i < len(list); i++ {
		if list[i].version <= list[i-1].version {
			return fmt.Errorf("gormstore: migrate: versions out of order at %d", list[i].version)
		}
	}
	for _, m := range list {
		err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if s.dialect == dialectPostgres {
				if err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, advisoryLockKey).Error; err != nil {
					return fmt.Errorf("lock: %w", err)
				}
			}
			// Checked inside the transaction: another migrator may have
			// applied it while we waited for the lock.
			var n int64
			if err := tx.Table(migrationsTable).Where("version = ?", m.version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for i, stmt := range m.up(s.dialect) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("statement %d: %w", i+1, err)
				}
			}
			return tx.Exec(`INSERT INTO `+migrationsTable+` (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, micros(s.nowUTC())).Error
		})
		if err != nil {
			return fmt.Errorf("gormstore: migrate: migration %d (%s) failed and was rolled back: %w", m.version, m.name, err)
		}
	}
	return nil
}

// ddl adapts the few types that differ between the dialects: {blob}.
func ddl(d dialect, stmts ...string) []string {
	blob := "BLOB"
	if d == dialectPostgres {
		blob = "BYTEA"
	}
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = strings.ReplaceAll(s, "{blob}", blob)
	}
	return out
}

// accountGroupMembersV2 keeps each account group's list also as rows, so
// the data API's per-request check "is this account in the user's group"
// is an index probe: parsing the JSON list (400 IDs, TOASTed) cost
// PostgreSQL 0.3 ms a request. account_ids stays the list of record (the
// group's version and audit cover it); the rows are rewritten with it in
// the same transaction. No foreign key to accounts: the list may name IDs
// that are not (or no longer) an account, and the rows mirror it exactly.
func accountGroupMembersV2(d dialect) []string {
	fill := `INSERT INTO account_group_members (group_id, account_id)
		SELECT DISTINCT g.id, j.value FROM account_groups g, json_each(g.account_ids) j`
	if d == dialectPostgres {
		fill = `INSERT INTO account_group_members (group_id, account_id)
			SELECT DISTINCT g.id, j.value FROM account_groups g, jsonb_array_elements_text(g.account_ids::jsonb) j(value)`
	}
	return []string{
		`CREATE TABLE account_group_members (
			group_id TEXT NOT NULL REFERENCES account_groups(id) ON DELETE CASCADE,
			account_id TEXT NOT NULL,
			PRIMARY KEY (group_id, account_id))`,
		fill,
	}
}

// signInV3 keeps failed sign-ins of login IDs no user can sign in with
// (keyed by a digest, never the ID), so that they lock like a user's; gives
// users the time of their latest failure, so a run of failures ends the
// same way for both; and lets a deleted user's login ID be given to a new
// user (the article's "delete the user and create it again"): uniqueness
// now holds among users not deleted. Both engines support partial indexes.
func signInV3(dialect) []string {
	return []string{
		`ALTER TABLE users ADD COLUMN last_failed_at BIGINT NOT NULL DEFAULT 0`,
		`DROP INDEX users_login`,
		`CREATE UNIQUE INDEX users_login ON users (lower(login_id)) WHERE status <> 'DELETED'`,
		`CREATE TABLE login_failures (
			login_key TEXT PRIMARY KEY,
			failed_attempts BIGINT NOT NULL,
			last_failed_at BIGINT NOT NULL,
			locked_until BIGINT NOT NULL,
			expires_at BIGINT NOT NULL)`,
		`CREATE INDEX login_failures_expiry ON login_failures (expires_at)`,
	}
}

// authAuditV4 (issue 10): audit events say which user agent and HTTP request
// made them and how they ended; a client keeps its previous secret hash until the
// rotation's overlap ends; a user may belong to one legal entity ("" is the
// business group overview), which bounds what entity-context
// administrators reach.
func authAuditV4(dialect) []string {
	return []string{
		`ALTER TABLE audit_events ADD COLUMN user_agent TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE audit_events ADD COLUMN outcome TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE audit_events ADD COLUMN http_request_id TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX audit_actor ON audit_events (actor_id, seq)`,
		`CREATE INDEX audit_action ON audit_events (action, seq)`,
		`ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE clients ADD COLUMN previous_secret_expires_at BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE users ADD COLUMN legal_entity_id TEXT NOT NULL DEFAULT ''`,
	}
}

// outboxV5 (issue 11): the durable outbox of notification deliveries
// (webhook, e-mail), written in the transaction that creates the
// notification and drained by workers on every replica. claimed_by and
// claimed_until are a worker's lease; the partial index serves the
// workers' "pending and due" query, the other one a notification's
// deliveries.
func outboxV5(d dialect) []string {
	return ddl(d,
		`CREATE TABLE outbox_deliveries (
			id TEXT PRIMARY KEY,
			notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
			channel TEXT NOT NULL,
			payload {blob} NOT NULL,
			status TEXT NOT NULL,
			attempts BIGINT NOT NULL,
			next_attempt_at BIGINT NOT NULL,
			last_error TEXT NOT NULL,
			delivered_at BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			claimed_by TEXT NOT NULL,
			claimed_until BIGINT NOT NULL)`,
		`CREATE INDEX outbox_deliveries_due ON outbox_deliveries (next_attempt_at, id) WHERE status = 'pending'`,
		`CREATE INDEX outbox_deliveries_notification ON outbox_deliveries (notification_id, id)`,
	)
}

func schemaV1(d dialect) []string {
	return ddl(d,
		`CREATE TABLE seq_counters (
			name TEXT PRIMARY KEY,
			value BIGINT NOT NULL)`,
		`INSERT INTO seq_counters (name, value) VALUES ('transactions', 0), ('audit', 0)`,

		`CREATE TABLE business_groups (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			legal_name TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			version BIGINT NOT NULL DEFAULT 1)`,
		`CREATE TABLE legal_entities (
			id TEXT PRIMARY KEY,
			business_group_id TEXT NOT NULL REFERENCES business_groups(id),
			name TEXT NOT NULL,
			legal_name TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			version BIGINT NOT NULL DEFAULT 1)`,
		`CREATE INDEX legal_entities_group ON legal_entities (business_group_id, id)`,
		`CREATE TABLE service_agreements (
			id TEXT PRIMARY KEY,
			legal_entity_id TEXT NOT NULL REFERENCES legal_entities(id),
			business_group_id TEXT NOT NULL REFERENCES business_groups(id),
			number TEXT NOT NULL UNIQUE,
			created_at BIGINT NOT NULL)`,
		`CREATE INDEX service_agreements_entity ON service_agreements (legal_entity_id, id)`,

		`CREATE TABLE accounts (
			id TEXT PRIMARY KEY,
			business_group_id TEXT NOT NULL REFERENCES business_groups(id),
			legal_entity_id TEXT NOT NULL REFERENCES legal_entities(id),
			number TEXT NOT NULL UNIQUE,
			display_number TEXT NOT NULL DEFAULT '',
			type TEXT NOT NULL,
			product_name TEXT NOT NULL DEFAULT '',
			nickname TEXT NOT NULL DEFAULT '',
			currency TEXT NOT NULL,
			status TEXT NOT NULL,
			opened_on TEXT NOT NULL DEFAULT '',
			closed_on TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			version BIGINT NOT NULL DEFAULT 1)`,
		`CREATE INDEX accounts_group ON accounts (business_group_id, id)`,
		`CREATE INDEX accounts_entity ON accounts (legal_entity_id, id)`,
		`CREATE TABLE balances (
			account_id TEXT PRIMARY KEY REFERENCES accounts(id),
			as_of BIGINT NOT NULL,
			ledger BIGINT NOT NULL,
			available BIGINT NOT NULL)`,
		`CREATE TABLE daily_balances (
			account_id TEXT NOT NULL REFERENCES accounts(id),
			business_date TEXT NOT NULL,
			opening_ledger BIGINT NOT NULL,
			closing_ledger BIGINT NOT NULL,
			opening_available BIGINT NOT NULL,
			closing_available BIGINT NOT NULL,
			closed BOOLEAN NOT NULL DEFAULT FALSE,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (account_id, business_date))`,

		`CREATE TABLE transactions (
			id TEXT PRIMARY KEY,
			account_id TEXT NOT NULL REFERENCES accounts(id),
			external_id TEXT, -- NULL when the feed gave none (unique only when set)
			status TEXT NOT NULL,
			transaction_at BIGINT NOT NULL,
			posted_at BIGINT NOT NULL,
			business_date TEXT NOT NULL,
			value_date TEXT NOT NULL,
			amount BIGINT NOT NULL,
			direction TEXT NOT NULL,
			description TEXT NOT NULL,
			memo TEXT NOT NULL,
			payee TEXT NOT NULL,
			counterparty TEXT NOT NULL,
			check_number TEXT NOT NULL,
			bank_reference TEXT NOT NULL,
			customer_reference TEXT NOT NULL,
			bai_code TEXT NOT NULL,
			iso_domain TEXT NOT NULL,
			iso_family TEXT NOT NULL,
			iso_sub_family TEXT NOT NULL,
			running_balance BIGINT, -- NULL when not set
			pending_id TEXT NOT NULL,
			replaced_by_id TEXT NOT NULL,
			removed_at BIGINT NOT NULL,
			seq BIGINT NOT NULL,
			created_seq BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL)`,
		`CREATE INDEX transactions_by_date ON transactions (account_id, business_date, id)`,
		`CREATE INDEX transactions_by_seq ON transactions (account_id, seq)`,
		`CREATE UNIQUE INDEX transactions_external ON transactions (account_id, external_id)`,
		`CREATE TABLE statements (
			id TEXT PRIMARY KEY,
			account_id TEXT NOT NULL REFERENCES accounts(id),
			period_start TEXT NOT NULL,
			period_end TEXT NOT NULL,
			statement_date TEXT NOT NULL,
			opening BIGINT NOT NULL,
			closing BIGINT NOT NULL,
			entry_count BIGINT NOT NULL,
			total_debits BIGINT NOT NULL,
			total_credits BIGINT NOT NULL,
			status TEXT NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX statements_period ON statements (account_id, period_start, period_end)`,

		`CREATE TABLE users (
			id TEXT PRIMARY KEY,
			business_group_id TEXT NOT NULL REFERENCES business_groups(id),
			login_id TEXT NOT NULL,
			display_name TEXT NOT NULL,
			email TEXT NOT NULL,
			accounting_software BOOLEAN NOT NULL,
			status TEXT NOT NULL,
			password_hash TEXT NOT NULL,
			must_change_password BOOLEAN NOT NULL,
			security_question TEXT NOT NULL,
			security_answer_hash TEXT NOT NULL,
			failed_attempts BIGINT NOT NULL,
			locked_until BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			deleted_at BIGINT NOT NULL,
			version BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX users_login ON users (lower(login_id))`,
		`CREATE INDEX users_group ON users (business_group_id, id)`,

		`CREATE TABLE job_roles (
			id TEXT PRIMARY KEY,
			business_group_id TEXT NOT NULL REFERENCES business_groups(id),
			name TEXT NOT NULL,
			description TEXT NOT NULL,
			grants TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			version BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX job_roles_name ON job_roles (business_group_id, name)`,
		`CREATE TABLE account_groups (
			id TEXT PRIMARY KEY,
			business_group_id TEXT NOT NULL REFERENCES business_groups(id),
			name TEXT NOT NULL,
			account_ids TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			version BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX account_groups_name ON account_groups (business_group_id, name)`,
		`CREATE TABLE assignments (
			id TEXT PRIMARY KEY,
			business_group_id TEXT NOT NULL REFERENCES business_groups(id),
			legal_entity_id TEXT NOT NULL, -- '' for the business group overview
			user_id TEXT NOT NULL REFERENCES users(id),
			job_role_id TEXT NOT NULL REFERENCES job_roles(id),
			account_group_id TEXT NOT NULL REFERENCES account_groups(id),
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			version BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX assignments_context ON assignments (user_id, legal_entity_id)`,
		`CREATE INDEX assignments_group ON assignments (business_group_id, id)`,
		`CREATE INDEX assignments_role ON assignments (job_role_id)`,
		`CREATE INDEX assignments_account_group ON assignments (account_group_id)`,

		`CREATE TABLE approvals (
			id TEXT PRIMARY KEY,
			business_group_id TEXT NOT NULL REFERENCES business_groups(id),
			legal_entity_id TEXT NOT NULL,
			kind TEXT NOT NULL,
			permission TEXT NOT NULL,
			right_exercised BIGINT NOT NULL,
			target_id TEXT NOT NULL,
			target_version BIGINT NOT NULL,
			payload TEXT NOT NULL,
			initiator_id TEXT NOT NULL,
			status TEXT NOT NULL,
			reason TEXT NOT NULL,
			decided_by TEXT NOT NULL,
			decided_at BIGINT NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE INDEX approvals_status ON approvals (business_group_id, status, id)`,
		`CREATE INDEX approvals_group ON approvals (business_group_id, id)`,
		`CREATE TABLE notifications (
			id TEXT PRIMARY KEY,
			recipient_id TEXT NOT NULL,
			kind TEXT NOT NULL,
			text TEXT NOT NULL,
			request_id TEXT NOT NULL,
			is_read BOOLEAN NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE INDEX notifications_recipient ON notifications (recipient_id, id)`,
		`CREATE TABLE audit_events (
			seq BIGINT PRIMARY KEY,
			business_group_id TEXT NOT NULL,
			actor_id TEXT NOT NULL,
			action TEXT NOT NULL,
			target_type TEXT NOT NULL,
			target_id TEXT NOT NULL,
			request_id TEXT NOT NULL,
			remote_addr TEXT NOT NULL,
			before_json TEXT NOT NULL,
			after_json TEXT NOT NULL,
			at BIGINT NOT NULL)`,
		`CREATE INDEX audit_group ON audit_events (business_group_id, seq)`,

		`CREATE TABLE clients (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			secret_hash TEXT NOT NULL,
			redirect_uris TEXT NOT NULL,
			grant_types TEXT NOT NULL,
			response_types TEXT NOT NULL,
			scopes TEXT NOT NULL,
			audience TEXT NOT NULL,
			token_endpoint_auth_method TEXT NOT NULL,
			token_endpoint_auth_signing_alg TEXT NOT NULL,
			jwks TEXT NOT NULL,
			jwks_uri TEXT NOT NULL,
			require_par BOOLEAN NOT NULL,
			first_party BOOLEAN NOT NULL,
			logo_uri TEXT NOT NULL,
			policy_uri TEXT NOT NULL,
			tos_uri TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			version BIGINT NOT NULL)`,
		`CREATE TABLE consents (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL,
			client_id TEXT NOT NULL,
			scopes TEXT NOT NULL,
			granted_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL,
			revoked_at BIGINT NOT NULL,
			last_used_at BIGINT NOT NULL)`,
		`CREATE INDEX consents_user ON consents (user_id, granted_at)`,
		`CREATE TABLE tokens (
			kind TEXT NOT NULL,
			signature TEXT NOT NULL,
			request_id TEXT NOT NULL,
			client_id TEXT NOT NULL,
			subject TEXT NOT NULL,
			active BOOLEAN NOT NULL,
			requested_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL,
			first_used_at BIGINT NOT NULL,
			access_signature TEXT NOT NULL,
			token_type TEXT NOT NULL,
			key_thumbprint TEXT NOT NULL,
			request {blob} NOT NULL,
			PRIMARY KEY (kind, signature))`,
		`CREATE INDEX tokens_request ON tokens (request_id, kind)`,
		`CREATE INDEX tokens_expiry ON tokens (expires_at)`,
		`CREATE TABLE used_jtis (
			jti TEXT PRIMARY KEY,
			expires_at BIGINT NOT NULL)`,
		`CREATE TABLE auth_flows (
			id TEXT PRIMARY KEY,
			client_id TEXT NOT NULL,
			requested_scopes TEXT NOT NULL,
			request {blob} NOT NULL,
			state TEXT NOT NULL,
			user_id TEXT NOT NULL,
			auth_time BIGINT NOT NULL,
			granted_scopes TEXT NOT NULL,
			denied BOOLEAN NOT NULL,
			deny_reason TEXT NOT NULL,
			verifier_hash TEXT NOT NULL,
			csrf_token TEXT NOT NULL,
			expires_at BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			version BIGINT NOT NULL)`,
		`CREATE INDEX auth_flows_expiry ON auth_flows (expires_at)`,
		`CREATE TABLE browser_sessions (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL,
			auth_time BIGINT NOT NULL,
			csrf_token TEXT NOT NULL,
			expires_at BIGINT NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE INDEX browser_sessions_user ON browser_sessions (user_id)`,
		`CREATE TABLE signing_keys (
			id TEXT PRIMARY KEY,
			algorithm TEXT NOT NULL,
			public_jwk TEXT NOT NULL,
			private_jwk {blob} NOT NULL,
			created_at BIGINT NOT NULL,
			retired_at BIGINT NOT NULL)`,
	)
}
