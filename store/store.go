package store

import (
	"context"
	"time"
)

// Store is everything bankfeed persists. Every method takes ctx first; inside
// InTx the ctx carries the transaction, and every method called with that ctx
// takes part in it. Errors wrap ErrNotFound, ErrConflict or ErrInvalid where
// the contract says so; anything else is an internal failure.
type Store interface {
	OrgStore
	AccountStore
	TransactionStore
	UserStore
	SignInStore
	RoleStore
	ApprovalStore
	ClientStore
	ConsentStore
	TokenStore
	AccessStore
	FlowStore
	KeyStore
	OutboxStore
	RegistrationTokenStore

	// InTx runs fn in one database transaction: if fn returns an error or
	// panics, nothing it wrote remains. Nested calls join the outer transaction.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// Ping reports whether the database answers and migrations are applied.
	Ping(ctx context.Context) error
	Close() error
}

// Page asks for one page of a keyset-paged list: items strictly after the
// opaque cursor After (empty: from the start), at most Limit (≤ 0: a default
// of 100; capped at 1000).
type Page struct {
	After string
	Limit int
}

// OrgStore holds business groups, legal entities and service agreements.
type OrgStore interface {
	CreateBusinessGroup(ctx context.Context, g BusinessGroup) (BusinessGroup, error) // ErrConflict on a duplicate ID
	GetBusinessGroup(ctx context.Context, id string) (BusinessGroup, error)
	ListBusinessGroups(ctx context.Context) ([]BusinessGroup, error) // by ID
	UpdateBusinessGroup(ctx context.Context, id string, fn func(BusinessGroup) (BusinessGroup, error)) (BusinessGroup, error)

	CreateLegalEntity(ctx context.Context, e LegalEntity) (LegalEntity, error) // ErrNotFound for an unknown business group
	GetLegalEntity(ctx context.Context, id string) (LegalEntity, error)
	ListLegalEntities(ctx context.Context, businessGroupID string) ([]LegalEntity, error) // by ID
	UpdateLegalEntity(ctx context.Context, id string, fn func(LegalEntity) (LegalEntity, error)) (LegalEntity, error)

	CreateServiceAgreement(ctx context.Context, a ServiceAgreement) (ServiceAgreement, error) // ErrConflict on a duplicate Number
	ListServiceAgreements(ctx context.Context, legalEntityID string) ([]ServiceAgreement, error)
}

// AccountFilter selects accounts; nil fields do not filter.
type AccountFilter struct {
	BusinessGroupID *string
	LegalEntityID   *string
	IDs             []string // only these (empty slice with non-nil: none)
	Status          *AccountStatus
}

// AccountStore holds accounts and their balances.
type AccountStore interface {
	CreateAccount(ctx context.Context, a Account) (Account, error) // ErrConflict on a duplicate ID or Number
	GetAccount(ctx context.Context, id string) (Account, error)
	// ListAccounts pages accounts in ID order; the cursor is the last ID.
	ListAccounts(ctx context.Context, f AccountFilter, p Page) (accounts []Account, next string, err error)
	// AccountsWithEntities reads the accounts ids of the business group, in
	// ID order (IDs it does not hold are left out), with the group's legal
	// entities they belong to, by ID: what the bank's pages show of an
	// account group, one statement per 1,000 accounts.
	AccountsWithEntities(ctx context.Context, businessGroupID string, ids []string) ([]Account, map[string]LegalEntity, error)
	UpdateAccount(ctx context.Context, id string, fn func(Account) (Account, error)) (Account, error)

	// SetBalance records the current balance (replacing the previous one).
	SetBalance(ctx context.Context, b Balance) error
	GetBalance(ctx context.Context, accountID string) (Balance, error) // ErrNotFound if none yet
	// PutDailyBalance inserts or replaces a business date's summary;
	// ErrConflict if that day is already Closed.
	PutDailyBalance(ctx context.Context, d DailyBalance) error
	GetDailyBalance(ctx context.Context, accountID string, day Date) (DailyBalance, error)
	// LatestDailyBalance is the most recent business date on or before day.
	LatestDailyBalance(ctx context.Context, accountID string, day Date) (DailyBalance, error)
}

