package dataapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/store"
)

// stdJSON is what echo's c.JSON writes: encoding/json with HTML escaping
// and a trailing newline.
func stdJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// nasty strings: every byte class appendJSONString treats differently.
var nasty = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnewline\nreturn\r",
	"\b\f\x00\x01\x1f\x7f", "café Montréal — 10 €", "line\u2028para\u2029", "bad \xff\xfe utf8 \xc3",
	"emoji 🏦 and 𝄞", "cut rune \xe2\x82",
}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return nasty[r.IntN(len(nasty))]
	}
	b := make([]byte, r.IntN(40))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randMoney(r *rand.Rand) money {
	exp := int32(-r.IntN(5)) // 0 to -4: -3 and -4 take the StringFixed path
	v := r.Int64N(1e12) - 5e11
	if r.IntN(20) == 0 {
		v = r.Int64() // more digits than the fast path takes
	}
	return money(decimal.New(v, exp))
}

func randTransaction(r *rand.Rand) transactionJSON {
	s := func() string {
		if r.IntN(2) == 0 {
			return ""
		}
		return randString(r)
	}
	t := transactionJSON{
		AccountCategory: s(), AccountID: s(), TransactionID: s(), PostedTimestamp: s(), TransactionTimestamp: s(),
		Description: s(), Memo: s(), DebitCreditMemo: s(), Amount: randMoney(r), Status: s(), Payee: s(),
		Reference: s(), PostedDate: s(), BusinessDate: s(), ValueDate: s(), PendingTransactionID: s(),
		Mutability: s(), Counterparty: s(), CustomerReference: s(),
	}
	if r.IntN(2) == 0 {
		n := r.Int64N(1e9)
		t.CheckNumber = &n
	}
	if r.IntN(2) == 0 {
		m := randMoney(r)
		t.RunningBalance = &m
	}
	if r.IntN(2) == 0 {
		t.BankTransactionCode = &bankTxCodeJSON{BAI2: s()}
		if r.IntN(2) == 0 {
			t.BankTransactionCode.ISO20022 = &isoCodeJSON{Domain: s(), Family: s(), SubFamily: s()}
		}
	}
	return t
}

