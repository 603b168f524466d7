package dataapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// writer posts, adds, replaces and drops entries on one account while a
// test reads; mu is held around each change so a test can take a quiet
// moment.
type writer struct {
	st      store.Store
	account string
	mu      sync.Mutex
	r       *rand.Rand
	n       int
	pending []string
	days    []store.Date
}

func newWriter(st store.Store, account string, seed uint64, days []store.Date) *writer {
	return &writer{st: st, account: account, r: rand.New(rand.NewPCG(seed, 7)), days: days}
}

func (w *writer) tx(status store.TransactionStatus, day store.Date) store.Transaction {
	w.n++
	at := day.Time().Add(time.Duration(9+w.r.IntN(8)) * time.Hour)
	t := store.Transaction{AccountID: w.account, ExternalID: fmt.Sprintf("w-%d-%d", w.r.Int64(), w.n), Status: status,
		TransactionAt: at, BusinessDate: day, Amount: m(fmt.Sprintf("%d.%02d", 1+w.r.IntN(900), w.r.IntN(100))),
		Direction: []store.Direction{store.Debit, store.Credit}[w.r.IntN(2)], Description: fmt.Sprintf("w %d", w.n)}
	if status == store.Posted {
		t.PostedAt = at
	}
	return t
}

// step makes one random change.
func (w *writer) step(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	day := w.days[w.r.IntN(len(w.days))]
	switch op := w.r.IntN(10); {
	case op < 5: // a batch of posted entries on random days (also before any cursor)
		var batch []store.Transaction
		for i := 0; i < 1+w.r.IntN(4); i++ {
			batch = append(batch, w.tx(store.Posted, w.days[w.r.IntN(len(w.days))]))
		}
		_, err := w.st.CreateTransactions(ctx, batch)
		return err
	case op < 7 || len(w.pending) == 0: // a new pending entry
		p, err := w.st.CreateTransactions(ctx, []store.Transaction{w.tx(store.Pending, day)})
		if err == nil {
			w.pending = append(w.pending, p[0].ID)
		}
		return err
	case op < 9: // a pending entry posts: a new record naming it, then the link
		i := w.r.IntN(len(w.pending))
		id := w.pending[i]
		w.pending = append(w.pending[:i], w.pending[i+1:]...)
		t := w.tx(store.Posted, day)
		t.PendingID = id
		p, err := w.st.CreateTransactions(ctx, []store.Transaction{t})
		if err != nil {
			return err
		}
		return w.st.ReplacePending(ctx, id, p[0].ID)
	default: // a pending entry drops
		i := w.r.IntN(len(w.pending))
		id := w.pending[i]
		w.pending = append(w.pending[:i], w.pending[i+1:]...)
		return w.st.RemovePending(ctx, id, t0)
	}
}

// addPending adds a pending entry.
func (w *writer) addPending(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, err := w.st.CreateTransactions(ctx, []store.Transaction{w.tx(store.Pending, w.days[w.r.IntN(len(w.days))])})
	if err == nil {
		w.pending = append(w.pending, p[0].ID)
	}
	return err
}

