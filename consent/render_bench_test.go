package consent

import (
	"bytes"
	"fmt"
	"html/template"
	"testing"

	"github.com/bankfeed/bankfeed/internal/branding"
)

// BenchmarkConsentPageRender renders the bundled consent page for five
// accounts, as every flow does once (issue 15).
func BenchmarkConsentPageRender(b *testing.B) {
	files, err := branding.UIFiles("", "consent", assets)
	if err != nil {
		b.Fatal(err)
	}
	t, err := template.New("consent").ParseFS(files, "templates/layout.html", "templates/consent.html")
	if err != nil {
		b.Fatal(err)
	}
	l := catalogue(langEN)
	p := consentPage{base: base{L: l, Lang: langEN, Title: "Connect Ledgerly", User: "Avery Clerk", Links: true},
		Action: "/consent?login_challenge=abc", Vendor: "Ledgerly", Sees: []string{"Account details", "Balances", "Transactions"},
		Offline: true, Duration: "Until you disconnect"}
	for i := range 5 {
		p.Accounts = append(p.Accounts, accountRow{Name: fmt.Sprintf("Operating %d", i), Number: "•••• 123" + fmt.Sprint(i),
			Currency: "CAD", Entity: "Maple Foods Ltd", Type: l.T("type_checking")})
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
			b.Fatal(err)
		}
	}
}
