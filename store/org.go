package store

import "time"

// BusinessGroup is one business client of the bank, holding legal entities.
type BusinessGroup struct {
	ID        string
	Name      string // display name
	LegalName string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// LegalEntity is a company inside a business group; it owns accounts.
type LegalEntity struct {
	ID              string
	BusinessGroupID string
	Name            string
	LegalName       string
	// Contact is how the bank reaches the entity, the holder of its
	// accounts (FDX AccountContact); zero fields are unknown.
	Contact   Contact
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Contact is a legal entity's postal address, e-mail and telephone.
type Contact struct {
	AddressLine1 string
	AddressLine2 string
	City         string
	Region       string // province or state, e.g. "ON"
	PostalCode   string
	Country      string // ISO 3166-1 alpha-2, e.g. "CA"
	Email        string
	Phone        string // E.164, e.g. "+14165550100"
	// Language is the language of the bank's documents for the holder
	// ("en" or "fr"; "" unknown): a PDF statement is written in it,
	// whatever the language of the software that fetches it.
	Language string
}

// ServiceAgreement is the contract between the bank and an entity.
type ServiceAgreement struct {
	ID              string
	LegalEntityID   string
	BusinessGroupID string
	Number          string // the bank's agreement number, unique
	CreatedAt       time.Time
}

// AccountType is the product family of an account (FDX accountType values).
type AccountType string

const (
	AccountChecking     AccountType = "CHECKING" // chequing / operating
	AccountSavings      AccountType = "SAVINGS"
	AccountLineOfCredit AccountType = "LINEOFCREDIT"
	AccountLoan         AccountType = "LOAN"
	AccountCreditCard   AccountType = "CREDITCARD"
)

// Valid reports whether t is known.
func (t AccountType) Valid() bool {
	switch t {
	case AccountChecking, AccountSavings, AccountLineOfCredit, AccountLoan, AccountCreditCard:
		return true
	}
	return false
}

// Category is the FDX accountCategory.
func (t AccountType) Category() string {
	switch t {
	case AccountChecking, AccountSavings:
		return "DEPOSIT_ACCOUNT"
	case AccountLineOfCredit, AccountCreditCard:
		return "LOC_ACCOUNT"
	case AccountLoan:
		return "LOAN_ACCOUNT"
	}
	return ""
}

// AccountStatus is open or closed.
type AccountStatus string

const (
	AccountOpen   AccountStatus = "OPEN"
	AccountClosed AccountStatus = "CLOSED"
)

// Account is a bank account of a legal entity.
type Account struct {
	ID              string // opaque, stable; never the account number
	BusinessGroupID string
	LegalEntityID   string
	Number          string // full account number (transit-institution-account); never sent to vendors
	DisplayNumber   string // masked, e.g. "****4821"
	Type            AccountType
	ProductName     string
	Nickname        string
	Currency        string // ISO 4217: CAD or USD
	Status          AccountStatus
	OpenedOn        Date
	ClosedOn        Date // empty while open
	// InterestRate is the annual rate in percent (7.45 is 7.45 %), with its
	// InterestRateType; both are unset ("" type) when the bank has none on
	// record. Loans and lines of credit carry one (FDX requires it there).
	InterestRate     Money
	InterestRateType InterestRateType
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// InterestRateType is FDX's InterestRateType.
type InterestRateType string

const (
	RateFixed    InterestRateType = "FIXED"
	RateVariable InterestRateType = "VARIABLE" // moves with the bank's prime rate
	RateIndexed  InterestRateType = "INDEXED"
)

// Valid reports whether t is known ("" is: no rate on record).
func (t InterestRateType) Valid() bool {
	switch t {
	case "", RateFixed, RateVariable, RateIndexed:
		return true
	}
	return false
}

// HasInterestRate reports whether the bank has the account's rate on record.
func (a Account) HasInterestRate() bool { return a.InterestRateType != "" }

// MaskAccountNumber keeps the last four digits.
func MaskAccountNumber(n string) string {
	digits := make([]rune, 0, len(n))
	for _, r := range n {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) <= 4 {
		return "****"
	}
	return "****" + string(digits[len(digits)-4:])
}

// Balance is an account's current position at AsOf.
type Balance struct {
	AccountID string
	AsOf      time.Time
	Ledger    Money // current (ledger) balance
	Available Money
}

// DailyBalance holds the BAI2 summary figures of one business date:
// 010 opening ledger, 015 closing ledger, 040 opening available and
// 045 closing available.
type DailyBalance struct {
	AccountID        string
	BusinessDate     Date
	OpeningLedger    Money
	ClosingLedger    Money
	OpeningAvailable Money
	ClosingAvailable Money
	Closed           bool // the day is closed (frozen) by the operator
	UpdatedAt        time.Time
}
