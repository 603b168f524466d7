package demo

import "github.com/bankfeed/bankfeed/store"

// kind is one sort of entry, with the bank transaction code importers
// reconcile by: the BAI2 detail type code (credits 100–399, debits 400–699)
// and the ISO 20022 domain/family/sub-family of camt.053 BkTxCd.
type kind struct {
	key       string
	dir       store.Direction
	code      store.BankTransactionCode
	pendingOK bool // may show as pending before it posts (authorizations, EFT in flight)
}

func btc(bai, domain, family, sub string) store.BankTransactionCode {
	return store.BankTransactionCode{BAI: bai, Domain: domain, Family: family, SubFamily: sub}
}

// The kinds. Choices a reviewer may question:
//   - payroll: BAI 466 "ACH Settlement" (the debit offsetting the direct
//     deposit file the business originated), ISO PMNT/ICDT/SALA.
//   - supplier EFT paid online: BAI 462 "Account Holder Initiated ACH Debit",
//     ISO PMNT/ICDT/DMCT; a supplier's pre-authorized debit (PAD): BAI 455,
//     ISO PMNT/RDDT/PMDD.
//   - Interac e-Transfer settles in the ACSS batch clearing: BAI 169/469
//     "Miscellaneous ACH", ISO PMNT/RCDT|ICDT/DMCT.
//   - wires: BAI 195/495; ISO sub-family PRCT (priority) for domestic Lynx
//     wires, XBCT for cross-border ones.
//   - cheques: paid BAI 475, ISO PMNT/ICHQ/CCHQ (issued cheque); deposited
//     BAI 175, ISO PMNT/RCHQ/CCHQ.
//   - card purchases: BAI 699 (no card-specific BAI code), ISO PMNT/CCRD/POSD.
var (
	kPayroll        = &kind{"payroll", store.Debit, btc("466", "PMNT", "ICDT", "SALA"), false}
	kSupplierEFT    = &kind{"supplier_eft", store.Debit, btc("462", "PMNT", "ICDT", "DMCT"), true}
	kPAD            = &kind{"preauthorized_debit", store.Debit, btc("455", "PMNT", "RDDT", "PMDD"), true}
	kTaxRemittance  = &kind{"tax_remittance", store.Debit, btc("462", "PMNT", "ICDT", "DMCT"), false}
	kCustomerEFT    = &kind{"customer_eft", store.Credit, btc("142", "PMNT", "RCDT", "DMCT"), false}
	kChequeDeposit  = &kind{"cheque_deposit", store.Credit, btc("175", "PMNT", "RCHQ", "CCHQ"), false}
	kChequePaid     = &kind{"cheque_paid", store.Debit, btc("475", "PMNT", "ICHQ", "CCHQ"), false}
	kInteracIn      = &kind{"interac_in", store.Credit, btc("169", "PMNT", "RCDT", "DMCT"), true}
	kInteracOut     = &kind{"interac_out", store.Debit, btc("469", "PMNT", "ICDT", "DMCT"), true}
	kWireIn         = &kind{"wire_in", store.Credit, btc("195", "PMNT", "RCDT", "PRCT"), false}
	kWireInIntl     = &kind{"wire_in_intl", store.Credit, btc("195", "PMNT", "RCDT", "XBCT"), false}
	kWireOut        = &kind{"wire_out", store.Debit, btc("495", "PMNT", "ICDT", "PRCT"), true}
	kWireOutIntl    = &kind{"wire_out_intl", store.Debit, btc("495", "PMNT", "ICDT", "XBCT"), true}
	kFee            = &kind{"fee", store.Debit, btc("698", "ACMT", "MDOP", "CHRG"), false}
	kInterestCredit = &kind{"interest_credit", store.Credit, btc("354", "ACMT", "MCOP", "INTR"), false}
	kInterestDebit  = &kind{"interest_debit", store.Debit, btc("654", "ACMT", "MDOP", "INTR"), false}
	kTransferIn     = &kind{"transfer_in", store.Credit, btc("206", "PMNT", "RCDT", "BOOK"), false}
	kTransferOut    = &kind{"transfer_out", store.Debit, btc("506", "PMNT", "ICDT", "BOOK"), false}
	kCardPurchase   = &kind{"card_purchase", store.Debit, btc("699", "PMNT", "CCRD", "POSD"), true}
	kCardPayment    = &kind{"card_payment", store.Credit, btc("206", "PMNT", "RCDT", "BOOK"), false}
	kLoanPayment    = &kind{"loan_payment", store.Credit, btc("206", "PMNT", "RCDT", "BOOK"), false}
)

// weighted is one entry of a random mix.
type weighted struct {
	k *kind
	w int
}
