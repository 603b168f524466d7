package demo

import (
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/store"
)

// The small demo's layout. Amounts are cents; opening balances are those at
// the start of the 13-month window.

type accountSpec struct {
	key               string
	typ               store.AccountType
	currency          string
	product, nickname string
	profile           profile
	opening, limit    int64
	rateBps, payment  int64
	sibling           string // key of the account transfers go to or come from
	accountingSync    bool   // in the accounting software user's account group
	clerk             bool   // in the ordinary user's account group
}

type entitySpec struct {
	name, legal string
	contact     store.Contact // the holder's address, e-mail and phone (FDX AccountContact)
	scalePct    int64
	payroll     *payrollSpec
	accounts    []accountSpec
}

type payrollSpec struct {
	base      int64
	employees int
}

type personSpec struct{ login, name string }

type groupSpec struct {
	key, name, legal, domain string
	parties                  *parties
	admin, approver, clerk   personSpec
	software                 personSpec
	entities                 []entitySpec
}

var smallDemo = []groupSpec{
	{
		key: "maple", name: "Maple Leaf Manufacturing", legal: "Maple Leaf Manufacturing Group Inc.", domain: "maple-leaf-mfg.example",
		parties:  &mapleParties,
		admin:    personSpec{"maple.admin", "Olivia Bennett"},
		approver: personSpec{"maple.approver", "Raj Patel"},
		clerk:    personSpec{"maple.clerk", "Grace Liu"},
		software: personSpec{"maple.ledgerly", "Ledgerly sync (accounting software)"},
		entities: []entitySpec{
			{name: "Maple Leaf Manufacturing", legal: "Maple Leaf Manufacturing Inc.", contact: store.Contact{AddressLine1: "2100 Argentia Road", City: "Mississauga", Region: "ON", PostalCode: "L5N 7Z4", Country: "CA", Email: "accounts@maple-leaf-mfg.example", Phone: "+19055550142", Language: "en"},
				scalePct: 100,
				payroll:  &payrollSpec{base: 96_500_00, employees: 42},
				accounts: []accountSpec{
					{key: "op", typ: store.AccountChecking, currency: "CAD", product: "Business Operating Account", nickname: "Operating", profile: profOperating, opening: 640_000_00, sibling: "sav", accountingSync: true, clerk: true},
					{key: "pay", typ: store.AccountChecking, currency: "CAD", product: "Business Payroll Account", nickname: "Payroll", profile: profPayroll, opening: 45_000_00, sibling: "op", accountingSync: true},
					{key: "usd", typ: store.AccountChecking, currency: "USD", product: "US Dollar Business Account", nickname: "USD operating", profile: profOperating, opening: 210_000_00, sibling: "op", accountingSync: true, clerk: true},
					{key: "sav", typ: store.AccountSavings, currency: "CAD", product: "Business Investor Account", nickname: "Reserve", profile: profSavings, opening: 1_250_000_00, rateBps: 275, sibling: "op", accountingSync: true},
					{key: "loc", typ: store.AccountLineOfCredit, currency: "CAD", product: "Business Line of Credit", nickname: "Line of credit", profile: profLineOfCredit, opening: -120_000_00, limit: 500_000_00, rateBps: 745, sibling: "op"},
					{key: "visa", typ: store.AccountCreditCard, currency: "CAD", product: "Business Visa", nickname: "Visa", profile: profCreditCard, opening: -6_400_00, limit: 50_000_00, rateBps: 1999, sibling: "op", accountingSync: true},
				}},
			{name: "Maple Leaf Properties", legal: "Maple Leaf Properties Ltd.", contact: store.Contact{AddressLine1: "2100 Argentia Road", AddressLine2: "Suite 300", City: "Mississauga", Region: "ON", PostalCode: "L5N 7Z4", Country: "CA", Email: "properties@maple-leaf-mfg.example", Phone: "+19055550143", Language: "en"},
				scalePct: 35,
				payroll:  &payrollSpec{base: 14_200_00, employees: 4},
				accounts: []accountSpec{
					{key: "op", typ: store.AccountChecking, currency: "CAD", product: "Business Operating Account", nickname: "Properties operating", profile: profOperating, opening: 180_000_00, sibling: "mort"},
					{key: "mort", typ: store.AccountLoan, currency: "CAD", product: "Commercial Mortgage", nickname: "Mortgage — 2100 Argentia Rd", profile: profLoan, opening: -1_850_000_00, limit: 0, rateBps: 589, payment: 14_250_00, sibling: "op"},
				}},
			{name: "Maple Leaf Export", legal: "Maple Leaf Export Corp.", contact: store.Contact{AddressLine1: "95 Wellington Street West", AddressLine2: "Floor 12", City: "Toronto", Region: "ON", PostalCode: "M5J 2N7", Country: "CA", Email: "export@maple-leaf-mfg.example", Phone: "+14165550187", Language: "en"},
				scalePct: 50,
				accounts: []accountSpec{
					{key: "usd", typ: store.AccountChecking, currency: "USD", product: "US Dollar Business Account", nickname: "Export USD", profile: profOperating, opening: 95_000_00, sibling: "usd"},
				}},
		},
	},
	{
		key: "boreal", name: "Boréal Logistique", legal: "Groupe Boréal Logistique inc.", domain: "boreal-logistique.example",
		parties:  &borealParties,
		admin:    personSpec{"boreal.admin", "Sophie Lavoie"},
		approver: personSpec{"boreal.approver", "Marc-André Pelletier"},
		clerk:    personSpec{"boreal.clerk", "Julie Bergeron"},
		software: personSpec{"boreal.ledgerly", "Ledgerly — synchronisation comptable"},
		entities: []entitySpec{
			{name: "Boréal Logistique", legal: "Boréal Logistique inc.", contact: store.Contact{AddressLine1: "1250, boulevard René-Lévesque Ouest", City: "Montréal", Region: "QC", PostalCode: "H3B 4W8", Country: "CA", Email: "comptabilite@boreal-logistique.example", Phone: "+15145550119", Language: "fr"},
				scalePct: 70,
				payroll:  &payrollSpec{base: 121_000_00, employees: 58},
				accounts: []accountSpec{
					{key: "op", typ: store.AccountChecking, currency: "CAD", product: "Compte d'exploitation entreprise", nickname: "Exploitation", profile: profOperating, opening: 380_000_00, sibling: "sav", accountingSync: true, clerk: true},
					{key: "sav", typ: store.AccountSavings, currency: "CAD", product: "Compte épargne entreprise", nickname: "Réserve", profile: profSavings, opening: 600_000_00, rateBps: 250, sibling: "op", accountingSync: true},
					{key: "usd", typ: store.AccountChecking, currency: "USD", product: "Compte entreprise en dollars US", nickname: "USD", profile: profOperating, opening: 120_000_00, sibling: "op", accountingSync: true, clerk: true},
					{key: "loc", typ: store.AccountLineOfCredit, currency: "CAD", product: "Marge de crédit entreprise", nickname: "Marge de crédit", profile: profLineOfCredit, opening: -240_000_00, limit: 750_000_00, rateBps: 795, sibling: "op"},
					{key: "visa", typ: store.AccountCreditCard, currency: "CAD", product: "Visa Affaires", nickname: "Visa flotte", profile: profCreditCard, opening: -12_000_00, limit: 75_000_00, rateBps: 1999, sibling: "op", accountingSync: true},
				}},
			{name: "Transport Boréal Nord", legal: "Transport Boréal Nord ltée", contact: store.Contact{AddressLine1: "455, rue du Parc", City: "Chicoutimi", Region: "QC", PostalCode: "G7H 5B4", Country: "CA", Email: "nord@boreal-logistique.example", Phone: "+14185550163", Language: "fr"},
				scalePct: 40,
				payroll:  &payrollSpec{base: 31_000_00, employees: 12},
				accounts: []accountSpec{
					{key: "op", typ: store.AccountChecking, currency: "CAD", product: "Compte d'exploitation entreprise", nickname: "Exploitation Nord", profile: profOperating, opening: 90_000_00, sibling: "loan", accountingSync: true},
					{key: "loan", typ: store.AccountLoan, currency: "CAD", product: "Prêt à terme — équipement", nickname: "Prêt camions", profile: profLoan, opening: -420_000_00, rateBps: 679, payment: 9_800_00, sibling: "op"},
				}},
		},
	},
}

