package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/ops/feed"
	"github.com/bankfeed/bankfeed/store"
)

// The operator API: the bank's core systems feed bankfeed. Every change is
// audited under the business group it touches, with the client as actor.

type businessGroupJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	LegalName string    `json:"legalName,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toBusinessGroupJSON(g store.BusinessGroup) businessGroupJSON {
	return businessGroupJSON{ID: g.ID, Name: g.Name, LegalName: g.LegalName, CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC()}
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

type orgBody struct {
	ID              string       `json:"id"`
	BusinessGroupID string       `json:"businessGroupId"`
	Name            *string      `json:"name"`
	LegalName       *string      `json:"legalName"`
	Contact         *contactJSON `json:"contact"` // legal entities only; replaces the whole contact
}

// contactJSON is a legal entity's contact, which FDX AccountContact sends
// to recipients as the holder's (issue 13 §2).
type contactJSON struct {
	AddressLine1 string `json:"addressLine1,omitempty"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	City         string `json:"city,omitempty"`
	Region       string `json:"region,omitempty"`
	PostalCode   string `json:"postalCode,omitempty"`
	Country      string `json:"country,omitempty"`
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Language     string `json:"language,omitempty"` // of the bank's documents (PDF statements): en or fr
}

var (
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	e164RE    = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// contact checks c field by field (FDX's Address and TelephoneNumber
// limits) and returns it as the store's.
func (c contactJSON) contact() (store.Contact, error) {
	t := strings.TrimSpace
	out := store.Contact{AddressLine1: t(c.AddressLine1), AddressLine2: t(c.AddressLine2), City: t(c.City), Region: t(c.Region),
		PostalCode: t(c.PostalCode), Country: t(c.Country), Email: t(c.Email), Phone: t(c.Phone), Language: t(c.Language)}
	var errs []apihttp.FieldError
	for _, f := range []struct {
		name, v string
		max     int
	}{{"addressLine1", out.AddressLine1, 64}, {"addressLine2", out.AddressLine2, 64}, {"city", out.City, 64}, {"region", out.Region, 64},
		{"postalCode", out.PostalCode, 10}, {"email", out.Email, 254}} {
		if len([]rune(f.v)) > f.max {
			errs = append(errs, apihttp.FieldError{Field: "contact." + f.name, Message: fmt.Sprintf("is longer than %d characters", f.max)})
		}
	}
	if out.Country != "" && !countryRE.MatchString(out.Country) {
		errs = append(errs, apihttp.FieldError{Field: "contact.country", Message: "must be an ISO 3166-1 alpha-2 code, e.g. CA"})
	}
	if out.Email != "" && (!strings.Contains(out.Email, "@") || strings.ContainsAny(out.Email, " <>")) {
		errs = append(errs, apihttp.FieldError{Field: "contact.email", Message: "must be an e-mail address"})
	}
	if out.Phone != "" && !e164RE.MatchString(out.Phone) {
		errs = append(errs, apihttp.FieldError{Field: "contact.phone", Message: "must be an E.164 number, e.g. +14165550100"})
	}
	if out.Language != "" && out.Language != "en" && out.Language != "fr" {
		errs = append(errs, apihttp.FieldError{Field: "contact.language", Message: "must be en or fr, the languages of the bank's documents"})
	}
	if len(errs) > 0 {
		return store.Contact{}, apihttp.InvalidFields(errs...)
	}
	return out, nil
}

func toContactJSON(c store.Contact) *contactJSON {
	if c == (store.Contact{}) {
		return nil
	}
	j := contactJSON(c)
	return &j
}

// orgRecord tells the operator handlers how to store one kind of
// organisation record: business groups and legal entities take the same
// body, name rules and audited create and update; only their parents differ.
type orgRecord[T, J any] struct {
	noun    string // "business group": in problems and errors
	kind    string // "business_group": the audit's target type and action prefix
	idField string // the field a PATCH that would move the record is refused on
	create  func(context.Context, T) (T, error)
	get     func(context.Context, string) (T, error)
	update  func(context.Context, string, func(T) (T, error)) (T, error)
	toJSON  func(T) J
	fields  func(*T) orgFields
}

// orgFields points into a record at what orgBody edits and the audit names;
// a business group is its own business group.
type orgFields struct {
	id, businessGroupID, name, legalName *string
	updatedAt                            *time.Time
	contact                              *store.Contact // nil: the record has none (a business group)
}

func (s *Server) businessGroups() orgRecord[store.BusinessGroup, businessGroupJSON] {
	return orgRecord[store.BusinessGroup, businessGroupJSON]{noun: "business group", kind: "business_group", idField: "id",
		create: s.st.CreateBusinessGroup, get: s.st.GetBusinessGroup, update: s.st.UpdateBusinessGroup, toJSON: toBusinessGroupJSON,
		fields: func(g *store.BusinessGroup) orgFields {
			return orgFields{id: &g.ID, businessGroupID: &g.ID, name: &g.Name, legalName: &g.LegalName, updatedAt: &g.UpdatedAt}
		}}
}

func (s *Server) legalEntities() orgRecord[store.LegalEntity, legalEntityJSON] {
	return orgRecord[store.LegalEntity, legalEntityJSON]{noun: "legal entity", kind: "legal_entity", idField: "businessGroupId",
		create: s.st.CreateLegalEntity, get: s.st.GetLegalEntity, update: s.st.UpdateLegalEntity, toJSON: toLegalEntityJSON,
		fields: func(e *store.LegalEntity) orgFields {
			return orgFields{id: &e.ID, businessGroupID: &e.BusinessGroupID, name: &e.Name, legalName: &e.LegalName, updatedAt: &e.UpdatedAt,
				contact: &e.Contact}
		}}
}

// load gets a record; a missing one is a 404 problem.
func (r orgRecord[T, J]) load(ctx context.Context, id string) (T, error) {
	return apihttp.Lookup(ctx, r.noun, id, r.get)
}

// orgID is the ID a create body asks for, or a new one.
func orgID(asked, prefix string) (string, error) {
	if asked == "" {
		return store.NewID(prefix), nil
	}
	if !idRE.MatchString(asked) {
		return "", apihttp.InvalidField("id", "must be 1 to 64 letters, digits, _ or -")
	}
	return asked, nil
}

func (b orgBody) requireName() error {
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		return apihttp.InvalidField("name", "is required")
	}
	return nil
}

