package gormstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm/clause"

	"github.com/bankfeed/bankfeed/store"
)

type accountRow struct {
	ID               string `gorm:"column:id;primaryKey"`
	BusinessGroupID  string `gorm:"column:business_group_id"`
	LegalEntityID    string `gorm:"column:legal_entity_id"`
	Number           string `gorm:"column:number"`
	DisplayNumber    string `gorm:"column:display_number"`
	Type             string `gorm:"column:type"`
	ProductName      string `gorm:"column:product_name"`
	Nickname         string `gorm:"column:nickname"`
	Currency         string `gorm:"column:currency"`
	Status           string `gorm:"column:status"`
	OpenedOn         string `gorm:"column:opened_on"`
	ClosedOn         string `gorm:"column:closed_on"`
	InterestRate     string `gorm:"column:interest_rate"` // decimal percent; "" none
	InterestRateType string `gorm:"column:interest_rate_type"`
	Created          int64  `gorm:"column:created_at"`
	Updated          int64  `gorm:"column:updated_at"`
	Version          int64  `gorm:"column:version"`
}

func (accountRow) TableName() string { return "accounts" }

var accountMap = mapper[store.Account, accountRow]{
	toDomain: func(r accountRow) (store.Account, error) {
		a := store.Account{ID: r.ID, BusinessGroupID: r.BusinessGroupID, LegalEntityID: r.LegalEntityID,
			Number: r.Number, DisplayNumber: r.DisplayNumber, Type: store.AccountType(r.Type),
			ProductName: r.ProductName, Nickname: r.Nickname, Currency: r.Currency,
			Status: store.AccountStatus(r.Status), OpenedOn: store.Date(r.OpenedOn), ClosedOn: store.Date(r.ClosedOn),
			InterestRateType: store.InterestRateType(r.InterestRateType),
			CreatedAt:        fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated)}
		if r.InterestRate != "" {
			rate, err := decimal.NewFromString(r.InterestRate)
			if err != nil {
				return store.Account{}, fmt.Errorf("account %s: interest rate %q: %w", r.ID, r.InterestRate, err)
			}
			a.InterestRate = rate
		}
		return a, nil
	},
	fromDomain: func(a store.Account) (accountRow, error) {
		r := accountRow{ID: a.ID, BusinessGroupID: a.BusinessGroupID, LegalEntityID: a.LegalEntityID,
			Number: a.Number, DisplayNumber: a.DisplayNumber, Type: string(a.Type),
			ProductName: a.ProductName, Nickname: a.Nickname, Currency: a.Currency,
			Status: string(a.Status), OpenedOn: string(a.OpenedOn), ClosedOn: string(a.ClosedOn),
			InterestRateType: string(a.InterestRateType),
			Created:          micros(a.CreatedAt), Updated: micros(a.UpdatedAt), Version: 1}
		if a.HasInterestRate() {
			r.InterestRate = a.InterestRate.String()
		}
		return r, nil
	},
	version: func(r *accountRow) *int64 { return &r.Version },
	id:      func(a store.Account) string { return a.ID },
	stamp:   func(a *store.Account, now time.Time, _ int64) { a.UpdatedAt = now },
	check: func(old, a store.Account) error {
		if a.BusinessGroupID != old.BusinessGroupID || a.LegalEntityID != old.LegalEntityID {
			return store.Invalid("legalEntityId", "an account cannot move to another entity")
		}
		return validateAccount(a)
	},
}

func validateAccount(a store.Account) error {
	switch {
	case a.Number == "":
		return store.Invalid("number", "is required")
	case !a.Type.Valid():
		return store.Invalid("type", "unknown account type %q", a.Type)
	case a.Currency == "":
		return store.Invalid("currency", "is required")
	case a.Status != store.AccountOpen && a.Status != store.AccountClosed:
		return store.Invalid("status", "must be OPEN or CLOSED")
	case !a.InterestRateType.Valid():
		return store.Invalid("interestRateType", "must be FIXED, VARIABLE or INDEXED, not %q", a.InterestRateType)
	case !a.HasInterestRate() && !a.InterestRate.IsZero():
		return store.Invalid("interestRateType", "is required with an interest rate")
	case a.InterestRate.IsNegative() || a.InterestRate.GreaterThan(decimal.NewFromInt(100)):
		return store.Invalid("interestRate", "must be a percentage from 0 to 100")
	}
	return nil
}

