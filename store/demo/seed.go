package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// Demo vendor client (the example vendor app listens on this redirect URI).
const (
	VendorClientID    = "demo-vendor"
	VendorName        = "Ledgerly (demo accounting software)"
	VendorRedirectURI = "http://127.0.0.1:9999/callback"
)

// batchSize is how many entries go to the store per database transaction.
const batchSize = 5000

// Options tune Seed. The zero value seeds the small demo with seed 1 as of
// time.Now().
type Options struct {
	Seed int64     // 0: 1
	Now  time.Time // end of the 13-month history; zero: time.Now()
	// Accounts > 0 switches to scale mode: that many accounts spread over the
	// two business groups, written in batches of 5,000 entries, one database
	// transaction per batch.
	Accounts int
	// TransactionsPerAccount, when > 0, is about how many entries each
	// account gets over the window; 0 keeps each account's natural rate
	// (a busy operating account gets ~1,500).
	TransactionsPerAccount int
	Progress               io.Writer // progress lines; nil: silent
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	// Databases keep microseconds; a Now they can round-trip keeps re-reads equal.
	o.Now = o.Now.Truncate(time.Microsecond).UTC()
	return o
}

// Seed fills an empty database with the demo data set and returns the
// credentials to print. A database that already has business groups is left
// alone with an error wrapping store.ErrConflict. The small demo is written
// in one database transaction (all or nothing); scale mode writes the
// organisation first and then one transaction per batch of entries.
func Seed(ctx context.Context, st store.Store, opts Options) (Credentials, error) {
	opts = opts.withDefaults()
	existing, err := st.ListBusinessGroups(ctx)
	if err != nil {
		return Credentials{}, fmt.Errorf("demo: list business groups: %w", err)
	}
	if len(existing) > 0 {
		return Credentials{}, fmt.Errorf("demo: the database already has %d business group(s); the demo seeds only an empty database: %w", len(existing), store.ErrConflict)
	}
	cal := newCalendar(opts.Now)
	specs := smallDemo
	if opts.Accounts > 0 {
		specs = scaleSpec(opts.Accounts)
	}
	plans := buildPlans(opts.Seed, specs, cal, opts.TransactionsPerAccount)
	creds, err := newSecrets(plans)
	if err != nil {
		return Credentials{}, err
	}
	w := &writer{st: st, progress: opts.Progress, start: time.Now()}
	for _, gp := range plans {
		w.accountsTotal += len(gp.accounts)
	}
	seedOrg := func(ctx context.Context) error {
		for _, gp := range plans {
			if err := st.InTx(ctx, func(ctx context.Context) error { return createOrg(ctx, st, gp, creds) }); err != nil {
				return fmt.Errorf("demo: business group %q: %w", gp.group.Name, err)
			}
		}
		return createClient(ctx, st, creds, opts.Now)
	}
	seedEntries := func(ctx context.Context) error {
		w.start = time.Now()
		for _, gp := range plans {
			for _, ap := range gp.accounts {
				res, err := generateAccount(opts.Seed, *ap, cal, func(tx store.Transaction) error { return w.add(ctx, tx) })
				if err != nil {
					return fmt.Errorf("demo: account %s: %w", ap.account.ID, err)
				}
				w.finish(ctx, res)
			}
		}
		return w.flush(ctx, true)
	}
	if opts.Accounts > 0 {
		if err := seedOrg(ctx); err != nil {
			return Credentials{}, err
		}
		if err := seedEntries(ctx); err != nil {
			return Credentials{}, err
		}
	} else if err := st.InTx(ctx, func(ctx context.Context) error {
		if err := seedOrg(ctx); err != nil {
			return err
		}
		return seedEntries(ctx)
	}); err != nil {
		return Credentials{}, err
	}
	return creds.public(), nil
}

// secrets holds the random passwords and their hashes.
type secrets struct {
	Credentials
	hashes     map[string]string // login ID → password hash
	answerHash string
	secretHash string
}