// setNames copies the names the body gives, trimmed, and its contact,
// which checkContact has checked.
func (b orgBody) setNames(f orgFields) {
	if b.Name != nil {
		*f.name = strings.TrimSpace(*b.Name)
	}
	if b.LegalName != nil {
		*f.legalName = strings.TrimSpace(*b.LegalName)
	}
	if b.Contact != nil && f.contact != nil {
		*f.contact, _ = b.Contact.contact()
	}
}

// checkContact refuses a contact the record cannot hold or a bad field.
func (b orgBody) checkContact(f orgFields) error {
	if b.Contact == nil {
		return nil
	}
	if f.contact == nil {
		return apihttp.InvalidField("contact", "only a legal entity has a contact")
	}
	_, err := b.Contact.contact()
	return err
}

// opsCreateOrg stores v, which the handler checked and built from b, and
// audits it in the same transaction.
func opsCreateOrg[T, J any](s *Server, c echo.Context, r orgRecord[T, J], b orgBody, v T) error {
	ctx := c.Request().Context()
	if err := b.checkContact(r.fields(&v)); err != nil {
		return err
	}
	b.setNames(r.fields(&v))
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if v, err = r.create(ctx, v); errors.Is(err, store.ErrConflict) {
			return apihttp.Conflict("a %s with ID %q exists", r.noun, b.ID)
		} else if err != nil {
			return fmt.Errorf("ops: create %s: %w", r.noun, err)
		}
		f := r.fields(&v)
		return s.audit(ctx, operatorFrom(c), *f.businessGroupID, r.kind+".created", r.kind, *f.id, nil, r.toJSON(v))
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r.toJSON(v))
}

func opsGetOrg[T, J any](c echo.Context, r orgRecord[T, J]) error {
	v, err := r.load(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r.toJSON(v))
}

// opsUpdateOrg changes the names of the record in the path; its ID and
// business group never change.
func opsUpdateOrg[T, J any](s *Server, c echo.Context, r orgRecord[T, J]) error {
	ctx := c.Request().Context()
	cur, err := r.load(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	var b orgBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.ID != "" || b.BusinessGroupID != "" {
		return apihttp.InvalidField(r.idField, "cannot change")
	}
	if b.Name != nil && strings.TrimSpace(*b.Name) == "" {
		return apihttp.InvalidField("name", "cannot be empty")
	}
	if err := b.checkContact(r.fields(&cur)); err != nil {
		return err
	}
	var v T
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		v, err = r.update(ctx, *r.fields(&cur).id, func(v T) (T, error) {
			f := r.fields(&v)
			b.setNames(f)
			*f.updatedAt = s.now().UTC()
			return v, nil
		})
		if err != nil {
			return fmt.Errorf("ops: update %s: %w", r.noun, err)
		}
		f := r.fields(&v)
		return s.audit(ctx, operatorFrom(c), *f.businessGroupID, r.kind+".updated", r.kind, *f.id, r.toJSON(cur), r.toJSON(v))
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r.toJSON(v))
}

func (s *Server) handleCreateBusinessGroup(c echo.Context) error {
	var b orgBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.BusinessGroupID != "" {
		return apihttp.InvalidField("businessGroupId", "is not a field of a business group")
	}
	g := store.BusinessGroup{CreatedAt: s.now().UTC(), UpdatedAt: s.now().UTC()}
	var err error
	if g.ID, err = orgID(b.ID, "bg"); err != nil {
		return err
	}
	if err := b.requireName(); err != nil {
		return err
	}
	return s.opsOpenBusinessGroup(c, b, g)
}

