package dataapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// The transactions page and the change feed are the responses vendors pull
// by the thousand every night. They are written by hand into one buffer and
// sent with a Content-Length: encoding/json's reflection and the response's
// 2 kB chunks were a quarter of a page's server CPU. The output is
// byte-for-byte what encoding/json writes for the same values (HTML-safe
// escaping, member order, omitempty, the trailing newline echo adds); a test
// compares the two.

// bufPool holds response buffers; a page of 100 transactions is ~70 kB.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 96<<10); return &b }}

// maxPooledBuf keeps the pool from holding on to a rare huge page.
const maxPooledBuf = 1 << 20

// sendJSON writes body (made by build into a pooled buffer) as a 200
// application/json response.
func sendJSON(c echo.Context, build func([]byte) []byte) error {
	bp := bufPool.Get().(*[]byte)
	b := append(build((*bp)[:0]), '\n')
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
	c.Response().WriteHeader(http.StatusOK)
	_, err := c.Response().Write(b)
	if cap(b) <= maxPooledBuf {
		*bp = b[:0]
		bufPool.Put(bp)
	}
	return err
}

// jsonObject appends an object's members, writing the commas.
type jsonObject struct {
	b    []byte
	more bool
}

func beginObject(b []byte) jsonObject { return jsonObject{b: append(b, '{')} }

func (o *jsonObject) end() []byte { return append(o.b, '}') }

func (o *jsonObject) key(name string) {
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = append(o.b, '"')
	o.b = append(o.b, name...) // member names are plain ASCII constants
	o.b = append(o.b, '"', ':')
}

func (o *jsonObject) str(name, v string) {
	o.key(name)
	o.b = appendJSONString(o.b, v)
}

// strOmit is str with omitempty.
func (o *jsonObject) strOmit(name, v string) {
	if v != "" {
		o.str(name, v)
	}
}

func (o *jsonObject) money(name string, m money) {
	o.key(name)
	o.b = appendMoney(o.b, store.Money(m))
}

func (o *jsonObject) boolean(name string, v bool) {
	o.key(name)
	o.b = strconv.AppendBool(o.b, v)
}

// bankTxCode writes bankTransactionCode: bai2 (omitted when empty) and
// iso20022 (omitted when nil).
func (o *jsonObject) bankTxCode(bai string, iso *isoCodeJSON) {
	o.key("bankTransactionCode")
	code := beginObject(o.b)
	code.strOmit("bai2", bai)
	if iso != nil {
		code.key("iso20022")
		i := beginObject(code.b)
		i.str("domain", iso.Domain)
		i.str("family", iso.Family)
		i.str("subFamily", iso.SubFamily)
		code.b = i.end()
	}
	o.b = code.end()
}

// appendJSON is encoding/json's encoding of t.
func (t *transactionJSON) appendJSON(b []byte) []byte {
	o := beginObject(b)
	o.str("accountCategory", t.AccountCategory)
	o.str("accountId", t.AccountID)
	o.str("transactionId", t.TransactionID)
	o.strOmit("postedTimestamp", t.PostedTimestamp)
	o.str("transactionTimestamp", t.TransactionTimestamp)
	o.str("description", t.Description)
	o.strOmit("memo", t.Memo)
	o.str("debitCreditMemo", t.DebitCreditMemo)
	o.money("amount", t.Amount)
	o.str("status", t.Status)
	o.strOmit("payee", t.Payee)
	if t.CheckNumber != nil {
		o.key("checkNumber")
		o.b = strconv.AppendInt(o.b, *t.CheckNumber, 10)
	}
	o.strOmit("reference", t.Reference)
	o.strOmit("postedDate", t.PostedDate)
	o.str("businessDate", t.BusinessDate)
	o.strOmit("valueDate", t.ValueDate)
	if t.RunningBalance != nil {
		o.money("runningBalance", *t.RunningBalance)
	}
	o.strOmit("pendingTransactionId", t.PendingTransactionID)
	o.str("mutability", t.Mutability)
	if c := t.BankTransactionCode; c != nil {
		o.bankTxCode(c.BAI2, c.ISO20022)
	}
	o.strOmit("counterparty", t.Counterparty)
	o.strOmit("customerReference", t.CustomerReference)
	return o.end()
}

func appendTransactions(b []byte, ts []transactionJSON) []byte {
	if ts == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = ts[i].appendJSON(b)
	}
	return append(b, ']')
}

func (p *pageJSON) appendJSON(b []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	o := beginObject(b)
	o.strOmit("nextPageKey", p.NextPageKey)
	o.strOmit("nextOffset", p.NextOffset)
	return o.end()
}

func (t *transactionsJSON) appendJSON(b []byte) []byte {
	o := beginObject(b)
	o.key("page")
	o.b = t.Page.appendJSON(o.b)
	o.key("transactions")
	o.b = appendTransactions(o.b, t.Transactions)
	return o.end()
}

func (s *syncJSON) appendJSON(b []byte) []byte {
	o := beginObject(b)
	o.key("added")
	o.b = appendTransactions(o.b, s.Added)
	o.key("modified")
	o.b = appendTransactions(o.b, s.Modified)
	o.key("removed")
	if s.Removed == nil {
		o.b = append(o.b, "null"...)
	} else {
		o.b = append(o.b, '[')
		for i, r := range s.Removed {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			id := beginObject(o.b)
			id.str("transactionId", r.TransactionID)
			o.b = id.end()
		}
		o.b = append(o.b, ']')
	}
	o.str("nextCursor", s.NextCursor)
	o.boolean("hasMore", s.HasMore)
	return o.end()
}