// TransactionFilter selects one account's transactions.
type TransactionFilter struct {
	AccountID string
	From, To  Date                // inclusive business dates; empty: unbounded
	Statuses  []TransactionStatus // empty: all
	// AsOfSeq, when > 0, hides what was created after it and shows records as
	// they were then: pending entries replaced or removed after AsOfSeq still
	// appear. It makes a paged read snapshot-consistent.
	AsOfSeq        int64
	IncludeRemoved bool // show removed pending entries
}

// TxCursor is a keyset position in (BusinessDate, ID) order.
type TxCursor struct {
	BusinessDate Date
	ID           string
}

// TransactionStore holds transactions and statements.
type TransactionStore interface {
	// CreateTransactions inserts a batch atomically and assigns Seq,
	// CreatedSeq and (if empty) ID. A record whose (AccountID, ExternalID) is
	// already stored is skipped and the stored one returned instead, so a
	// replayed batch changes nothing. Validate() errors abort the batch.
	CreateTransactions(ctx context.Context, txs []Transaction) ([]Transaction, error)
	GetTransaction(ctx context.Context, id string) (Transaction, error)
	GetTransactionByExternalID(ctx context.Context, accountID, externalID string) (Transaction, error)
	// ReplacePending links a pending record to the posted record that
	// replaces it (setting ReplacedByID and bumping its Seq); ErrConflict if
	// it is not pending or already replaced/removed.
	ReplacePending(ctx context.Context, pendingID, postedID string) error
	// RemovePending marks a pending record removed (it dropped without posting).
	RemovePending(ctx context.Context, pendingID string, at time.Time) error
	// ListTransactions returns up to limit records after the cursor (nil: from
	// the start) in (BusinessDate, ID) order, and whether more follow.
	ListTransactions(ctx context.Context, f TransactionFilter, after *TxCursor, limit int) (txs []Transaction, more bool, err error)
	// ListChanges returns an account's records whose Seq > afterSeq, in Seq
	// order, up to limit, and whether more follow (the change feed).
	ListChanges(ctx context.Context, accountID string, afterSeq int64, limit int) (txs []Transaction, more bool, err error)
	// MaxSeq is the highest Seq assigned so far (0 when empty).
	MaxSeq(ctx context.Context) (int64, error)
	// SumPosted totals an account's posted entries with business date in
	// [from, to]: count, sum of debits, sum of credits.
	SumPosted(ctx context.Context, accountID string, from, to Date) (count int, debits, credits Money, err error)
	// StreamTransactions calls fn for every matching record in (BusinessDate,
	// ID) order without holding them all in memory; fn's error stops it.
	StreamTransactions(ctx context.Context, f TransactionFilter, fn func(Transaction) error) error

	CreateStatement(ctx context.Context, s Statement) (Statement, error) // ErrConflict for a second statement of the same account and period
	GetStatement(ctx context.Context, id string) (Statement, error)
	// ListStatements is an account's statements by PeriodStart, optionally
	// only those overlapping [from, to].
	ListStatements(ctx context.Context, accountID string, from, to Date) ([]Statement, error)
}

// UserFilter selects users of a business group.
type UserFilter struct {
	BusinessGroupID    string
	LegalEntityID      *string // only users of this entity ("": the group-level users)
	AccountingSoftware *bool
	Status             *UserStatus
	IncludeDeleted     bool
}

// UserStore holds users.
type UserStore interface {
	// CreateUser: ErrConflict on a LoginID (case-insensitive) held by a user
	// not deleted; a deleted user's login ID may be given to a new user.
	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByLogin is the user not deleted holding loginID (case-insensitive).
	GetUserByLogin(ctx context.Context, loginID string) (User, error)
	ListUsers(ctx context.Context, f UserFilter, p Page) (users []User, next string, err error)
	// UpdateUser is compare-and-swap: fn gets the current record; the
	// AccountingSoftware flag, ID and BusinessGroupID cannot change
	// (ErrInvalid). Version is incremented. The sign-in bookkeeping is
	// written only if fn changed it, so a failure counted concurrently by
	// SignInStore is not lost.
	UpdateUser(ctx context.Context, id string, fn func(User) (User, error)) (User, error)
}

