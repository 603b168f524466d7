package statementtest

import (
	"context"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// Created is the fixed creation time of test documents.
var Created = time.Date(2025, 4, 1, 6, 30, 0, 0, time.UTC)

func bank() statement.Bank {
	return statement.Bank{Name: "Bankfeed Demo Bank", BIC: "BKFDCATT", RoutingID: "000012345"}
}

func account() store.Account {
	return store.Account{
		ID: "acc_demo0chequing0001", BusinessGroupID: "bg_demo", LegalEntityID: "le_demo",
		Number: "00012-345-6789012", DisplayNumber: "****9012", Type: store.AccountChecking,
		ProductName: "Business Chequing", Nickname: "Operating", Currency: "CAD", Status: store.AccountOpen,
	}
}

func money(s string) store.Money { return decimal.RequireFromString(s) }

// FixtureEntries are the demo statement's entries, March 2025, in
// (business date, ID) order: every kind of code, accents, XML and CSV
// special characters, a long description and one pending entry.
func FixtureEntries() []store.Transaction {
	loc := store.Toronto()
	at := func(day, hour, min int) time.Time { return time.Date(2025, 3, day, hour, min, 0, 0, loc) }
	txs := []store.Transaction{
		{ID: "tx_0001", Direction: store.Credit, Amount: money("2500.00"), TransactionAt: at(3, 9, 15), BusinessDate: "2025-03-03", ValueDate: "2025-03-03",
			Description: "Dépôt direct — Client Érable & Fils", Payee: "Érable & Fils Ltée", CustomerReference: "INV-2025-031", BankReference: "EFT000123",
			Code: store.BankTransactionCode{BAI: "165", Domain: "PMNT", Family: "RCDT", SubFamily: "DMCT"}},
		{ID: "tx_0002", Direction: store.Debit, Amount: money("1234.56"), TransactionAt: at(5, 11, 0), BusinessDate: "2025-03-05",
			Description: "Cheque #1042", Payee: "Office Supplies, \"Best\" Inc.", CheckNumber: "1042",
			Code: store.BankTransactionCode{BAI: "475", Domain: "PMNT", Family: "CCHQ", SubFamily: "CCHQ"}},
		{ID: "tx_0003", Direction: store.Debit, Amount: money("45.00"), TransactionAt: at(5, 23, 59), BusinessDate: "2025-03-05",
			Description: "Monthly account fee <plan A> & services", Memo: "Frais mensuels",
			Code: store.BankTransactionCode{BAI: "698", Domain: "ACMT", Family: "MDOP", SubFamily: "CHRG"}},
		{ID: "tx_0004", Direction: store.Credit, Amount: money("10000"), TransactionAt: at(14, 15, 30), BusinessDate: "2025-03-14", ValueDate: "2025-03-14",
			Description: "Incoming wire from Müller GmbH, ref. 2025/03/WIRE-77; payment of invoices 1001, 1002 and 1003 for consulting services rendered in February, including travel expenses and taxes",
			Payee:       "Müller GmbH", Counterparty: "Müller GmbH", CustomerReference: "E2E-77-MULLER", BankReference: "FW20250314-77",
			Code: store.BankTransactionCode{BAI: "195", Domain: "PMNT", Family: "RCDT", SubFamily: "XBCT"}},
		{ID: "tx_0005", Direction: store.Debit, Amount: money("0.01"), TransactionAt: at(20, 8, 0), BusinessDate: "2025-03-20",
			Description: "Rounding adjustment",
			Code:        store.BankTransactionCode{BAI: "699", Domain: "ACMT", Family: "MCOP", SubFamily: "ADJT"}},
		{ID: "tx_0006", Direction: store.Debit, Amount: money("3200.10"), TransactionAt: at(28, 10, 5), BusinessDate: "2025-03-28",
			Description: "Preauthorized debit — Hydro-Québec", Payee: "Hydro-Québec", CustomerReference: "PAD-555",
			Code: store.BankTransactionCode{BAI: "455", Domain: "PMNT", Family: "RDDT", SubFamily: "PMDD"}},
		{ID: "tx_0007", Direction: store.Credit, Amount: money("12.34"), TransactionAt: at(31, 18, 0), BusinessDate: "2025-03-31",
			Description: "Interest",
			Code:        store.BankTransactionCode{BAI: "354", Domain: "ACMT", Family: "MCOP", SubFamily: "INTR"}},
	}
	running := money("12345.67")
	for i := range txs {
		t := &txs[i]
		t.AccountID = account().ID
		t.ExternalID = "core-" + t.ID
		t.Status = store.Posted
		t.PostedAt = t.TransactionAt
		running = running.Add(t.SignedAmount())
		t.RunningBalance, t.HasRunning = running, true
	}
	pending := store.Transaction{ID: "tx_0008", AccountID: account().ID, Status: store.Pending, Direction: store.Debit,
		Amount: money("99.99"), TransactionAt: at(31, 20, 0), BusinessDate: "2025-03-31", Description: "Card purchase (pending)",
		Code: store.BankTransactionCode{BAI: "409", Domain: "PMNT", Family: "CCRD", SubFamily: "POSD"}}
	return append(txs, pending)
}

// Fixture is the demo statement of March 2025: opening 12,345.67, closing
// 20,378.34 (seven posted entries: credits 12,512.34, debits 4,479.67).
func Fixture() statement.Document {
	entries := FixtureEntries()
	return statement.Document{
		Bank: bank(), Business: "Érable & Fils Ltée", Account: account(),
		Kind: statement.KindStatement, StatementID: "stm_demo0202503",
		PeriodStart: "2025-03-01", PeriodEnd: "2025-03-31",
		OpeningLedger: money("12345.67"), ClosingLedger: money("20378.34"),
		HasAvailable: true, OpeningAvailable: money("12000.00"), ClosingAvailable: money("20278.34"),
		Expected: &statement.Expected{EntryCount: 7, TotalDebits: money("4479.67"), TotalCredits: money("12512.34")},
		Created:  Created, Lang: "en", QBOIntuBID: "3000",
		Entries: FromSlice(entries),
	}
}

// FromSlice streams a slice.
func FromSlice(txs []store.Transaction) statement.EntryFunc {
	return func(ctx context.Context, yield func(store.Transaction) error) error {
		for _, t := range txs {
			if err := yield(t); err != nil {
				return err
			}
		}
		return nil
	}
}

// Generated is a range export of n generated posted entries spread over
// 2024 (a year's range), produced on the fly in constant memory.
func Generated(n int) statement.Document {
	const days = 366
	start := store.Date("2024-01-01")
	amount := func(i int) (int64, store.Direction) {
		c := int64(i*7919%250000 + 1)
		if i%3 == 0 {
			return c, store.Credit
		}
		return c / 3, store.Debit
	}
	opening := int64(100_000_000)
	closing := opening
	for i := 0; i < n; i++ {
		c, dir := amount(i)
		if dir == store.Credit {
			closing += c
		} else {
			closing -= c
		}
	}
	acc := account()
	loc := store.Toronto()
	dates := make([]store.Date, days)
	base := time.Date(2024, 1, 1, 12, 0, 0, 0, loc)
	for d := range dates {
		dates[d] = start.AddDays(d)
	}
	codes := []store.BankTransactionCode{
		{BAI: "165", Domain: "PMNT", Family: "RCDT", SubFamily: "DMCT"},
		{BAI: "455", Domain: "PMNT", Family: "RDDT", SubFamily: "PMDD"},
		{BAI: "475", Domain: "PMNT", Family: "CCHQ", SubFamily: "CCHQ"},
	}
	return statement.Document{
		Bank: bank(), Business: "Érable & Fils Ltée", Account: acc,
		Kind: statement.KindRange, StatementID: "exp_bench2024",
		PeriodStart: start, PeriodEnd: start.AddDays(days - 1),
		OpeningLedger: statement.FromCents(opening), ClosingLedger: statement.FromCents(closing),
		Created: Created, Lang: "en", QBOIntuBID: "3000",
		Entries: func(ctx context.Context, yield func(store.Transaction) error) error {
			var idbuf []byte
			for i := 0; i < n; i++ {
				day := i * days / max(n, 1)
				c, dir := amount(i)
				idbuf = strconv.AppendInt(append(idbuf[:0], "tx_"...), int64(1_000_000_000+i), 10)
				at := base.AddDate(0, 0, day)
				t := store.Transaction{
					ID: string(idbuf), AccountID: acc.ID, Status: store.Posted,
					TransactionAt: at, PostedAt: at, BusinessDate: dates[day],
					Amount: statement.FromCents(c), Direction: dir,
					Description: "Generated entry for the benchmark", Payee: "Counterparty Inc.",
					CustomerReference: "REF", Code: codes[i%3],
				}
				if err := yield(t); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