func (s *Server) handleListBusinessGroups(c echo.Context) error {
	gs, err := s.st.ListBusinessGroups(c.Request().Context())
	if err != nil {
		return fmt.Errorf("ops: list business groups: %w", err)
	}
	return apihttp.PagedListOf(c, gs, func(g store.BusinessGroup) string { return g.ID }, toBusinessGroupJSON)
}

func (s *Server) handleGetBusinessGroup(c echo.Context) error {
	return opsGetOrg(c, s.businessGroups())
}

func (s *Server) handleUpdateBusinessGroup(c echo.Context) error {
	return opsUpdateOrg(s, c, s.businessGroups())
}

type legalEntityJSON struct {
	ID              string       `json:"id"`
	BusinessGroupID string       `json:"businessGroupId"`
	Name            string       `json:"name"`
	LegalName       string       `json:"legalName,omitempty"`
	Contact         *contactJSON `json:"contact,omitempty"`
	CreatedAt       time.Time    `json:"createdAt"`
	UpdatedAt       time.Time    `json:"updatedAt"`
}

func toLegalEntityJSON(e store.LegalEntity) legalEntityJSON {
	return legalEntityJSON{ID: e.ID, BusinessGroupID: e.BusinessGroupID, Name: e.Name, LegalName: e.LegalName,
		Contact: toContactJSON(e.Contact), CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
}

func (s *Server) handleCreateLegalEntity(c echo.Context) error {
	var b orgBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.BusinessGroupID == "" {
		return apihttp.InvalidField("businessGroupId", "is required")
	}
	if _, err := s.businessGroups().load(c.Request().Context(), b.BusinessGroupID); err != nil {
		return err
	}
	if err := b.requireName(); err != nil {
		return err
	}
	e := store.LegalEntity{BusinessGroupID: b.BusinessGroupID, CreatedAt: s.now().UTC(), UpdatedAt: s.now().UTC()}
	var err error
	if e.ID, err = orgID(b.ID, "le"); err != nil {
		return err
	}
	return opsCreateOrg(s, c, s.legalEntities(), b, e)
}

func (s *Server) handleListLegalEntities(c echo.Context) error {
	bg := c.QueryParam("businessGroupId")
	if bg == "" {
		return apihttp.BadRequest("businessGroupId is required")
	}
	es, err := s.st.ListLegalEntities(c.Request().Context(), bg)
	if err != nil {
		return fmt.Errorf("ops: list legal entities: %w", err)
	}
	return apihttp.PagedListOf(c, es, func(e store.LegalEntity) string { return e.ID }, toLegalEntityJSON)
}

func (s *Server) handleGetLegalEntity(c echo.Context) error {
	return opsGetOrg(c, s.legalEntities())
}

func (s *Server) handleUpdateLegalEntity(c echo.Context) error {
	return opsUpdateOrg(s, c, s.legalEntities())
}

type serviceAgreementJSON struct {
	ID              string    `json:"id"`
	LegalEntityID   string    `json:"legalEntityId"`
	BusinessGroupID string    `json:"businessGroupId"`
	Number          string    `json:"number"`
	CreatedAt       time.Time `json:"createdAt"`
}

func toServiceAgreementJSON(a store.ServiceAgreement) serviceAgreementJSON {
	return serviceAgreementJSON{ID: a.ID, LegalEntityID: a.LegalEntityID, BusinessGroupID: a.BusinessGroupID, Number: a.Number, CreatedAt: a.CreatedAt.UTC()}
}

type serviceAgreementBody struct {
	LegalEntityID string `json:"legalEntityId"`
	Number        string `json:"number"`
}

func (s *Server) handleCreateServiceAgreement(c echo.Context) error {
	ctx := c.Request().Context()
	var b serviceAgreementBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.LegalEntityID == "" {
		return apihttp.InvalidField("legalEntityId", "is required")
	}
	if b.Number = strings.TrimSpace(b.Number); b.Number == "" || len(b.Number) > 64 {
		return apihttp.InvalidField("number", "is required (at most 64 characters)")
	}
	e, err := s.legalEntities().load(ctx, b.LegalEntityID)
	if err != nil {
		return err
	}
	a := store.ServiceAgreement{ID: store.NewID("sa"), LegalEntityID: e.ID, BusinessGroupID: e.BusinessGroupID, Number: b.Number, CreatedAt: s.now().UTC()}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		if a, err = s.st.CreateServiceAgreement(ctx, a); errors.Is(err, store.ErrConflict) {
			return apihttp.Conflict("service agreement number %q exists", b.Number)
		} else if err != nil {
			return fmt.Errorf("ops: create service agreement: %w", err)
		}
		return s.audit(ctx, operatorFrom(c), a.BusinessGroupID, "service_agreement.created", "service_agreement", a.ID, nil, a)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toServiceAgreementJSON(a))
}