// RoleStore holds job roles, account groups and assignments.
type RoleStore interface {
	CreateJobRole(ctx context.Context, r JobRole) (JobRole, error) // ErrConflict on a duplicate name in the group
	GetJobRole(ctx context.Context, id string) (JobRole, error)
	ListJobRoles(ctx context.Context, businessGroupID string, p Page) (roles []JobRole, next string, err error)
	UpdateJobRole(ctx context.Context, id string, fn func(JobRole) (JobRole, error)) (JobRole, error)
	DeleteJobRole(ctx context.Context, id string) error // ErrConflict while assigned

	CreateAccountGroup(ctx context.Context, g AccountGroup) (AccountGroup, error)
	GetAccountGroup(ctx context.Context, id string) (AccountGroup, error)
	ListAccountGroups(ctx context.Context, businessGroupID string, p Page) (groups []AccountGroup, next string, err error)
	UpdateAccountGroup(ctx context.Context, id string, fn func(AccountGroup) (AccountGroup, error)) (AccountGroup, error)
	DeleteAccountGroup(ctx context.Context, id string) error // ErrConflict while assigned

	// PutAssignment creates or replaces the user's assignment in its context.
	PutAssignment(ctx context.Context, a Assignment) (Assignment, error)
	GetAssignment(ctx context.Context, id string) (Assignment, error)
	// UserAssignment is the user's assignment in the business group overview
	// context (legalEntityID "") or an entity's; ErrNotFound if none.
	UserAssignment(ctx context.Context, userID, legalEntityID string) (Assignment, error)
	ListAssignments(ctx context.Context, businessGroupID string, p Page) (as []Assignment, next string, err error)
	DeleteAssignment(ctx context.Context, id string) error
}

// ApprovalFilter selects approval requests of a business group.
type ApprovalFilter struct {
	BusinessGroupID string
	Status          *ApprovalStatus
	InitiatorID     *string
}

// AuditFilter selects audit events; nil fields do not filter.
type AuditFilter struct {
	BusinessGroupID *string // "" selects the bank-level events (e.g. sign-ins of login IDs nobody holds)
	ActorID         *string
	TargetID        *string
	Action          *string
	ActionPrefix    *string // e.g. "signin."; matched exactly (case and every character)
	Outcome         *string
	Since, Until    time.Time
}

// ApprovalStore holds maker-checker requests, notifications and the audit log.
type ApprovalStore interface {
	CreateApproval(ctx context.Context, r ApprovalRequest) (ApprovalRequest, error)
	GetApproval(ctx context.Context, id string) (ApprovalRequest, error)
	ListApprovals(ctx context.Context, f ApprovalFilter, p Page) (rs []ApprovalRequest, next string, err error)
	// DecideApproval moves a pending request to status (approved, rejected or
	// cancelled) exactly once: of concurrent callers one wins and the others
	// get ErrConflict.
	DecideApproval(ctx context.Context, id string, status ApprovalStatus, by, reason string, at time.Time) (ApprovalRequest, error)

	CreateNotification(ctx context.Context, n Notification) (Notification, error)
	ListNotifications(ctx context.Context, recipientID string, unreadOnly bool, p Page) (ns []Notification, next string, err error)
	MarkNotificationRead(ctx context.Context, recipientID, id string) error // ErrNotFound for another recipient's

	// AppendAudit adds an event and assigns Seq; events are never changed.
	AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error)
	// ListAudit pages events in Seq order after the cursor.
	ListAudit(ctx context.Context, f AuditFilter, p Page) (es []AuditEvent, next string, err error)
}

// ClientStore holds OAuth clients.
type ClientStore interface {
	CreateClient(ctx context.Context, c Client) (Client, error) // ErrConflict on a duplicate ID
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient is compare-and-swap: fn gets the current record; ErrConflict
	// if another update landed meanwhile (nothing written), ErrInvalid if fn
	// changes the ID. CreatedAt is kept. Consents and tokens are untouched.
	UpdateClient(ctx context.Context, id string, fn func(Client) (Client, error)) (Client, error)
	// DeleteClient removes the client and, in the same transaction, revokes
	// its consents and deactivates every token issued to it.
	DeleteClient(ctx context.Context, id string) error
}

