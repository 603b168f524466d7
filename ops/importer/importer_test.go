package importer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/ops/importer"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

func setup(t *testing.T) (*gormstore.Store, string) {
	t.Helper()
	ctx := t.Context()
	st := gormtest.OpenStore(t, "importer_test")
	if _, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg", Name: "bg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateLegalEntity(ctx, store.LegalEntity{ID: "le", BusinessGroupID: "bg", Name: "le"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAccount(ctx, store.Account{ID: "acc1", BusinessGroupID: "bg", LegalEntityID: "le", Number: "1234567",
		Type: store.AccountChecking, Currency: "CAD", Status: store.AccountOpen, OpenedOn: "2024-01-01"}); err != nil {
		t.Fatal(err)
	}
	return st, "acc1"
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func count(t *testing.T, st store.Store) int {
	t.Helper()
	txs, _, err := st.ListTransactions(t.Context(), store.TransactionFilter{AccountID: "acc1", IncludeRemoved: true}, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(txs)
}

func TestJSONLines(t *testing.T) {
	st, _ := setup(t)
	lines := []string{
		`{"accountId":"acc1","externalId":"e1","status":"POSTED","amount":"10.00","debitCreditMemo":"CREDIT","postedTimestamp":"2025-03-03T15:00:00Z"}`,
		`{"accountId":"acc1","externalId":"e2","status":"POSTED","amount":"-1","debitCreditMemo":"DEBIT","postedTimestamp":"2025-03-03T15:00:00Z"}`,
		``,
		`{"accountId":"acc1","externalId":"e3","status":"PENDING","amount":"3.10","debitCreditMemo":"DEBIT","transactionTimestamp":"2025-03-03T15:00:00Z"}`,
		`{not json`,
		`{"accountId":"nope","externalId":"e4","status":"POSTED","amount":"1","debitCreditMemo":"DEBIT","postedTimestamp":"2025-03-03T15:00:00Z"}`,
		`{"accountId":"acc1","externalId":"e5","status":"POSTED","amount":"3.10","debitCreditMemo":"DEBIT","postedTimestamp":"2025-03-03T16:00:00Z","pendingExternalId":"e3"}`,
		`{"accountId":"acc1","externalId":"e6","status":"POSTED","amount":"1.00","debitCreditMemo":"DEBIT","postedTimestamp":"2025-03-03T16:00:00Z","pendingExternalId":"e3"}`,
	}
	path := write(t, "feed.jsonl", strings.Join(lines, "\n")+"\n")
	var calls int
	var last importer.Progress
	sum, err := importer.ImportFile(t.Context(), st, path, importer.Options{BatchSize: 2, Progress: func(p importer.Progress) { calls++; last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Created != 3 || sum.Failed != 4 || sum.Lines != 8 {
		t.Fatalf("summary = %+v", sum)
	}
	wantLines := []int{2, 5, 6, 8}
	for i, e := range sum.Errors {
		if e.Line != wantLines[i] {
			t.Errorf("error %d on line %d, want %d: %s", i, e.Line, wantLines[i], e.Message)
		}
	}
	if !strings.Contains(sum.Errors[0].Message, "amount") || !strings.Contains(sum.Errors[2].Message, "unknown account") ||
		!strings.Contains(sum.Errors[3].Message, "pending") {
		t.Errorf("messages = %v", sum.Errors)
	}
	if calls < 2 || last.BytesRead != last.TotalBytes || last.Created != 3 {
		t.Errorf("progress: %d calls, last %+v", calls, last)
	}
	// e3 is hidden from lists once replaced, so look each one up.
	for ext, want := range map[string]bool{"e1": true, "e2": false, "e3": true, "e4": false, "e5": true, "e6": false} {
		_, err := st.GetTransactionByExternalID(t.Context(), "acc1", ext)
		if (err == nil) != want {
			t.Errorf("%s stored = %v, want %v", ext, err == nil, want)
		}
	}
	p, _ := st.GetTransactionByExternalID(t.Context(), "acc1", "e3")
	if p.ReplacedByID == "" {
		t.Error("pending e3 not replaced by e5")
	}
	// Importing again changes nothing.
	sum, err = importer.ImportFile(t.Context(), st, path, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Created != 0 || sum.Replayed != 3 || count(t, st) != 2 {
		t.Fatalf("re-import = %+v", sum)
	}
}

func TestCSV(t *testing.T) {
	st, _ := setup(t)
	csv := "accountId,externalId,status,postedTimestamp,amount,debitCreditMemo,description,baiCode\n" +
		"acc1,c1,POSTED,2025-03-03T15:00:00Z,12.34,CREDIT,\"Deposit, branch\",301\n" +
		"acc1,c2,POSTED,yesterday,1.00,DEBIT,x,\n" +
		"acc1,c3,POSTED,2025-03-03T15:00:00Z,1.00,DEBIT\n" +
		"acc1,c4,POSTED,2025-03-03T15:00:00Z,2.00,DEBIT,\"multi\nline\",\n" +
		"acc1,c5,POSTED,2025-03-03T15:00:00Z,abc,DEBIT,x,\n"
	sum, err := importer.ImportFile(t.Context(), st, write(t, "feed.csv", csv), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Created != 2 || sum.Failed != 3 {
		t.Fatalf("summary = %+v", sum)
	}
	want := []int{3, 4, 7}
	for i, e := range sum.Errors {
		if e.Line != want[i] {
			t.Errorf("error %d on line %d, want %d: %s", i, e.Line, want[i], e.Message)
		}
	}
	tx, err := st.GetTransactionByExternalID(t.Context(), "acc1", "c1")
	if err != nil || tx.Description != "Deposit, branch" || tx.Code.BAI != "301" || tx.Amount.String() != "12.34" {
		t.Fatalf("c1 = %+v, %v", tx, err)
	}
	// A header naming an unknown column stops the import before any row.
	if _, err := importer.ImportFile(t.Context(), st, write(t, "bad.csv", "accountId,colour\nacc1,red\n"), importer.Options{}); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("bad header = %v", err)
	}
}