// scaleSpec returns the layout of a scale run: the small demo's groups and
// entities with n accounts spread round-robin over them, in profiles that
// can carry many entries a day (no loans).
func scaleSpec(n int) []groupSpec {
	groups := make([]groupSpec, len(smallDemo))
	type slot struct{ g, e int }
	var slots []slot
	for gi, g := range smallDemo {
		groups[gi] = g
		groups[gi].entities = make([]entitySpec, len(g.entities))
		for ei, e := range g.entities {
			e.accounts = nil
			e.payroll = nil
			groups[gi].entities[ei] = e
			slots = append(slots, slot{gi, ei})
		}
	}
	pattern := []accountSpec{
		{key: "op", typ: store.AccountChecking, currency: "CAD", product: "Business Operating Account", nickname: "Operating", profile: profOperating, opening: 400_000_00},
		{key: "card", typ: store.AccountCreditCard, currency: "CAD", product: "Business Visa", nickname: "Visa", profile: profCreditCard, opening: -5_000_00, limit: 60_000_00, rateBps: 1999},
		{key: "usd", typ: store.AccountChecking, currency: "USD", product: "US Dollar Business Account", nickname: "USD operating", profile: profOperating, opening: 150_000_00},
		{key: "sav", typ: store.AccountSavings, currency: "CAD", product: "Business Investor Account", nickname: "Reserve", profile: profSavings, opening: 900_000_00, rateBps: 275},
		{key: "loc", typ: store.AccountLineOfCredit, currency: "CAD", product: "Business Line of Credit", nickname: "Line of credit", profile: profLineOfCredit, opening: -100_000_00, limit: 400_000_00, rateBps: 745},
	}
	// Operating accounts twice as often as the others.
	order := []int{0, 1, 0, 2, 0, 3, 0, 4, 2, 1}
	for i := range n {
		s := slots[i%len(slots)]
		a := pattern[order[(i/len(slots))%len(order)]]
		a.key = fmt.Sprintf("%s%d", a.key, i)
		a.accountingSync = i%3 != 2 // two thirds: some but not all
		a.clerk = a.profile == profOperating && i%7 == 0
		e := &groups[s.g].entities[s.e]
		e.accounts = append(e.accounts, a)
	}
	for gi := range groups {
		for ei := range groups[gi].entities {
			e := &groups[gi].entities[ei]
			if len(e.accounts) == 0 {
				continue
			}
			// Every account transfers with the entity's first account.
			for ai := range e.accounts {
				e.accounts[ai].sibling = e.accounts[0].key
			}
		}
	}
	return groups
}

