package storetest

import (
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// testFDXFields: an account's interest rate and type, and a legal entity's
// contact, round-trip exactly (issue 13: FDX LoanAccount and AccountContact
// read them); a bad rate or type is refused.
func testFDXFields(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	loan := must(s.CreateAccount(ctx, store.Account{BusinessGroupID: o.group.ID, LegalEntityID: o.entity.ID,
		Number: "loan-" + store.RandomToken(6), Type: store.AccountLoan, Currency: "CAD",
		InterestRate: money("7.125"), InterestRateType: store.RateFixed}))(t)
	got := must(s.GetAccount(ctx, loan.ID))(t)
	diff(t, "GetAccount (rate)", loan, got)
	if got.InterestRate.String() != "7.125" || got.InterestRateType != store.RateFixed || !got.HasInterestRate() {
		t.Errorf("rate %s %q", got.InterestRate, got.InterestRateType)
	}
	upd := must(s.UpdateAccount(ctx, loan.ID, func(a store.Account) (store.Account, error) {
		a.InterestRate, a.InterestRateType = money("0"), store.RateVariable
		return a, nil
	}))(t)
	diff(t, "GetAccount after update (a zero rate on record)", upd, must(s.GetAccount(ctx, loan.ID))(t))
	if !upd.HasInterestRate() {
		t.Errorf("a 0 %% rate on record reads as none")
	}
	if o.accounts[0].HasInterestRate() {
		t.Errorf("an account created without a rate has one: %+v", o.accounts[0])
	}
	for name, a := range map[string]store.Account{
		"unknown type":      {InterestRate: money("5"), InterestRateType: "FLOATING"},
		"rate without type": {InterestRate: money("5")},
		"negative":          {InterestRate: money("-1"), InterestRateType: store.RateFixed},
		"over 100":          {InterestRate: money("100.01"), InterestRateType: store.RateFixed},
	} {
		a.LegalEntityID, a.Number, a.Type, a.Currency = o.entity.ID, "bad-"+store.RandomToken(6), store.AccountLoan, "CAD"
		_, err := s.CreateAccount(ctx, a)
		mustBe(t, err, store.ErrInvalid, "CreateAccount("+name+")")
	}

	c := store.Contact{AddressLine1: "100 King St W", AddressLine2: "Suite 5700", City: "Toronto", Region: "ON",
		PostalCode: "M5X 1C7", Country: "CA", Email: "ap@entity.example", Phone: "+14165550100", Language: "fr"}
	e := must(s.UpdateLegalEntity(ctx, o.entity.ID, func(e store.LegalEntity) (store.LegalEntity, error) {
		e.Contact = c
		return e, nil
	}))(t)
	diff(t, "contact", c, must(s.GetLegalEntity(ctx, e.ID))(t).Contact)
	e2 := must(s.CreateLegalEntity(ctx, store.LegalEntity{BusinessGroupID: o.group.ID, Name: "Two", Contact: c}))(t)
	diff(t, "contact on create", c, must(s.GetLegalEntity(ctx, e2.ID))(t).Contact)
}
