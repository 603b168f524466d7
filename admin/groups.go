package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

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

// handleListAccounts lists the accounts the caller's context reaches.
func (s *Server) handleListAccounts(c echo.Context) error {
	sc := mustCaller(c).scope()
	return listIn(c, store.OpViewAccountGroups, "accounts", func(ctx context.Context, bg string, p store.Page) ([]store.Account, string, error) {
		f := store.AccountFilter{BusinessGroupID: &bg}
		if !sc.Overview() {
			f.LegalEntityID = &sc.LegalEntityID
		}
		return s.st.ListAccounts(ctx, f, p)
	}, toAccountJSON)
}

// accountGroupView is the JSON of account groups as the caller's context
// sees them: account groups are business-group-wide, but an entity's
// context is shown only its entity's accounts in accountIds.
func (s *Server) accountGroupView(ctx context.Context, sc store.Scope) (func(store.AccountGroup) apihttp.AccountGroupJSON, error) {
	if sc.Overview() {
		return apihttp.ToAccountGroupJSON, nil
	}
	accs, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Account, string, error) {
		return s.st.ListAccounts(ctx, store.AccountFilter{BusinessGroupID: &sc.BusinessGroupID, LegalEntityID: &sc.LegalEntityID}, p)
	})
	if err != nil {
		return nil, fmt.Errorf("admin: list accounts: %w", err)
	}
	own := make(map[string]store.Account, len(accs))
	for _, a := range accs {
		own[a.ID] = a
	}
	return func(g store.AccountGroup) apihttp.AccountGroupJSON {
		g.AccountIDs = sc.VisibleAccountIDs(g.AccountIDs, own)
		return apihttp.ToAccountGroupJSON(g)
	}, nil
}

func (s *Server) handleListAccountGroups(c echo.Context) error {
	view, err := s.accountGroupView(c.Request().Context(), mustCaller(c).scope())
	if err != nil {
		return err
	}
	return listIn(c, store.OpViewAccountGroups, "account groups", s.st.ListAccountGroups, view)
}

func (s *Server) handleGetAccountGroup(c echo.Context) error {
	view, err := s.accountGroupView(c.Request().Context(), mustCaller(c).scope())
	if err != nil {
		return err
	}
	return showIn(c, store.OpViewAccountGroups, s.getAccountGroup, view)
}

// accountRecords reads the accounts of ids that exist, of any business
// group (the callers have checked, or judge, whose they are).
func (s *Server) accountRecords(ctx context.Context, ids []string) ([]store.Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	accs, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Account, string, error) {
		return s.st.ListAccounts(ctx, store.AccountFilter{IDs: ids}, p)
	})
	if err != nil {
		return nil, fmt.Errorf("admin: list accounts: %w", err)
	}
	return accs, nil
}

// scopedAccounts is an account group's new members when the caller asks
// for requested while it holds cur (store.Scope.EditAccounts): members
// the caller's context does not reach stay; adding one is a 422 on field.
// Every requested ID must be an account of the business group (404).
func (s *Server) scopedAccounts(ctx context.Context, cl caller, field string, cur, requested []string) ([]string, error) {
	ids, err := s.checkAccounts(ctx, cl.User.BusinessGroupID, requested)
	if err != nil {
		return nil, err
	}
	req, err := s.accountRecords(ctx, ids)
	if err != nil {
		return nil, err
	}
	have, err := s.accountRecords(ctx, cur)
	if err != nil {
		return nil, err
	}
	out, err := cl.scope().EditAccounts(have, req)
	var re *store.ReachError
	if errors.As(err, &re) {
		return nil, apihttp.InvalidField(field, "account %q belongs to another legal entity: in the context of legal entity %q only that entity's accounts can be added",
			re.ID, cl.LegalEntityID)
	}
	return out, err
}

// AccountGroupChange is an account group's desired state: the body of POST
// and PATCH /admin/v1/account-groups and the console's account group form.
// Absent fields of an edit keep the group's.
type AccountGroupChange struct {
	Name       *string   `json:"name"`
	AccountIDs *[]string `json:"accountIds"`
}

func (s *Server) handleCreateAccountGroup(c echo.Context) error {
	cl := mustCaller(c)
	if err := allow(cl, store.OpCreateAccountGroup); err != nil {
		return err
	}
	var b AccountGroupChange
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	return submitted(c)(s.createAccountGroup(c.Request().Context(), cl, b))
}

// createAccountGroup submits the creation of an account group.
func (s *Server) createAccountGroup(ctx context.Context, cl caller, b AccountGroupChange) (store.ApprovalRequest, error) {
	if err := allow(cl, store.OpCreateAccountGroup); err != nil {
		return store.ApprovalRequest{}, err
	}
	p := accountGroupPayload{}
	if b.Name != nil {
		p.Name = strings.TrimSpace(*b.Name)
	}
	if err := checkName("name", p.Name); err != nil {
		return store.ApprovalRequest{}, err
	}
	var ids []string
	if b.AccountIDs != nil {
		ids = *b.AccountIDs
	}
	var err error
	if p.AccountIDs, err = s.scopedAccounts(ctx, cl, "accountIds", nil, ids); err != nil {
		return store.ApprovalRequest{}, err
	}
	if err := s.checkGroupNameFree(ctx, cl.User.BusinessGroupID, p.Name, ""); err != nil {
		return store.ApprovalRequest{}, err
	}
	return s.submit(ctx, cl, submission{Kind: store.KindCreateAccountGroup, TargetType: "account_group", Payload: p})
}