// TestHandWrittenJSONMatchesEncodingJSON: for random values, with every
// optional member present or absent and strings of every byte class, the
// hand-written pages are byte-identical to encoding/json's.
func TestHandWrittenJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var txs []transactionJSON
		if i%7 != 0 {
			txs = make([]transactionJSON, r.IntN(4))
			for j := range txs {
				txs[j] = randTransaction(r)
			}
		}
		page := transactionsJSON{Page: pageOf(map[bool]string{true: randString(r)}[r.IntN(2) == 0]), Transactions: txs}
		if i%11 == 0 {
			page.Page = nil
		}
		want := stdJSON(t, page)
		if got := append(page.appendJSON(nil), '\n'); !bytes.Equal(got, want) {
			t.Fatalf("transactions page %d:\n got %s\nwant %s", i, got, want)
		}

		feed := syncJSON{Added: txs, NextCursor: randString(r), HasMore: r.IntN(2) == 0}
		if i%3 != 0 {
			feed.Modified = []transactionJSON{randTransaction(r)}
			feed.Removed = []removedJSON{{TransactionID: randString(r)}, {TransactionID: randString(r)}}
		}
		want = stdJSON(t, feed)
		if got := append(feed.appendJSON(nil), '\n'); !bytes.Equal(got, want) {
			t.Fatalf("sync page %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestAppendMoney: the fast path agrees with StringFixed(2) at its edges.
func TestAppendMoney(t *testing.T) {
	for _, m := range []store.Money{
		decimal.Zero, decimal.New(0, -2), decimal.New(-5, -2), decimal.New(5, -2), decimal.New(-100, -2),
		decimal.New(123, -1), decimal.New(-123, -1), decimal.New(7, 0), decimal.New(-7, 0),
		decimal.New(9_999_999_999_999_999, -2), decimal.New(-9_999_999_999_999_999, -2),
		decimal.New(99_999_999_999_999_999, -2), decimal.New(12345, -3), decimal.New(-12355, -3),
		decimal.New(5, 2), decimal.RequireFromString("1e30"), decimal.RequireFromString("-0.005"),
	} {
		if got, want := string(appendMoney(nil, m)), m.StringFixed(2); got != want {
			t.Errorf("appendMoney(%s) = %s, want %s", m, got, want)
		}
	}
}

func randStoreTransaction(r *rand.Rand) store.Transaction {
	s := func() string {
		if r.IntN(2) == 0 {
			return ""
		}
		return randString(r)
	}
	at := func() time.Time {
		if r.IntN(4) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(2e9), r.Int64N(1e9)).UTC()
	}
	dates := []store.Date{"", "2026-03-08", "2026-11-01", "2025-12-31", "not a date"}
	t := store.Transaction{
		ID: s(), AccountID: s(), Status: []store.TransactionStatus{store.Posted, store.Pending, ""}[r.IntN(3)],
		TransactionAt: at(), PostedAt: at(), BusinessDate: dates[r.IntN(len(dates))], ValueDate: dates[r.IntN(len(dates))],
		Amount: store.Money(randMoney(r)), Direction: []store.Direction{store.Debit, store.Credit}[r.IntN(2)],
		Description: s(), Memo: s(), Payee: s(), Counterparty: s(),
		CheckNumber:   []string{"", "0", "12", "-5", "abc", "99999999999999999999", " 7"}[r.IntN(7)],
		BankReference: s(), CustomerReference: s(), PendingID: s(), HasRunning: r.IntN(2) == 0,
		RunningBalance: store.Money(randMoney(r)),
	}
	if r.IntN(2) == 0 {
		t.Code = store.BankTransactionCode{BAI: s(), Domain: s(), Family: s(), SubFamily: s()}
	}
	return t
}

// TestAppendTransactionsPageMatchesTransactionOf: the transactions page
// written straight from the store's records equals the one built through
// transactionOf, which TestHandWrittenJSONMatchesEncodingJSON holds equal to
// encoding/json.
func TestAppendTransactionsPageMatchesTransactionOf(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		txs := make([]store.Transaction, r.IntN(5))
		for j := range txs {
			txs[j] = randStoreTransaction(r)
		}
		category, next := []string{"DEPOSIT_ACCOUNT", "LOC_ACCOUNT"}[r.IntN(2)], ""
		if r.IntN(2) == 0 {
			next = randString(r)
		}
		want := transactionsJSON{Page: pageOf(next), Transactions: make([]transactionJSON, 0, len(txs))}
		for _, tx := range txs {
			want.Transactions = append(want.Transactions, transactionOf(category, tx))
		}
		if got, want := appendTransactionsPage(nil, category, txs, next), want.appendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("page %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestAppendTimestamp: the hand-made format equals timestamp() across
// daylight-saving changes, Toronto's local mean time before 1895 (an offset
// with seconds), UTC midnight and the years time formats itself.
func TestAppendTimestamp(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 3, 8, 6, 59, 59, 999_999_999, time.UTC), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 5, 30, 0, 1_000_000, time.UTC), time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC),
		time.Date(1880, 6, 1, 12, 0, 0, 0, time.UTC), time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0),
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		times = append(times, time.Unix(r.Int64N(4e9)-1e9, r.Int64N(1e9)))
	}
	for _, tm := range times {
		if got, want := string(appendTimestamp(nil, tm)), `"`+timestamp(tm)+`"`; got != want {
			t.Fatalf("appendTimestamp(%v) = %s, want %s", tm, got, want)
		}
	}
}

// BenchmarkAppendTimestamp is one transaction timestamp in the bank's zone
// (two a transaction, 200 a page).
func BenchmarkAppendTimestamp(b *testing.B) {
	tm := time.Date(2020, 1, 2, 17, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = appendTimestamp(buf[:0], tm)
	}
}
