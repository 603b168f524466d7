package gormstore

// fdxV8 (issue 13): what FDX clients need that the schema lacked. A loan's or
// line of credit's interest rate and its type become account data (FDX
// requires them on LoanAccount; the demo had the rate only in a memo): the
// rate is a decimal percent as text, "" when none is on record, so no float
// ever rounds it. A legal entity's contact (postal address, e-mail,
// telephone) answers FDX AccountContact for the accounts it holds.
func fdxV8(dialect) []string {
	out := []string{
		`ALTER TABLE accounts ADD COLUMN interest_rate TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE accounts ADD COLUMN interest_rate_type TEXT NOT NULL DEFAULT ''`,
	}
	for _, col := range []string{"address_line1", "address_line2", "city", "region", "postal_code", "country", "email", "phone"} {
		out = append(out, `ALTER TABLE legal_entities ADD COLUMN `+col+` TEXT NOT NULL DEFAULT ''`)
	}
	return out
}