func (s *Server) handleListServiceAgreements(c echo.Context) error {
	le := c.QueryParam("legalEntityId")
	if le == "" {
		return apihttp.BadRequest("legalEntityId is required")
	}
	as, err := s.st.ListServiceAgreements(c.Request().Context(), le)
	if err != nil {
		return fmt.Errorf("ops: list service agreements: %w", err)
	}
	return apihttp.PagedListOf(c, as, func(a store.ServiceAgreement) string { return a.ID }, toServiceAgreementJSON)
}

// opsAccountJSON is the operator's view: the full number included.
type opsAccountJSON struct {
	ID              string              `json:"id"`
	BusinessGroupID string              `json:"businessGroupId"`
	LegalEntityID   string              `json:"legalEntityId"`
	Number          string              `json:"number"`
	DisplayNumber   string              `json:"displayNumber"`
	Type            store.AccountType   `json:"type"`
	ProductName     string              `json:"productName,omitempty"`
	Nickname        string              `json:"nickname,omitempty"`
	Currency        string              `json:"currency"`
	Status          store.AccountStatus `json:"status"`
	OpenedOn        store.Date          `json:"openedOn"`
	ClosedOn        store.Date          `json:"closedOn,omitempty"`
	// The annual rate in percent and its type, when on record (FDX
	// requires them on loans and lines of credit; issue 13).
	InterestRate     *json.Number           `json:"interestRate,omitempty"`
	InterestRateType store.InterestRateType `json:"interestRateType,omitempty"`
	CreatedAt        time.Time              `json:"createdAt"`
	UpdatedAt        time.Time              `json:"updatedAt"`
}

func toOpsAccountJSON(a store.Account) opsAccountJSON {
	j := opsAccountJSON{ID: a.ID, BusinessGroupID: a.BusinessGroupID, LegalEntityID: a.LegalEntityID, Number: a.Number,
		DisplayNumber: a.DisplayNumber, Type: a.Type, ProductName: a.ProductName, Nickname: a.Nickname, Currency: a.Currency,
		Status: a.Status, OpenedOn: a.OpenedOn, ClosedOn: a.ClosedOn, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if a.HasInterestRate() {
		rate := json.Number(a.InterestRate.String())
		j.InterestRate, j.InterestRateType = &rate, a.InterestRateType
	}
	return j
}

type openAccountBody struct {
	ID            string `json:"id"`
	LegalEntityID string `json:"legalEntityId"`
	Number        string `json:"number"`
	Type          string `json:"type"`
	ProductName   string `json:"productName"`
	Nickname      string `json:"nickname"`
	Currency      string `json:"currency"`
	OpenedOn      string `json:"openedOn"`
}

var accountNumberRE = regexp.MustCompile(`^[0-9][0-9 -]{3,40}$`)

// handleOpenAccount opens an account; it joins no account group (the
// article: an administrator must add it, through approval).
func (s *Server) handleOpenAccount(c echo.Context) error {
	ctx := c.Request().Context()
	var b openAccountBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	var errs []apihttp.FieldError
	if b.LegalEntityID == "" {
		errs = append(errs, apihttp.FieldError{Field: "legalEntityId", Message: "is required"})
	}
	if !accountNumberRE.MatchString(b.Number) {
		errs = append(errs, apihttp.FieldError{Field: "number", Message: "must be digits (spaces and dashes allowed)"})
	}
	typ := store.AccountType(strings.ToUpper(b.Type))
	if !typ.Valid() {
		errs = append(errs, apihttp.FieldError{Field: "type", Message: "must be CHECKING, SAVINGS, LINEOFCREDIT, LOAN or CREDITCARD"})
	}
	cur := strings.ToUpper(b.Currency)
	if cur != "CAD" && cur != "USD" {
		errs = append(errs, apihttp.FieldError{Field: "currency", Message: "must be CAD or USD"})
	}
	opened := store.BusinessDate(s.now())
	if b.OpenedOn != "" {
		d, err := store.ParseDate(b.OpenedOn)
		if err != nil {
			errs = append(errs, apihttp.FieldError{Field: "openedOn", Message: "must be a date (YYYY-MM-DD)"})
		}
		opened = d
	}
	if b.ID != "" && !idRE.MatchString(b.ID) {
		errs = append(errs, apihttp.FieldError{Field: "id", Message: "must be 1 to 64 letters, digits, _ or -"})
	}
	if len(errs) > 0 {
		return apihttp.InvalidFields(errs...)
	}
	e, err := s.legalEntities().load(ctx, b.LegalEntityID)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	a := store.Account{ID: b.ID, BusinessGroupID: e.BusinessGroupID, LegalEntityID: e.ID, Number: b.Number,
		DisplayNumber: store.MaskAccountNumber(b.Number), Type: typ, ProductName: b.ProductName, Nickname: b.Nickname,
		Currency: cur, Status: store.AccountOpen, OpenedOn: opened, CreatedAt: now, UpdatedAt: now}
	if a.ID == "" {
		a.ID = store.NewID("acc")
	}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		if a, err = s.st.CreateAccount(ctx, a); errors.Is(err, store.ErrConflict) {
			return apihttp.Conflict("an account with this ID or number exists")
		} else if err != nil {
			return fmt.Errorf("ops: create account: %w", err)
		}
		return s.audit(ctx, operatorFrom(c), a.BusinessGroupID, "account.opened", "account", a.ID, nil, toAccountJSONForAudit(a))
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toOpsAccountJSON(a))
}