func (s *secrets) public() Credentials { return s.Credentials }

func newSecrets(plans []*groupPlan) (*secrets, error) {
	s := &secrets{hashes: map[string]string{}}
	var err error
	s.SecurityQuestion, s.SecurityAnswer = store.SecurityQuestions[0], "maple syrup"
	if s.answerHash, err = store.HashSecret(store.NormalizeAnswer(s.SecurityAnswer)); err != nil {
		return nil, fmt.Errorf("demo: hash security answer: %w", err)
	}
	secret := store.RandomToken(32)
	s.secretHash = store.HashToken(secret)
	s.Vendor = VendorCredentials{ClientID: VendorClientID, ClientSecret: secret, RedirectURI: VendorRedirectURI, Name: VendorName,
		Scopes: append([]string{store.ScopeOpenID, store.ScopeProfile, store.ScopeOfflineAccess}, store.DataScopes...)}
	login := func(u store.User) (Login, error) {
		var pw string
		for {
			p, err := store.TemporaryPassword()
			if err != nil {
				return Login{}, fmt.Errorf("demo: password: %w", err)
			}
			if len(store.CheckNewPassword(p, p, u.LoginID, "")) == 0 {
				pw = p
				break
			}
		}
		h, err := store.HashSecret(pw)
		if err != nil {
			return Login{}, fmt.Errorf("demo: hash password: %w", err)
		}
		s.hashes[u.LoginID] = h
		return Login{UserID: u.ID, LoginID: u.LoginID, DisplayName: u.DisplayName, Password: pw,
			TemporaryPassword: u.Status == store.UserAwaitingSignIn, Status: string(u.Status)}, nil
	}
	for _, gp := range plans {
		gc := GroupCredentials{ID: gp.group.ID, Name: gp.group.Name, AccountCount: len(gp.accounts),
			JobRole:      NamedID{ID: gp.roles.software.ID, Name: gp.roles.software.Name},
			AccountGroup: AccountGroup{ID: gp.agroups.software.ID, Name: gp.agroups.software.Name, AccountIDs: gp.agroups.software.AccountIDs}}
		for _, x := range []struct {
			dst *Login
			u   store.User
		}{{&gc.Administrator, gp.users.admin}, {&gc.SecondApprover, gp.users.approver}, {&gc.AccountingSoftware, gp.users.software}, {&gc.OrdinaryUser, gp.users.clerk}} {
			if *x.dst, err = login(x.u); err != nil {
				return nil, err
			}
		}
		if len(gp.accounts) <= 20 {
			in := map[string]bool{}
			for _, id := range gp.agroups.software.AccountIDs {
				in[id] = true
			}
			names := map[string]string{}
			for _, e := range gp.entities {
				names[e.entity.ID] = e.entity.Name
			}
			for _, ap := range gp.accounts {
				a := ap.account
				gc.Accounts = append(gc.Accounts, AccountInfo{ID: a.ID, DisplayNumber: a.DisplayNumber, Type: string(a.Type), Currency: a.Currency,
					Nickname: a.Nickname, LegalEntity: names[a.LegalEntityID], InAccountGroup: in[a.ID]})
			}
		}
		s.BusinessGroups = append(s.BusinessGroups, gc)
	}
	return s, nil
}

func audit(ctx context.Context, st store.Store, bg, action, targetType, targetID string, after any, at time.Time) error {
	b, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	if _, err := st.AppendAudit(ctx, store.AuditEvent{BusinessGroupID: bg, ActorID: "system", Action: action,
		TargetType: targetType, TargetID: targetID, After: b, At: at}); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, targetID, err)
	}
	return nil
}

