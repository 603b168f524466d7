package dataapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

type customerJSON struct {
	CustomerID       string               `json:"customerId"`
	Type             string               `json:"type"`
	BusinessCustomer businessCustomerJSON `json:"businessCustomer"`
	LegalEntities    []legalEntityJSON    `json:"legalEntities"`
}

type businessCustomerJSON struct {
	Name string `json:"name"`
}

type legalEntityJSON struct {
	LegalEntityID string `json:"legalEntityId"`
	Name          string `json:"name"`
	LegalName     string `json:"legalName"`
}

// handleCurrentCustomer names the business behind the token: the business
// group, and the legal entities owning the accounts the user may see.
func (s *Server) handleCurrentCustomer(c echo.Context) error {
	if err := readQuery(c).err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principalFrom(c)
	bg, err := s.store.GetBusinessGroup(ctx, p.user.BusinessGroupID)
	if err != nil {
		return fmt.Errorf("dataapi: get business group: %w", err)
	}
	name := bg.LegalName
	if name == "" {
		name = bg.Name
	}
	out := customerJSON{CustomerID: bg.ID, Type: "BUSINESS", BusinessCustomer: businessCustomerJSON{Name: name}, LegalEntities: []legalEntityJSON{}}
	accounts, err := s.visibleAccounts(ctx, p, nil, "", maxLimit*10)
	if err != nil {
		return err
	}
	var entityIDs []string
	for _, a := range accounts {
		if !slices.Contains(entityIDs, a.LegalEntityID) {
			entityIDs = append(entityIDs, a.LegalEntityID)
		}
	}
	slices.Sort(entityIDs)
	for _, id := range entityIDs {
		e, err := s.store.GetLegalEntity(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return fmt.Errorf("dataapi: get legal entity: %w", err)
		}
		out.LegalEntities = append(out.LegalEntities, legalEntityJSON{LegalEntityID: e.ID, Name: e.Name, LegalName: e.LegalName})
	}
	return c.JSON(http.StatusOK, out)
}

