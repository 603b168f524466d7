package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

func posted(account, ext string, day store.Date, dir store.Direction, amount string) store.Transaction {
	at := day.Time().Add(10 * time.Hour)
	return store.Transaction{AccountID: account, ExternalID: ext, Status: store.Posted, TransactionAt: at, PostedAt: at,
		BusinessDate: day, ValueDate: day, Amount: money(amount), Direction: dir, Description: "entry " + ext,
		Code: store.BankTransactionCode{BAI: "165", Domain: "PMNT", Family: "RCDT", SubFamily: "ESCT"}}
}

func pending(account, ext string, day store.Date, amount string) store.Transaction {
	t := posted(account, ext, day, store.Debit, amount)
	t.Status, t.PostedAt = store.Pending, time.Time{}
	return t
}

func testTransactionsCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	if m := must(s.MaxSeq(ctx))(t); m != 0 {
		t.Errorf("MaxSeq on an empty store = %d", m)
	}
	full := posted(a, "core-1", "2025-01-15", store.Credit, "1234.56")
	full.Memo, full.Payee, full.Counterparty, full.CheckNumber = "memo", "payee", "ACME Corp", "000123"
	full.BankReference, full.CustomerReference = "BREF", "CREF"
	full.RunningBalance, full.HasRunning = money("-10.05"), true
	full.PendingID = "txn_earlier"
	noExt := posted(a, "", "2025-01-14", store.Debit, "5.00")
	created := must(s.CreateTransactions(ctx, []store.Transaction{full, noExt, pending(a, "core-2", "2025-01-16", "7.00")}))(t)
	if len(created) != 3 {
		t.Fatalf("created %d records, want 3", len(created))
	}
	for i, c := range created {
		if c.ID == "" || c.Seq == 0 || c.CreatedSeq != c.Seq || c.CreatedAt.IsZero() {
			t.Errorf("record %d: ID %q Seq %d CreatedSeq %d CreatedAt %v", i, c.ID, c.Seq, c.CreatedSeq, c.CreatedAt)
		}
		if i > 0 && c.Seq <= created[i-1].Seq {
			t.Errorf("Seq not increasing: %d then %d", created[i-1].Seq, c.Seq)
		}
	}
	if m := must(s.MaxSeq(ctx))(t); m != created[2].Seq {
		t.Errorf("MaxSeq = %d, want %d", m, created[2].Seq)
	}
	got := must(s.GetTransaction(ctx, created[0].ID))(t)
	want := full
	want.ID, want.Seq, want.CreatedSeq, want.CreatedAt, want.UpdatedAt = created[0].ID, created[0].Seq, created[0].Seq, created[0].CreatedAt, created[0].UpdatedAt
	diff(t, "GetTransaction", want, got)
	diff(t, "CreateTransactions result", got, created[0])
	if got := must(s.GetTransaction(ctx, created[1].ID))(t); got.HasRunning || got.ExternalID != "" {
		t.Errorf("record without running balance / external ID: %+v", got)
	}
	diff(t, "GetTransactionByExternalID", got, must(s.GetTransactionByExternalID(ctx, a, "core-1"))(t))
	_, err := s.GetTransactionByExternalID(ctx, o.accounts[1].ID, "core-1")
	mustBe(t, err, store.ErrNotFound, "GetTransactionByExternalID(other account)")
	_, err = s.GetTransaction(ctx, "txn_missing")
	mustBe(t, err, store.ErrNotFound, "GetTransaction(missing)")

	// A batch with one invalid record stores nothing.
	bad := posted(a, "core-bad", "2025-01-17", store.Credit, "-1.00")
	_, err = s.CreateTransactions(ctx, []store.Transaction{posted(a, "core-3", "2025-01-17", store.Credit, "1.00"), bad})
	mustBe(t, err, store.ErrInvalid, "CreateTransactions(negative amount)")
	_, err = s.GetTransactionByExternalID(ctx, a, "core-3")
	mustBe(t, err, store.ErrNotFound, "record of a refused batch")

	_, err = s.CreateTransactions(ctx, []store.Transaction{posted("acc_missing", "x", "2025-01-17", store.Credit, "1.00")})
	mustBe(t, err, store.ErrNotFound, "CreateTransactions(unknown account)")
	if m := must(s.MaxSeq(ctx))(t); m != created[2].Seq {
		t.Errorf("MaxSeq moved to %d after refused batches", m)
	}
}

func testTransactionsIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a, b := o.accounts[0].ID, o.accounts[1].ID
	batch := []store.Transaction{
		posted(a, "e1", "2025-01-02", store.Credit, "1.00"),
		posted(a, "e2", "2025-01-02", store.Credit, "2.00"),
		posted(b, "e1", "2025-01-02", store.Credit, "3.00"), // same external ID, other account: distinct
		posted(a, "e1", "2025-01-02", store.Credit, "1.00"), // repeated inside the batch
	}
	first := must(s.CreateTransactions(ctx, batch))(t)
	if first[0].ID == first[2].ID {
		t.Error("external ID shared across accounts collapsed into one record")
	}
	if first[3].ID != first[0].ID {
		t.Errorf("repeat inside the batch got its own record %s (first %s)", first[3].ID, first[0].ID)
	}
	max := must(s.MaxSeq(ctx))(t)
	again := must(s.CreateTransactions(ctx, batch))(t)
	diff(t, "replayed batch", first, again)
	if m := must(s.MaxSeq(ctx))(t); m != max {
		t.Errorf("replay moved MaxSeq %d → %d", max, m)
	}
	mixed := must(s.CreateTransactions(ctx, []store.Transaction{posted(a, "e3", "2025-01-03", store.Debit, "4.00"), batch[1]}))(t)
	if mixed[1].ID != first[1].ID || mixed[0].Seq <= max {
		t.Errorf("mixed batch: %+v", mixed)
	}
	list, _, err := s.ListTransactions(ctx, store.TransactionFilter{AccountID: a}, nil, 100)
	noErr(t, err, "ListTransactions")
	if len(list) != 3 {
		t.Errorf("account holds %d records, want 3", len(list))
	}
}

// testTransactionsIdempotentConcurrent: feeds replaying the same batch at
// once all succeed and agree on one stored record per external ID.
func testTransactionsIdempotentConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	var batch []store.Transaction
	for i := range 40 {
		batch = append(batch, posted(a, fmt.Sprintf("dup-%d", i), "2025-02-10", store.Credit, "1.00"))
	}
	const feeds = 8
	results := make([][]store.Transaction, feeds)
	errs := make([]error, feeds)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for f := range feeds {
		wg.Go(func() {
			<-start
			results[f], errs[f] = s.CreateTransactions(ctx, batch)
		})
	}
	close(start)
	wg.Wait()
	for f := range feeds {
		noErr(t, errs[f], fmt.Sprintf("feed %d", f))
	}
	for f := 1; f < feeds; f++ {
		diff(t, fmt.Sprintf("feed %d vs feed 0", f), ids(results[0]), ids(results[f]))
	}
	stored := walk(t, s, store.TransactionFilter{AccountID: a}, 1000, nil)
	if len(stored) != len(batch) {
		t.Errorf("stored %d records, want %d", len(stored), len(batch))
	}
}

// walk pages through ListTransactions and returns every record.
// walk pages through f; between, if set, runs after each page but the last
// with that page's last record.
func walk(t *testing.T, s store.Store, f store.TransactionFilter, pageSize int, between func(last store.Transaction)) []store.Transaction {
	t.Helper()
	var out []store.Transaction
	var after *store.TxCursor
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		page, more, err := s.ListTransactions(t.Context(), f, after, pageSize)
		noErr(t, err, "ListTransactions")
		if len(page) > pageSize {
			t.Fatalf("page of %d > limit %d", len(page), pageSize)
		}
		out = append(out, page...)
		if !more {
			return out
		}
		if len(page) == 0 {
			t.Fatal("more=true with an empty page")
		}
		last := page[len(page)-1]
		after = &store.TxCursor{BusinessDate: last.BusinessDate, ID: last.ID}
		if between != nil {
			between(last)
		}
	}
}

