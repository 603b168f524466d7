package gormstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm/clause"

	"github.com/bankfeed/bankfeed/store"
)

type clientRow struct {
	ID                          string `gorm:"column:id;primaryKey"`
	Name                        string `gorm:"column:name"`
	SecretHash                  string `gorm:"column:secret_hash"`
	PreviousSecretHash          string `gorm:"column:previous_secret_hash"`
	PreviousSecretExpires       int64  `gorm:"column:previous_secret_expires_at"`
	RedirectURIs                string `gorm:"column:redirect_uris"`
	GrantTypes                  string `gorm:"column:grant_types"`
	ResponseTypes               string `gorm:"column:response_types"`
	Scopes                      string `gorm:"column:scopes"`
	Audience                    string `gorm:"column:audience"`
	TokenEndpointAuthMethod     string `gorm:"column:token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string `gorm:"column:token_endpoint_auth_signing_alg"`
	JWKS                        string `gorm:"column:jwks"`
	JWKSURI                     string `gorm:"column:jwks_uri"`
	RequirePAR                  bool   `gorm:"column:require_par"`
	FirstParty                  bool   `gorm:"column:first_party"`
	DPoPBoundAccessTokens       bool   `gorm:"column:dpop_bound_access_tokens"`
	NativeApp                   bool   `gorm:"column:native_app"`
	RequireSignedRequestObject  bool   `gorm:"column:require_signed_request_object"`
	TLSSubjectDN                string `gorm:"column:tls_client_auth_subject_dn"`
	TLSSANDNS                   string `gorm:"column:tls_client_auth_san_dns"`
	TLSSANURI                   string `gorm:"column:tls_client_auth_san_uri"`
	TLSSANIP                    string `gorm:"column:tls_client_auth_san_ip"`
	TLSSANEmail                 string `gorm:"column:tls_client_auth_san_email"`
	LogoURI                     string `gorm:"column:logo_uri"`
	PolicyURI                   string `gorm:"column:policy_uri"`
	TOSURI                      string `gorm:"column:tos_uri"`
	Status                      string `gorm:"column:status"`
	RegistrationTokenHash       string `gorm:"column:registration_token_hash"`
	Registration                string `gorm:"column:registration"`
	Created                     int64  `gorm:"column:created_at"`
	Updated                     int64  `gorm:"column:updated_at"`
	Version                     int64  `gorm:"column:version"`
}

func (clientRow) TableName() string { return "clients" }

var clientMap = mapper[store.Client, clientRow]{
	toDomain: func(r clientRow) (store.Client, error) {
		c := store.Client{ID: r.ID, Name: r.Name, SecretHash: r.SecretHash,
			PreviousSecretHash: r.PreviousSecretHash, PreviousSecretExpiresAt: fromMicros(r.PreviousSecretExpires),
			TokenEndpointAuthMethod: r.TokenEndpointAuthMethod, TokenEndpointAuthSigningAlg: r.TokenEndpointAuthSigningAlg,
			JWKS: toRaw(r.JWKS), JWKSURI: r.JWKSURI, RequirePAR: r.RequirePAR, FirstParty: r.FirstParty,
			DPoPBoundAccessTokens: r.DPoPBoundAccessTokens, NativeApp: r.NativeApp,
			RequireSignedRequestObject: r.RequireSignedRequestObject,
			TLSClientAuth: store.TLSClientAuth{SubjectDN: r.TLSSubjectDN, SANDNS: r.TLSSANDNS, SANURI: r.TLSSANURI,
				SANIP: r.TLSSANIP, SANEmail: r.TLSSANEmail},
			LogoURI: r.LogoURI, PolicyURI: r.PolicyURI, TOSURI: r.TOSURI,
			Status: r.Status, RegistrationTokenHash: r.RegistrationTokenHash,
			CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated)}
		if c.Status == "" {
			c.Status = store.ClientActive
		}
		if r.Registration != "" {
			if err := json.Unmarshal([]byte(r.Registration), &c.Registration); err != nil {
				return store.Client{}, fmt.Errorf("client %s: registration: %w", r.ID, err)
			}
		}
		for _, f := range []struct {
			src string
			dst *[]string
		}{
			{r.RedirectURIs, &c.RedirectURIs}, {r.GrantTypes, &c.GrantTypes}, {r.ResponseTypes, &c.ResponseTypes},
			{r.Scopes, &c.Scopes}, {r.Audience, &c.Audience},
		} {
			v, err := fromJSONList(f.src)
			if err != nil {
				return store.Client{}, fmt.Errorf("client %s: %w", r.ID, err)
			}
			*f.dst = v
		}
		return c, nil
	},
	fromDomain: func(c store.Client) (clientRow, error) {
		status := c.Status
		if status == "" {
			status = store.ClientActive
		}
		reg := ""
		if !reflect.ValueOf(c.Registration).IsZero() {
			b, err := json.Marshal(c.Registration)
			if err != nil {
				return clientRow{}, fmt.Errorf("client %s: registration: %w", c.ID, err)
			}
			reg = string(b)
		}
		return clientRow{Status: status, RegistrationTokenHash: c.RegistrationTokenHash, Registration: reg,
			ID: c.ID, Name: c.Name, SecretHash: c.SecretHash,
			PreviousSecretHash: c.PreviousSecretHash, PreviousSecretExpires: micros(c.PreviousSecretExpiresAt),
			RedirectURIs: jsonList(c.RedirectURIs), GrantTypes: jsonList(c.GrantTypes),
			ResponseTypes: jsonList(c.ResponseTypes), Scopes: jsonList(c.Scopes), Audience: jsonList(c.Audience),
			TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg,
			JWKS: rawOrEmpty(c.JWKS), JWKSURI: c.JWKSURI, RequirePAR: c.RequirePAR, FirstParty: c.FirstParty,
			DPoPBoundAccessTokens: c.DPoPBoundAccessTokens, NativeApp: c.NativeApp,
			RequireSignedRequestObject: c.RequireSignedRequestObject,
			TLSSubjectDN:               c.TLSClientAuth.SubjectDN, TLSSANDNS: c.TLSClientAuth.SANDNS,
			TLSSANURI: c.TLSClientAuth.SANURI, TLSSANIP: c.TLSClientAuth.SANIP, TLSSANEmail: c.TLSClientAuth.SANEmail,
			LogoURI: c.LogoURI, PolicyURI: c.PolicyURI, TOSURI: c.TOSURI,
			Created: micros(c.CreatedAt), Updated: micros(c.UpdatedAt), Version: 1}, nil
	},
	version: func(r *clientRow) *int64 { return &r.Version },
	id:      func(c store.Client) string { return c.ID },
	stamp:   func(c *store.Client, now time.Time, _ int64) { c.UpdatedAt = now },
}

func (s *Store) CreateClient(ctx context.Context, c store.Client) (store.Client, error) {
	if c.ID == "" {
		return store.Client{}, store.Invalid("clientId", "is required")
	}
	now := s.nowUTC()
	c.CreatedAt, c.UpdatedAt = orNow(c.CreatedAt, now), now
	r, err := clientMap.fromDomain(c)
	if err != nil {
		return store.Client{}, err
	}
	if err := s.insert(ctx, "create client", &r); err != nil {
		return store.Client{}, err
	}
	return clientMap.toDomain(r)
}

func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	r, err := take[clientRow](ctx, s, "get client", "id = ?", id)
	if err != nil {
		return store.Client{}, err
	}
	return clientMap.toDomain(r)
}

func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	var rows []clientRow
	if err := s.read(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap("list clients", err)
	}
	return mapAll(rows, clientMap.toDomain)
}

func (s *Store) UpdateClient(ctx context.Context, id string, fn func(store.Client) (store.Client, error)) (store.Client, error) {
	return casUpdate(ctx, s, "update client", id, clientMap, fn)
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.deleteWhere(ctx, "delete client", "clients", "id = ?", id); err != nil {
			return err
		}
		// Its tokens and consents must stop with it: Verify looks tokens up
		// by signature and never reads the client.
		db := s.write(ctx)
		s.forgetStanding(ctx)
		if err := db.Model(&consentRow{}).Where("client_id = ? AND revoked_at = 0", id).Update("revoked_at", micros(s.nowUTC())).Error; err != nil {
			return wrap("delete client: revoke consents", err)
		}
		if err := db.Model(&tokenRow{}).Where("client_id = ? AND active = ?", id, true).Update("active", false).Error; err != nil {
			return wrap("delete client: deactivate tokens", err)
		}
		return nil
	})
}

// deleteWhere deletes the matching rows; none is ErrNotFound.
func (s *Store) deleteWhere(ctx context.Context, op, table, where string, args ...any) error {
	res := s.write(ctx).Exec("DELETE FROM "+table+" WHERE "+where, args...)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

type consentRow struct {
	ID       string `gorm:"column:id;primaryKey"`
	UserID   string `gorm:"column:user_id"`
	ClientID string `gorm:"column:client_id"`
	Scopes   string `gorm:"column:scopes"`
	Granted  int64  `gorm:"column:granted_at"`
	Expires  int64  `gorm:"column:expires_at"`
	Revoked  int64  `gorm:"column:revoked_at"`
	LastUsed int64  `gorm:"column:last_used_at"`
}

func (consentRow) TableName() string { return "consents" }

func (r consentRow) domain() (store.Consent, error) {
	sc, err := fromJSONList(r.Scopes)
	if err != nil {
		return store.Consent{}, fmt.Errorf("consent %s: %w", r.ID, err)
	}
	return store.Consent{ID: r.ID, UserID: r.UserID, ClientID: r.ClientID, Scopes: sc,
		GrantedAt: fromMicros(r.Granted), ExpiresAt: fromMicros(r.Expires), RevokedAt: fromMicros(r.Revoked),
		LastUsedAt: fromMicros(r.LastUsed)}, nil
}

// newConsentRow is the row of a new consent: a fresh ID unless it has one,
// granted now unless it says when.
func (s *Store) newConsentRow(c store.Consent) consentRow {
	if c.ID == "" {
		c.ID = store.NewID("cns")
	}
	return consentRow{ID: c.ID, UserID: c.UserID, ClientID: c.ClientID, Scopes: jsonList(c.Scopes),
		Granted: micros(orNow(c.GrantedAt, s.nowUTC())), Expires: micros(c.ExpiresAt), Revoked: micros(c.RevokedAt),
		LastUsed: micros(c.LastUsedAt)}
}

func (s *Store) CreateConsent(ctx context.Context, c store.Consent) (store.Consent, error) {
	if c.UserID == "" || c.ClientID == "" {
		return store.Consent{}, store.Invalid("consent", "needs a user and a client")
	}
	r := s.newConsentRow(c)
	if err := s.insert(ctx, "create consent", &r); err != nil {
		return store.Consent{}, err
	}
	return r.domain()
}

func (s *Store) ReplaceConsent(ctx context.Context, c store.Consent) (store.Consent, error) {
	if c.UserID == "" || c.ClientID == "" {
		return store.Consent{}, store.Invalid("consent", "needs a user and a client")
	}
	c.GrantedAt = orNow(c.GrantedAt, s.nowUTC())
	var out store.Consent
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.write(ctx)
		// SQLite's writer transactions are IMMEDIATE, so serialized already;
		// on PostgreSQL two authorizations of the same (user, client) queue on
		// a transaction-scoped advisory lock (consentLock; taken already when
		// this transaction finished the flow, flowAccessQuery), so
		// neither misses the other's consent and exactly one stays active.
		if s.dialect == dialectPostgres {
			if !s.holdsConsentLock(ctx, c.UserID, c.ClientID) {
				if err := db.Exec("SELECT "+consentLock("?", "?"), c.UserID, c.ClientID).Error; err != nil {
					return wrap("lock consent", err)
				}
			}
			// After the lock, in a statement of its own: its snapshot must
			// see what the authorization it waited for committed.
			var err error
			out, err = s.replaceConsentPostgres(ctx, c)
			return err
		}
		// One statement revokes them and names them (RETURNING id), where
		// reading the IDs first cost every authorization a round trip.
		var revoked []consentRow
		if err := db.Model(&revoked).Clauses(clause.Returning{Columns: []clause.Column{{Name: "id"}}}).
			Where(activeConsentOf, c.UserID, c.ClientID).
			Update("revoked_at", micros(c.GrantedAt)).Error; err != nil {
			return wrap("replace consent", err)
		}
		var ids []string
		for _, r := range revoked {
			ids = append(ids, r.ID)
		}
		if len(ids) > 0 {
			s.forgetStanding(ctx)
			if err := db.Model(&tokenRow{}).Where("request_id IN ? AND active = ?", ids, true).Update("active", false).Error; err != nil {
				return wrap("replace consent tokens", err)
			}
		}
		var err error
		out, err = s.CreateConsent(ctx, c)
		out.Replaced = ids
		return err
	})
	if err != nil {
		return store.Consent{}, err
	}
	return out, nil
}

// consentLock is the SQL call that takes ReplaceConsent's advisory lock of
// the consent of (user, client), SQL expressions both: ReplaceConsent's own
// statement and the one that finishes a flow (flowAccessQuery) build
// it alike, so that they take the same lock.
func consentLock(user, client string) string {
	return "pg_advisory_xact_lock(" + consentLockKey(user, client) + ")"
}

// consentLockKey is the key of consentLock.
func consentLockKey(user, client string) string {
	return "hashtextextended('consent' || chr(10) || " + user + " || chr(10) || " + client + ", 0)"
}

// noteConsentLock remembers, for the rest of ctx's transaction, that it
// holds the consent lock of (user, client); outside a transaction the lock
// ended with its statement and nothing is remembered.
func (s *Store) noteConsentLock(ctx context.Context, user, client string) {
	if st := s.currentTx(ctx); st != nil {
		if st.consentLocks == nil {
			st.consentLocks = map[[2]string]bool{}
		}
		st.consentLocks[[2]string{user, client}] = true
	}
}

// holdsConsentLock reports whether ctx's transaction took the consent lock
// of (user, client) already (noteConsentLock).
func (s *Store) holdsConsentLock(ctx context.Context, user, client string) bool {
	st := s.currentTx(ctx)
	return st != nil && st.consentLocks[[2]string{user, client}]
}

// consentReplace is ReplaceConsent's work on PostgreSQL in one statement
// (data-modifying WITH, one snapshot; issue 15: three round trips before):
// the standing consents of (user, client) revoked (activeConsentOf), their
// tokens deactivated, the new consent inserted; it returns the IDs revoked
// (FALSE) and the one inserted (TRUE; none when the ID exists already).
const consentReplace = `WITH r AS (UPDATE consents SET revoked_at = ? WHERE ` + activeConsentOf + ` RETURNING id),
	t AS (UPDATE tokens SET active = FALSE WHERE active AND request_id IN (SELECT id FROM r)),
	i AS (INSERT INTO consents (id, user_id, client_id, scopes, granted_at, expires_at, revoked_at, last_used_at)
		VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id)
	SELECT id, FALSE FROM r UNION ALL SELECT id, TRUE FROM i`

// replaceConsentPostgres runs consentReplace in ctx's transaction, under
// ReplaceConsent's advisory lock.
func (s *Store) replaceConsentPostgres(ctx context.Context, c store.Consent) (store.Consent, error) {
	r := s.newConsentRow(c)
	var replaced []string
	inserted := false
	err := s.writeQuery(ctx, consentReplace, []any{r.Granted, c.UserID, c.ClientID,
		r.ID, r.UserID, r.ClientID, r.Scopes, r.Granted, r.Expires, r.Revoked, r.LastUsed}, scanReplaced(&replaced, &inserted))
	if err != nil {
		return store.Consent{}, wrap("replace consent", err)
	}
	if len(replaced) > 0 {
		s.forgetStanding(ctx)
	}
	if !inserted {
		return store.Consent{}, fmt.Errorf("gormstore: replace consent: %w: already exists", store.ErrConflict)
	}
	out, err := r.domain()
	out.Replaced = replaced
	return out, err
}

// scanReplaced scans the rows of consentReplace's final SELECT (also
// AllowReadAuthFlow's): the IDs revoked into replaced, and whether the new
// consent was inserted.
func scanReplaced(replaced *[]string, inserted *bool) func(rowScanner) error {
	return func(sc rowScanner) error {
		var id string
		var isNew bool
		if err := sc.Scan(&id, &isNew); err != nil {
			return err
		}
		if isNew {
			*inserted = true
		} else {
			*replaced = append(*replaced, id)
		}
		return nil
	}
}

// activeConsentOf selects a user's standing consent of a client (index
// consents_user_client: the literal revoked_at = 0 is its predicate).
const activeConsentOf = "user_id = ? AND client_id = ? AND revoked_at = 0"

func (s *Store) GetConsent(ctx context.Context, id string) (store.Consent, error) {
	r, err := take[consentRow](ctx, s, "get consent", "id = ?", id)
	if err != nil {
		return store.Consent{}, err
	}
	return r.domain()
}

func (s *Store) ListConsents(ctx context.Context, userID string) ([]store.Consent, error) {
	var rows []consentRow
	if err := s.read(ctx).Where("user_id = ?", userID).Order("granted_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, wrap("list consents", err)
	}
	return mapAll(rows, consentRow.domain)
}

func (s *Store) RevokeConsent(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		at = s.nowUTC()
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.GetConsent(ctx, id); err != nil {
			return err
		}
		db := s.write(ctx)
		s.forgetStanding(ctx)
		// Keep the first revocation time if revoked twice.
		if err := db.Model(&consentRow{}).Where("id = ? AND revoked_at = 0", id).Update("revoked_at", micros(at)).Error; err != nil {
			return wrap("revoke consent", err)
		}
		if err := db.Model(&tokenRow{}).Where("request_id = ? AND active = ?", id, true).Update("active", false).Error; err != nil {
			return wrap("revoke consent tokens", err)
		}
		return nil
	})
}

func (s *Store) TouchConsent(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		at = s.nowUTC()
	}
	us := micros(at)
	// At most one write a minute per consent: older stamps are left alone.
	res := s.write(ctx).Model(&consentRow{}).Where("id = ? AND last_used_at < ?", id, us-int64(time.Minute/time.Microsecond)).
		Update("last_used_at", us)
	if res.Error != nil {
		return wrap("touch consent", res.Error)
	}
	if res.RowsAffected == 0 {
		if ok, err := s.exists(ctx, "consents", "id = ?", id); err != nil {
			return wrap("touch consent", err)
		} else if !ok {
			return fmt.Errorf("gormstore: touch consent: %w", store.ErrNotFound)
		}
	}
	return nil
}

type tokenRow struct {
	Kind            string `gorm:"column:kind;primaryKey"`
	Signature       string `gorm:"column:signature;primaryKey"`
	RequestID       string `gorm:"column:request_id"`
	ClientID        string `gorm:"column:client_id"`
	Subject         string `gorm:"column:subject"`
	Active          bool   `gorm:"column:active"`
	Requested       int64  `gorm:"column:requested_at"`
	Expires         int64  `gorm:"column:expires_at"`
	FirstUsed       int64  `gorm:"column:first_used_at"`
	AccessSignature string `gorm:"column:access_signature"`
	TokenType       string `gorm:"column:token_type"`
	KeyThumbprint   string `gorm:"column:key_thumbprint"`
	Request         []byte `gorm:"column:request"`
}

func (tokenRow) TableName() string { return "tokens" }

func (r tokenRow) domain() store.TokenRecord {
	return store.TokenRecord{Kind: store.TokenKind(r.Kind), Signature: r.Signature, RequestID: r.RequestID,
		ClientID: r.ClientID, Subject: r.Subject, Active: r.Active, RequestedAt: fromMicros(r.Requested),
		ExpiresAt: fromMicros(r.Expires), FirstUsedAt: fromMicros(r.FirstUsed), AccessSignature: r.AccessSignature,
		TokenType: r.TokenType, KeyThumbprint: r.KeyThumbprint, Request: r.Request}
}

func (s *Store) CreateToken(ctx context.Context, t store.TokenRecord) error {
	return s.CreateTokens(ctx, t)
}

// CreateTokens is store.TokenStore's: every record checked first, then one
// INSERT of them all (a grant's access and refresh token, an authorization's
// code with its PKCE and OpenID Connect sessions: a round trip each before,
// issue 15).
func (s *Store) CreateTokens(ctx context.Context, ts ...store.TokenRecord) error {
	rows, consents, err := tokenRows(ts)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	if len(consents) == 0 {
		return s.insertTokens(ctx, rows)
	}
	// Only while the consent stands, decided in the insert's transaction:
	// RevokeConsent, ReplaceConsent and DeleteClient update the consent
	// before deactivating its tokens, so either they wait for this insert
	// and deactivate it, or this waits for them and sees the revocation.
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, id := range consents {
			revoked, err := s.lockConsent(ctx, id)
			if err != nil {
				return err
			}
			if revoked {
				return fmt.Errorf("gormstore: create token: consent %s: %w", id, store.ErrGrantConsentRevoked)
			}
		}
		return s.insertTokens(ctx, rows)
	})
}

// tokenRows are the rows of new records ts, with the consents (RequestID)
// of their access and refresh tokens, each once.
func tokenRows(ts []store.TokenRecord) ([]tokenRow, []string, error) {
	rows := make([]tokenRow, len(ts))
	var consents []string
	for i, t := range ts {
		if t.Kind == "" || t.Signature == "" {
			return nil, nil, store.Invalid("token", "needs a kind and a signature")
		}
		req := t.Request
		if req == nil {
			req = []byte{}
		}
		rows[i] = tokenRow{Kind: string(t.Kind), Signature: t.Signature, RequestID: t.RequestID, ClientID: t.ClientID,
			Subject: t.Subject, Active: t.Active, Requested: micros(t.RequestedAt), Expires: micros(t.ExpiresAt),
			FirstUsed: micros(t.FirstUsedAt), AccessSignature: t.AccessSignature, TokenType: t.TokenType,
			KeyThumbprint: t.KeyThumbprint, Request: req}
		if (t.Kind == store.TokenAccess || t.Kind == store.TokenRefresh) && t.RequestID != "" && !slices.Contains(consents, t.RequestID) {
			consents = append(consents, t.RequestID)
		}
	}
	return rows, consents, nil
}

// lockConsent reports whether consent id is revoked (false if there is no
// such consent: a client_credentials grant) and, on PostgreSQL, holds a
// share lock on it until ctx's transaction ends, which a revocation's
// update waits for (and which waits for an uncommitted revocation, then
// reads it). SQLite serialises write transactions already.
//
// A consent found standing is not read again in the same transaction (a
// grant creates its access and its refresh token for one consent): on
// PostgreSQL the share lock is held until the transaction ends and on SQLite
// the transaction holds the write lock, so no other one can revoke it
// meanwhile, and a revocation in this transaction forgets it
// (forgetStanding).
func (s *Store) lockConsent(ctx context.Context, id string) (bool, error) {
	standing := s.standingConsents(ctx)
	if standing[id] {
		return false, nil
	}
	q := "SELECT revoked_at FROM consents WHERE id = ?"
	if s.dialect == dialectPostgres {
		q += " FOR SHARE"
	}
	var revokedAt int64
	found := false
	err := s.query(ctx, q, []any{id}, func(sc rowScanner) error { found = true; return sc.Scan(&revokedAt) })
	if err != nil {
		return false, wrap("lock consent", err)
	}
	if found {
		s.noteStanding(ctx, id, revokedAt)
	}
	return revokedAt != 0, nil
}

// noteStanding remembers, for the rest of ctx's transaction, a consent a
// grant's statement found standing under its lock (lockConsent,
// lockRecordConsent, codeConsume, tokenRotatePair): the grant's tokens then
// need no check of their own.
func (s *Store) noteStanding(ctx context.Context, id string, revokedAt int64) {
	if standing := s.standingConsents(ctx); id != "" && revokedAt == 0 && standing != nil {
		standing[id] = true
	}
}

// standingConsents is the set of consents lockConsent found standing in
// ctx's transaction; nil outside one.
func (s *Store) standingConsents(ctx context.Context) map[string]bool {
	st := s.currentTx(ctx)
	if st == nil {
		return nil
	}
	if st.standing == nil {
		st.standing = map[string]bool{}
	}
	return st.standing
}

// forgetStanding is called by every revocation of consents: what
// lockConsent found standing in this transaction is read again.
func (s *Store) forgetStanding(ctx context.Context) {
	if st := s.currentTx(ctx); st != nil {
		st.standing = nil
	}
}

// lockRecordConsent takes, on PostgreSQL inside a transaction, the share
// lock of lockConsent on the consent of the record (kind, signature) before
// the record's own row is locked. A token grant (ConsumeToken, then
// CreateToken) then locks the consent first, as RevokeConsent and
// ReplaceConsent do: both sides queue on the consent and never deadlock (a
// revocation holding the consent, waiting for the code's row; the grant
// holding the code's row, waiting for the consent). A code's consumption
// (codeConsume) and a refresh token's rotation (tokenRotatePair) take the
// same lock in their own statement on PostgreSQL, in the same order.
//
// The consent it finds standing is remembered as lockConsent remembers it
// (issue 15): the grant's CreateToken calls in the same transaction, under
// the same share lock, then need no statement of their own.
func (s *Store) lockRecordConsent(ctx context.Context, kind store.TokenKind, signature string) error {
	if s.dialect != dialectPostgres || s.txFrom(ctx) == nil {
		return nil
	}
	var id string
	var revokedAt int64
	err := s.query(ctx, "SELECT id, revoked_at FROM consents WHERE id = (SELECT request_id FROM tokens WHERE kind = ? AND signature = ?) FOR SHARE",
		[]any{string(kind), signature}, func(sc rowScanner) error { return sc.Scan(&id, &revokedAt) })
	if err != nil {
		return wrap("lock consent", err)
	}
	s.noteStanding(ctx, id, revokedAt)
	return nil
}

// tokenColumns are tokenRow's columns in the order of its pointers.
const tokenColumns = `kind, signature, request_id, client_id, subject, active, requested_at, expires_at,
	first_used_at, access_signature, token_type, key_thumbprint, request`

const tokenSelect = `SELECT ` + tokenColumns + ` FROM tokens`

// tokenRotate deactivates an active refresh token, stamps its first use
// unless it has one, and returns the row.
const tokenRotate = `UPDATE tokens SET active = ?, first_used_at = CASE WHEN first_used_at = 0 THEN ? ELSE first_used_at END
	WHERE kind = ? AND signature = ? AND active = ? RETURNING ` + tokenColumns

// tokenRotatePair is tokenRotate that also share-locks the refresh token's
// consent first (lockRecordConsent's lock, c) and deactivates the access
// token the rotated refresh token names, if the rotation matched
// (PostgreSQL's data-modifying WITH: one statement, one snapshot). The
// rotation joins c (a left join: a token of no consent rotates too), so
// the consent's row is locked before the refresh token's whatever the join
// order, and the refresh token's before the access token's, as the three
// statements did (issue 15: the lock was a statement of its own). When
// nothing matches, c is not read and nothing is locked. It answers the
// rotated row with the consent's ID and revocation time.
const tokenRotatePair = `WITH c AS (SELECT id, revoked_at FROM consents
		WHERE id = (SELECT request_id FROM tokens WHERE kind = 'refresh_token' AND signature = ?) FOR SHARE),
	r AS (UPDATE tokens SET active = ?, first_used_at = CASE WHEN first_used_at = 0 THEN ? ELSE first_used_at END
		FROM (SELECT 1 AS one) d LEFT JOIN c ON TRUE
		WHERE tokens.kind = ? AND tokens.signature = ? AND tokens.active = ?
		RETURNING ` + tokenColumns + `, COALESCE(c.id, '') AS consent_id, COALESCE(c.revoked_at, 0) AS consent_revoked_at),
	paired AS (UPDATE tokens SET active = FALSE WHERE kind = 'access_token' AND active
		AND signature IN (SELECT access_signature FROM r WHERE access_signature <> ''))
	SELECT ` + tokenColumns + `, consent_id, consent_revoked_at FROM r`

func (r *tokenRow) pointers() []any { return r.appendPointers(nil) }

// appendPointers appends the row's scan destinations to dst (columnPointers).
func (r *tokenRow) appendPointers(dst []any) []any {
	return append(dst, &r.Kind, &r.Signature, &r.RequestID, &r.ClientID, &r.Subject, &r.Active, &r.Requested, &r.Expires,
		&r.FirstUsed, &r.AccessSignature, &r.TokenType, &r.KeyThumbprint, &r.Request)
}

// GetToken is read on every introspection, token verification and grant:
// one row scanned straight into its fields (gorm's Take with its reflective
// scan was a third of an introspection's CPU).
func (s *Store) GetToken(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, error) {
	var r tokenRow
	found := false
	err := s.query(ctx, tokenSelect+" WHERE kind = ? AND signature = ?", []any{string(kind), signature}, func(sc rowScanner) error {
		found = true
		return sc.Scan(r.pointers()...)
	})
	if err != nil {
		return store.TokenRecord{}, wrap("get token", err)
	}
	if !found {
		return store.TokenRecord{}, fmt.Errorf("gormstore: get token: %w", store.ErrNotFound)
	}
	return r.domain(), nil
}

// DeactivateToken ends one token (on SQLite, RotateRefreshToken's end of
// the paired access token): the UPDATE written out, as the token's insert
// and rotation are, rather than gorm's Update on the model.
func (s *Store) DeactivateToken(ctx context.Context, kind store.TokenKind, signature string) error {
	n, err := s.exec(ctx, "UPDATE tokens SET active = ? WHERE kind = ? AND signature = ?", []any{false, string(kind), signature})
	if err != nil {
		return wrap("deactivate token", err)
	}
	if n == 0 {
		return fmt.Errorf("gormstore: deactivate token: %w", store.ErrNotFound)
	}
	return nil
}

func (s *Store) DeleteToken(ctx context.Context, kind store.TokenKind, signature string) error {
	return s.deleteWhere(ctx, "delete token", "tokens", "kind = ? AND signature = ?", string(kind), signature)
}

// TakeToken is one DELETE … RETURNING: the row comes back from the
// statement that removes it, so of concurrent takers only the one whose
// delete matched gets it (SQLite ≥ 3.35 and PostgreSQL both return deleted
// rows).
func (s *Store) TakeToken(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, error) {
	rows, err := s.takeTokens(ctx, "kind = ? AND signature = ?", string(kind), signature)
	if err != nil {
		return store.TokenRecord{}, wrap("take token", err)
	}
	if len(rows) != 1 {
		return store.TokenRecord{}, fmt.Errorf("gormstore: take token: %w", store.ErrNotFound)
	}
	return rows[0].domain(), nil
}

// TakeTokens is TakeToken's DELETE … RETURNING for every key at once.
func (s *Store) TakeTokens(ctx context.Context, keys ...store.TokenKey) ([]store.TokenRecord, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	rows, err := s.takeTokens(ctx, tokenKeysWhere(len(keys)), tokenKeyArgs(keys)...)
	if err != nil {
		return nil, wrap("take tokens", err)
	}
	return tokenDomains(rows), nil
}

// tokenKeysWhere matches the records of n keys, tokenKeyArgs' arguments.
func tokenKeysWhere(n int) string {
	return strings.TrimSuffix(strings.Repeat("(kind = ? AND signature = ?) OR ", n), " OR ")
}

func tokenKeyArgs(keys []store.TokenKey) []any {
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, string(k.Kind), k.Signature)
	}
	return args
}

func tokenDomains(rows []tokenRow) []store.TokenRecord {
	out := make([]store.TokenRecord, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out
}

// takeTokens deletes the tokens matching where and returns them, by a
// statement written out (gorm's Delete with its Returning clause built it
// and scanned the rows by reflection on every call, twice per flow; issue
// 15).
func (s *Store) takeTokens(ctx context.Context, where string, args ...any) ([]tokenRow, error) {
	var rows []tokenRow
	err := s.writeQuery(ctx, "DELETE FROM tokens WHERE "+where+" RETURNING "+tokenColumns, args, func(sc rowScanner) error {
		rows = append(rows, tokenRow{})
		return sc.Scan(rows[len(rows)-1].pointers()...)
	})
	return rows, err
}

func (s *Store) RevokeTokens(ctx context.Context, kind store.TokenKind, requestID string) error {
	err := s.write(ctx).Model(&tokenRow{}).Where("kind = ? AND request_id = ? AND active = ?", string(kind), requestID, true).
		Update("active", false).Error
	return wrap("revoke tokens", err)
}

// RotateRefreshToken reads the record, then flips it inactive with an UPDATE
// conditioned on active = true: of concurrent callers only one matches the
// row, and only that one reports Active=true.
func (s *Store) RotateRefreshToken(ctx context.Context, signature string, at time.Time) (store.TokenRecord, error) {
	if at.IsZero() {
		at = s.nowUTC()
	}
	us := micros(at)
	// One statement on the hot path (a refresh grant): the conditional
	// UPDATE decides the race and RETURNING hands back the row, so the
	// winner needs no read first. Only an active token matches, and an
	// active token has never been used (FirstUsedAt is set when it is
	// deactivated), so the row before was the row returned with Active=true
	// and FirstUsedAt zero unless it already held another time.
	// Written out and scanned straight into the row, as GetToken is: gorm's
	// Updates with RETURNING reflected over the row (issue 15).
	//
	// The winner also ends the access token issued with the refresh token:
	// on PostgreSQL in the same statement, which takes the consent's share
	// lock first too (tokenRotatePair, two round trips fewer per refresh
	// grant), on SQLite by a second one in the same transaction (whose
	// single writer needs no lock).
	var rows []tokenRow
	rotate := func(ctx context.Context, q string) error {
		return s.writeQuery(ctx, q, []any{false, us, string(store.TokenRefresh), signature, true}, func(sc rowScanner) error {
			rows = append(rows, tokenRow{})
			return sc.Scan(rows[len(rows)-1].pointers()...)
		})
	}
	var err error
	if s.dialect == dialectPostgres {
		var consentID string
		var revokedAt int64
		err = s.writeQuery(ctx, tokenRotatePair, []any{signature, false, us, string(store.TokenRefresh), signature, true}, func(sc rowScanner) error {
			rows = append(rows, tokenRow{})
			return sc.Scan(append(rows[len(rows)-1].pointers(), &consentID, &revokedAt)...)
		})
		if err == nil {
			s.noteStanding(ctx, consentID, revokedAt)
		}
	} else {
		err = s.InTx(ctx, func(ctx context.Context) error {
			if err := rotate(ctx, tokenRotate); err != nil || len(rows) != 1 || rows[0].AccessSignature == "" {
				return err
			}
			if err := s.DeactivateToken(ctx, store.TokenAccess, rows[0].AccessSignature); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		})
	}
	if err != nil {
		return store.TokenRecord{}, wrap("rotate refresh token", err)
	}
	if len(rows) == 1 {
		out := rows[0].domain()
		out.Active = true
		if rows[0].FirstUsed == us {
			out.FirstUsedAt = time.Time{}
		}
		return out, nil
	}
	// Lost the race (or already inactive): report it as it is now, which is
	// inactive.
	out, err := s.GetToken(ctx, store.TokenRefresh, signature)
	out.Active = false
	return out, err
}

func (s *Store) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.write(ctx)
		res := db.Exec("DELETE FROM tokens WHERE expires_at <> 0 AND expires_at < ?", micros(now))
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		for _, q := range []string{
			"DELETE FROM used_jtis WHERE expires_at < ?",
			"DELETE FROM auth_flows WHERE expires_at <> 0 AND expires_at < ?",
			"DELETE FROM browser_sessions WHERE expires_at <> 0 AND expires_at < ?",
		} {
			if err := db.Exec(q, micros(now)).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return n, wrap("delete expired tokens", err)
}

type usedJTIRow struct {
	JTI     string `gorm:"column:jti;primaryKey"`
	Expires int64  `gorm:"column:expires_at"`
}

func (usedJTIRow) TableName() string { return "used_jtis" }

// UseJTI inserts the jti, or takes over an expired record of it; a live one
// leaves no row affected, which is ErrConflict.
func (s *Store) UseJTI(ctx context.Context, jti string, exp time.Time) error {
	if jti == "" {
		return store.Invalid("jti", "is required")
	}
	r := usedJTIRow{JTI: jti, Expires: micros(exp)}
	res := s.write(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "jti"}},
		DoUpdates: clause.AssignmentColumns([]string{"expires_at"}),
		Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "used_jtis.expires_at <= ?", Vars: []any{micros(s.nowUTC())}}}},
	}).Create(&r)
	if res.Error != nil {
		return wrap("use jti", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: use jti: %w: already used", store.ErrConflict)
	}
	return nil
}

func (s *Store) JTIUsed(ctx context.Context, jti string, now time.Time) (bool, error) {
	ok, err := s.exists(ctx, "used_jtis", "jti = ? AND expires_at > ?", jti, micros(now))
	return ok, wrap("jti used", err)
}

type authFlowRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	ClientID        string `gorm:"column:client_id"`
	RequestedScopes string `gorm:"column:requested_scopes"`
	Request         []byte `gorm:"column:request"`
	State           string `gorm:"column:state"`
	UserID          string `gorm:"column:user_id"`
	AuthTime        int64  `gorm:"column:auth_time"`
	GrantedScopes   string `gorm:"column:granted_scopes"`
	Denied          bool   `gorm:"column:denied"`
	DenyReason      string `gorm:"column:deny_reason"`
	VerifierHash    string `gorm:"column:verifier_hash"`
	CSRFToken       string `gorm:"column:csrf_token"`
	Expires         int64  `gorm:"column:expires_at"`
	Created         int64  `gorm:"column:created_at"`
	Updated         int64  `gorm:"column:updated_at"`
	Version         int64  `gorm:"column:version"`
}

func (authFlowRow) TableName() string { return "auth_flows" }

var authFlowInsert = sync.OnceValue(func() string { return insertStatement(&authFlowRow{}) })

var authFlowMap = mapper[store.AuthFlow, authFlowRow]{
	toDomain: func(r authFlowRow) (store.AuthFlow, error) {
		req, err := fromJSONList(r.RequestedScopes)
		if err != nil {
			return store.AuthFlow{}, err
		}
		gr, err := fromJSONList(r.GrantedScopes)
		if err != nil {
			return store.AuthFlow{}, err
		}
		return store.AuthFlow{ID: r.ID, ClientID: r.ClientID, RequestedScopes: req, Request: r.Request,
			State: store.AuthFlowState(r.State), UserID: r.UserID, AuthTime: fromMicros(r.AuthTime),
			GrantedScopes: gr, Denied: r.Denied, DenyReason: r.DenyReason, VerifierHash: r.VerifierHash,
			CSRFToken: r.CSRFToken, ExpiresAt: fromMicros(r.Expires), CreatedAt: fromMicros(r.Created),
			UpdatedAt: fromMicros(r.Updated), Version: r.Version}, nil
	},
	fromDomain: func(f store.AuthFlow) (authFlowRow, error) {
		req := f.Request
		if req == nil {
			req = []byte{}
		}
		return authFlowRow{ID: f.ID, ClientID: f.ClientID, RequestedScopes: jsonList(f.RequestedScopes), Request: req,
			State: string(f.State), UserID: f.UserID, AuthTime: micros(f.AuthTime), GrantedScopes: jsonList(f.GrantedScopes),
			Denied: f.Denied, DenyReason: f.DenyReason, VerifierHash: f.VerifierHash, CSRFToken: f.CSRFToken,
			Expires: micros(f.ExpiresAt), Created: micros(f.CreatedAt), Updated: micros(f.UpdatedAt), Version: 1}, nil
	},
	version: func(r *authFlowRow) *int64 { return &r.Version },
	id:      func(f store.AuthFlow) string { return f.ID },
	stamp:   func(f *store.AuthFlow, now time.Time, _ int64) { f.UpdatedAt = now },
}

func (s *Store) CreateAuthFlow(ctx context.Context, f store.AuthFlow) (store.AuthFlow, error) {
	r := s.newAuthFlowRow(f)
	if err := s.insertWritten(ctx, "create auth flow", authFlowInsert(), &r); err != nil {
		return store.AuthFlow{}, err
	}
	return authFlowMap.toDomain(r)
}

// newAuthFlowRow is f's row as created: an ID and state if it has none,
// stamped now.
func (s *Store) newAuthFlowRow(f store.AuthFlow) authFlowRow {
	if f.ID == "" {
		f.ID = store.RandomToken(32)
	}
	if f.State == "" {
		f.State = store.FlowLogin
	}
	now := s.nowUTC()
	f.CreatedAt, f.UpdatedAt = orNow(f.CreatedAt, now), now
	r, _ := authFlowMap.fromDomain(f)
	return r
}

// unexpired hides flows and sessions past their expiry (0: never expires).
func (s *Store) unexpired() (string, int64) {
	return "(expires_at = 0 OR expires_at > ?)", micros(s.nowUTC())
}

func (s *Store) GetAuthFlow(ctx context.Context, id string) (store.AuthFlow, error) {
	cond, now := s.unexpired()
	r, err := take[authFlowRow](ctx, s, "get auth flow", "id = ? AND "+cond, id, now)
	if err != nil {
		return store.AuthFlow{}, err
	}
	return authFlowMap.toDomain(r)
}

func (s *Store) UpdateAuthFlow(ctx context.Context, id string, fn func(store.AuthFlow) (store.AuthFlow, error)) (store.AuthFlow, error) {
	cond, now := s.unexpired()
	return casUpdateWhere(ctx, s, "update auth flow", id, cond, []any{now}, authFlowMap, fn)
}

// UpdateReadAuthFlow is casUpdateWhere's write without its read: the
// caller's read stands in for it, and the UPDATE's version and expiry
// conditions decide whether it still holds.
func (s *Store) UpdateReadAuthFlow(ctx context.Context, read store.AuthFlow, fn func(store.AuthFlow) (store.AuthFlow, error)) (store.AuthFlow, error) {
	const op = "update read auth flow"
	_, args, err := s.readFlowUpdate(read, fn)
	if err != nil {
		return store.AuthFlow{}, err
	}
	q := authFlowUpdate()
	var got []authFlowRow
	err = s.writeQuery(ctx, q.text+" RETURNING "+q.columns, args, func(sc rowScanner) error {
		got = append(got, authFlowRow{})
		return sc.Scan(columnPointers(&got[len(got)-1])...)
	})
	if err != nil {
		return store.AuthFlow{}, wrap(op, err)
	}
	if len(got) != 1 {
		return store.AuthFlow{}, fmt.Errorf("gormstore: %s: %w: changed, expired or gone since read", op, store.ErrConflict)
	}
	return authFlowMap.toDomain(got[0])
}

// readFlowUpdate is fn's flow from read as UpdateReadAuthFlow writes it
// (next) and authFlowUpdate's arguments for it.
func (s *Store) readFlowUpdate(read store.AuthFlow, fn func(store.AuthFlow) (store.AuthFlow, error)) (authFlowRow, []any, error) {
	next, err := fn(read)
	if err != nil {
		return authFlowRow{}, nil, err
	}
	if next.ID != read.ID {
		return authFlowRow{}, nil, store.Invalid("id", "cannot change")
	}
	authFlowMap.stamp(&next, s.nowUTC(), read.Version+1)
	nr, err := authFlowMap.fromDomain(next)
	if err != nil {
		return authFlowRow{}, nil, err
	}
	nr.Version = read.Version + 1
	q := authFlowUpdate()
	args := make([]any, 0, len(q.set)+3)
	values := columnValues(&nr)
	for _, i := range q.set {
		args = append(args, values[i])
	}
	return nr, append(args, read.ID, read.Version, micros(s.nowUTC())), nil
}

// authFlowUpdate is UpdateReadAuthFlow's statement, written out once from
// the row type: every column but the ID and the creation time set (the
// caller adds its RETURNING: columns, the row's). gorm's Updates built it
// by reflection on every call, two thirds of the write's CPU on the
// consent page's path (issue 15). set lists the row's fields, in column
// order, that it sets.
var authFlowUpdate = sync.OnceValue(func() (q struct {
	text, columns string
	set           []int
}) {
	sch := rowSchema(&authFlowRow{})
	var cols []string
	for i, n := range sch.DBNames {
		if n == "id" || n == "created_at" {
			continue
		}
		cols = append(cols, n+" = ?")
		q.set = append(q.set, i)
	}
	q.text = "UPDATE auth_flows SET " + strings.Join(cols, ", ") +
		" WHERE id = ? AND version = ? AND (expires_at = 0 OR expires_at > ?)"
	q.columns = strings.Join(sch.DBNames, ", ")
	return q
})

// FinishAuthFlow is one UPDATE … RETURNING *: the verifier's hash is
// matched in its WHERE (the hash of a random 256-bit verifier: how long
// comparing it takes tells nothing usable about the verifier).
func (s *Store) FinishAuthFlow(ctx context.Context, id, verifierHash string) (store.AuthFlow, store.Access, error) {
	if verifierHash == "" {
		return store.AuthFlow{}, store.Access{}, fmt.Errorf("gormstore: finish auth flow: %w: no verifier", store.ErrConflict)
	}
	return s.finishAuthFlow(ctx, flowFinish{
		vals: []any{string(store.FlowDone), micros(s.nowUTC())},
		args: []any{id, string(store.FlowDecided), verifierHash}, shape: finishShape, refused: errFlowNotFinished,
	})
}

var finishShape = newFlowFinishShape([]string{"state", "updated_at"}, "id = ? AND state = ? AND verifier_hash = ?")

var errFlowNotFinished = fmt.Errorf("gormstore: finish auth flow: %w: not decided with this verifier, gone or expired", store.ErrConflict)

// FinishReadAuthFlow is FinishAuthFlow's statement with the decision in
// its SET and the read's version, state and user in its WHERE.
func (s *Store) FinishReadAuthFlow(ctx context.Context, read store.AuthFlow, d store.FlowDecision) (store.AuthFlow, store.Access, error) {
	return s.finishAuthFlow(ctx, s.readFinish(read, d))
}

// readFinish is FinishReadAuthFlow's UPDATE of the flow as read, with d
// (AllowReadAuthFlow's too).
func (s *Store) readFinish(read store.AuthFlow, d store.FlowDecision) flowFinish {
	granted := d.GrantedScopes
	if d.DenyReason != "" {
		granted = nil
	}
	return flowFinish{
		vals: []any{string(store.FlowDone), jsonList(granted), d.DenyReason != "", d.DenyReason, micros(s.nowUTC())},
		args: []any{read.ID, read.Version, string(store.FlowConsent), read.UserID}, shape: finishReadShape, refused: errReadFlowNotFinished,
	}
}

var finishReadShape = newFlowFinishShape([]string{"state", "granted_scopes", "denied", "deny_reason", "updated_at"},
	"id = ? AND version = ? AND state = ? AND user_id = ?")

var errReadFlowNotFinished = fmt.Errorf("gormstore: finish read auth flow: %w: changed since read, not at consent for its user, gone or expired", store.ErrConflict)

// flowFinish is an UPDATE that marks a flow done: the values of its
// shape's columns, the arguments of its conditions, and what a flow it
// does not match is.
type flowFinish struct {
	vals, args []any
	shape      flowFinishShape
	refused    error
}

// flowFinishShape is the columns such an UPDATE sets (the version moves
// too) and its conditions (the flow unexpired too), with PostgreSQL's
// statement for them built once.
type flowFinishShape struct {
	cols  []string
	where string
	query func() string
}

func newFlowFinishShape(cols []string, where string) flowFinishShape {
	return flowFinishShape{cols: cols, where: where, query: sync.OnceValue(func() string { return flowAccessQuery(cols, where) })}
}

// finishAuthFlow runs f: on PostgreSQL one statement that also reads the
// flow's user's records (flowAccessQuery), on SQLite the UPDATE and then
// UserAccess.
func (s *Store) finishAuthFlow(ctx context.Context, f flowFinish) (store.AuthFlow, store.Access, error) {
	cond, now := s.unexpired()
	if s.dialect == dialectPostgres {
		return s.finishAuthFlowAccess(ctx, f, now)
	}
	set := map[string]any{"version": clause.Expr{SQL: "version + 1"}}
	for i, c := range f.shape.cols {
		set[c] = f.vals[i]
	}
	var got []authFlowRow
	res := s.write(ctx).Model(&got).Clauses(clause.Returning{}).
		Where(f.shape.where+" AND "+cond, append(slices.Clone(f.args), now)...).Updates(set)
	if res.Error != nil {
		return store.AuthFlow{}, store.Access{}, wrap("finish auth flow", res.Error)
	}
	if len(got) != 1 {
		return store.AuthFlow{}, store.Access{}, f.refused
	}
	flow, err := authFlowMap.toDomain(got[0])
	if err != nil {
		return store.AuthFlow{}, store.Access{}, err
	}
	a, err := s.UserAccess(ctx, flow.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return flow, store.Access{}, nil
	}
	a.User = a.User.Secretless() // as PostgreSQL's statement (secretless)
	return flow, a, err
}

// flowAccessRow is one row of finishAuthFlowAccess, scanned in column order.
type flowAccessRow struct {
	F authFlowRow
	U userRow
	A assignmentRow
	R jobRoleRow
	G accountGroupRow
}

// flowAccessQuery marks the flow done and reads its user's records with
// it (PostgreSQL's data-modifying WITH; the resume read them by a
// statement of its own right after, issue 15), left-joined so that a
// missing one reads as zero and the flow still comes back. It also takes
// the consent lock of the flow's (user, client), after the flow's row:
// the resume's ReplaceConsent, which follows in the same transaction,
// needs no statement of its own to take it (issue 15), and its statement
// still comes after the lock, so its snapshot sees what an authorization
// that held the lock before committed.
func flowAccessQuery(set []string, where string) string {
	return "WITH f AS (" + flowFinishUpdate(set, where) + " RETURNING *)" +
		" SELECT " + prefixedColumns("f", &authFlowRow{}) + ", " + secretless(zeroedColumns("u", &userRow{}), "u", userSecrets) + ", " +
		zeroedColumns("a", &assignmentRow{}) + ", " + zeroedColumns("r", &jobRoleRow{}) + ", " +
		zeroedColumns("g", &accountGroupRow{}) + ", " + consentLock("f.user_id", "f.client_id") + " IS NULL" +
		" FROM f LEFT JOIN users u ON u.id = f.user_id" +
		" LEFT JOIN assignments a ON a.user_id = f.user_id AND a.legal_entity_id = ''" +
		" LEFT JOIN job_roles r ON r.id = a.job_role_id" +
		" LEFT JOIN account_groups g ON g.id = a.account_group_id"
}

// flowFinishUpdate is the UPDATE of a flow's columns set (the version
// moves too) where it matches where and is unexpired; its arguments are
// set's values, where's, then the time now.
func flowFinishUpdate(set []string, where string) string {
	return "UPDATE auth_flows SET " + strings.Join(set, " = ?, ") + " = ?, version = version + 1" +
		" WHERE " + where + " AND (expires_at = 0 OR expires_at > ?)"
}

func (s *Store) finishAuthFlowAccess(ctx context.Context, f flowFinish, now int64) (store.AuthFlow, store.Access, error) {
	args := slices.Concat(f.vals, f.args, []any{now})
	var rows []flowAccessRow
	err := s.writeQuery(ctx, f.shape.query(), args, func(sc rowScanner) error {
		rows = append(rows, flowAccessRow{})
		r := &rows[len(rows)-1]
		var lockNull bool
		return sc.Scan(append(columnPointers(&r.F, &r.U, &r.A, &r.R, &r.G), &lockNull)...)
	})
	if err != nil {
		return store.AuthFlow{}, store.Access{}, wrap("finish auth flow", err)
	}
	if len(rows) != 1 {
		return store.AuthFlow{}, store.Access{}, f.refused
	}
	r := rows[0]
	s.noteConsentLock(ctx, r.F.UserID, r.F.ClientID)
	flow, err := authFlowMap.toDomain(r.F)
	if err != nil {
		return store.AuthFlow{}, store.Access{}, err
	}
	a, err := joinedAccess(r.U, r.A, r.R, r.G)
	if err != nil {
		return store.AuthFlow{}, store.Access{}, err
	}
	return flow, a, nil
}

func (s *Store) SetAuthFlowState(ctx context.Context, id string, from, to store.AuthFlowState) error {
	cond, now := s.unexpired()
	// The version moves too: an UpdateAuthFlow that read the flow before
	// loses its compare-and-swap.
	res := s.write(ctx).Exec("UPDATE auth_flows SET state = ?, updated_at = ?, version = version + 1 WHERE id = ? AND state = ? AND "+cond,
		string(to), micros(s.nowUTC()), id, string(from), now)
	if res.Error != nil {
		return wrap("set auth flow state", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: set auth flow state: %w: not %s, gone or expired", store.ErrConflict, from)
	}
	return nil
}

type browserSessionRow struct {
	ID        string `gorm:"column:id;primaryKey"`
	UserID    string `gorm:"column:user_id"`
	AuthTime  int64  `gorm:"column:auth_time"`
	CSRFToken string `gorm:"column:csrf_token"`
	Expires   int64  `gorm:"column:expires_at"`
	Created   int64  `gorm:"column:created_at"`
}

func (browserSessionRow) TableName() string { return "browser_sessions" }

func (s *Store) CreateBrowserSession(ctx context.Context, b store.BrowserSession) error {
	if b.ID == "" || b.UserID == "" {
		return store.Invalid("session", "needs an ID and a user")
	}
	r := browserSessionRow{ID: b.ID, UserID: b.UserID, AuthTime: micros(b.AuthTime), CSRFToken: b.CSRFToken,
		Expires: micros(b.ExpiresAt), Created: micros(orNow(b.CreatedAt, s.nowUTC()))}
	return s.insert(ctx, "create browser session", &r)
}

func (s *Store) GetBrowserSession(ctx context.Context, id string) (store.BrowserSession, error) {
	cond, now := s.unexpired()
	r, err := take[browserSessionRow](ctx, s, "get browser session", "id = ? AND "+cond, id, now)
	if err != nil {
		return store.BrowserSession{}, err
	}
	return r.domain(), nil
}

func (r browserSessionRow) domain() store.BrowserSession {
	return store.BrowserSession{ID: r.ID, UserID: r.UserID, AuthTime: fromMicros(r.AuthTime), CSRFToken: r.CSRFToken,
		ExpiresAt: fromMicros(r.Expires), CreatedAt: fromMicros(r.Created)}
}

func (s *Store) DeleteBrowserSession(ctx context.Context, id string) error {
	return s.deleteWhere(ctx, "delete browser session", "browser_sessions", "id = ?", id)
}

func (s *Store) DeleteUserBrowserSessions(ctx context.Context, userID string) error {
	return wrap("delete user browser sessions", s.write(ctx).Exec("DELETE FROM browser_sessions WHERE user_id = ?", userID).Error)
}

type signingKeyRow struct {
	ID         string `gorm:"column:id;primaryKey"`
	Algorithm  string `gorm:"column:algorithm"`
	PublicJWK  string `gorm:"column:public_jwk"`
	PrivateJWK []byte `gorm:"column:private_jwk"`
	Created    int64  `gorm:"column:created_at"`
	Retired    int64  `gorm:"column:retired_at"`
}

func (signingKeyRow) TableName() string { return "signing_keys" }

func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.ID == "" {
		return store.Invalid("kid", "is required")
	}
	priv := k.PrivateJWK
	if priv == nil {
		priv = []byte{}
	}
	r := signingKeyRow{ID: k.ID, Algorithm: k.Algorithm, PublicJWK: rawOrEmpty(k.PublicJWK), PrivateJWK: priv,
		Created: micros(orNow(k.CreatedAt, s.nowUTC())), Retired: micros(k.RetiredAt)}
	return s.insert(ctx, "create signing key", &r)
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	var rows []signingKeyRow
	if err := s.read(ctx).Order("created_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, wrap("list signing keys", err)
	}
	out := make([]store.SigningKey, len(rows))
	for i, r := range rows {
		out[i] = store.SigningKey{ID: r.ID, Algorithm: r.Algorithm, PublicJWK: toRaw(r.PublicJWK), PrivateJWK: r.PrivateJWK,
			CreatedAt: fromMicros(r.Created), RetiredAt: fromMicros(r.Retired)}
	}
	return out, nil
}

func (s *Store) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		at = s.nowUTC()
	}
	res := s.write(ctx).Model(&signingKeyRow{}).Where("id = ?", id).Update("retired_at", micros(at))
	if res.Error != nil {
		return wrap("retire signing key", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: retire signing key: %w", store.ErrNotFound)
	}
	return nil
}
