package gormstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/bankfeed/bankfeed/store"
)

type transactionRow struct {
	ID                string  `gorm:"column:id;primaryKey"`
	AccountID         string  `gorm:"column:account_id"`
	ExternalID        *string `gorm:"column:external_id"`
	Status            string  `gorm:"column:status"`
	TransactionAt     int64   `gorm:"column:transaction_at"`
	PostedAt          int64   `gorm:"column:posted_at"`
	BusinessDate      string  `gorm:"column:business_date"`
	ValueDate         string  `gorm:"column:value_date"`
	Amount            int64   `gorm:"column:amount"`
	Direction         string  `gorm:"column:direction"`
	Description       string  `gorm:"column:description"`
	Memo              string  `gorm:"column:memo"`
	Payee             string  `gorm:"column:payee"`
	Counterparty      string  `gorm:"column:counterparty"`
	CheckNumber       string  `gorm:"column:check_number"`
	BankReference     string  `gorm:"column:bank_reference"`
	CustomerReference string  `gorm:"column:customer_reference"`
	BAICode           string  `gorm:"column:bai_code"`
	ISODomain         string  `gorm:"column:iso_domain"`
	ISOFamily         string  `gorm:"column:iso_family"`
	ISOSubFamily      string  `gorm:"column:iso_sub_family"`
	RunningBalance    *int64  `gorm:"column:running_balance"`
	PendingID         string  `gorm:"column:pending_id"`
	ReplacedByID      string  `gorm:"column:replaced_by_id"`
	RemovedAt         int64   `gorm:"column:removed_at"`
	Seq               int64   `gorm:"column:seq"`
	CreatedSeq        int64   `gorm:"column:created_seq"`
	Created           int64   `gorm:"column:created_at"`
	Updated           int64   `gorm:"column:updated_at"`
}

func (transactionRow) TableName() string { return "transactions" }

// transactionColumns is the insert column order of transactionRow.values.
var transactionColumns = []string{
	"id", "account_id", "external_id", "status", "transaction_at", "posted_at", "business_date", "value_date",
	"amount", "direction", "description", "memo", "payee", "counterparty", "check_number", "bank_reference",
	"customer_reference", "bai_code", "iso_domain", "iso_family", "iso_sub_family", "running_balance",
	"pending_id", "replaced_by_id", "removed_at", "seq", "created_seq", "created_at", "updated_at",
}

func (r *transactionRow) values() []any {
	return []any{
		r.ID, r.AccountID, r.ExternalID, r.Status, r.TransactionAt, r.PostedAt, r.BusinessDate, r.ValueDate,
		r.Amount, r.Direction, r.Description, r.Memo, r.Payee, r.Counterparty, r.CheckNumber, r.BankReference,
		r.CustomerReference, r.BAICode, r.ISODomain, r.ISOFamily, r.ISOSubFamily, r.RunningBalance,
		r.PendingID, r.ReplacedByID, r.RemovedAt, r.Seq, r.CreatedSeq, r.Created, r.Updated,
	}
}

// pointers are the scan destinations in transactionColumns order.
func (r *transactionRow) pointers() []any {
	return []any{
		&r.ID, &r.AccountID, &r.ExternalID, &r.Status, &r.TransactionAt, &r.PostedAt, &r.BusinessDate, &r.ValueDate,
		&r.Amount, &r.Direction, &r.Description, &r.Memo, &r.Payee, &r.Counterparty, &r.CheckNumber, &r.BankReference,
		&r.CustomerReference, &r.BAICode, &r.ISODomain, &r.ISOFamily, &r.ISOSubFamily, &r.RunningBalance,
		&r.PendingID, &r.ReplacedByID, &r.RemovedAt, &r.Seq, &r.CreatedSeq, &r.Created, &r.Updated,
	}
}

