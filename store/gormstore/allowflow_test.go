package gormstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestAllowReadAuthFlowRaces (PostgreSQL): the consent form's one-statement
// Allow never makes a second standing consent of its user and client, and
// never waits for another authorization of them. While one holds their
// consent lock, it changes nothing. When one commits a consent after the
// statement began (here while the statement waits for the flow's row), the
// statement's snapshot does not show that consent, so it cannot revoke it:
// the unique index refuses the insert and nothing changes.
func TestAllowReadAuthFlowRaces(t *testing.T) {
	dsn := gormtest.PostgresSchema(t, gormtest.PostgresDSN(t, "bankfeed_test"))
	st := openPostgres(t, dsn)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	atConsent := func() store.AuthFlow {
		t.Helper()
		f, err := st.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", Request: []byte("form"), State: store.FlowConsent,
			RequestedScopes: []string{"accounts.read"}, UserID: "usr_1", AuthTime: now, ExpiresAt: now.Add(10 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	allow := store.FlowDecision{GrantedScopes: []string{"accounts.read"}}
	try := func(read store.AuthFlow) (store.Consent, bool, error) {
		c := store.Consent{ID: store.NewID("cns"), UserID: "usr_1", ClientID: "vendor", Scopes: allow.GrantedScopes, GrantedAt: now}
		return st.AllowReadAuthFlow(ctx, read, allow, c, store.GrantAudit{}, store.TokenRecord{Kind: store.TokenAuthorizeCode,
			Signature: store.RandomToken(8), RequestID: c.ID, ClientID: "vendor", Subject: "usr_1", Active: true,
			RequestedAt: now, ExpiresAt: now.Add(time.Minute)})
	}
	standing := func() []string {
		t.Helper()
		cs, err := st.ListConsents(ctx, "usr_1")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cs {
			if c.RevokedAt.IsZero() {
				ids = append(ids, c.ID)
			}
		}
		return ids
	}
	unchanged := func(what string, read store.AuthFlow) {
		t.Helper()
		if f, err := st.GetAuthFlow(ctx, read.ID); err != nil || f.Version != read.Version || f.State != store.FlowConsent {
			t.Errorf("%s: the flow is now %+v (%v)", what, f, err)
		}
	}

	// Another authorization holds the lock, in its transaction.
	other, err := st.UpdateReadAuthFlow(ctx, atConsent(), func(f store.AuthFlow) (store.AuthFlow, error) {
		f.State, f.VerifierHash = store.FlowDecided, "vh"
		return f, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	read := atConsent()
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- st.InTx(ctx, func(ctx context.Context) error {
			_, _, err := st.FinishAuthFlow(ctx, other.ID, "vh")
			close(locked)
			<-release
			return err
		})
	}()
	<-locked
	if _, ok, err := try(read); ok || err != nil {
		t.Errorf("while another authorization holds the lock: %v, %v; want false, nil", ok, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	unchanged("while another authorization held the lock", read)
	if ids := standing(); len(ids) != 0 {
		t.Errorf("standing consents %v, want none", ids)
	}

	// Another authorization commits its consent while the statement waits
	// for the flow's row, after the statement's snapshot.
	tx := holding(t, dsn, `SELECT 1 FROM auth_flows WHERE id = $1 FOR UPDATE`, read.ID)
	type result struct {
		ok  bool
		err error
	}
	res := make(chan result)
	go func() {
		_, ok, err := try(read)
		res <- result{ok, err}
	}()
	allowWaits(t, dsn, "the flow's row")
	if _, err := tx.Exec(ctx, `INSERT INTO consents (id, user_id, client_id, scopes, granted_at, expires_at, revoked_at, last_used_at)
		VALUES ('cns_between', 'usr_1', 'vendor', '[]', 1, 0, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.ok || r.err != nil {
		t.Errorf("with a consent committed after its snapshot: %v, %v; want false, nil", r.ok, r.err)
	}
	unchanged("with a consent committed after its snapshot", read)
	if ids := standing(); len(ids) != 1 || ids[0] != "cns_between" {
		t.Errorf("standing consents %v, want [cns_between]", ids)
	}

	// Once alone, the same read is allowed and replaces it.
	if c, ok, err := try(read); !ok || err != nil || len(c.Replaced) != 1 || c.Replaced[0] != "cns_between" {
		t.Errorf("alone: %+v, %v, %v; want cns_between replaced", c, ok, err)
	}
	if ids := standing(); len(ids) != 1 || ids[0] == "cns_between" {
		t.Errorf("standing consents %v, want the new one", ids)
	}
}

// TestAllowTakesTheAuditCounterLast (PostgreSQL): the Allow's statement,
// which appends the grant's audit event (store.GrantAudit), locks the
// audit counter's row only after its other writes, as the audited
// transactions do (their rows, then AppendAudit): while another
// transaction holds the counter, the waiting statement already holds the
// replaced consent's row and its tokens' rows, and none of the other
// order, which could deadlock with such a transaction. Once the counter is
// free it completes with its event.
func TestAllowTakesTheAuditCounterLast(t *testing.T) {
	dsn := gormtest.PostgresSchema(t, gormtest.PostgresDSN(t, "bankfeed_test"))
	st := openPostgres(t, dsn)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	standing, err := st.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTokens(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: "old-access", RequestID: standing.ID, ClientID: "vendor",
		Subject: "usr_1", Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	read, err := st.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", Request: []byte("form"), State: store.FlowConsent,
		RequestedScopes: []string{"accounts.read"}, UserID: "usr_1", AuthTime: now, ExpiresAt: now.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	c := store.Consent{ID: store.NewID("cns"), UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: now}
	e := store.AuditEvent{BusinessGroupID: "bg_1", ActorID: "usr_1", Action: "consent.granted", TargetType: "consent", TargetID: c.ID,
		Outcome: "success", After: []byte(`{"clientId":"vendor"}`)}
	r := e
	r.Action, r.After = "consent.updated", []byte(`{"clientId":"vendor","previousConsentId":`+string(store.ReplacedMarkJSON)+`}`)

	tx := holding(t, dsn, `UPDATE seq_counters SET value = value WHERE name = 'audit'`)
	type result struct {
		ok  bool
		err error
	}
	res := make(chan result)
	go func() {
		_, ok, err := st.AllowReadAuthFlow(ctx, read, store.FlowDecision{GrantedScopes: c.Scopes}, c, store.GrantAudit{Granted: e, Replaced: r},
			store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: "new-code", RequestID: c.ID, ClientID: "vendor", Subject: "usr_1",
				Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Minute)})
		res <- result{ok, err}
	}()
	watcher := allowWaits(t, dsn, "the audit counter")
	for what, q := range map[string]string{
		"the replaced consent's row": `SELECT 1 FROM consents WHERE id = '` + standing.ID + `' FOR UPDATE NOWAIT`,
		"its token's row":            `SELECT 1 FROM tokens WHERE kind = 'access_token' AND signature = 'old-access' FOR UPDATE NOWAIT`,
		"the flow's row":             `SELECT 1 FROM auth_flows WHERE id = '` + read.ID + `' FOR UPDATE NOWAIT`,
	} {
		wtx, err := watcher.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = wtx.Exec(ctx, q)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
			t.Errorf("while the statement waits for the counter, %s is not held by it (locking it: %v)", what, err)
		}
		_ = wtx.Rollback(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-res; !got.ok || got.err != nil {
		t.Fatalf("AllowReadAuthFlow once the counter is free: %v, %v; want true", got.ok, got.err)
	}
	es, _, err := st.ListAudit(ctx, store.AuditFilter{TargetID: &c.ID}, store.Page{})
	if err != nil || len(es) != 1 || es[0].Action != "consent.updated" || string(es[0].After) != `{"clientId":"vendor","previousConsentId":"`+standing.ID+`"}` {
		t.Errorf("the grant's audit events: %+v (%v), want its consent.updated", es, err)
	}
}

// allowWaits returns, once the Allow's statement waits for a lock (what,
// for the failure), a connection of its own that watched it: inside a
// holder's transaction pg_stat_activity is the snapshot of its first read,
// so a first look taken before the statement waited never saw it wait
// (the test hung when the box was busy).
func allowWaits(t *testing.T, dsn, what string) *pgx.Conn {
	t.Helper()
	ctx := t.Context()
	watcher, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { watcher.Close(context.Background()) })
	for waiting, deadline := false, time.Now().Add(time.Minute); !waiting; {
		if time.Now().After(deadline) {
			t.Fatalf("the statement never waited for %s", what)
		}
		if err := watcher.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'
			AND query LIKE 'WITH f AS (UPDATE auth_flows%')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return watcher
}

// holding is a transaction on a connection of its own to dsn that ran q
// (taking a lock it holds until it ends).
func holding(t *testing.T, dsn, q string, args ...any) pgx.Tx {
	t.Helper()
	ctx := t.Context()
	holder, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close(context.Background()) })
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		t.Fatal(err)
	}
	return tx
}