func checkOrder(t *testing.T, txs []store.Transaction) {
	t.Helper()
	seen := map[string]bool{}
	for i, x := range txs {
		if seen[x.ID] {
			t.Fatalf("duplicate %s", x.ID)
		}
		seen[x.ID] = true
		if i > 0 {
			p := txs[i-1]
			if p.BusinessDate > x.BusinessDate || (p.BusinessDate == x.BusinessDate && p.ID >= x.ID) {
				t.Fatalf("not in (BusinessDate, ID) order: (%s,%s) then (%s,%s)", p.BusinessDate, p.ID, x.BusinessDate, x.ID)
			}
		}
	}
}

func ids(txs []store.Transaction) []string {
	out := make([]string, len(txs))
	for i, x := range txs {
		out[i] = x.ID
	}
	return out
}

func testTransactionsPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	var batch []store.Transaction
	for i := range 250 {
		day := store.Date("2025-01-01").AddDays(i % 40)
		if i%5 == 0 {
			batch = append(batch, pending(a, fmt.Sprintf("p%d", i), day, "1.00"))
		} else {
			batch = append(batch, posted(a, fmt.Sprintf("x%d", i), day, store.Credit, "1.00"))
		}
	}
	batch = append(batch, posted(o.accounts[1].ID, "other", "2025-01-05", store.Credit, "1.00"))
	must(s.CreateTransactions(ctx, batch))(t)

	all := walk(t, s, store.TransactionFilter{AccountID: a}, 7, nil)
	if len(all) != 250 {
		t.Fatalf("walked %d records, want 250", len(all))
	}
	checkOrder(t, all)
	one := walk(t, s, store.TransactionFilter{AccountID: a}, 1000, nil)
	diff(t, "one big page vs small pages", ids(all), ids(one))

	ranged := walk(t, s, store.TransactionFilter{AccountID: a, From: "2025-01-10", To: "2025-01-19"}, 9, nil)
	for _, x := range ranged {
		if x.BusinessDate < "2025-01-10" || x.BusinessDate > "2025-01-19" {
			t.Errorf("%s outside the range", x.BusinessDate)
		}
	}
	if want := countIf(all, func(x store.Transaction) bool {
		return x.BusinessDate >= "2025-01-10" && x.BusinessDate <= "2025-01-19"
	}); len(ranged) != want {
		t.Errorf("range gave %d, want %d", len(ranged), want)
	}
	pend := walk(t, s, store.TransactionFilter{AccountID: a, Statuses: []store.TransactionStatus{store.Pending}}, 10, nil)
	if len(pend) != 50 {
		t.Errorf("pending filter gave %d, want 50", len(pend))
	}
	for _, x := range pend {
		if x.Status != store.Pending {
			t.Errorf("status %s in a pending-only list", x.Status)
		}
	}
	_, _, err := s.ListTransactions(ctx, store.TransactionFilter{}, nil, 10)
	mustBe(t, err, store.ErrInvalid, "ListTransactions without an account")
	page, more, err := s.ListTransactions(ctx, store.TransactionFilter{AccountID: a}, nil, 0)
	noErr(t, err, "ListTransactions(limit 0)")
	if len(page) != 100 || !more {
		t.Errorf("default limit gave %d (more %v), want 100 and more", len(page), more)
	}
}

func countIf(txs []store.Transaction, f func(store.Transaction) bool) int {
	n := 0
	for _, x := range txs {
		if f(x) {
			n++
		}
	}
	return n
}

func testPendingLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	created := must(s.CreateTransactions(ctx, []store.Transaction{
		pending(a, "p1", "2025-03-03", "10.00"),
		pending(a, "p2", "2025-03-03", "20.00"),
	}))(t)
	p1, p2 := created[0], created[1]
	snapshot := must(s.MaxSeq(ctx))(t)

	post := posted(a, "x1", "2025-03-04", store.Debit, "10.00")
	post.PendingID = p1.ID
	x1 := must(s.CreateTransactions(ctx, []store.Transaction{post}))(t)[0]
	noErr(t, s.ReplacePending(ctx, p1.ID, x1.ID), "ReplacePending")
	mustBe(t, s.ReplacePending(ctx, p1.ID, x1.ID), store.ErrConflict, "ReplacePending twice")
	mustBe(t, s.ReplacePending(ctx, x1.ID, x1.ID), store.ErrConflict, "ReplacePending(posted record)")
	mustBe(t, s.ReplacePending(ctx, "txn_missing", x1.ID), store.ErrNotFound, "ReplacePending(missing)")
	mustBe(t, s.ReplacePending(ctx, p2.ID, "txn_missing"), store.ErrNotFound, "ReplacePending(missing posted)")

	removedAt := t0
	noErr(t, s.RemovePending(ctx, p2.ID, removedAt), "RemovePending")
	mustBe(t, s.RemovePending(ctx, p2.ID, removedAt), store.ErrConflict, "RemovePending twice")
	mustBe(t, s.RemovePending(ctx, "txn_missing", removedAt), store.ErrNotFound, "RemovePending(missing)")

	g1 := must(s.GetTransaction(ctx, p1.ID))(t)
	g2 := must(s.GetTransaction(ctx, p2.ID))(t)
	if g1.ReplacedByID != x1.ID || g1.Seq <= x1.Seq || g1.CreatedSeq != p1.Seq {
		t.Errorf("replaced pending = %+v (posted seq %d)", g1, x1.Seq)
	}
	if !g2.RemovedAt.Equal(removedAt) || g2.Seq <= g1.Seq {
		t.Errorf("removed pending = %+v", g2)
	}

	now := walk(t, s, store.TransactionFilter{AccountID: a}, 10, nil)
	diff(t, "current view", []string{x1.ID}, ids(now))
	withRemoved := walk(t, s, store.TransactionFilter{AccountID: a, IncludeRemoved: true}, 10, nil)
	if len(withRemoved) != 2 {
		t.Errorf("IncludeRemoved gave %v, want the removed pending and the posted", ids(withRemoved))
	}
	// As of the snapshot, both pendings stand as they were and the posted
	// record does not exist yet.
	then := walk(t, s, store.TransactionFilter{AccountID: a, AsOfSeq: snapshot}, 10, nil)
	wantThen := []store.Transaction{p1, p2}
	slices.SortFunc(wantThen, func(x, y store.Transaction) int {
		if x.ID < y.ID {
			return -1
		}
		return 1
	})
	diff(t, "as of the snapshot", wantThen, then)

	feed, more, err := s.ListChanges(ctx, a, snapshot, 10)
	noErr(t, err, "ListChanges")
	if more || len(feed) != 3 || feed[0].ID != x1.ID || feed[1].ID != p1.ID || feed[2].ID != p2.ID {
		t.Errorf("change feed after the snapshot = %v, want [posted, replaced, removed]", ids(feed))
	}
}

func testChangeFeed(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a, b := o.accounts[0].ID, o.accounts[1].ID
	var all []store.Transaction
	for i := range 5 {
		batch := []store.Transaction{
			posted(a, fmt.Sprintf("a%d", i), store.Date("2025-04-10").AddDays(-i), store.Credit, "1.00"),
			posted(b, fmt.Sprintf("b%d", i), "2025-04-01", store.Credit, "1.00"),
		}
		all = append(all, must(s.CreateTransactions(ctx, batch))(t)[0])
	}
	var got []store.Transaction
	after := int64(0)
	for {
		page, more, err := s.ListChanges(ctx, a, after, 2)
		noErr(t, err, "ListChanges")
		got = append(got, page...)
		if !more {
			break
		}
		after = page[len(page)-1].Seq
	}
	diff(t, "change feed (Seq order, this account only)", ids(all), ids(got))
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("feed not in Seq order")
		}
	}
	page, more, err := s.ListChanges(ctx, a, got[len(got)-1].Seq, 10)
	noErr(t, err, "ListChanges at the end")
	if len(page) != 0 || more {
		t.Errorf("feed past the end = %v, %v", ids(page), more)
	}
}