func (s *Store) CreateAccount(ctx context.Context, a store.Account) (store.Account, error) {
	if a.ID == "" {
		a.ID = store.NewID("acc")
	}
	if a.Status == "" {
		a.Status = store.AccountOpen
	}
	if a.DisplayNumber == "" {
		a.DisplayNumber = store.MaskAccountNumber(a.Number)
	}
	if err := validateAccount(a); err != nil {
		return store.Account{}, err
	}
	le, err := s.GetLegalEntity(ctx, a.LegalEntityID)
	if err != nil {
		return store.Account{}, fmt.Errorf("gormstore: create account: legal entity: %w", err)
	}
	if a.BusinessGroupID == "" {
		a.BusinessGroupID = le.BusinessGroupID
	} else if a.BusinessGroupID != le.BusinessGroupID {
		return store.Account{}, store.Invalid("businessGroupId", "is not the legal entity's business group")
	}
	now := s.nowUTC()
	a.CreatedAt, a.UpdatedAt = orNow(a.CreatedAt, now), now
	r, _ := accountMap.fromDomain(a)
	if err := s.insert(ctx, "create account", &r); err != nil {
		return store.Account{}, err
	}
	return accountMap.toDomain(r)
}

func (s *Store) GetAccount(ctx context.Context, id string) (store.Account, error) {
	r, err := take[accountRow](ctx, s, "get account", "id = ?", id)
	if err != nil {
		return store.Account{}, err
	}
	return accountMap.toDomain(r)
}

func (s *Store) ListAccounts(ctx context.Context, f store.AccountFilter, p store.Page) ([]store.Account, string, error) {
	q := s.read(ctx).Model(&accountRow{})
	if f.BusinessGroupID != nil {
		q = q.Where("business_group_id = ?", *f.BusinessGroupID)
	}
	if f.LegalEntityID != nil {
		q = q.Where("legal_entity_id = ?", *f.LegalEntityID)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return nil, "", nil
		}
		q = q.Where("id IN ?", f.IDs)
	}
	if f.Status != nil {
		q = q.Where("status = ?", string(*f.Status))
	}
	rows, next, err := pageByID(q, p, func(r accountRow) string { return r.ID })
	if err != nil {
		return nil, "", wrap("list accounts", err)
	}
	out, err := mapAll(rows, accountMap.toDomain)
	return out, next, err
}

// accountsWithEntitiesQuery reads accounts of a group by ID with their
// legal entities, left-joined (zero when the account has none, or it is
// gone or another group's); the caller appends the IN list.
var accountsWithEntitiesQuery = sync.OnceValue(func() string {
	return "SELECT " + prefixedColumns("x", &accountRow{}) + ", " + zeroedColumns("le", &legalEntityRow{}) +
		" FROM accounts x LEFT JOIN legal_entities le ON le.id = x.legal_entity_id AND le.business_group_id = x.business_group_id" +
		" WHERE x.business_group_id = ? AND x.id IN "
})

// maxIDsPerStatement bounds the IN list of one statement of
// AccountsWithEntities.
const maxIDsPerStatement = 1000

// AccountsWithEntities is one statement where the consent and connections
// pages made two with gorm (the accounts, then their entities; issue 15).
func (s *Store) AccountsWithEntities(ctx context.Context, businessGroupID string, ids []string) ([]store.Account, map[string]store.LegalEntity, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var accounts []store.Account
	entities := map[string]store.LegalEntity{}
	for chunk := range slices.Chunk(ids, maxIDsPerStatement) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, businessGroupID)
		for _, id := range chunk {
			args = append(args, id)
		}
		q := accountsWithEntitiesQuery() + "(?" + strings.Repeat(",?", len(chunk)-1) + ") ORDER BY x.id"
		err := s.query(ctx, q, args, func(sc rowScanner) error {
			var a accountRow
			var le legalEntityRow
			if err := sc.Scan(columnPointers(&a, &le)...); err != nil {
				return err
			}
			return addAccountWithEntity(&accounts, entities, a, le)
		})
		if err != nil {
			return nil, nil, wrap("accounts with entities", err)
		}
	}
	return accounts, entities, nil
}

// addAccountWithEntity appends a's account to accounts and keeps le, its
// legal entity (ID "": none), in entities.
func addAccountWithEntity(accounts *[]store.Account, entities map[string]store.LegalEntity, a accountRow, le legalEntityRow) error {
	acc, err := accountMap.toDomain(a)
	if err != nil {
		return err
	}
	*accounts = append(*accounts, acc)
	if _, seen := entities[le.ID]; le.ID != "" && !seen {
		if entities[le.ID], err = legalEntityMap.toDomain(le); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) UpdateAccount(ctx context.Context, id string, fn func(store.Account) (store.Account, error)) (store.Account, error) {
	return casUpdate(ctx, s, "update account", id, accountMap, fn)
}

type balanceRow struct {
	AccountID string `gorm:"column:account_id;primaryKey"`
	AsOf      int64  `gorm:"column:as_of"`
	Ledger    int64  `gorm:"column:ledger"`
	Available int64  `gorm:"column:available"`
}

func (balanceRow) TableName() string { return "balances" }

func (s *Store) SetBalance(ctx context.Context, b store.Balance) error {
	l, err := cents("ledger", b.Ledger)
	if err != nil {
		return err
	}
	a, err := cents("available", b.Available)
	if err != nil {
		return err
	}
	r := balanceRow{AccountID: b.AccountID, AsOf: micros(orNow(b.AsOf, s.nowUTC())), Ledger: l, Available: a}
	err = s.write(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "account_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"as_of", "ledger", "available"}),
	}).Create(&r).Error
	return wrap("set balance", err)
}