// ConsentStore holds consents.
type ConsentStore interface {
	// CreateConsent stores c as given. A user and a client have one
	// standing (unrevoked) consent at most: a second is ErrConflict, as is
	// an ID taken.
	CreateConsent(ctx context.Context, c Consent) (Consent, error)
	// ReplaceConsent is an authorization's consent: one connection per (user,
	// client). In one transaction, serialized per (user, client), it revokes
	// every unrevoked consent of c's user and client (RevokedAt = c.GrantedAt)
	// and deactivates their tokens, as RevokeConsent does, then creates c.
	ReplaceConsent(ctx context.Context, c Consent) (Consent, error)
	GetConsent(ctx context.Context, id string) (Consent, error)
	// ListConsents is a user's consents (all, including revoked), newest first.
	ListConsents(ctx context.Context, userID string) ([]Consent, error)
	// RevokeConsent sets RevokedAt and deactivates every token record whose
	// RequestID is the consent's ID, in one transaction.
	RevokeConsent(ctx context.Context, id string, at time.Time) error
	// TouchConsent records use (LastUsedAt), at most once a minute per consent.
	TouchConsent(ctx context.Context, id string, at time.Time) error
}

// TokenStore holds the OAuth server's codes, tokens and sessions.
type TokenStore interface {
	// CreateToken: ErrConflict on a duplicate (Kind, Signature). An access or
	// refresh token whose RequestID names a consent is created only while
	// that consent is unrevoked, checked in the same transaction and
	// serialised against RevokeConsent, ReplaceConsent and DeleteClient
	// (ErrGrantConsentRevoked otherwise, nothing written).
	CreateToken(ctx context.Context, r TokenRecord) error
	// CreateTokens is CreateToken for several records in one step (a
	// grant's access and refresh token, an authorization's code with its
	// sessions): all are written or none, ErrConflict if any exists
	// already, ErrGrantConsentRevoked if any names a revoked consent.
	CreateTokens(ctx context.Context, rs ...TokenRecord) error
	GetToken(ctx context.Context, kind TokenKind, signature string) (TokenRecord, error)
	// GetTokenGrant is GetToken with what JudgeGrant needs of the record's
	// grant, read in the same statement: the consent named by its RequestID
	// and the user named by its Subject, each zero when missing (a
	// client_credentials token has neither); Access's other records are not
	// read. Of the user only its standing is read — ID, BusinessGroupID,
	// LegalEntityID, LoginID, AccountingSoftware and Status — the rest is
	// zero: JudgeGrant reads no more (GetTokenGrantRecords reads the whole
	// user, Secretless).
	GetTokenGrant(ctx context.Context, kind TokenKind, signature string) (TokenRecord, Access, error)
	// GetTokenGrantState is GetTokenGrant without the record's Request
	// (nil), for a caller that holds it decoded already: a record's
	// Request never changes once written.
	GetTokenGrantState(ctx context.Context, kind TokenKind, signature string) (TokenRecord, Access, error)
	// GetTokenGrantRecords is GetToken with what GrantRecords reads for the
	// record's consent (RequestID) and user (Subject), read in the same
	// statement: a code exchange or a refresh grant reads its code or
	// refresh token, then judges the grant. Each record missing is zero, as
	// GrantRecords leaves it.
	GetTokenGrantRecords(ctx context.Context, kind TokenKind, signature string) (TokenRecord, Access, error)
	// GetTokenGrantRecordsTaking is GetTokenGrantRecords and TakeTokens in
	// one step: the records of take that belong to clientID are deleted and
	// returned (in no particular order) with the record read, those of
	// another client left as they were. A code exchange reads its code and
	// takes the code's PKCE and OpenID Connect sessions, which its client
	// spends by presenting the code whatever it does next. The takes are
	// made whatever the read finds; when the record read is missing the
	// error is ErrNotFound and nothing taken is returned. take must not
	// name the record read.
	GetTokenGrantRecordsTaking(ctx context.Context, kind TokenKind, signature, clientID string, take ...TokenKey) (TokenRecord, Access, []TokenRecord, error)
	// DeactivateToken sets Active=false (codes, rotated or revoked tokens).
	DeactivateToken(ctx context.Context, kind TokenKind, signature string) error
	DeleteToken(ctx context.Context, kind TokenKind, signature string) error
	// RevokeTokens deactivates every record of kind with the request ID.
	RevokeTokens(ctx context.Context, kind TokenKind, requestID string) error
	// RotateRefreshToken marks the refresh token used: Active=false and
	// FirstUsedAt set if it was zero (kept otherwise), and returns the record
	// as it was before. Exactly one of concurrent callers sees Active=true,
	// and that one also deactivates the access token the record names
	// (AccessSignature), atomically with the rotation.
	RotateRefreshToken(ctx context.Context, signature string, at time.Time) (TokenRecord, error)
	// RotateRefreshTokenCreating is a refresh grant's RotateRefreshToken and
	// CreateTokens as one atomic step, for the usual grant: when the refresh
	// token is active and its consent (its RequestID) stands, it rotates the
	// token as RotateRefreshToken's winner does (ending the paired access
	// token), creates rs, and returns true. Otherwise — the token missing or
	// rotated already, its consent missing or revoked, a record of rs of
	// another request — it changes nothing and returns false, and the
	// caller takes the steps one by one, which tell why. A record of rs
	// already stored is ErrConflict, and nothing changes either. Of
	// concurrent callers at most one gets true.
	RotateRefreshTokenCreating(ctx context.Context, signature string, at time.Time, rs ...TokenRecord) (bool, error)
	// ConsumeToken deactivates an active record (an authorization code's
	// single use) and returns it as it was. Of concurrent callers exactly
	// one succeeds; the others get ErrConflict, as does a record already
	// inactive. ErrNotFound if missing. The consent of an authorization
	// code (its RequestID) is used from then on: its LastUsedAt is stamped,
	// as TouchConsent would, with the consumption — in the caller's
	// transaction (which a loser rolls back), or in one of its own.
	ConsumeToken(ctx context.Context, kind TokenKind, signature string) (TokenRecord, error)
	// ConsumeCodeCreating is a code exchange's ConsumeToken of its
	// authorization code and CreateTokens as one atomic step, for the usual
	// exchange: when the code is active and its consent (its RequestID)
	// stands, it consumes the code, stamps the consent used, creates rs, and
	// returns true. Otherwise — the code missing or used, its consent
	// missing or revoked, a record of rs of another request — it changes
	// nothing and returns false, and the caller takes the steps one by one,
	// which tell why. A record of rs already stored is ErrConflict, and
	// nothing changes either. Of concurrent callers at most one gets true.
	ConsumeCodeCreating(ctx context.Context, signature string, rs ...TokenRecord) (bool, error)
	// TakeToken deletes a record and returns it as it was, in one step (a
	// code exchange's PKCE and OpenID Connect sessions, read once and
	// deleted): of concurrent callers exactly one gets it, the others
	// ErrNotFound, as when it is missing.
	TakeToken(ctx context.Context, kind TokenKind, signature string) (TokenRecord, error)
	// TakeTokens is TakeToken for several records in one step (a code
	// exchange's PKCE and OpenID Connect sessions): it returns those it
	// deleted, in no particular order; a key that names no record is not
	// an error.
	TakeTokens(ctx context.Context, keys ...TokenKey) ([]TokenRecord, error)
	// DeleteExpiredTokens removes records that expired before now.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error)

	// UseJTI records a client-assertion jti until exp; ErrConflict if it was
	// already used and has not expired.
	UseJTI(ctx context.Context, jti string, exp time.Time) error
	// JTIUsed reports whether jti is recorded and unexpired at now.
	JTIUsed(ctx context.Context, jti string, now time.Time) (bool, error)
}