// visibleAccounts lists, in ID order after the ID after, up to limit of the
// accounts the principal may see now, optionally only those of ids.
func (s *Server) visibleAccounts(ctx context.Context, p *principal, ids []string, after string, limit int) ([]store.Account, error) {
	if p.group == nil {
		return nil, nil
	}
	want := p.group.AccountIDs
	if ids != nil {
		want = ids
	}
	if len(want) == 0 {
		return nil, nil
	}
	bg := p.user.BusinessGroupID
	accounts, _, err := s.store.ListAccounts(ctx, store.AccountFilter{BusinessGroupID: &bg, IDs: want}, store.Page{After: after, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("dataapi: list accounts: %w", err)
	}
	out := accounts[:0]
	for _, a := range accounts {
		if store.CanSeeAccount(p.user, *p.group, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

type accountsJSON struct {
	Page     *pageJSON     `json:"page"`
	Accounts []accountJSON `json:"accounts"`
}

type accountsKey struct {
	User    string   `json:"u"`
	After   string   `json:"a"`
	IDs     []string `json:"i,omitempty"`
	Details bool     `json:"d,omitempty"`
}

const maxAccountIDs = 100

// handleListAccounts is FDX searchForAccounts over the user's account group.
func (s *Server) handleListAccounts(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalFrom(c)
	q := readQuery(c, "resultType", "accountIds", "limit", "pageKey", "offset")
	limit := q.limit()
	details := false
	switch rt := q.str("resultType"); rt {
	case "", "lightweight":
	case "details":
		details = true
	default:
		q.errs.add(codeInvalidInput, "resultType", "query", "must be lightweight or details, not %q", clip(rt))
	}
	var ids []string
	if q.has("accountIds") {
		raw := q.str("accountIds")
		for _, id := range strings.Split(raw, ",") {
			id = strings.TrimSpace(id)
			if !validID(id) {
				q.errs.add(codeInvalidInput, "accountIds", "query", "must be a comma-separated list of account IDs")
				break
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if len(ids) > maxAccountIDs {
			q.errs.add(codeInvalidInput, "accountIds", "query", "names more than %d accounts", maxAccountIDs)
		}
		slices.Sort(ids)
	}
	key := accountsKey{User: p.user.ID, IDs: ids, Details: details}
	if pk := pageKeyParam(q); pk != "" {
		var k accountsKey
		if err := s.sealer.open("accounts", pk, &k); err != nil || k.User != p.user.ID {
			q.errs.add(codeInvalidInput, pageKeyName(q), "query", "is not a page key this API issued for this query")
		} else if (q.has("accountIds") && !slices.Equal(k.IDs, ids)) || (q.has("resultType") && k.Details != details) {
			q.errs.add(codeInvalidInput, pageKeyName(q), "query", "was issued for a different query")
		} else {
			key = k
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	if key.Details && !slices.ContainsFunc(balanceScopes, p.hasScope) {
		return errInsufficientScope(balanceScopes...)
	}
	if key.IDs != nil {
		// Every named account must be visible: an unknown one and one outside
		// the account group both answer 701, so nothing leaks.
		for _, id := range key.IDs {
			if !p.canSee(id) {
				return errAccountNotFound()
			}
		}
		found, err := s.visibleAccounts(ctx, p, key.IDs, "", len(key.IDs))
		if err != nil {
			return err
		}
		if len(found) != len(key.IDs) {
			return errAccountNotFound()
		}
	}
	accounts, err := s.visibleAccounts(ctx, p, key.IDs, key.After, limit+1)
	if err != nil {
		return err
	}
	out := accountsJSON{Accounts: make([]accountJSON, 0, min(len(accounts), limit))}
	next := ""
	if len(accounts) > limit {
		accounts = accounts[:limit]
		k := key
		k.After = accounts[len(accounts)-1].ID
		next = s.sealer.seal("accounts", k)
	}
	for _, a := range accounts {
		j := accountDescriptor(a)
		if key.Details {
			b, err := s.balance(ctx, a.ID)
			if err != nil {
				return err
			}
			j.withBalance(a, b)
		}
		out.Accounts = append(out.Accounts, j)
	}
	out.Page = pageOf(next)
	return c.JSON(http.StatusOK, out)
}

// pageKeyParam is pageKey or its FDX < 6.3 name offset.
func pageKeyParam(q *query) string {
	if q.has("pageKey") && q.has("offset") {
		q.errs.add(codeInvalidInput, "offset", "query", "give pageKey or offset, not both")
		return ""
	}
	if q.has("offset") {
		return q.str("offset")
	}
	return q.str("pageKey")
}

func pageKeyName(q *query) string {
	if q.has("offset") {
		return "offset"
	}
	return "pageKey"
}

// balance is the account's current position; an account without one yet
// has zero balances.
func (s *Server) balance(ctx context.Context, accountID string) (store.Balance, error) {
	b, err := s.store.GetBalance(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Balance{AccountID: accountID}, nil
	} else if err != nil {
		return store.Balance{}, fmt.Errorf("dataapi: get balance: %w", err)
	}
	return b, nil
}

// handleGetAccount is FDX getAccount: the account summary with the current
// balances, and the opening/closing figures of the latest business date.
func (s *Server) handleGetAccount(c echo.Context) error {
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
	if !slices.ContainsFunc(balanceScopes, p.hasScope) {
		// FDX's accountbasic alone: the descriptor, without balances.
		return c.JSON(http.StatusOK, accountDescriptor(a))
	}
	b, err := s.balance(ctx, a.ID)
	if err != nil {
		return err
	}
	day, err := s.store.LatestDailyBalance(ctx, a.ID, businessDate(s.now()))
	if errors.Is(err, store.ErrNotFound) {
		day = store.DailyBalance{}
	} else if err != nil {
		return fmt.Errorf("dataapi: latest daily balance: %w", err)
	}
	j := accountDescriptor(a)
	j.withBalance(a, b)
	j.withSummary(b, day)
	return c.JSON(http.StatusOK, j)
}