// testSnapshotPagingDuringInserts pages with AsOfSeq while another goroutine
// inserts records: after every page the walk waits until the writer has
// committed records dated before, on and after the page's last record, so
// the interleaving happens on every run. The walk sees exactly the records
// that existed at the snapshot.
func testSnapshotPagingDuringInserts(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	var batch []store.Transaction
	for i := range 120 {
		batch = append(batch, posted(a, fmt.Sprintf("base%d", i), store.Date("2025-05-01").AddDays(i%30), store.Credit, "1.00"))
	}
	base := must(s.CreateTransactions(ctx, batch))(t)
	snap := must(s.MaxSeq(ctx))(t)

	// The writer inserts one batch per request and answers once it has
	// committed (or failed).
	requests := make(chan store.Date)
	committed := make(chan error)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(requests) // also when the walk fails the test
	wg.Go(func() {
		n := 0
		for day := range requests {
			var rows []store.Transaction
			for _, d := range []store.Date{day.AddDays(-1), day, day.AddDays(1)} {
				rows = append(rows, posted(a, fmt.Sprintf("new%d", n), d, store.Credit, "2.00"))
				n++
			}
			_, err := s.CreateTransactions(ctx, rows)
			committed <- err
		}
	})
	inserted, pages := 0, 0
	got := walk(t, s, store.TransactionFilter{AccountID: a, AsOfSeq: snap}, 7, func(last store.Transaction) {
		requests <- last.BusinessDate
		if err := <-committed; err != nil {
			t.Errorf("concurrent insert: %v", err)
			return
		}
		inserted += 3
		pages++
	})
	if pages < 120/7 {
		t.Fatalf("inserts ran after %d pages, want one after each of at least %d", pages, 120/7)
	}
	checkOrder(t, got)
	want := slices.Clone(base)
	slices.SortFunc(want, func(x, y store.Transaction) int {
		if x.BusinessDate != y.BusinessDate {
			if x.BusinessDate < y.BusinessDate {
				return -1
			}
			return 1
		}
		if x.ID < y.ID {
			return -1
		}
		return 1
	})
	diff(t, "snapshot walk", ids(want), ids(got))
	// The inserts did land: past the snapshot, and visible without it.
	if m := must(s.MaxSeq(ctx))(t); m < snap+int64(inserted) {
		t.Errorf("MaxSeq after %d concurrent inserts = %d, want ≥ %d", inserted, m, snap+int64(inserted))
	}
	if all := walk(t, s, store.TransactionFilter{AccountID: a}, 1000, nil); len(all) != len(base)+inserted {
		t.Errorf("without the snapshot the walk sees %d records, want %d", len(all), len(base)+inserted)
	}
}