func transactionToRow(t store.Transaction) (transactionRow, error) {
	amount, err := cents("amount", t.Amount)
	if err != nil {
		return transactionRow{}, err
	}
	r := transactionRow{
		ID: t.ID, AccountID: t.AccountID, ExternalID: nullableString(t.ExternalID), Status: string(t.Status),
		TransactionAt: micros(t.TransactionAt), PostedAt: micros(t.PostedAt),
		BusinessDate: string(t.BusinessDate), ValueDate: string(t.ValueDate),
		Amount: amount, Direction: string(t.Direction),
		Description: t.Description, Memo: t.Memo, Payee: t.Payee, Counterparty: t.Counterparty,
		CheckNumber: t.CheckNumber, BankReference: t.BankReference, CustomerReference: t.CustomerReference,
		BAICode: t.Code.BAI, ISODomain: t.Code.Domain, ISOFamily: t.Code.Family, ISOSubFamily: t.Code.SubFamily,
		PendingID: t.PendingID, ReplacedByID: t.ReplacedByID, RemovedAt: micros(t.RemovedAt),
		Seq: t.Seq, CreatedSeq: t.CreatedSeq, Created: micros(t.CreatedAt), Updated: micros(t.UpdatedAt),
	}
	if t.HasRunning {
		rb, err := cents("runningBalance", t.RunningBalance)
		if err != nil {
			return transactionRow{}, err
		}
		r.RunningBalance = &rb
	}
	return r, nil
}

func (r transactionRow) domain() store.Transaction {
	t := store.Transaction{
		ID: r.ID, AccountID: r.AccountID, Status: store.TransactionStatus(r.Status),
		TransactionAt: fromMicros(r.TransactionAt), PostedAt: fromMicros(r.PostedAt),
		BusinessDate: store.Date(r.BusinessDate), ValueDate: store.Date(r.ValueDate),
		Amount: fromCents(r.Amount), Direction: store.Direction(r.Direction),
		Description: r.Description, Memo: r.Memo, Payee: r.Payee, Counterparty: r.Counterparty,
		CheckNumber: r.CheckNumber, BankReference: r.BankReference, CustomerReference: r.CustomerReference,
		Code:      store.BankTransactionCode{BAI: r.BAICode, Domain: r.ISODomain, Family: r.ISOFamily, SubFamily: r.ISOSubFamily},
		PendingID: r.PendingID, ReplacedByID: r.ReplacedByID, RemovedAt: fromMicros(r.RemovedAt),
		Seq: r.Seq, CreatedSeq: r.CreatedSeq, CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated),
	}
	if r.ExternalID != nil {
		t.ExternalID = *r.ExternalID
	}
	if r.RunningBalance != nil {
		t.RunningBalance, t.HasRunning = fromCents(*r.RunningBalance), true
	}
	return t
}

// nextSeq reserves k change numbers in the caller's transaction and returns
// the last. The counter row stays locked until that transaction ends, so
// writers take numbers in commit order: a reader who has seen N never later
// sees a new record numbered ≤ N.
func nextSeq(db *gorm.DB, counter string, k int) (int64, error) {
	var last int64
	err := db.Raw(`UPDATE seq_counters SET value = value + ? WHERE name = ? RETURNING value`, k, counter).Scan(&last).Error
	if err != nil {
		return 0, fmt.Errorf("reserve %s seq: %w", counter, err)
	}
	if last == 0 {
		return 0, fmt.Errorf("reserve %s seq: counter missing (migrations not applied?)", counter)
	}
	return last, nil
}