// createOrg writes a business group's organisation: entities, agreements,
// accounts, job roles, account groups, users and assignments, each with an
// audit event.
func createOrg(ctx context.Context, st store.Store, gp *groupPlan, s *secrets) error {
	now := gp.group.CreatedAt
	bg := gp.group.ID
	// The bank's onboarding path (as /ops/v1 and bankfeed business): the
	// group with its built-in Administrator role and Administrators group.
	_, builtIns, err := store.OpenBusinessGroup(ctx, st, gp.group)
	if err != nil {
		return fmt.Errorf("create business group: %w", err)
	}
	if err := audit(ctx, st, bg, "business_group.create", "business_group", bg, map[string]string{"name": gp.group.Name}, now); err != nil {
		return err
	}
	if err := auditBuiltIns(ctx, st, builtIns, now); err != nil {
		return err
	}
	for _, ep := range gp.entities {
		if _, err := st.CreateLegalEntity(ctx, ep.entity); err != nil {
			return fmt.Errorf("create legal entity %q: %w", ep.entity.Name, err)
		}
		if err := audit(ctx, st, bg, "legal_entity.create", "legal_entity", ep.entity.ID, map[string]string{"name": ep.entity.Name}, now); err != nil {
			return err
		}
		if _, err := st.CreateServiceAgreement(ctx, ep.agreement); err != nil {
			return fmt.Errorf("create service agreement %s: %w", ep.agreement.Number, err)
		}
		if err := audit(ctx, st, bg, "service_agreement.create", "service_agreement", ep.agreement.ID, map[string]string{"number": ep.agreement.Number}, now); err != nil {
			return err
		}
	}
	for _, ap := range gp.accounts {
		a := ap.account
		if _, err := st.CreateAccount(ctx, a); err != nil {
			return fmt.Errorf("create account %s: %w", a.DisplayNumber, err)
		}
		if err := audit(ctx, st, bg, "account.create", "account", a.ID,
			map[string]string{"displayNumber": a.DisplayNumber, "type": string(a.Type), "currency": a.Currency}, now); err != nil {
			return err
		}
	}
	for _, r := range []store.JobRole{gp.roles.software, gp.roles.clerk} {
		if err := store.ValidateGrants(r.Grants, r.ID == gp.roles.software.ID); err != nil {
			return fmt.Errorf("job role %q: %w", r.Name, err)
		}
		if _, err := st.CreateJobRole(ctx, r); err != nil {
			return fmt.Errorf("create job role %q: %w", r.Name, err)
		}
		if err := audit(ctx, st, bg, "job_role.create", "job_role", r.ID, map[string]any{"name": r.Name, "grants": r.Grants}, now); err != nil {
			return err
		}
	}
	if err := store.RequiredAccountingSoftwareGrants(gp.roles.software.Grants); err != nil {
		return fmt.Errorf("job role %q: %w", gp.roles.software.Name, err)
	}
	for _, g := range []store.AccountGroup{gp.agroups.all, gp.agroups.software, gp.agroups.clerk} {
		if _, err := st.CreateAccountGroup(ctx, g); err != nil {
			return fmt.Errorf("create account group %q: %w", g.Name, err)
		}
		if err := audit(ctx, st, bg, "account_group.create", "account_group", g.ID, map[string]any{"name": g.Name, "accountIds": g.AccountIDs}, now); err != nil {
			return err
		}
	}
	gc, err := s.group(bg)
	if err != nil {
		return err
	}
	for _, x := range []struct {
		login *Login
		u     store.User
	}{{&gc.Administrator, gp.users.admin}, {&gc.SecondApprover, gp.users.approver}} {
		id, err := addAdministrator(ctx, st, x.u, s, now)
		if err != nil {
			return err
		}
		x.login.UserID = id
	}
	for _, u := range []store.User{gp.users.software, gp.users.clerk} {
		u.PasswordHash = s.hashes[u.LoginID]
		if u.Status == store.UserAwaitingSignIn {
			u.MustChangePassword = true
		} else {
			u.SecurityQuestion, u.SecurityAnswerHash = s.SecurityQuestion, s.answerHash
		}
		if _, err := st.CreateUser(ctx, u); err != nil {
			return fmt.Errorf("create user %s: %w", u.LoginID, err)
		}
		if err := audit(ctx, st, bg, "user.create", "user", u.ID, map[string]any{"loginId": u.LoginID, "accountingSoftware": u.AccountingSoftware, "status": u.Status}, now); err != nil {
			return err
		}
	}
	for _, a := range gp.assigns {
		if _, err := st.PutAssignment(ctx, a); err != nil {
			return fmt.Errorf("create assignment for user %s: %w", a.UserID, err)
		}
		if err := audit(ctx, st, bg, "assignment.create", "assignment", a.ID,
			map[string]string{"userId": a.UserID, "legalEntityId": a.LegalEntityID, "jobRoleId": a.JobRoleID, "accountGroupId": a.AccountGroupID}, now); err != nil {
			return err
		}
	}
	return nil
}