// testSeqCommitOrdered runs concurrent writers while a reader follows the
// change feed: a reader that has seen Seq N must never later find a new
// record numbered ≤ N, so in the end the reader has seen every record.
func testSeqCommitOrdered(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	const writers, batches = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				_, err := s.CreateTransactions(ctx, []store.Transaction{
					posted(a, fmt.Sprintf("w%d-%d-a", w, i), "2025-06-01", store.Credit, "1.00"),
					posted(a, fmt.Sprintf("w%d-%d-b", w, i), "2025-06-02", store.Credit, "1.00"),
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]bool{}
	var last int64
	follow := func() {
		for {
			page, more, err := s.ListChanges(ctx, a, last, 50)
			noErr(t, err, "ListChanges")
			for _, x := range page {
				if x.Seq <= last {
					t.Fatalf("feed went back: %d after %d", x.Seq, last)
				}
				last = x.Seq
				seen[x.ID] = true
			}
			if !more {
				return
			}
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			follow()
		}
	}
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	follow()
	all := walk(t, s, store.TransactionFilter{AccountID: a}, 1000, nil)
	if len(all) != writers*batches*2 {
		t.Fatalf("stored %d records, want %d", len(all), writers*batches*2)
	}
	for _, x := range all {
		if !seen[x.ID] {
			t.Errorf("record %s (Seq %d) was committed behind a Seq the reader had already passed", x.ID, x.Seq)
		}
	}
}

func testStreamAndSum(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	var batch []store.Transaction
	for i := range 2500 {
		dir := store.Credit
		if i%3 == 0 {
			dir = store.Debit
		}
		batch = append(batch, posted(a, fmt.Sprintf("s%d", i), store.Date("2025-07-01").AddDays(i%60), dir, "0.05"))
	}
	batch = append(batch, pending(a, "pend", "2025-07-02", "100.00"))
	must(s.CreateTransactions(ctx, batch))(t)
	var streamed []store.Transaction
	noErr(t, s.StreamTransactions(ctx, store.TransactionFilter{AccountID: a}, func(x store.Transaction) error {
		streamed = append(streamed, x)
		return nil
	}), "StreamTransactions")
	if len(streamed) != 2501 {
		t.Fatalf("streamed %d, want 2501", len(streamed))
	}
	checkOrder(t, streamed)
	stop := fmt.Errorf("enough")
	n := 0
	err := s.StreamTransactions(ctx, store.TransactionFilter{AccountID: a}, func(store.Transaction) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	mustBe(t, err, stop, "StreamTransactions stopped by fn")

	count, debits, credits, err := s.SumPosted(ctx, a, "2025-07-01", "2025-07-31")
	noErr(t, err, "SumPosted")
	var wantN int
	wantD, wantC := money("0"), money("0")
	for _, x := range batch {
		if x.Status == store.Posted && x.BusinessDate <= "2025-07-31" {
			wantN++
			if x.Direction == store.Debit {
				wantD = wantD.Add(x.Amount)
			} else {
				wantC = wantC.Add(x.Amount)
			}
		}
	}
	if count != wantN || !debits.Equal(wantD) || !credits.Equal(wantC) {
		t.Errorf("SumPosted = %d %s %s, want %d %s %s", count, debits, credits, wantN, wantD, wantC)
	}
	count, _, _, err = s.SumPosted(ctx, a, "2030-01-01", "2030-01-31")
	noErr(t, err, "SumPosted(empty)")
	if count != 0 {
		t.Errorf("empty period count = %d", count)
	}
}

func testStatements(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	mk := func(start string) store.Statement {
		d := store.MustDate(start)
		return store.Statement{AccountID: a, PeriodStart: d, PeriodEnd: d.MonthEnd(), StatementDate: d.MonthEnd().AddDays(1),
			Opening: money("100.00"), Closing: money("150.25"), EntryCount: 3, TotalDebits: money("10.00"),
			TotalCredits: money("60.25"), Status: "AVAILABLE"}
	}
	feb := must(s.CreateStatement(ctx, mk("2025-02-01")))(t)
	jan := must(s.CreateStatement(ctx, mk("2025-01-01")))(t)
	mar := must(s.CreateStatement(ctx, mk("2025-03-01")))(t)
	_, err := s.CreateStatement(ctx, mk("2025-02-01"))
	mustBe(t, err, store.ErrConflict, "CreateStatement(same period)")
	got := must(s.GetStatement(ctx, feb.ID))(t)
	diff(t, "GetStatement", feb, got)
	if !got.Reconciles() {
		t.Error("stored statement no longer reconciles")
	}
	_, err = s.GetStatement(ctx, "stm_missing")
	mustBe(t, err, store.ErrNotFound, "GetStatement(missing)")
	diff(t, "ListStatements(all)", []string{jan.ID, feb.ID, mar.ID}, stmtIDs(must(s.ListStatements(ctx, a, "", ""))(t)))
	diff(t, "ListStatements(overlapping Feb 15–Mar 2)", []string{feb.ID, mar.ID}, stmtIDs(must(s.ListStatements(ctx, a, "2025-02-15", "2025-03-02"))(t)))
	if l := must(s.ListStatements(ctx, o.accounts[1].ID, "", ""))(t); len(l) != 0 {
		t.Errorf("other account's statements: %v", l)
	}
}

func stmtIDs(ss []store.Statement) []string {
	out := make([]string, len(ss))
	for i, x := range ss {
		out[i] = x.ID
	}
	return out
}