// Plans: the layout with IDs, numbers and generator inputs, all drawn from
// the seed.

type groupPlan struct {
	spec     *groupSpec
	group    store.BusinessGroup
	entities []entityPlan
	accounts []*accountPlan                          // in creation order
	roles    struct{ software, clerk store.JobRole } // the Administrator role is built in (store.OpenBusinessGroup)
	agroups  struct{ all, software, clerk store.AccountGroup }
	users    struct{ admin, approver, software, clerk store.User }
	assigns  []store.Assignment
}

type entityPlan struct {
	entity    store.LegalEntity
	agreement store.ServiceAgreement
}

func buildPlans(seed int64, specs []groupSpec, cal calendar, target int) []*groupPlan {
	r := stream(seed, "org", 0)
	g := ids{r}
	now := cal.now
	var plans []*groupPlan
	acctIndex := 0
	for gi := range specs {
		spec := &specs[gi]
		gp := &groupPlan{spec: spec}
		gp.group = store.BusinessGroup{ID: g.newID("bg"), Name: spec.name, LegalName: spec.legal, CreatedAt: now, UpdatedAt: now}
		var all, software, clerk []string
		for ei := range spec.entities {
			es := &spec.entities[ei]
			le := store.LegalEntity{ID: g.newID("le"), BusinessGroupID: gp.group.ID, Name: es.name, LegalName: es.legal, Contact: es.contact, CreatedAt: now, UpdatedAt: now}
			sa := store.ServiceAgreement{ID: g.newID("sa"), LegalEntityID: le.ID, BusinessGroupID: gp.group.ID,
				Number: fmt.Sprintf("SA-%d-%06d", 2019+gi, between(r, 100000, 999999)), CreatedAt: now}
			gp.entities = append(gp.entities, entityPlan{entity: le, agreement: sa})
			transit := between(r, 10000, 99999)
			byKey := map[string]*accountPlan{}
			var entityAccounts []*accountPlan
			for _, as := range es.accounts {
				acctIndex++
				// 7919 is prime and coprime with 9,000,000: distinct numbers for every index.
				serial := 1_000_000 + (int64(acctIndex)*7919)%9_000_000
				number := fmt.Sprintf("%05d-999-%07d", transit, serial)
				if as.typ == store.AccountCreditCard {
					number = fmt.Sprintf("4520-99%02d-%04d-%04d", serial%100, serial/10000, serial%10000)
				}
				opened := cal.start.AddDays(-int(between(r, 400, 3000)))
				a := store.Account{
					ID: g.newID("acc"), BusinessGroupID: gp.group.ID, LegalEntityID: le.ID,
					Number: number, DisplayNumber: store.MaskAccountNumber(number),
					Type: as.typ, ProductName: as.product, Nickname: as.nickname, Currency: as.currency,
					Status: store.AccountOpen, OpenedOn: opened, CreatedAt: now, UpdatedAt: now,
				}
				if as.rateBps > 0 {
					// The rate the generator charges or pays (and names in
					// the interest entries' memo) is account data (FDX).
					a.InterestRate, a.InterestRateType = decimal.New(as.rateBps, -2), rateType(as.typ)
				}
				scale := es.scalePct
				if scale == 0 {
					scale = 100
				}
				ap := &accountPlan{stream: acctIndex, account: a, profile: as.profile, opening: as.opening, limit: as.limit,
					rateBps: as.rateBps, payment: as.payment, scalePct: scale, target: target, parties: spec.parties}
				byKey[as.key] = ap
				entityAccounts = append(entityAccounts, ap)
				gp.accounts = append(gp.accounts, ap)
				all = append(all, a.ID)
				if as.accountingSync {
					software = append(software, a.ID)
				}
				if as.clerk {
					clerk = append(clerk, a.ID)
				}
			}
			for i, as := range es.accounts {
				if sib, ok := byKey[as.sibling]; ok {
					entityAccounts[i].sibling = sib.account.DisplayNumber
				} else {
					entityAccounts[i].sibling = "****" + fmt.Sprint(between(r, 1000, 9999))
				}
			}
			if ps := es.payroll; ps != nil {
				op, pay := byKey["op"], byKey["pay"]
				if op != nil {
					pp := &payrollPlan{seed: seed, entity: acctIndex, base: ps.base, employees: ps.employees, direct: pay == nil}
					op.payroll = pp
					if pay != nil {
						pp.other = pay.account.DisplayNumber
						pay.payroll = &payrollPlan{seed: seed, entity: acctIndex, base: ps.base, employees: ps.employees, other: op.account.DisplayNumber}
					}
				}
			} else if target > 0 {
				// Scale runs: every CAD operating account pays its own payroll.
				for _, ap := range entityAccounts {
					if ap.profile == profOperating && ap.account.Currency == "CAD" {
						ap.payroll = &payrollPlan{seed: seed, entity: ap.stream, base: between(r, 20_000, 90_000) * 100,
							employees: int(between(r, 8, 60)), direct: true}
					}
				}
			}
		}
		slices.Sort(all)
		slices.Sort(software)
		slices.Sort(clerk)
		bg := gp.group.ID
		gp.roles.software = store.JobRole{ID: g.newID("role"), BusinessGroupID: bg, Name: "Accounting software — read only",
			Description: "For the accounting software user: Account summary and Manage statements, View only",
			Grants:      store.AccountingSoftwareReadOnlyGrants(), CreatedAt: now, UpdatedAt: now, Version: 1}
		gp.roles.clerk = store.JobRole{ID: g.newID("role"), BusinessGroupID: bg, Name: "Accounts payable clerk",
			Description: "Views accounts and statements, prepares bill payments and transfers",
			Grants: store.Grants{
				{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)},
				{Permission: store.PermManageStatements, Rights: store.Rights(store.RightView)},
				{Permission: store.PermBillPayments, Rights: store.Rights(store.RightView, store.RightCreate, store.RightExecute)},
				{Permission: store.PermTransfers, Rights: store.Rights(store.RightView, store.RightCreate)},
			}, CreatedAt: now, UpdatedAt: now, Version: 1}
		gp.agroups.all = store.AccountGroup{ID: g.newID("ag"), BusinessGroupID: bg, Name: "All accounts", AccountIDs: all, CreatedAt: now, UpdatedAt: now, Version: 1}
		gp.agroups.software = store.AccountGroup{ID: g.newID("ag"), BusinessGroupID: bg, Name: "Ledgerly — synced accounts", AccountIDs: software, CreatedAt: now, UpdatedAt: now, Version: 1}
		gp.agroups.clerk = store.AccountGroup{ID: g.newID("ag"), BusinessGroupID: bg, Name: "Operating accounts", AccountIDs: clerk, CreatedAt: now, UpdatedAt: now, Version: 1}
		user := func(p personSpec, software bool, status store.UserStatus) store.User {
			local := p.login[len(spec.key)+1:]
			return store.User{ID: g.newID("usr"), BusinessGroupID: bg, LoginID: p.login, DisplayName: p.name,
				Email: local + "@" + spec.domain, AccountingSoftware: software, Status: status, CreatedAt: now, UpdatedAt: now, Version: 1}
		}
		gp.users.admin = user(spec.admin, false, store.UserActive)
		gp.users.approver = user(spec.approver, false, store.UserActive)
		gp.users.software = user(spec.software, true, store.UserAwaitingSignIn)
		gp.users.clerk = user(spec.clerk, false, store.UserActive)
		assign := func(u store.User, le string, role store.JobRole, ag store.AccountGroup) {
			gp.assigns = append(gp.assigns, store.Assignment{ID: g.newID("asg"), BusinessGroupID: bg, LegalEntityID: le,
				UserID: u.ID, JobRoleID: role.ID, AccountGroupID: ag.ID, CreatedAt: now, UpdatedAt: now, Version: 1})
		}
		// The administrator and the approver are onboarded as the bank's
		// operator does (store.AddAdministrator): the built-in role and group.
		assign(gp.users.software, "", gp.roles.software, gp.agroups.software)
		assign(gp.users.clerk, gp.entities[0].entity.ID, gp.roles.clerk, gp.agroups.clerk)
		plans = append(plans, gp)
	}
	return plans
}

// rateType is the demo's interest rate type by product: lines of credit and
// savings move with the bank's prime rate; term loans, mortgages and cards
// are fixed.
func rateType(t store.AccountType) store.InterestRateType {
	switch t {
	case store.AccountLineOfCredit, store.AccountSavings:
		return store.RateVariable
	}
	return store.RateFixed
}