func (s *Server) handleEditAccountGroup(c echo.Context) error {
	cl := mustCaller(c)
	if _, err := pathTarget(c, cl, store.OpEditAccountGroup, s.getAccountGroup); err != nil {
		return err
	}
	var b AccountGroupChange
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	return submitted(c)(s.editAccountGroup(c.Request().Context(), cl, c.Param("id"), b))
}

// editAccountGroup submits a change of account group id.
func (s *Server) editAccountGroup(ctx context.Context, cl caller, id string, b AccountGroupChange) (store.ApprovalRequest, error) {
	cur, err := target(ctx, cl, store.OpEditAccountGroup, id, s.getAccountGroup)
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	p := accountGroupPayload{Name: cur.Name, AccountIDs: cur.AccountIDs}
	if b.Name != nil {
		p.Name = strings.TrimSpace(*b.Name)
		if err := checkName("name", p.Name); err != nil {
			return store.ApprovalRequest{}, err
		}
	}
	if b.AccountIDs != nil {
		// The list replaces what the caller's context sees of the group.
		if p.AccountIDs, err = s.scopedAccounts(ctx, cl, "accountIds", cur.AccountIDs, *b.AccountIDs); err != nil {
			return store.ApprovalRequest{}, err
		}
	}
	return s.submitGroupEdit(ctx, cl, cur, p)
}

func (s *Server) submitGroupEdit(ctx context.Context, cl caller, cur store.AccountGroup, p accountGroupPayload) (store.ApprovalRequest, error) {
	var err error
	if p.AccountIDs, err = s.checkAccounts(ctx, cl.User.BusinessGroupID, p.AccountIDs); err != nil {
		return store.ApprovalRequest{}, err
	}
	if err := s.checkGroupNameFree(ctx, cl.User.BusinessGroupID, p.Name, cur.ID); err != nil {
		return store.ApprovalRequest{}, err
	}
	return s.submit(ctx, cl, submission{Kind: store.KindEditAccountGroup, TargetType: "account_group", TargetID: cur.ID,
		TargetVersion: cur.Version, Payload: p, Before: apihttp.ToAccountGroupJSON(cur)})
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
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.AccountID == "" {
		return apihttp.InvalidField("accountId", "is required")
	}
	if a, err := s.getAccount(ctx, cl.User.BusinessGroupID, b.AccountID); err != nil {
		return err
	} else if !cl.scope().ReachesAccount(a) {
		return apihttp.InvalidField("accountId", "account %q belongs to another legal entity: in the context of legal entity %q only that entity's accounts can be added",
			a.ID, cl.LegalEntityID)
	}
	if slices.Contains(cur.AccountIDs, b.AccountID) {
		return apihttp.Conflict("the account is already in the group %q", cur.Name)
	}
	return submitted(c)(s.submitGroupEdit(ctx, cl, cur, accountGroupPayload{Name: cur.Name, AccountIDs: append(slices.Clone(cur.AccountIDs), b.AccountID)}))
}

func (s *Server) handleRemoveGroupAccount(c echo.Context) error {
	cl := mustCaller(c)
	ctx := c.Request().Context()
	cur, err := pathTarget(c, cl, store.OpEditAccountGroup, s.getAccountGroup)
	if err != nil {
		return err
	}
	id := c.Param("accountId")
	if a, err := s.getAccount(ctx, cl.User.BusinessGroupID, id); err != nil {
		return err
	} else if err := cl.scope().Reach(store.Targets{Accounts: []store.Account{a}}); err != nil {
		return outOfContext(err, "you cannot remove this account from the group")
	}
	if !slices.Contains(cur.AccountIDs, id) {
		return apihttp.NotFound("account in the group", id)
	}
	rest := slices.DeleteFunc(slices.Clone(cur.AccountIDs), func(x string) bool { return x == id })
	return submitted(c)(s.submitGroupEdit(ctx, cl, cur, accountGroupPayload{Name: cur.Name, AccountIDs: rest}))
}

func (s *Server) handleDeleteAccountGroup(c echo.Context) error {
	return submitted(c)(s.deleteAccountGroup(c.Request().Context(), mustCaller(c), c.Param("id")))
}

// deleteAccountGroup submits the deletion of account group id.
func (s *Server) deleteAccountGroup(ctx context.Context, cl caller, id string) (store.ApprovalRequest, error) {
	cur, err := target(ctx, cl, store.OpDeleteAccountGroup, id, s.getAccountGroup)
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	// Deleting the group removes every account from it: all must be reached.
	accs, err := s.accountRecords(ctx, cur.AccountIDs)
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	if err := cl.scope().Reach(store.Targets{Accounts: accs}); err != nil {
		return store.ApprovalRequest{}, outOfContext(err, fmt.Sprintf("you cannot delete the account group %q", cur.Name))
	}
	if n, err := s.countAssigned(ctx, cl.User.BusinessGroupID, func(a store.Assignment) bool { return a.AccountGroupID == cur.ID }); err != nil {
		return store.ApprovalRequest{}, err
	} else if n > 0 {
		return store.ApprovalRequest{}, apihttp.Conflict("the account group %q is assigned to %d user(s); assign them another group first", cur.Name, n)
	}
	return s.submit(ctx, cl, submission{Kind: store.KindDeleteAccountGroup, TargetType: "account_group", TargetID: cur.ID,
		TargetVersion: cur.Version, Payload: map[string]string{"accountGroupId": cur.ID, "name": cur.Name}, Before: apihttp.ToAccountGroupJSON(cur)})
}