// toAccountJSONForAudit keeps the full number out of the audit log.
func toAccountJSONForAudit(a store.Account) opsAccountJSON {
	j := toOpsAccountJSON(a)
	j.Number = a.DisplayNumber
	return j
}

func (s *Server) handleListAccounts(c echo.Context) error {
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	var f store.AccountFilter
	if v := c.QueryParam("businessGroupId"); v != "" {
		f.BusinessGroupID = &v
	}
	if v := c.QueryParam("legalEntityId"); v != "" {
		f.LegalEntityID = &v
	}
	if v := c.QueryParam("status"); v != "" {
		st := store.AccountStatus(strings.ToUpper(v))
		if st != store.AccountOpen && st != store.AccountClosed {
			return apihttp.BadRequest("status must be OPEN or CLOSED, not %q", v)
		}
		f.Status = &st
	}
	as, next, err := s.st.ListAccounts(c.Request().Context(), f, p)
	if err != nil {
		return fmt.Errorf("ops: list accounts: %w", err)
	}
	return apihttp.ListOf(c, as, next, toOpsAccountJSON)
}

func (s *Server) opsAccount(ctx context.Context, id string) (store.Account, error) {
	return apihttp.Lookup(ctx, "account", id, s.st.GetAccount)
}

func (s *Server) handleGetAccount(c echo.Context) error {
	a, err := s.opsAccount(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOpsAccountJSON(a))
}

type updateAccountBody struct {
	Nickname    *string `json:"nickname"`
	ProductName *string `json:"productName"`
	// InterestRate (percent) and InterestRateType change the rate on
	// record; the type "" with no rate (or 0) clears it. The store judges
	// the pair (a known type, 0 to 100, no rate without a type).
	InterestRate     *json.Number `json:"interestRate"`
	InterestRateType *string      `json:"interestRateType"`
}

func (s *Server) handleUpdateAccount(c echo.Context) error {
	var b updateAccountBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	return s.changeAccount(c, "account.updated", func(a store.Account) (store.Account, error) {
		if b.Nickname != nil {
			a.Nickname = strings.TrimSpace(*b.Nickname)
		}
		if b.ProductName != nil {
			a.ProductName = strings.TrimSpace(*b.ProductName)
		}
		if b.InterestRate != nil {
			rate, err := decimal.NewFromString(b.InterestRate.String())
			if err != nil {
				return a, apihttp.InvalidField("interestRate", "must be a number (percent)")
			}
			a.InterestRate = rate
		}
		if b.InterestRateType != nil {
			a.InterestRateType = store.InterestRateType(strings.ToUpper(strings.TrimSpace(*b.InterestRateType)))
		}
		return a, nil
	})
}

type closeAccountBody struct {
	ClosedOn string `json:"closedOn"`
}

func (s *Server) handleCloseAccount(c echo.Context) error {
	var b closeAccountBody
	if err := apihttp.DecodeOptional(c, s.maxBody, &b); err != nil {
		return err
	}
	on := store.BusinessDate(s.now())
	if b.ClosedOn != "" {
		d, err := store.ParseDate(b.ClosedOn)
		if err != nil {
			return apihttp.InvalidField("closedOn", "must be a date (YYYY-MM-DD)")
		}
		on = d
	}
	return s.changeAccount(c, "account.closed", func(a store.Account) (store.Account, error) {
		if a.Status == store.AccountClosed {
			return a, apihttp.Conflict("the account is already closed")
		}
		if on < a.OpenedOn {
			return a, apihttp.InvalidField("closedOn", "is before the account opened (%s)", a.OpenedOn)
		}
		a.Status, a.ClosedOn = store.AccountClosed, on
		return a, nil
	})
}

func (s *Server) handleReopenAccount(c echo.Context) error {
	return s.changeAccount(c, "account.reopened", func(a store.Account) (store.Account, error) {
		if a.Status == store.AccountOpen {
			return a, apihttp.Conflict("the account is already open")
		}
		a.Status, a.ClosedOn = store.AccountOpen, ""
		return a, nil
	})
}

func (s *Server) changeAccount(c echo.Context, action string, fn func(store.Account) (store.Account, error)) error {
	ctx := c.Request().Context()
	cur, err := s.opsAccount(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	var a store.Account
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		a, err = s.st.UpdateAccount(ctx, cur.ID, func(a store.Account) (store.Account, error) {
			a, err := fn(a)
			a.UpdatedAt = s.now().UTC()
			return a, err
		})
		if err != nil {
			return apihttp.MapConflict(err, "the account changed meanwhile; try again")
		}
		return s.audit(ctx, operatorFrom(c), a.BusinessGroupID, action, "account", a.ID, toAccountJSONForAudit(cur), toAccountJSONForAudit(a))
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOpsAccountJSON(a))
}

