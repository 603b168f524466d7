package statementtest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/testenv"
)

// OFXTransaction is one STMTTRN as an importer read it.
type OFXTransaction struct {
	ID     string    `json:"id"`
	Date   time.Time `json:"date"` // DTPOSTED as the reader understood it (UTC)
	Amount string    `json:"amount"`
	Payee  string    `json:"payee"`
	Memo   string    `json:"memo"`
}

// OFXRead is an OFX file as an importer read it.
type OFXRead struct {
	AccountID    string           `json:"account_id"`
	Balance      string           `json:"balance"`
	Transactions []OFXTransaction `json:"transactions"`
}

// ofxparseScript prints what Odoo's importer takes from a file (it calls
// OfxParser.parse on the upload's bytes and reads these fields), as JSON.
const ofxparseScript = `
import json, sys, ofxparse
o = ofxparse.OfxParser.parse(open(sys.argv[1], 'rb'))
a = o.account
print(json.dumps({
    'account_id': a.account_id,
    'balance': str(a.statement.balance),
    'transactions': [{'id': t.id, 'date': t.date.strftime('%Y-%m-%dT%H:%M:%SZ'), 'amount': str(t.amount),
                      'payee': t.payee, 'memo': t.memo} for t in a.statement.transactions],
}))
`

// OFXParse reads data with Odoo's ofxparse (Debian python3-ofxparse; .ci/run
// installs it, as the other importers), as
// Odoo's bank-statement import does. It fails t when ofxparse cannot read
// the file and skips it through testenv without ofxparse.
func OFXParse(t testing.TB, data []byte) OFXRead {
	t.Helper()
	py := ""
	// Debian's package installs for the system interpreter, which a
	// version manager's python3 on PATH may not be.
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(c); err == nil && exec.Command(p, "-c", "import ofxparse").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		testenv.Need(t, testenv.OFXParse, "no python3 with the ofxparse module")
	}
	f := filepath.Join(t.TempDir(), "statement.ofx")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", ofxparseScript, f).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ofxparse cannot read the file: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var r OFXRead
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ofxparse output: %v\n%s", err, out)
	}
	return r
}

// OFXDump reads data with libofx's ofxdump (Debian ofx), the library
// GnuCash and KMyMoney import OFX with, in UTC. It skips t through testenv
// without ofxdump.
func OFXDump(t testing.TB, data []byte) OFXRead {
	t.Helper()
	bin := testenv.LookPath(t, testenv.OFXDump, "ofxdump")
	f := filepath.Join(t.TempDir(), "statement.ofx")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, f)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ofxdump: %v\n%s", err, out)
	}
	var r OFXRead
	var tx *OFXTransaction
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "ofx_proc_transaction():" {
			r.Transactions = append(r.Transactions, OFXTransaction{})
			tx = &r.Transactions[len(r.Transactions)-1]
			continue
		}
		if strings.HasSuffix(line, "():") {
			tx = nil
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch {
		case tx == nil && key == "Account #":
			r.AccountID = val
		case tx == nil && key == "Ledger balance":
			r.Balance = val
		case tx == nil:
		case key == "Financial institution's ID for this transaction":
			tx.ID = val
		case key == "Date posted":
			d, err := time.Parse("Mon Jan _2 15:04:05 2006 MST", val)
			if err != nil {
				t.Fatalf("ofxdump date %q: %v", val, err)
			}
			tx.Date = d
		case key == "Total money amount":
			tx.Amount = val
		case key == "Name of payee or transaction description":
			tx.Payee = val
		case key == "Extra transaction information (memo)":
			tx.Memo = val
		}
	}
	if len(r.Transactions) == 0 {
		t.Fatalf("ofxdump read no transactions:\n%s", out)
	}
	return r
}

// HLedger reads a CSV export with hledger (Debian hledger) and the given
// CSV rules, and returns `hledger print -O csv`'s rows (a header, then one
// row per posting). It skips t through testenv without hledger.
func HLedger(t testing.TB, data []byte, rules string) [][]string {
	t.Helper()
	bin := testenv.LookPath(t, testenv.HLedger, "hledger")
	dir := t.TempDir()
	f := filepath.Join(dir, "export.csv")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f+".rules", []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", f, "print", "-O", "csv")
	cmd.Env = append(os.Environ(), "LEDGER_FILE="+f)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("hledger cannot read the CSV: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("hledger output: %v\n%s", err, out)
	}
	return rows
}