func (s *Store) CreateTransactions(ctx context.Context, txs []store.Transaction) ([]store.Transaction, error) {
	if len(txs) == 0 {
		return nil, nil
	}
	rows := make([]transactionRow, len(txs))
	for i, t := range txs {
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("gormstore: create transactions: record %d: %w", i, err)
		}
		r, err := transactionToRow(t)
		if err != nil {
			return nil, fmt.Errorf("gormstore: create transactions: record %d: %w", i, err)
		}
		rows[i] = r
	}
	out := make([]store.Transaction, len(txs))
	err := s.tx(ctx, func(db *gorm.DB) error {
		// Records already stored (a replayed feed) are returned as stored;
		// a record repeated inside the batch is inserted once.
		existing, err := s.existingByExternal(db, rows)
		if err != nil {
			return err
		}
		firstInBatch := map[key]int{}
		var fresh []int
		for i := range rows {
			if rows[i].ExternalID == nil {
				fresh = append(fresh, i)
				continue
			}
			k := key{rows[i].AccountID, *rows[i].ExternalID}
			if e, ok := existing[k]; ok {
				out[i] = e.domain()
				continue
			}
			if _, dup := firstInBatch[k]; dup {
				continue // filled in below from the first occurrence
			}
			firstInBatch[k] = i
			fresh = append(fresh, i)
		}
		if len(fresh) > 0 {
			last, err := nextSeq(db, "transactions", len(fresh))
			if err != nil {
				return err
			}
			seq := last - int64(len(fresh))
			now := micros(s.nowUTC())
			batch := make([]*transactionRow, 0, len(fresh))
			for _, i := range fresh {
				r := &rows[i]
				seq++
				if r.ID == "" {
					r.ID = store.NewID("txn")
				}
				r.Seq, r.CreatedSeq = seq, seq
				r.Created, r.Updated = now, now
				if r.Status == string(store.Posted) {
					r.ReplacedByID, r.RemovedAt = "", 0 // a posted record is never replaced or removed
				}
				batch = append(batch, r)
			}
			inserted, err := s.insertTransactions(db, batch)
			if err != nil {
				return err
			}
			for _, i := range fresh {
				out[i] = rows[i].domain()
			}
			if inserted < int64(len(batch)) {
				// A concurrent writer (PostgreSQL) stored some of these
				// external IDs after our look-up: return its records.
				stored, err := s.existingByExternal(db, rows)
				if err != nil {
					return err
				}
				for _, i := range fresh {
					if rows[i].ExternalID == nil {
						continue
					}
					if e, ok := stored[key{rows[i].AccountID, *rows[i].ExternalID}]; ok && e.ID != rows[i].ID {
						out[i] = e.domain()
					}
				}
			}
		}
		for i := range rows {
			if rows[i].ExternalID == nil {
				continue
			}
			if j, ok := firstInBatch[key{rows[i].AccountID, *rows[i].ExternalID}]; ok && j != i {
				out[i] = out[j]
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("create transactions", err)
	}
	return out, nil
}

// key is a transaction's idempotency key.
type key struct{ account, external string }

// existingByExternal loads the stored records of the batch's external IDs.
func (s *Store) existingByExternal(db *gorm.DB, rows []transactionRow) (map[key]transactionRow, error) {
	byAccount := map[string][]string{}
	for _, r := range rows {
		if r.ExternalID != nil {
			byAccount[r.AccountID] = append(byAccount[r.AccountID], *r.ExternalID)
		}
	}
	out := map[key]transactionRow{}
	step := 1000
	if s.dialect == dialectSQLite {
		step = 100 // quadratic binding, see insertTransactions
	}
	for account, ids := range byAccount {
		for start := 0; start < len(ids); start += step {
			chunk := ids[start:min(start+step, len(ids))]
			var found []transactionRow
			if err := db.Where("account_id = ? AND external_id IN ?", account, chunk).Find(&found).Error; err != nil {
				return nil, fmt.Errorf("look up external IDs: %w", err)
			}
			for _, f := range found {
				out[key{f.AccountID, *f.ExternalID}] = f
			}
		}
	}
	return out, nil
}

// sqliteInsertRows keeps SQLite statements at 464 parameters: measured
// fastest between 1 and 1,000 rows (1,000 rows ran 10× slower).
const sqliteInsertRows = 16

// insertSQL is the INSERT of n transaction rows.
func insertSQL(n int) string {
	var b strings.Builder
	b.Grow(64 + n*(len(transactionColumns)*2+3))
	b.WriteString("INSERT INTO transactions (")
	b.WriteString(strings.Join(transactionColumns, ", "))
	b.WriteString(") VALUES ")
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", len(transactionColumns)), ",") + ")"
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ph)
	}
	// A record stored concurrently under the same external ID is skipped
	// (and returned as stored) rather than failing the batch.
	b.WriteString(" ON CONFLICT (account_id, external_id) DO NOTHING")
	return b.String()
}

// insertTransactions writes rows in multi-row INSERTs (bypassing gorm's
// reflection, which would cost more than the database at 10^7 rows) and
// returns how many were inserted: 1,000 rows a statement on PostgreSQL,
// sqliteInsertRows on SQLite, whose driver binds parameters in time
// quadratic in their number (each is found by a linear search).
func (s *Store) insertTransactions(db *gorm.DB, rows []*transactionRow) (int64, error) {
	step := 1000 // 29,000 parameters, under PostgreSQL's 65,535
	if s.dialect == dialectSQLite {
		step = sqliteInsertRows
	}
	var n int64
	for start := 0; start < len(rows); start += step {
		chunk := rows[start:min(start+step, len(rows))]
		args := make([]any, 0, len(chunk)*len(transactionColumns))
		for _, r := range chunk {
			args = append(args, r.values()...)
		}
		res := db.Exec(insertSQL(len(chunk)), args...)
		if res.Error != nil {
			return n, fmt.Errorf("insert %d transactions: %w", len(chunk), res.Error)
		}
		n += res.RowsAffected
	}
	return n, nil
}