type balanceJSON struct {
	AsOf      *time.Time       `json:"asOf"`
	Ledger    *decimal.Decimal `json:"ledger"`
	Available *decimal.Decimal `json:"available"`
}

// handleSetBalance records the current balance, audited with the one it
// replaces.
func (s *Server) handleSetBalance(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.opsAccount(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	var b balanceJSON
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.Ledger == nil {
		return apihttp.InvalidField("ledger", "is required")
	}
	bal := store.Balance{AccountID: a.ID, AsOf: s.now().UTC(), Ledger: *b.Ledger, Available: *b.Ledger}
	if b.Available != nil {
		bal.Available = *b.Available
	}
	if b.AsOf != nil {
		bal.AsOf = b.AsOf.UTC()
	}
	out := balanceJSON{AsOf: &bal.AsOf, Ledger: &bal.Ledger, Available: &bal.Available}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		before, err := s.st.GetBalance(ctx, a.ID)
		var prev *balanceJSON
		if err == nil {
			asOf := before.AsOf.UTC()
			prev = &balanceJSON{AsOf: &asOf, Ledger: &before.Ledger, Available: &before.Available}
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("ops: get balance: %w", err)
		}
		if err := s.st.SetBalance(ctx, bal); err != nil {
			return fmt.Errorf("ops: set balance: %w", err)
		}
		return s.audit(ctx, operatorFrom(c), a.BusinessGroupID, "account.balance_set", "account", a.ID, prev, out)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleGetBalance(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.opsAccount(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	bal, err := s.st.GetBalance(ctx, a.ID)
	if errors.Is(err, store.ErrNotFound) {
		return apihttp.NotFound("balance of account", a.ID)
	} else if err != nil {
		return fmt.Errorf("ops: get balance: %w", err)
	}
	asOf := bal.AsOf.UTC()
	return c.JSON(http.StatusOK, balanceJSON{AsOf: &asOf, Ledger: &bal.Ledger, Available: &bal.Available})
}

type dailyBalanceJSON struct {
	BusinessDate     store.Date       `json:"businessDate"`
	OpeningLedger    *decimal.Decimal `json:"openingLedger"`
	ClosingLedger    *decimal.Decimal `json:"closingLedger"`
	OpeningAvailable *decimal.Decimal `json:"openingAvailable"`
	ClosingAvailable *decimal.Decimal `json:"closingAvailable"`
	Closed           bool             `json:"closed"`
}

func toDailyJSON(d store.DailyBalance) dailyBalanceJSON {
	return dailyBalanceJSON{BusinessDate: d.BusinessDate, OpeningLedger: &d.OpeningLedger, ClosingLedger: &d.ClosingLedger,
		OpeningAvailable: &d.OpeningAvailable, ClosingAvailable: &d.ClosingAvailable, Closed: d.Closed}
}

func pathDate(c echo.Context) (store.Date, error) {
	d, err := store.ParseDate(c.Param("date"))
	if err != nil {
		return "", apihttp.BadRequest("%q is not a date (want YYYY-MM-DD)", c.Param("date"))
	}
	return d, nil
}

// handlePutDailyBalance records a business date's BAI2 summary figures
// (replacing them until the day is closed: 409 after), audited with the
// figures they replace.
func (s *Server) handlePutDailyBalance(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.opsAccount(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	day, err := pathDate(c)
	if err != nil {
		return err
	}
	var b dailyBalanceJSON
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.Closed {
		return apihttp.InvalidField("closed", "a day is closed with POST /ops/v1/accounts/{id}/close-day")
	}
	if b.BusinessDate != "" && b.BusinessDate != day {
		return apihttp.InvalidField("businessDate", "differs from the path")
	}
	for name, v := range map[string]*decimal.Decimal{"openingLedger": b.OpeningLedger, "closingLedger": b.ClosingLedger} {
		if v == nil {
			return apihttp.InvalidField(name, "is required")
		}
	}
	d := store.DailyBalance{AccountID: a.ID, BusinessDate: day, OpeningLedger: *b.OpeningLedger, ClosingLedger: *b.ClosingLedger,
		OpeningAvailable: *b.OpeningLedger, ClosingAvailable: *b.ClosingLedger, UpdatedAt: s.now().UTC()}
	if b.OpeningAvailable != nil {
		d.OpeningAvailable = *b.OpeningAvailable
	}
	if b.ClosingAvailable != nil {
		d.ClosingAvailable = *b.ClosingAvailable
	}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		before, err := s.st.GetDailyBalance(ctx, a.ID, day)
		var prev *dailyBalanceJSON
		if err == nil {
			j := toDailyJSON(before)
			prev = &j
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("ops: get daily balance: %w", err)
		}
		if err := s.st.PutDailyBalance(ctx, d); errors.Is(err, store.ErrConflict) {
			return apihttp.Conflict("business day %s of account %q is closed", day, a.ID)
		} else if err != nil {
			return fmt.Errorf("ops: put daily balance: %w", err)
		}
		return s.audit(ctx, operatorFrom(c), a.BusinessGroupID, "account.daily_balance_set", "account", a.ID, prev, toDailyJSON(d))
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDailyJSON(d))
}

func (s *Server) handleGetDailyBalance(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.opsAccount(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	day, err := pathDate(c)
	if err != nil {
		return err
	}
	d, err := s.st.GetDailyBalance(ctx, a.ID, day)
	if errors.Is(err, store.ErrNotFound) {
		return apihttp.NotFound("daily balance", string(day))
	} else if err != nil {
		return fmt.Errorf("ops: get daily balance: %w", err)
	}
	return c.JSON(http.StatusOK, toDailyJSON(d))
}

type statementJSON struct {
	ID            string          `json:"id"`
	PeriodStart   store.Date      `json:"periodStart"`
	PeriodEnd     store.Date      `json:"periodEnd"`
	StatementDate store.Date      `json:"statementDate"`
	Opening       decimal.Decimal `json:"openingBalance"`
	Closing       decimal.Decimal `json:"closingBalance"`
	EntryCount    int             `json:"entryCount"`
	TotalDebits   decimal.Decimal `json:"totalDebits"`
	TotalCredits  decimal.Decimal `json:"totalCredits"`
	Status        string          `json:"status"`
}

func toStatementJSON(st store.Statement) statementJSON {
	return statementJSON{ID: st.ID, PeriodStart: st.PeriodStart, PeriodEnd: st.PeriodEnd, StatementDate: st.StatementDate,
		Opening: st.Opening, Closing: st.Closing, EntryCount: st.EntryCount, TotalDebits: st.TotalDebits, TotalCredits: st.TotalCredits, Status: st.Status}
}

type closeDayBody struct {
	BusinessDate string `json:"businessDate"`
}

type closeDayJSON struct {
	Daily     dailyBalanceJSON `json:"dailyBalance"`
	Statement *statementJSON   `json:"statement,omitempty"`
}

func (s *Server) handleCloseDay(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.opsAccount(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	var b closeDayBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	day, err := store.ParseDate(b.BusinessDate)
	if err != nil {
		return apihttp.InvalidField("businessDate", "must be a date (YYYY-MM-DD)")
	}
	var res feed.CloseResult
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if res, err = feed.CloseDay(ctx, s.st, a.ID, day, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, operatorFrom(c), a.BusinessGroupID, "account.day_closed", "account", a.ID, nil, res)
	})
	if errors.Is(err, store.ErrConflict) {
		return apihttp.Conflict("business day %s of account %q is already closed", day, a.ID)
	} else if err != nil {
		return err
	}
	out := closeDayJSON{Daily: toDailyJSON(res.Daily)}
	if res.Statement != nil {
		st := toStatementJSON(*res.Statement)
		out.Statement = &st
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleListStatements(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.opsAccount(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	sts, err := s.st.ListStatements(ctx, a.ID, "", "")
	if err != nil {
		return fmt.Errorf("ops: list statements: %w", err)
	}
	return apihttp.ListOf(c, sts, "", toStatementJSON)
}

type batchBody struct {
	Transactions []feed.Transaction `json:"transactions"`
}

type postedJSON struct {
	ID           string                  `json:"id"`
	AccountID    string                  `json:"accountId"`
	ExternalID   string                  `json:"externalId"`
	Status       store.TransactionStatus `json:"status"`
	BusinessDate store.Date              `json:"businessDate"`
	PendingID    string                  `json:"pendingId,omitempty"`
}

type batchJSON struct {
	Created      int          `json:"created"`
	Replayed     int          `json:"replayed"`
	Transactions []postedJSON `json:"transactions"`
}

// handlePostTransactions posts a batch: all or nothing (the first bad row
// is named in a 422), idempotent by (accountId, externalId).
func (s *Server) handlePostTransactions(c echo.Context) error {
	ctx := c.Request().Context()
	var b batchBody
	if err := apihttp.Decode(c, s.maxBatch, &b); err != nil {
		return err
	}
	var res feed.Result
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if res, err = feed.Post(ctx, s.st, b.Transactions); err != nil {
			return err
		}
		if res.Created == 0 {
			return nil
		}
		perAccount := map[string]int{}
		for i, t := range res.Transactions {
			if i < len(b.Transactions) {
				perAccount[t.AccountID]++
			}
		}
		for acc, n := range perAccount {
			a, err := s.st.GetAccount(ctx, acc)
			if err != nil {
				return fmt.Errorf("ops: get account: %w", err)
			}
			if err := s.audit(ctx, operatorFrom(c), a.BusinessGroupID, "transactions.posted", "account", acc, nil,
				map[string]int{"rows": n}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	out := batchJSON{Created: res.Created, Replayed: res.Replayed, Transactions: make([]postedJSON, 0, len(res.Transactions))}
	for _, t := range res.Transactions {
		out.Transactions = append(out.Transactions, postedJSON{ID: t.ID, AccountID: t.AccountID, ExternalID: t.ExternalID,
			Status: t.Status, BusinessDate: t.BusinessDate, PendingID: t.PendingID})
	}
	status := http.StatusOK
	if res.Created > 0 {
		status = http.StatusCreated
	}
	return c.JSON(status, out)
}

type opsTransactionJSON struct {
	ID           string                  `json:"id"`
	AccountID    string                  `json:"accountId"`
	ExternalID   string                  `json:"externalId"`
	Status       store.TransactionStatus `json:"status"`
	BusinessDate store.Date              `json:"businessDate"`
	Amount       decimal.Decimal         `json:"amount"`
	Direction    store.Direction         `json:"debitCreditMemo"`
	Description  string                  `json:"description,omitempty"`
	PendingID    string                  `json:"pendingId,omitempty"`
	ReplacedByID string                  `json:"replacedById,omitempty"`
	RemovedAt    *time.Time              `json:"removedAt,omitempty"`
}

func toOpsTransactionJSON(t store.Transaction) opsTransactionJSON {
	return opsTransactionJSON{ID: t.ID, AccountID: t.AccountID, ExternalID: t.ExternalID, Status: t.Status,
		BusinessDate: t.BusinessDate, Amount: t.Amount, Direction: t.Direction, Description: t.Description,
		PendingID: t.PendingID, ReplacedByID: t.ReplacedByID, RemovedAt: apihttp.TimeOrNil(t.RemovedAt)}
}

// handleListTransactions pages one account's entries; the cursor is
// "businessDate~id" of the last item.
func (s *Server) handleListTransactions(c echo.Context) error {
	ctx := c.Request().Context()
	acc := c.QueryParam("accountId")
	if acc == "" {
		return apihttp.BadRequest("accountId is required")
	}
	if _, err := s.opsAccount(ctx, acc); err != nil {
		return err
	}
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	f := store.TransactionFilter{AccountID: acc, IncludeRemoved: true}
	for name, dst := range map[string]*store.Date{"from": &f.From, "to": &f.To} {
		if v := c.QueryParam(name); v != "" {
			d, err := store.ParseDate(v)
			if err != nil {
				return apihttp.BadRequest("%s must be a date (YYYY-MM-DD), not %q", name, v)
			}
			*dst = d
		}
	}
	var after *store.TxCursor
	if p.After != "" {
		d, id, ok := strings.Cut(p.After, "~")
		if !ok || !store.Date(d).Valid() {
			return apihttp.BadRequest("after is not a cursor this API returned")
		}
		after = &store.TxCursor{BusinessDate: store.Date(d), ID: id}
	}
	txs, more, err := s.st.ListTransactions(ctx, f, after, p.Limit)
	if err != nil {
		return fmt.Errorf("ops: list transactions: %w", err)
	}
	next := ""
	if more && len(txs) > 0 {
		last := txs[len(txs)-1]
		next = string(last.BusinessDate) + "~" + last.ID
	}
	return apihttp.ListOf(c, txs, next, toOpsTransactionJSON)
}

// handleRemovePending marks a pending entry dropped without posting.
func (s *Server) handleRemovePending(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.opsAccount(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	t, err := s.st.GetTransactionByExternalID(ctx, a.ID, c.Param("externalId"))
	if errors.Is(err, store.ErrNotFound) {
		return apihttp.NotFound("transaction", c.Param("externalId"))
	} else if err != nil {
		return fmt.Errorf("ops: get transaction: %w", err)
	}
	if t.Status != store.Pending || t.ReplacedByID != "" || !t.RemovedAt.IsZero() {
		return apihttp.Conflict("transaction %q is not an open pending entry", t.ExternalID)
	}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.RemovePending(ctx, t.ID, s.now().UTC()); err != nil {
			return apihttp.MapConflict(err, "transaction %q is not an open pending entry", t.ExternalID)
		}
		return s.audit(ctx, operatorFrom(c), a.BusinessGroupID, "transaction.pending_removed", "transaction", t.ID, nil, nil)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// batchError maps a batch's *feed.RowError to its problem, naming the row
// (the other errors pass through to apihttp.ToProblem).
func batchError(err error) error {
	var row *feed.RowError
	if !errors.As(err, &row) {
		return err
	}
	inner, ok := apihttp.ToProblem(row.Err)
	if !ok {
		return err
	}
	cp := *inner
	i := row.Index
	cp.Row = &i
	cp.Detail = fmt.Sprintf("row %d: %s", row.Index, inner.Detail)
	for k := range cp.Errors {
		cp.Errors[k].Field = fmt.Sprintf("transactions[%d].%s", row.Index, cp.Errors[k].Field)
	}
	return &cp
}
