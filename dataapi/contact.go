package dataapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// accountContactJSON is FDX's AccountContact: the account's holder, its
// legal entity, with what the bank has on record to reach it. A member the
// bank has nothing for is an empty list.
type accountContactJSON struct {
	Holders    []holderJSON    `json:"holders"`
	Emails     []string        `json:"emails"`
	Addresses  []addressJSON   `json:"addresses"`
	Telephones []telephoneJSON `json:"telephones"`
}

type holderJSON struct {
	Relationship     string               `json:"relationship"`
	Type             string               `json:"type"`
	BusinessCustomer businessCustomerJSON `json:"businessCustomer"`
}

type addressJSON struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country"`
	Type       string `json:"type"`
	Primary    bool   `json:"primary"`
}

type telephoneJSON struct {
	Type    string `json:"type"`
	Country string `json:"country,omitempty"`
	Number  string `json:"number"`
	Primary bool   `json:"primary"`
}

// handleGetAccountContact is FDX getAccountContact: the holder of an account
// the principal may see now.
func (s *Server) handleGetAccountContact(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalFrom(c)
	q := readQuery(c)
	a, err := s.visibleAccount(p, c.Param("accountId"))
	if err != nil {
		return err
	}
	if err := q.err(); err != nil {
		return err
	}
	le, err := s.store.GetLegalEntity(ctx, a.LegalEntityID)
	if errors.Is(err, store.ErrNotFound) {
		return errAccountNotFound()
	} else if err != nil {
		return fmt.Errorf("dataapi: get legal entity: %w", err)
	}
	return c.JSON(http.StatusOK, contactOf(le))
}

func contactOf(le store.LegalEntity) accountContactJSON {
	name := le.LegalName
	if name == "" {
		name = le.Name
	}
	out := accountContactJSON{
		Holders:   []holderJSON{{Relationship: "BUSINESS", Type: "BUSINESS", BusinessCustomer: businessCustomerJSON{Name: name}}},
		Emails:    []string{},
		Addresses: []addressJSON{}, Telephones: []telephoneJSON{},
	}
	ct := le.Contact
	if ct.Email != "" {
		out.Emails = append(out.Emails, ct.Email)
	}
	if ct.AddressLine1 != "" && ct.City != "" && ct.Country != "" { // what FDX's Address requires
		out.Addresses = append(out.Addresses, addressJSON{Line1: ct.AddressLine1, Line2: ct.AddressLine2, City: ct.City,
			Region: ct.Region, PostalCode: ct.PostalCode, Country: ct.Country, Type: "BUSINESS", Primary: true})
	}
	if country, number := splitE164(ct.Phone); number != "" {
		out.Telephones = append(out.Telephones, telephoneJSON{Type: "BUSINESS", Country: country, Number: number, Primary: true})
	}
	return out
}

// splitE164 splits an E.164 number into FDX's country calling code and
// subscriber number. Only the North American plan (+1 and ten digits) is
// split for sure; any other number is sent whole, without a country code,
// rather than split wrongly.
func splitE164(phone string) (country, number string) {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	if strings.HasPrefix(phone, "+1") && len(digits) == 11 {
		return "1", digits[1:]
	}
	if len(digits) > 15 {
		return "", ""
	}
	return "", digits
}