func (s *Store) GetTransaction(ctx context.Context, id string) (store.Transaction, error) {
	r, err := take[transactionRow](ctx, s, "get transaction", "id = ?", id)
	if err != nil {
		return store.Transaction{}, err
	}
	return r.domain(), nil
}

func (s *Store) GetTransactionByExternalID(ctx context.Context, accountID, externalID string) (store.Transaction, error) {
	if externalID == "" {
		return store.Transaction{}, fmt.Errorf("gormstore: get transaction by external ID: %w", store.ErrNotFound)
	}
	r, err := take[transactionRow](ctx, s, "get transaction by external ID", "account_id = ? AND external_id = ?", accountID, externalID)
	if err != nil {
		return store.Transaction{}, err
	}
	return r.domain(), nil
}

// changePending applies a one-time change to a pending record (set holds
// the columns) and gives it a new Seq, so the change feed reports it.
func (s *Store) changePending(ctx context.Context, op, pendingID string, set map[string]any) error {
	err := s.tx(ctx, func(db *gorm.DB) error {
		seq, err := nextSeq(db, "transactions", 1)
		if err != nil {
			return err
		}
		set["seq"] = seq
		set["updated_at"] = micros(s.nowUTC())
		res := db.Model(&transactionRow{}).
			Where("id = ? AND status = ? AND replaced_by_id = '' AND removed_at = 0", pendingID, string(store.Pending)).
			Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var cur transactionRow
			if err := db.Where("id = ?", pendingID).Take(&cur).Error; err != nil {
				return err
			}
			return fmt.Errorf("transaction %s is %s and cannot change: %w", pendingID, describeState(cur), store.ErrConflict)
		}
		return nil
	})
	return wrap(op, err)
}

func describeState(r transactionRow) string {
	switch {
	case r.ReplacedByID != "":
		return "already replaced"
	case r.RemovedAt != 0:
		return "already removed"
	}
	return strings.ToLower(r.Status)
}

func (s *Store) ReplacePending(ctx context.Context, pendingID, postedID string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		posted, err := s.GetTransaction(ctx, postedID)
		if err != nil {
			return fmt.Errorf("gormstore: replace pending: posted record: %w", err)
		}
		if posted.Status != store.Posted {
			return store.Invalid("postedId", "%s is not posted", postedID)
		}
		pending, err := s.GetTransaction(ctx, pendingID)
		if err != nil {
			return fmt.Errorf("gormstore: replace pending: %w", err)
		}
		if pending.AccountID != posted.AccountID {
			return store.Invalid("postedId", "belongs to another account")
		}
		return s.changePending(ctx, "replace pending", pendingID, map[string]any{"replaced_by_id": postedID})
	})
}

func (s *Store) RemovePending(ctx context.Context, pendingID string, at time.Time) error {
	if at.IsZero() {
		at = s.nowUTC()
	}
	return s.changePending(ctx, "remove pending", pendingID, map[string]any{"removed_at": micros(at)})
}

// visibleWhere restricts a transaction query to what f shows. A pending
// record changes at most once (replaced or removed), and that change gave it
// its current Seq: so "changed after AsOfSeq" is seq > AsOfSeq, and such a
// record is shown as it was then (see asOf). The condition has ? placeholders.
func visibleWhere(f store.TransactionFilter) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 8)
	b.WriteString("account_id = ?")
	args = append(args, f.AccountID)
	if f.From != "" {
		b.WriteString(" AND business_date >= ?")
		args = append(args, string(f.From))
	}
	if f.To != "" {
		b.WriteString(" AND business_date <= ?")
		args = append(args, string(f.To))
	}
	if len(f.Statuses) > 0 {
		b.WriteString(" AND status IN (?")
		b.WriteString(strings.Repeat(",?", len(f.Statuses)-1))
		b.WriteString(")")
		for _, x := range f.Statuses {
			args = append(args, string(x))
		}
	}
	hidden := "replaced_by_id <> ''"
	if !f.IncludeRemoved {
		hidden += " OR removed_at <> 0"
	}
	if f.AsOfSeq > 0 {
		b.WriteString(" AND created_seq <= ? AND (seq > ? OR NOT (" + hidden + "))")
		args = append(args, f.AsOfSeq, f.AsOfSeq)
	} else {
		b.WriteString(" AND NOT (" + hidden + ")")
	}
	return b.String(), args
}