// auditBuiltIns records the built-ins OpenBusinessGroup or AddAdministrator made.
func auditBuiltIns(ctx context.Context, st store.Store, b store.BuiltIns, now time.Time) error {
	if r := b.AdministratorRole; b.RoleCreated {
		if err := audit(ctx, st, r.BusinessGroupID, "job_role.create", "job_role", r.ID, map[string]any{"name": r.Name, "grants": r.Grants}, now); err != nil {
			return err
		}
	}
	if g := b.AdministratorsGroup; b.GroupCreated {
		return audit(ctx, st, g.BusinessGroupID, "account_group.create", "account_group", g.ID, map[string]any{"name": g.Name, "accountIds": g.AccountIDs}, now)
	}
	return nil
}

// addAdministrator onboards u as the bank's operator does (a temporary
// password, the built-in Administrator role and Administrators group in the
// overview context) and then completes u's first sign-in with the demo's
// password and security answer, so the printed credentials work at once.
// It returns u's new ID.
func addAdministrator(ctx context.Context, st store.Store, u store.User, s *secrets, now time.Time) (string, error) {
	ad, err := store.AddAdministrator(ctx, st, u.BusinessGroupID, store.NewAdministrator{LoginID: u.LoginID, DisplayName: u.DisplayName, Email: u.Email}, now,
		func(ctx context.Context, ad store.Administrator) error {
			if err := auditBuiltIns(ctx, st, ad.BuiltIns, now); err != nil {
				return err
			}
			a := ad.Assignment
			if err := audit(ctx, st, a.BusinessGroupID, "user.create", "user", ad.User.ID, map[string]any{"loginId": ad.User.LoginID, "accountingSoftware": false, "status": ad.User.Status}, now); err != nil {
				return err
			}
			return audit(ctx, st, a.BusinessGroupID, "assignment.create", "assignment", a.ID,
				map[string]string{"userId": a.UserID, "legalEntityId": a.LegalEntityID, "jobRoleId": a.JobRoleID, "accountGroupId": a.AccountGroupID}, now)
		})
	if err != nil {
		return "", fmt.Errorf("add administrator %s: %w", u.LoginID, err)
	}
	_, err = st.UpdateUser(ctx, ad.User.ID, func(x store.User) (store.User, error) {
		x.PasswordHash, x.MustChangePassword, x.Status = s.hashes[u.LoginID], false, store.UserActive
		x.SecurityQuestion, x.SecurityAnswerHash, x.UpdatedAt = s.SecurityQuestion, s.answerHash, now
		return x, nil
	})
	if err != nil {
		return "", fmt.Errorf("first sign-in of %s: %w", u.LoginID, err)
	}
	return ad.User.ID, nil
}

// group is the credentials of business group id (newSecrets made one per plan).
func (s *secrets) group(id string) (*GroupCredentials, error) {
	for i := range s.BusinessGroups {
		if s.BusinessGroups[i].ID == id {
			return &s.BusinessGroups[i], nil
		}
	}
	return nil, fmt.Errorf("no credentials for business group %s", id)
}