func (s *Store) GetBalance(ctx context.Context, accountID string) (store.Balance, error) {
	r, err := take[balanceRow](ctx, s, "get balance", "account_id = ?", accountID)
	if err != nil {
		return store.Balance{}, err
	}
	return store.Balance{AccountID: r.AccountID, AsOf: fromMicros(r.AsOf), Ledger: fromCents(r.Ledger), Available: fromCents(r.Available)}, nil
}

type dailyBalanceRow struct {
	AccountID        string `gorm:"column:account_id;primaryKey"`
	BusinessDate     string `gorm:"column:business_date;primaryKey"`
	OpeningLedger    int64  `gorm:"column:opening_ledger"`
	ClosingLedger    int64  `gorm:"column:closing_ledger"`
	OpeningAvailable int64  `gorm:"column:opening_available"`
	ClosingAvailable int64  `gorm:"column:closing_available"`
	Closed           bool   `gorm:"column:closed"`
	Updated          int64  `gorm:"column:updated_at"`
}

func (dailyBalanceRow) TableName() string { return "daily_balances" }

func (r dailyBalanceRow) domain() store.DailyBalance {
	return store.DailyBalance{AccountID: r.AccountID, BusinessDate: store.Date(r.BusinessDate),
		OpeningLedger: fromCents(r.OpeningLedger), ClosingLedger: fromCents(r.ClosingLedger),
		OpeningAvailable: fromCents(r.OpeningAvailable), ClosingAvailable: fromCents(r.ClosingAvailable),
		Closed: r.Closed, UpdatedAt: fromMicros(r.Updated)}
}

func (s *Store) PutDailyBalance(ctx context.Context, d store.DailyBalance) error {
	if !d.BusinessDate.Valid() {
		return store.Invalid("businessDate", "is required (YYYY-MM-DD)")
	}
	r := dailyBalanceRow{AccountID: d.AccountID, BusinessDate: string(d.BusinessDate), Closed: d.Closed,
		Updated: micros(s.nowUTC())}
	var err error
	for _, f := range []struct {
		name string
		m    store.Money
		dst  *int64
	}{
		{"openingLedger", d.OpeningLedger, &r.OpeningLedger}, {"closingLedger", d.ClosingLedger, &r.ClosingLedger},
		{"openingAvailable", d.OpeningAvailable, &r.OpeningAvailable}, {"closingAvailable", d.ClosingAvailable, &r.ClosingAvailable},
	} {
		if *f.dst, err = cents(f.name, f.m); err != nil {
			return err
		}
	}
	// Upsert that leaves a closed day alone: no row affected means closed.
	res := s.write(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "account_id"}, {Name: "business_date"}},
		DoUpdates: clause.AssignmentColumns([]string{"opening_ledger", "closing_ledger", "opening_available",
			"closing_available", "closed", "updated_at"}),
		Where: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "daily_balances.closed = ?", Vars: []any{false}}}},
	}).Create(&r)
	if res.Error != nil {
		return wrap("put daily balance", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: put daily balance %s: %w: the day is closed", d.BusinessDate, store.ErrConflict)
	}
	return nil
}

func (s *Store) GetDailyBalance(ctx context.Context, accountID string, day store.Date) (store.DailyBalance, error) {
	r, err := take[dailyBalanceRow](ctx, s, "get daily balance", "account_id = ? AND business_date = ?", accountID, string(day))
	if err != nil {
		return store.DailyBalance{}, err
	}
	return r.domain(), nil
}

func (s *Store) LatestDailyBalance(ctx context.Context, accountID string, day store.Date) (store.DailyBalance, error) {
	var r dailyBalanceRow
	err := s.read(ctx).Where("account_id = ? AND business_date <= ?", accountID, string(day)).
		Order("business_date DESC").Take(&r).Error
	if err != nil {
		return store.DailyBalance{}, wrap("latest daily balance", err)
	}
	return r.domain(), nil
}