// selectTransactions is the SELECT of every transactionRow column.
var selectTransactions = "SELECT " + strings.Join(transactionColumns, ", ") + " FROM transactions WHERE "

// queryTransactions reads up to capacity rows of where ORDER BY order.
// Every row is scanned into the same transactionRow, whose values domain
// copies out: a page of 101 rows allocated 101 rows and 101 lists of
// their fields' addresses besides the records (issue 15).
func (s *Store) queryTransactions(ctx context.Context, where string, args []any, order string, capacity int) ([]store.Transaction, error) {
	text := selectTransactions + where + " ORDER BY " + order + " LIMIT " + strconv.Itoa(capacity)
	out := make([]store.Transaction, 0, capacity)
	var row transactionRow
	dest := row.pointers()
	err := s.query(ctx, text, args, func(r rowScanner) error {
		row = transactionRow{}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		out = append(out, row.domain())
		return nil
	})
	return out, err
}

// asOf shows a record as it was at seq: a change made later is undone.
func asOf(t store.Transaction, seq int64) store.Transaction {
	if seq > 0 && t.Seq > seq {
		t.ReplacedByID, t.RemovedAt, t.Seq, t.UpdatedAt = "", time.Time{}, t.CreatedSeq, t.CreatedAt
	}
	return t
}

func (s *Store) ListTransactions(ctx context.Context, f store.TransactionFilter, after *store.TxCursor, n int) ([]store.Transaction, bool, error) {
	if f.AccountID == "" {
		return nil, false, store.Invalid("accountId", "is required")
	}
	n = limit(n)
	where, args := visibleWhere(f)
	if after != nil {
		// Expanded form of (business_date, id) > (?, ?) that both engines
		// turn into an index range on (account_id, business_date, id).
		where += " AND business_date >= ? AND (business_date > ? OR id > ?)"
		args = append(args, string(after.BusinessDate), string(after.BusinessDate), after.ID)
	}
	out, err := s.queryTransactions(ctx, where, args, "business_date, id", n+1)
	if err != nil {
		return nil, false, wrap("list transactions", err)
	}
	more := len(out) > n
	if more {
		out = out[:n]
	}
	for i := range out {
		out[i] = asOf(out[i], f.AsOfSeq)
	}
	return out, more, nil
}

func (s *Store) ListChanges(ctx context.Context, accountID string, afterSeq int64, n int) ([]store.Transaction, bool, error) {
	n = limit(n)
	out, err := s.queryTransactions(ctx, "account_id = ? AND seq > ?", []any{accountID, afterSeq}, "seq", n+1)
	if err != nil {
		return nil, false, wrap("list changes", err)
	}
	more := len(out) > n
	if more {
		out = out[:n]
	}
	return out, more, nil
}

func (s *Store) MaxSeq(ctx context.Context) (int64, error) {
	var v int64
	if err := s.read(ctx).Raw(`SELECT value FROM seq_counters WHERE name = 'transactions'`).Scan(&v).Error; err != nil {
		return 0, wrap("max seq", err)
	}
	return v, nil
}

func (s *Store) SumPosted(ctx context.Context, accountID string, from, to store.Date) (int, store.Money, store.Money, error) {
	var r struct {
		N       int64 `gorm:"column:n"`
		Debits  int64 `gorm:"column:debits"`
		Credits int64 `gorm:"column:credits"`
	}
	err := s.read(ctx).Raw(`SELECT COUNT(*) AS n,
			CAST(COALESCE(SUM(CASE WHEN direction = 'DEBIT' THEN amount ELSE 0 END), 0) AS BIGINT) AS debits,
			CAST(COALESCE(SUM(CASE WHEN direction = 'CREDIT' THEN amount ELSE 0 END), 0) AS BIGINT) AS credits
		FROM transactions
		WHERE account_id = ? AND status = 'POSTED' AND business_date >= ? AND business_date <= ?`,
		accountID, string(from), string(to)).Scan(&r).Error
	if err != nil {
		return 0, store.Money{}, store.Money{}, wrap("sum posted", err)
	}
	return int(r.N), fromCents(r.Debits), fromCents(r.Credits), nil
}

