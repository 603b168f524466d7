package demo

import (
	"fmt"
	"io"
	"strings"
)

// Credentials are the demo's sign-in details, to print once. They hold
// secrets: never log them.
type Credentials struct {
	BusinessGroups []GroupCredentials `json:"businessGroups"`
	Vendor         VendorCredentials  `json:"vendor"`
	// SecurityQuestion (a store.SecurityQuestions key) and SecurityAnswer are
	// every active demo user's.
	SecurityQuestion string `json:"securityQuestion"`
	SecurityAnswer   string `json:"securityAnswer"`
}

// GroupCredentials are one business group's people and the accounting
// software user's access.
type GroupCredentials struct {
	ID                 string        `json:"id"`
	Name               string        `json:"name"`
	Administrator      Login         `json:"administrator"`
	SecondApprover     Login         `json:"secondApprover"`
	AccountingSoftware Login         `json:"accountingSoftwareUser"`
	OrdinaryUser       Login         `json:"ordinaryUser"`
	JobRole            NamedID       `json:"jobRole"` // the accounting software user's
	AccountGroup       AccountGroup  `json:"accountGroup"`
	Accounts           []AccountInfo `json:"accounts,omitempty"` // small demo only
	AccountCount       int           `json:"accountCount"`
}

// Login is a user's sign-in details. Temporary passwords must be replaced at
// first sign-in.
type Login struct {
	UserID            string `json:"userId"`
	LoginID           string `json:"loginId"`
	DisplayName       string `json:"displayName"`
	Password          string `json:"password"`
	TemporaryPassword bool   `json:"temporaryPassword"`
	Status            string `json:"status"`
}

// NamedID is a record's ID and name.
type NamedID struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AccountGroup is the accounting software user's account group.
type AccountGroup struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	AccountIDs []string `json:"accountIds"`
}

// AccountInfo describes one demo account.
type AccountInfo struct {
	ID             string `json:"id"`
	DisplayNumber  string `json:"displayNumber"`
	Type           string `json:"type"`
	Currency       string `json:"currency"`
	Nickname       string `json:"nickname"`
	LegalEntity    string `json:"legalEntity"`
	InAccountGroup bool   `json:"inAccountGroup"`
}

// VendorCredentials are the demo vendor client's.
type VendorCredentials struct {
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	RedirectURI  string   `json:"redirectUri"`
	Name         string   `json:"name"`
	Scopes       []string `json:"scopes"`
}

// Print writes the credentials for a person to read.
func (c Credentials) Print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("Demo credentials (shown once; passwords are random on every seed)\n\n")
	for _, g := range c.BusinessGroups {
		p("%s (%s)\n", g.Name, g.ID)
		for _, l := range []struct {
			label string
			login Login
		}{{"Administrator", g.Administrator}, {"Second approver", g.SecondApprover}, {"Ordinary user", g.OrdinaryUser}, {"Accounting software user", g.AccountingSoftware}} {
			kind := "password"
			if l.login.TemporaryPassword {
				kind = "temporary password"
			}
			p("  %-26s %-18s %s: %s  (%s)\n", l.label+":", l.login.LoginID, kind, l.login.Password, l.login.Status)
		}
		p("  Accounting software job role: %q (%s)\n", g.JobRole.Name, g.JobRole.ID)
		p("  Its account group: %q (%s), %d of %d accounts\n", g.AccountGroup.Name, g.AccountGroup.ID, len(g.AccountGroup.AccountIDs), g.AccountCount)
		for _, a := range g.Accounts {
			mark := " "
			if a.InAccountGroup {
				mark = "*"
			}
			p("   %s %-28s %-9s %-13s %s %s — %s\n", mark, a.ID, a.DisplayNumber, a.Type, a.Currency, a.Nickname, a.LegalEntity)
		}
		if len(g.Accounts) > 0 {
			p("   (* = in the accounting software user's account group)\n")
		}
		p("\n")
	}
	p("Security question of the active users: %s, answer: %s\n\n", c.SecurityQuestion, c.SecurityAnswer)
	p("Demo vendor client: %s\n", c.Vendor.Name)
	p("  client_id:     %s\n", c.Vendor.ClientID)
	p("  client_secret: %s\n", c.Vendor.ClientSecret)
	p("  redirect_uri:  %s\n", c.Vendor.RedirectURI)
	p("  scopes:        %s\n", strings.Join(c.Vendor.Scopes, " "))
}