func createClient(ctx context.Context, st store.Store, s *secrets, now time.Time) error {
	c := store.Client{
		ID: VendorClientID, Name: VendorName, SecretHash: s.secretHash,
		RedirectURIs:            []string{VendorRedirectURI},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		Scopes:                  s.Vendor.Scopes,
		TokenEndpointAuthMethod: "client_secret_basic",
		CreatedAt:               now, UpdatedAt: now,
	}
	if _, err := st.CreateClient(ctx, c); err != nil {
		return fmt.Errorf("demo: create client %s: %w", c.ID, err)
	}
	return audit(ctx, st, "", "client.create", "client", c.ID, map[string]any{"name": c.Name, "redirectUris": c.RedirectURIs}, now)
}

// writer streams entries to the store in batches and, once an account's
// entries are all stored, its pending links, balances and statements.
type writer struct {
	st       store.Store
	batch    []store.Transaction
	after    []accountResult
	rows     int64
	progress io.Writer

	accountsDone, accountsTotal int
	start, lastPrint            time.Time
}

func (w *writer) add(ctx context.Context, tx store.Transaction) error {
	if w.batch == nil {
		w.batch = make([]store.Transaction, 0, batchSize)
	}
	w.batch = append(w.batch, tx)
	if len(w.batch) >= batchSize {
		return w.flush(ctx, false)
	}
	return nil
}

// finish queues an account's remaining writes for the next flush, after
// which all its entries are stored.
func (w *writer) finish(_ context.Context, res accountResult) { w.after = append(w.after, res) }

func (w *writer) flush(ctx context.Context, final bool) error {
	err := w.st.InTx(ctx, func(ctx context.Context) error {
		// One call per batch: the store sizes its statements for its
		// database (16 rows on SQLite, whose driver binds parameters in
		// quadratic time; 1,000 on PostgreSQL).
		if _, err := w.st.CreateTransactions(ctx, w.batch); err != nil {
			return fmt.Errorf("create transactions: %w", err)
		}
		for _, res := range w.after {
			if err := finishAccount(ctx, w.st, res); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("demo: write batch: %w", err)
	}
	w.rows += int64(len(w.batch))
	w.accountsDone += len(w.after)
	w.batch, w.after = w.batch[:0], w.after[:0]
	if w.progress != nil && (final || time.Since(w.lastPrint) >= time.Second) {
		w.lastPrint = time.Now()
		el := time.Since(w.start)
		fmt.Fprintf(w.progress, "demo: accounts %d/%d, %d entries, %.0f entries/s, %s\n",
			w.accountsDone, w.accountsTotal, w.rows, float64(w.rows)/max(el.Seconds(), 0.001), el.Round(time.Second))
	}
	return nil
}

func finishAccount(ctx context.Context, st store.Store, res accountResult) error {
	for _, p := range res.replaces {
		if err := st.ReplacePending(ctx, p[0], p[1]); err != nil {
			return fmt.Errorf("replace pending %s: %w", p[0], err)
		}
	}
	for _, r := range res.removes {
		if err := st.RemovePending(ctx, r.pendingID, r.at); err != nil {
			return fmt.Errorf("remove pending %s: %w", r.pendingID, err)
		}
	}
	for _, d := range res.daily {
		if err := st.PutDailyBalance(ctx, d); err != nil {
			return fmt.Errorf("daily balance %s %s: %w", d.AccountID, d.BusinessDate, err)
		}
	}
	for _, s := range res.statements {
		if _, err := st.CreateStatement(ctx, s); err != nil {
			return fmt.Errorf("statement %s %s: %w", s.AccountID, s.PeriodStart, err)
		}
	}
	if err := st.SetBalance(ctx, res.balance); err != nil {
		return fmt.Errorf("balance %s: %w", res.balance.AccountID, err)
	}
	return nil
}