// FlowStore holds authorization flows and browser sessions.
type FlowStore interface {
	CreateAuthFlow(ctx context.Context, f AuthFlow) (AuthFlow, error)
	GetAuthFlow(ctx context.Context, id string) (AuthFlow, error) // ErrNotFound when expired too
	// UpdateAuthFlow is compare-and-swap on the state: fn sees the current
	// flow; ErrConflict if another caller changed it meanwhile.
	UpdateAuthFlow(ctx context.Context, id string, fn func(AuthFlow) (AuthFlow, error)) (AuthFlow, error)
	// UpdateReadAuthFlow is UpdateAuthFlow for a caller that read the flow
	// already (GetAuthFlow): fn sees that read, and the write, one
	// statement, succeeds only while the flow is unchanged since (its
	// Version) and unexpired: ErrConflict otherwise (changed, expired or
	// gone), nothing written; ErrInvalid if fn changes the ID.
	UpdateReadAuthFlow(ctx context.Context, read AuthFlow, fn func(AuthFlow) (AuthFlow, error)) (AuthFlow, error)
	// UpdateReadAuthFlowAccounts is UpdateReadAuthFlow and then, once it
	// wrote, AccountsWithEntities of businessGroupID's accountIDs, both or
	// neither (the consent page, which lists the accounts its user may
	// share once it moved its flow): on PostgreSQL one statement.
	UpdateReadAuthFlowAccounts(ctx context.Context, read AuthFlow, fn func(AuthFlow) (AuthFlow, error),
		businessGroupID string, accountIDs []string) (AuthFlow, []Account, map[string]LegalEntity, error)
	// CreateAuthFlowAccounts is CreateAuthFlow and then, once it wrote,
	// AccountsWithEntities of businessGroupID's accountIDs, both or
	// neither (the authorization request of a signed-in browser, whose
	// flow starts at its consent page): ErrConflict when a flow with f's
	// ID exists, nothing written or listed. On PostgreSQL one statement.
	CreateAuthFlowAccounts(ctx context.Context, f AuthFlow,
		businessGroupID string, accountIDs []string) (AuthFlow, []Account, map[string]LegalEntity, error)
	// FinishAuthFlow marks done (single use) the decided, unexpired flow id
	// whose VerifierHash is verifierHash and returns it as stored, in one
	// statement: ErrConflict when there is none (unknown, expired, not
	// decided, another hash), nothing changed. With it comes what
	// UserAccess reads of the flow's user, read by the same statement on
	// PostgreSQL: each record zero when missing, the User too when the
	// user is gone (where UserAccess answers ErrNotFound), and Secretless. In a
	// transaction, the flow's (user, client) is then held against other
	// authorizations (ReplaceConsent) until it ends.
	FinishAuthFlow(ctx context.Context, id, verifierHash string) (AuthFlow, Access, error)
	// FinishReadAuthFlow is FinishAuthFlow for the page that decides the
	// flow and finishes it in one request (no verifier): it records d and
	// marks done the flow as read, in one statement, while the flow is
	// unchanged since (its Version), at consent for read.UserID and
	// unexpired; ErrConflict otherwise, nothing changed. The access and
	// the lock come with it as with FinishAuthFlow. A denial (DenyReason
	// set) records no scopes.
	FinishReadAuthFlow(ctx context.Context, read AuthFlow, d FlowDecision) (AuthFlow, Access, error)
	// AllowReadAuthFlow is the consent form's usual Allow as one atomic
	// step, judged by the caller on the access it read with the flow:
	// FinishReadAuthFlow with d (a grant), then ReplaceConsent of c, then
	// CreateTokens of rs (the code and its sessions). When the flow is as
	// FinishReadAuthFlow would finish it and no other authorization of its
	// (user, client) is under way, it does all three and returns c as
	// stored (Replaced: the consents it revoked) and true. Otherwise — the
	// flow changed, decided, expired or gone, another authorization under
	// way or committed meanwhile, c not of the flow's user and client, a
	// record of rs not of c or already stored, a denial — it changes
	// nothing and returns false, and the caller takes the steps in a
	// transaction, which tell why. No access is read: the caller judged on
	// its own read. With the grant it appends g's event (GrantAudit.Event
	// of the consents it replaced) to the audit log, in the same step.
	AllowReadAuthFlow(ctx context.Context, read AuthFlow, d FlowDecision, c Consent, g GrantAudit, rs ...TokenRecord) (Consent, bool, error)
	// SetAuthFlowState moves an unexpired flow from state from to state to
	// in one statement, for a caller that read the flow already:
	// ErrConflict when it is no longer in from, gone or expired.
	SetAuthFlowState(ctx context.Context, id string, from, to AuthFlowState) error

	CreateBrowserSession(ctx context.Context, s BrowserSession) error
	GetBrowserSession(ctx context.Context, id string) (BrowserSession, error) // ErrNotFound when expired too
	DeleteBrowserSession(ctx context.Context, id string) error
	DeleteUserBrowserSessions(ctx context.Context, userID string) error
}

// KeyStore holds signing keys.
type KeyStore interface {
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys is every key, newest first (current = first unretired).
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
}