// run makes changes until stop is closed.
func (w *writer) run(ctx context.Context, stop <-chan struct{}, errs chan<- error) {
	for {
		select {
		case <-stop:
			errs <- nil
			return
		default:
		}
		if err := w.step(ctx); err != nil {
			errs <- err
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func businessDays(from store.Date, n int) []store.Date {
	out := make([]store.Date, n)
	for i := range out {
		out[i] = from.AddDays(i)
	}
	return out
}

// visibleNow is the account's entries as the store shows them without a
// snapshot (posted plus live pending), for the given statuses.
func visibleNow(t testing.TB, st store.Store, account string, f store.TransactionFilter) map[string]store.Transaction {
	t.Helper()
	f.AccountID = account
	out := map[string]store.Transaction{}
	var after *store.TxCursor
	for {
		txs, more, err := st.ListTransactions(context.Background(), f, after, 1000)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, tx := range txs {
			out[tx.ID] = tx
		}
		if !more {
			return out
		}
		last := txs[len(txs)-1]
		after = &store.TxCursor{BusinessDate: last.BusinessDate, ID: last.ID}
	}
}

// TestPagingSnapshotProperty pages through a large account with random page
// sizes while entries post, arrive pending, post from pending and drop: the
// pages hold exactly what existed when the first page was served — nothing
// twice, nothing missing, nothing newer — in (business date, ID) order.
func TestPagingSnapshotProperty(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	tok := e.token(t)
	days := businessDays("2024-11-01", 60)
	w := newWriter(e.st, e.f.sav, 1, days)
	for i := 0; i < 300; i++ { // about 1,500 entries to start with
		if err := w.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rounds := []struct{ status, query string }{
		{"posted", ""}, {"all", "&status=all"}, {"pending", "&status=pending"},
		{"posted range", "&startDate=2024-11-10&endDate=2024-12-20"},
	}
	for ri, round := range rounds {
		t.Run(round.status, func(t *testing.T) {
			rr := rand.New(rand.NewPCG(uint64(ri), 99))
			for i := 0; i < 20; i++ { // enough pending entries to page through
				if err := w.addPending(ctx); err != nil {
					t.Fatal(err)
				}
			}
			stop, errs := make(chan struct{}), make(chan error, 1)
			// The first page is served in a quiet moment, so the expected
			// snapshot is exactly what the store shows then.
			w.mu.Lock()
			f := store.TransactionFilter{Statuses: []store.TransactionStatus{store.Posted}}
			switch round.status {
			case "all":
				f.Statuses = nil
			case "pending":
				f.Statuses = []store.TransactionStatus{store.Pending}
			case "posted range":
				f.From, f.To = "2024-11-10", "2024-12-20"
			}
			want := visibleNow(t, e.st, e.f.sav, f)
			var got []txOut
			path := base + "/accounts/" + e.f.sav + "/transactions?limit=" + fmt.Sprint(1+rr.IntN(60)) + round.query
			var p txPage
			r := e.get(t, tok, path)
			w.mu.Unlock()
			go w.run(ctx, stop, errs)
			for pages := 0; ; pages++ {
				wantStatus(t, r, 200)
				p = txPage{}
				r.json(t, &p)
				got = append(got, p.Transactions...)
				if p.Page.NextPageKey == "" {
					break
				}
				if pages > 5000 {
					t.Fatal("no end")
				}
				r = e.get(t, tok, base+"/accounts/"+e.f.sav+"/transactions?limit="+fmt.Sprint(1+rr.IntN(60))+round.query+"&pageKey="+url.QueryEscape(p.Page.NextPageKey))
			}
			close(stop)
			if err := <-errs; err != nil {
				t.Fatalf("writer: %v", err)
			}
			seen := map[string]bool{}
			for i, tx := range got {
				if seen[tx.TransactionID] {
					t.Fatalf("duplicate %s", tx.TransactionID)
				}
				seen[tx.TransactionID] = true
				if _, ok := want[tx.TransactionID]; !ok {
					t.Fatalf("%s was not in the snapshot (status %s)", tx.TransactionID, tx.Status)
				}
				if want[tx.TransactionID].Status != store.TransactionStatus(tx.Status) {
					t.Fatalf("%s status %s, snapshot had %s", tx.TransactionID, tx.Status, want[tx.TransactionID].Status)
				}
				if i > 0 {
					a, b := got[i-1], tx
					if a.BusinessDate > b.BusinessDate || a.BusinessDate == b.BusinessDate && a.TransactionID >= b.TransactionID {
						t.Fatalf("order: %s/%s before %s/%s", a.BusinessDate, a.TransactionID, b.BusinessDate, b.TransactionID)
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("got %d transactions, the snapshot had %d (gap)", len(got), len(want))
			}
			if len(want) == 0 {
				t.Fatal("empty snapshot: the test proves nothing")
			}
		})
	}
}

// TestSyncProperty follows the change feed with random page sizes while the
// account changes: a client applying added/modified/removed ends with
// exactly the store's posted and live pending entries, receiving each
// posted entry once and never an "added" entry it already holds.
func TestSyncProperty(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	tok := e.token(t)
	w := newWriter(e.st, e.f.sav, 2, businessDays("2025-01-01", 30))
	for i := 0; i < 100; i++ {
		if err := w.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rr := rand.New(rand.NewPCG(3, 4))
	held := map[string]txOut{}
	delivered := map[string]bool{} // posted IDs delivered in added or modified
	cursor := ""
	sync := func() (more bool, changes int) {
		path := base + "/accounts/" + e.f.sav + "/transactions/sync?limit=" + fmt.Sprint(1+rr.IntN(25))
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := e.get(t, tok, path)
		wantStatus(t, r, 200)
		var s syncOut
		r.json(t, &s)
		for _, a := range s.Added {
			if _, ok := held[a.TransactionID]; ok {
				t.Fatalf("added %s, already held", a.TransactionID)
			}
			held[a.TransactionID] = a
		}
		for _, m := range s.Modified {
			if m.PendingTransactionID != "" {
				delete(held, m.PendingTransactionID)
			}
			held[m.TransactionID] = m
		}
		for _, rm := range s.Removed {
			delete(held, rm.TransactionID)
		}
		for _, x := range append(s.Added, s.Modified...) {
			if x.Status == "POSTED" {
				if delivered[x.TransactionID] {
					t.Fatalf("posted %s delivered twice", x.TransactionID)
				}
				delivered[x.TransactionID] = true
			}
		}
		if s.NextCursor == "" {
			t.Fatal("no nextCursor")
		}
		cursor = s.NextCursor
		return s.HasMore, len(s.Added) + len(s.Modified) + len(s.Removed)
	}
	stop, errs := make(chan struct{}), make(chan error, 1)
	go w.run(ctx, stop, errs)
	for i := 0; i < 150; i++ {
		sync()
	}
	close(stop)
	if err := <-errs; err != nil {
		t.Fatalf("writer: %v", err)
	}
	for i := 0; ; i++ {
		more, _ := sync()
		if !more {
			break
		}
		if i > 10000 {
			t.Fatal("no end")
		}
	}
	want := visibleNow(t, e.st, e.f.sav, store.TransactionFilter{})
	for id, tx := range want {
		h, ok := held[id]
		if !ok {
			t.Errorf("missing %s (%s)", id, tx.Status)
			continue
		}
		if h.Status != string(tx.Status) {
			t.Errorf("%s held as %s, store has %s", id, h.Status, tx.Status)
		}
	}
	for id, h := range held {
		if _, ok := want[id]; !ok {
			t.Errorf("holds %s (%s), which the store no longer shows", id, h.Status)
		}
	}
	if len(want) < 100 {
		t.Fatalf("only %d entries: the test proves little", len(want))
	}
	// More than a year later the cursor still works (cursors never expire).
	e.setNow(t0.Add(400 * 24 * time.Hour))
	tok = e.v.issue(e.f.consent, nil, t0.Add(401*24*time.Hour))
	if more, n := sync(); more || n != 0 {
		t.Fatalf("a year later the cursor gives more=%v, %d changes", more, n)
	}
}
