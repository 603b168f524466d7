package store

import "github.com/shopspring/decimal"

// Money is an exact decimal amount (never float). Amounts of transactions are
// non-negative; the direction says debit or credit.
type Money = decimal.Decimal

// Direction of a transaction from the account holder's point of view.
type Direction string

const (
	Debit  Direction = "DEBIT"  // money leaves the account
	Credit Direction = "CREDIT" // money enters the account
)

// Signed is amount with the sign of d: credits add, debits subtract.
func Signed(amount Money, d Direction) Money {
	if d == Debit {
		return amount.Neg()
	}
	return amount
}

// Cents is a Money amount as integer cents, for formats that want them.
func Cents(m Money) int64 { return m.Shift(2).Round(0).IntPart() }