// appendMoney is money.MarshalJSON without its allocations when the amount
// is a whole number of cents that fits an int64 (every stored amount).
func appendMoney(b []byte, m store.Money) []byte {
	exp := m.Exponent()
	if exp < -2 || exp > 0 || m.NumDigits() > 16 {
		return append(b, m.StringFixed(2)...)
	}
	c := m.CoefficientInt64()
	switch exp { // to cents
	case 0:
		c *= 100
	case -1:
		c *= 10
	}
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, c/100, 10)
	cents := c % 100
	return append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes encoding/json copies as they are (with
// HTML escaping): printable, except the quote, backslash, <, > and &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString is encoding/json's string encoding with HTML escaping:
// <, > and & as \u003c…, control characters as \n or \u00XX, invalid UTF-8
// as \ufffd, and U+2028/U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTransaction is transactionOf(category, *t).appendJSON(b) without
// building the intermediate strings (three timestamps and the money
// pointers of every entry of every page); a test holds the two equal.
func appendTransaction(b []byte, category string, t *store.Transaction) []byte {
	posted := t.Status == store.Posted
	o := beginObject(b)
	o.str("accountCategory", category)
	o.str("accountId", t.AccountID)
	o.str("transactionId", t.ID)
	if posted && !t.PostedAt.IsZero() {
		o.key("postedTimestamp")
		o.b = appendTimestamp(o.b, t.PostedAt)
	}
	o.key("transactionTimestamp")
	if !t.TransactionAt.IsZero() {
		o.b = appendTimestamp(o.b, t.TransactionAt)
	} else if start := dateStart(t.BusinessDate); !start.IsZero() {
		o.b = appendTimestamp(o.b, start)
	} else {
		o.b = append(o.b, `""`...)
	}
	o.str("description", t.Description)
	o.strOmit("memo", t.Memo)
	o.str("debitCreditMemo", string(t.Direction))
	o.key("amount")
	o.b = appendMoney(o.b, t.Amount)
	o.str("status", string(t.Status))
	o.strOmit("payee", t.Payee)
	if t.CheckNumber != "" {
		if n, err := strconv.ParseInt(t.CheckNumber, 10, 64); err == nil && n > 0 {
			o.key("checkNumber")
			o.b = strconv.AppendInt(o.b, n, 10)
		}
	}
	o.strOmit("reference", t.BankReference)
	if posted {
		o.strOmit("postedDate", string(t.BusinessDate))
	}
	o.str("businessDate", string(t.BusinessDate))
	o.strOmit("valueDate", string(t.ValueDate))
	if posted && t.HasRunning {
		o.key("runningBalance")
		o.b = appendMoney(o.b, t.RunningBalance)
	}
	mutability := "MUTABLE"
	if posted {
		o.strOmit("pendingTransactionId", t.PendingID)
		mutability = "IMMUTABLE"
	}
	o.str("mutability", mutability)
	if c := t.Code; c.BAI != "" || c.Domain != "" {
		var iso *isoCodeJSON
		if c.Domain != "" {
			iso = &isoCodeJSON{Domain: c.Domain, Family: c.Family, SubFamily: c.SubFamily}
		}
		o.bankTxCode(c.BAI, iso)
	}
	o.strOmit("counterparty", t.Counterparty)
	o.strOmit("customerReference", t.CustomerReference)
	return o.end()
}

// appendTimestamp is timestamp(t) as a JSON string (its characters need no
// escaping), formatted by hand: time's layout interpreter was a tenth of a
// page's CPU. The same digits as timestampLayout: milliseconds truncated,
// the offset as ±hh:mm (Z for UTC), years outside 0–9999 left to time.
// The zone is looked up once: the wall clock is the UTC one moved by the
// offset (Date, Clock and Zone on the zoned time looked it up each, 3 %
// of a page's CPU).
func appendTimestamp(b []byte, t time.Time) []byte {
	t = t.In(bankZone())
	_, offset := t.Zone()
	wall := t.UTC().Add(time.Duration(offset) * time.Second)
	year, month, day := wall.Date()
	if year < 0 || year > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, timestampLayout)
		return append(b, '"')
	}
	hour, minute, sec := wall.Clock()
	b = append(b, '"')
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, wall.Nanosecond()/1e6, 3)
	if offset == 0 {
		b = append(b, 'Z')
	} else {
		zone := offset / 60 // minutes, truncated like time's
		if zone < 0 {
			b = append(b, '-')
			zone = -zone
		} else {
			b = append(b, '+')
		}
		b = appendDigits(b, zone/60, 2)
		b = append(b, ':')
		b = appendDigits(b, zone%60, 2)
	}
	return append(b, '"')
}

// appendDigits appends n (≥ 0) zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:width]...)
}

// appendTransactionsPage is transactionsJSON{pageOf(next), transactionOf…}
// .appendJSON(b) straight from the store's records.
func appendTransactionsPage(b []byte, category string, txs []store.Transaction, next string) []byte {
	o := beginObject(b)
	o.key("page")
	o.b = pageOf(next).appendJSON(o.b)
	o.key("transactions")
	o.b = append(o.b, '[')
	for i := range txs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendTransaction(o.b, category, &txs[i])
	}
	o.b = append(o.b, ']')
	return o.end()
}
