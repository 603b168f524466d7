package admin

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

type accountGroupJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	AccountIDs []string  `json:"accountIds"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	Version    int64     `json:"version"`
}

func toAccountGroupJSON(g store.AccountGroup) accountGroupJSON {
	ids := g.AccountIDs
	if ids == nil {
		ids = []string{}
	}
	return accountGroupJSON{ID: g.ID, Name: g.Name, AccountIDs: ids, CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(), Version: g.Version}
}

// accountJSON is the administrator's view of an account: masked number only.
type accountJSON struct {
	ID            string              `json:"id"`
	LegalEntityID string              `json:"legalEntityId"`
	DisplayNumber string              `json:"displayNumber"`
	Type          store.AccountType   `json:"type"`
	ProductName   string              `json:"productName,omitempty"`
	Nickname      string              `json:"nickname,omitempty"`
	Currency      string              `json:"currency"`
	Status        store.AccountStatus `json:"status"`
}

func toAccountJSON(a store.Account) accountJSON {
	return accountJSON{ID: a.ID, LegalEntityID: a.LegalEntityID, DisplayNumber: a.DisplayNumber, Type: a.Type,
		ProductName: a.ProductName, Nickname: a.Nickname, Currency: a.Currency, Status: a.Status}
}

func (s *Server) handleListAccounts(c echo.Context) error {
	return listIn(c, store.OpViewAccountGroups, "accounts", func(ctx context.Context, bg string, p store.Page) ([]store.Account, string, error) {
		return s.st.ListAccounts(ctx, store.AccountFilter{BusinessGroupID: &bg}, p)
	}, toAccountJSON)
}

func (s *Server) handleListAccountGroups(c echo.Context) error {
	return listIn(c, store.OpViewAccountGroups, "account groups", s.st.ListAccountGroups, toAccountGroupJSON)
}

func (s *Server) handleGetAccountGroup(c echo.Context) error {
	return showIn(c, store.OpViewAccountGroups, s.getAccountGroup, toAccountGroupJSON)
}

type accountGroupBody struct {
	Name       *string   `json:"name"`
	AccountIDs *[]string `json:"accountIds"`
}

func (s *Server) handleCreateAccountGroup(c echo.Context) error {
	cl := mustCaller(c)
	if err := allow(cl, store.OpCreateAccountGroup); err != nil {
		return err
	}
	var b accountGroupBody
	if err := decode(c, s.maxBody, &b); err != nil {
		return err
	}
	p := accountGroupPayload{}
	if b.Name != nil {
		p.Name = strings.TrimSpace(*b.Name)
	}
	if err := checkName("name", p.Name); err != nil {
		return err
	}
	var ids []string
	if b.AccountIDs != nil {
		ids = *b.AccountIDs
	}
	ctx := c.Request().Context()
	var err error
	if p.AccountIDs, err = s.checkAccounts(ctx, cl.User.BusinessGroupID, ids); err != nil {
		return err
	}
	if err := s.checkGroupNameFree(ctx, cl.User.BusinessGroupID, p.Name, ""); err != nil {
		return err
	}
	return s.submit(c, cl, submission{Kind: store.KindCreateAccountGroup, TargetType: "account_group", Payload: p})
}

func (s *Server) handleEditAccountGroup(c echo.Context) error {
	cl := mustCaller(c)
	cur, err := pathTarget(c, cl, store.OpEditAccountGroup, s.getAccountGroup)
	if err != nil {
		return err
	}
	var b accountGroupBody
	if err := decode(c, s.maxBody, &b); err != nil {
		return err
	}
	p := accountGroupPayload{Name: cur.Name, AccountIDs: cur.AccountIDs}
	if b.Name != nil {
		p.Name = strings.TrimSpace(*b.Name)
		if err := checkName("name", p.Name); err != nil {
			return err
		}
	}
	if b.AccountIDs != nil {
		p.AccountIDs = *b.AccountIDs
	}
	return s.submitGroupEdit(c, cl, cur, p)
}

func (s *Server) submitGroupEdit(c echo.Context, cl caller, cur store.AccountGroup, p accountGroupPayload) error {
	ctx := c.Request().Context()
	var err error
	if p.AccountIDs, err = s.checkAccounts(ctx, cl.User.BusinessGroupID, p.AccountIDs); err != nil {
		return err
	}
	if err := s.checkGroupNameFree(ctx, cl.User.BusinessGroupID, p.Name, cur.ID); err != nil {
		return err
	}
	return s.submit(c, cl, submission{Kind: store.KindEditAccountGroup, TargetType: "account_group", TargetID: cur.ID,
		TargetVersion: cur.Version, Payload: p, Before: toAccountGroupJSON(cur)})
}

type addAccountBody struct {
	AccountID string `json:"accountId"`
}

func (s *Server) handleAddGroupAccount(c echo.Context) error {
	cl := mustCaller(c)
	ctx := c.Request().Context()
	cur, err := pathTarget(c, cl, store.OpEditAccountGroup, s.getAccountGroup)
	if err != nil {
		return err
	}
	var b addAccountBody
	if err := decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.AccountID == "" {
		return invalidField("accountId", "is required")
	}
	if _, err := s.getAccount(ctx, cl.User.BusinessGroupID, b.AccountID); err != nil {
		return err
	}
	if slices.Contains(cur.AccountIDs, b.AccountID) {
		return conflict("the account is already in the group %q", cur.Name)
	}
	return s.submitGroupEdit(c, cl, cur, accountGroupPayload{Name: cur.Name, AccountIDs: append(slices.Clone(cur.AccountIDs), b.AccountID)})
}

func (s *Server) handleRemoveGroupAccount(c echo.Context) error {
	cl := mustCaller(c)
	ctx := c.Request().Context()
	cur, err := pathTarget(c, cl, store.OpEditAccountGroup, s.getAccountGroup)
	if err != nil {
		return err
	}
	id := c.Param("accountId")
	if _, err := s.getAccount(ctx, cl.User.BusinessGroupID, id); err != nil {
		return err
	}
	if !slices.Contains(cur.AccountIDs, id) {
		return notFound("account in the group", id)
	}
	rest := slices.DeleteFunc(slices.Clone(cur.AccountIDs), func(x string) bool { return x == id })
	return s.submitGroupEdit(c, cl, cur, accountGroupPayload{Name: cur.Name, AccountIDs: rest})
}

func (s *Server) handleDeleteAccountGroup(c echo.Context) error {
	cl := mustCaller(c)
	ctx := c.Request().Context()
	cur, err := pathTarget(c, cl, store.OpDeleteAccountGroup, s.getAccountGroup)
	if err != nil {
		return err
	}
	if n, err := s.countAssigned(ctx, cl.User.BusinessGroupID, func(a store.Assignment) bool { return a.AccountGroupID == cur.ID }); err != nil {
		return err
	} else if n > 0 {
		return conflict("the account group %q is assigned to %d user(s); assign them another group first", cur.Name, n)
	}
	return s.submit(c, cl, submission{Kind: store.KindDeleteAccountGroup, TargetType: "account_group", TargetID: cur.ID,
		TargetVersion: cur.Version, Payload: map[string]string{"accountGroupId": cur.ID, "name": cur.Name}, Before: toAccountGroupJSON(cur)})
}