func (s *Store) StreamTransactions(ctx context.Context, f store.TransactionFilter, fn func(store.Transaction) error) error {
	if f.AsOfSeq == 0 {
		// Pin the snapshot so pages read one after another stay consistent.
		max, err := s.MaxSeq(ctx)
		if err != nil {
			return err
		}
		if max == 0 {
			return nil
		}
		f.AsOfSeq = max
	}
	var after *store.TxCursor
	for {
		page, more, err := s.ListTransactions(ctx, f, after, 1000)
		if err != nil {
			return err
		}
		for _, t := range page {
			if err := fn(t); err != nil {
				return err
			}
		}
		if !more || len(page) == 0 {
			return nil
		}
		last := page[len(page)-1]
		after = &store.TxCursor{BusinessDate: last.BusinessDate, ID: last.ID}
	}
}

type statementRow struct {
	ID            string `gorm:"column:id;primaryKey"`
	AccountID     string `gorm:"column:account_id"`
	PeriodStart   string `gorm:"column:period_start"`
	PeriodEnd     string `gorm:"column:period_end"`
	StatementDate string `gorm:"column:statement_date"`
	Opening       int64  `gorm:"column:opening"`
	Closing       int64  `gorm:"column:closing"`
	EntryCount    int64  `gorm:"column:entry_count"`
	TotalDebits   int64  `gorm:"column:total_debits"`
	TotalCredits  int64  `gorm:"column:total_credits"`
	Status        string `gorm:"column:status"`
	Created       int64  `gorm:"column:created_at"`
}

func (statementRow) TableName() string { return "statements" }

func (r statementRow) domain() store.Statement {
	return store.Statement{ID: r.ID, AccountID: r.AccountID, PeriodStart: store.Date(r.PeriodStart),
		PeriodEnd: store.Date(r.PeriodEnd), StatementDate: store.Date(r.StatementDate),
		Opening: fromCents(r.Opening), Closing: fromCents(r.Closing), EntryCount: int(r.EntryCount),
		TotalDebits: fromCents(r.TotalDebits), TotalCredits: fromCents(r.TotalCredits),
		Status: r.Status, CreatedAt: fromMicros(r.Created)}
}

func (s *Store) CreateStatement(ctx context.Context, st store.Statement) (store.Statement, error) {
	if st.ID == "" {
		st.ID = store.NewID("stm")
	}
	if !st.PeriodStart.Valid() || !st.PeriodEnd.Valid() || st.PeriodEnd.Before(st.PeriodStart) {
		return store.Statement{}, store.Invalid("period", "needs a valid start on or before its end")
	}
	if st.Status == "" {
		st.Status = "AVAILABLE"
	}
	r := statementRow{ID: st.ID, AccountID: st.AccountID, PeriodStart: string(st.PeriodStart),
		PeriodEnd: string(st.PeriodEnd), StatementDate: string(st.StatementDate), EntryCount: int64(st.EntryCount),
		Status: st.Status, Created: micros(orNow(st.CreatedAt, s.nowUTC()))}
	var err error
	for _, f := range []struct {
		name string
		m    store.Money
		dst  *int64
	}{
		{"opening", st.Opening, &r.Opening}, {"closing", st.Closing, &r.Closing},
		{"totalDebits", st.TotalDebits, &r.TotalDebits}, {"totalCredits", st.TotalCredits, &r.TotalCredits},
	} {
		if *f.dst, err = cents(f.name, f.m); err != nil {
			return store.Statement{}, err
		}
	}
	if err := s.insert(ctx, "create statement", &r); err != nil {
		return store.Statement{}, err
	}
	return r.domain(), nil
}

func (s *Store) GetStatement(ctx context.Context, id string) (store.Statement, error) {
	r, err := take[statementRow](ctx, s, "get statement", "id = ?", id)
	if err != nil {
		return store.Statement{}, err
	}
	return r.domain(), nil
}

func (s *Store) ListStatements(ctx context.Context, accountID string, from, to store.Date) ([]store.Statement, error) {
	q := s.read(ctx).Where("account_id = ?", accountID)
	if from != "" {
		q = q.Where("period_end >= ?", string(from))
	}
	if to != "" {
		q = q.Where("period_start <= ?", string(to))
	}
	var rows []statementRow
	if err := q.Order("period_start, id").Find(&rows).Error; err != nil {
		return nil, wrap("list statements", err)
	}
	out := make([]store.Statement, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
