package console

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/internal/scopewords"
	"github.com/bankfeed/bankfeed/store"
)

type option struct {
	Value, Label string
	Selected     bool
}

// --- home ---

func (h *Handler) handleHome(c echo.Context, s *signedIn) error {
	return h.render(c, http.StatusOK, "home", h.common(c, s, "console"))
}

// --- users ---

type userRow struct {
	ID, Name, Login, Kind, Role, Group, Status string
	Actions                                    []option // Value: the action path segment
}

type addUserForm struct {
	First, Last, Login, Email string
	Software                  bool
	Entities, Roles, Groups   []option
}

type usersPage struct {
	common
	Rows   []userRow
	CanAdd bool
	Form   addUserForm
}

func (h *Handler) handleUsers(c echo.Context, s *signedIn) error {
	f := addUserForm{Software: c.QueryParam("software") == "1"}
	return h.usersPage(c, s, http.StatusOK, f, "", "")
}

// usersPage renders the Users page with the Add user form as f holds it.
func (h *Handler) usersPage(c echo.Context, s *signedIn, status int, f addUserForm, notice, errMsg string) error {
	ctx := c.Request().Context()
	a := s.Admin
	users, err := h.adm.Users(ctx, a)
	if err != nil {
		return h.fail(c, s, err)
	}
	names, err := h.names(ctx, a)
	if err != nil {
		return h.fail(c, s, err)
	}
	p := usersPage{common: h.common(c, s, "users"), CanAdd: a.Allowed(store.OpCreateUser) == nil, Form: f}
	p.Notice, p.Error = notice, errMsg
	canEdit, canDelete := a.Allowed(store.OpEditUser) == nil, a.Allowed(store.OpDeleteUser) == nil
	for _, u := range users {
		row := userRow{ID: u.ID, Name: u.DisplayName, Login: u.LoginID, Kind: s.L.T("kind_person"),
			Status: s.L.T("status_" + strings.ToLower(string(u.Status)))}
		if u.AccountingSoftware {
			row.Kind = s.L.T("kind_software")
		}
		if as, ok := names.assignment[u.ID]; ok {
			row.Role, row.Group = names.role[as.JobRoleID].Name, names.group[as.AccountGroupID].Name
		}
		self := u.ID == a.User().ID
		if canEdit && !self && (u.Status == store.UserActive || u.Status == store.UserAwaitingSignIn) {
			row.Actions = append(row.Actions, option{"lock", s.L.T("lock"), false})
		}
		if canEdit && (u.Status == store.UserLocked || !u.LockedUntil.IsZero()) {
			row.Actions = append(row.Actions, option{"unlock", s.L.T("unlock"), false})
		}
		if canEdit && u.Status != store.UserDeleted {
			row.Actions = append(row.Actions, option{"reset-password", s.L.T("reset_password"), false})
		}
		if canDelete && !self {
			row.Actions = append(row.Actions, option{"delete", s.L.T("delete"), false})
		}
		p.Rows = append(p.Rows, row)
	}
	if p.CanAdd {
		if p.Form.Entities, err = h.entityOptions(ctx, s, c.FormValue("entity")); err != nil {
			return h.fail(c, s, err)
		}
		// With the Accounting software box, only roles rule 3 allows.
		for _, r := range names.roles {
			if f.Software && store.CheckAssignable(store.User{AccountingSoftware: true}, r) != nil {
				continue
			}
			p.Form.Roles = append(p.Form.Roles, option{r.ID, r.Name, c.FormValue("role") == r.ID})
		}
		for _, g := range names.groups {
			p.Form.Groups = append(p.Form.Groups, option{g.ID, g.Name, c.FormValue("group") == g.ID})
		}
	}
	return h.render(c, status, "users", p)
}

// entityOptions are the legal entities a new user may belong to.
func (h *Handler) entityOptions(ctx context.Context, s *signedIn, selected string) ([]option, error) {
	es, err := h.adm.LegalEntities(ctx, s.Admin)
	if err != nil {
		return nil, err
	}
	var out []option
	if s.Admin.LegalEntityID() == "" {
		out = append(out, option{"", s.L.T("overview"), selected == ""})
	}
	for _, e := range es {
		out = append(out, option{e.ID, e.Name, selected == e.ID})
	}
	return out, nil
}

func (h *Handler) handleAddUser(c echo.Context, s *signedIn) error {
	ctx := c.Request().Context()
	f := addUserForm{First: strings.TrimSpace(c.FormValue("first_name")), Last: strings.TrimSpace(c.FormValue("last_name")),
		Login: strings.TrimSpace(c.FormValue("login")), Email: strings.TrimSpace(c.FormValue("email")),
		Software: c.FormValue("software") == "on"}
	entity := c.FormValue("entity")
	nu := admin.NewUser{LoginID: f.Login, DisplayName: strings.TrimSpace(f.First + " " + f.Last), Email: f.Email,
		AccountingSoftware: f.Software, LegalEntityID: &entity, JobRoleID: c.FormValue("role"), AccountGroupID: c.FormValue("group")}
	if f.First == "" || f.Last == "" {
		return h.usersPage(c, s, http.StatusUnprocessableEntity, f, "", s.L.T("name_required"))
	}
	_, err := h.adm.CreateUser(ctx, s.Admin.Idempotent(formRequestID(s, c.FormValue("nonce"))), nu)
	return h.submitted(c, s, formAddUser, err, func(status int, msg string) error {
		return h.usersPage(c, s, status, f, "", msg)
	}, func(notice string) error {
		return h.usersPage(c, s, http.StatusOK, addUserForm{}, notice, "")
	})
}

// submitted answers a form that submits a request: "Submitted and pending
// approval" (also for the same form sent again, which made nothing more),
// or the refusal on the form (problems the administrator can correct) or
// alone (the rest).
func (h *Handler) submitted(c echo.Context, s *signedIn, form string, err error, refused func(int, string) error, ok func(string) error) error {
	var p *admin.Problem
	switch {
	case err == nil || admin.AlreadySubmitted(err):
		return ok(s.L.T("submitted"))
	case asProblem(err, &p) && (p.Status == http.StatusUnprocessableEntity || p.Status == http.StatusConflict):
		return refused(p.Status, h.problemText(s, p, form))
	}
	return h.fail(c, s, err)
}

var userActions = map[string]store.ApprovalKind{"lock": store.KindLockUser, "unlock": store.KindUnlockUser,
	"reset-password": store.KindResetPassword, "delete": store.KindDeleteUser}

func (h *Handler) handleUserAction(c echo.Context, s *signedIn) error {
	k, ok := userActions[c.Param("action")]
	if !ok {
		return h.renderError(c, s, http.StatusNotFound, s.L.T("not_found"))
	}
	_, err := h.adm.UserAction(c.Request().Context(), s.Admin.Idempotent(formRequestID(s, c.FormValue("nonce"))), k, c.Param("id"))
	refused := func(status int, msg string) error { return h.usersPage(c, s, status, addUserForm{}, "", msg) }
	return h.submitted(c, s, formUserAction, err, refused, func(notice string) error {
		return h.usersPage(c, s, http.StatusOK, addUserForm{}, notice, "")
	})
}

// --- job roles ---

type gridCell struct {
	Name, SelfName, Label, SelfLabel string
	Checked, SelfChecked             bool
}

type gridRow struct {
	Title string
	Cells []gridCell
}

type roleRow struct {
	ID, Name, Summary string
}

type rolesPage struct {
	common
	Rows      []roleRow
	CanCreate bool
	CanEdit   bool
	Rights    []string
	Grid      []gridRow
	Name      string
	ID        string // the role edited ("" on the list)
}

func (h *Handler) handleRoles(c echo.Context, s *signedIn) error {
	return h.rolesPage(c, s, http.StatusOK, "", nil, "", "")
}

func (h *Handler) rolesPage(c echo.Context, s *signedIn, status int, name string, g store.Grants, notice, errMsg string) error {
	roles, err := h.adm.JobRoles(c.Request().Context(), s.Admin)
	if err != nil {
		return h.fail(c, s, err)
	}
	p := rolesPage{common: h.common(c, s, "job_roles"), CanCreate: s.Admin.Allowed(store.OpCreateJobRole) == nil,
		CanEdit: s.Admin.Allowed(store.OpEditJobRole) == nil, Rights: rightNames(s.L), Grid: grid(s.L, s.Lang, g), Name: name}
	p.Notice, p.Error = notice, errMsg
	for _, r := range roles {
		p.Rows = append(p.Rows, roleRow{ID: r.ID, Name: r.Name, Summary: grantsInWords(s.L, s.Lang, r.Grants)})
	}
	return h.render(c, status, "roles", p)
}

func (h *Handler) handleRole(c echo.Context, s *signedIn) error {
	r, err := h.adm.JobRole(c.Request().Context(), s.Admin, c.Param("id"))
	if err != nil {
		return h.fail(c, s, err)
	}
	return h.rolePage(c, s, http.StatusOK, r, r.Name, r.Grants, "", "")
}

func (h *Handler) rolePage(c echo.Context, s *signedIn, status int, r store.JobRole, name string, g store.Grants, notice, errMsg string) error {
	p := rolesPage{common: h.common(c, s, "edit_job_role"), CanEdit: s.Admin.Allowed(store.OpEditJobRole) == nil,
		Rights: rightNames(s.L), Grid: grid(s.L, s.Lang, g), Name: name, ID: r.ID}
	p.Notice, p.Error = notice, errMsg
	return h.render(c, status, "role", p)
}

// grid is the permissions × rights checkboxes, checked as g holds them.
func grid(l msgs, lang string, g store.Grants) []gridRow {
	var out []gridRow
	for _, perm := range store.Permissions() {
		row := gridRow{Title: perm.TitleIn(lang)}
		for _, r := range store.AllRights() {
			name := fmt.Sprintf("g.%s.%s", perm, r)
			rn := rightName(l, r.String())
			row.Cells = append(row.Cells, gridCell{Name: name, SelfName: "s" + name[1:],
				Label: row.Title + ": " + rn, SelfLabel: l.F("self_approved_label", row.Title, rn),
				Checked: g.Rights(perm).Has(r), SelfChecked: g.SelfApproved(perm).Has(r)})
		}
		out = append(out, row)
	}
	return out
}

// gridValue reads the grid's checkboxes back into grants.
func gridValue(c echo.Context) store.Grants {
	var g store.Grants
	for _, perm := range store.Permissions() {
		pg := store.PermissionGrant{Permission: perm}
		for _, r := range store.AllRights() {
			if c.FormValue(fmt.Sprintf("g.%s.%s", perm, r)) == "on" {
				pg.Rights |= store.Rights(r)
			}
			if c.FormValue(fmt.Sprintf("s.%s.%s", perm, r)) == "on" {
				pg.SelfApproved |= store.Rights(r)
			}
		}
		g = append(g, pg)
	}
	return g.Normalize()
}

func (h *Handler) handleCreateRole(c echo.Context, s *signedIn) error {
	name, g := strings.TrimSpace(c.FormValue("name")), gridValue(c)
	_, err := h.adm.CreateJobRole(c.Request().Context(), s.Admin.Idempotent(formRequestID(s, c.FormValue("nonce"))),
		admin.JobRoleChange{Name: &name, Grants: &g})
	return h.submitted(c, s, formRole, err, func(status int, msg string) error {
		return h.rolesPage(c, s, status, name, g, "", msg)
	}, func(notice string) error { return h.rolesPage(c, s, http.StatusOK, "", nil, notice, "") })
}

func (h *Handler) handleEditRole(c echo.Context, s *signedIn) error {
	ctx := c.Request().Context()
	r, err := h.adm.JobRole(ctx, s.Admin, c.Param("id"))
	if err != nil {
		return h.fail(c, s, err)
	}
	name, g := strings.TrimSpace(c.FormValue("name")), gridValue(c)
	_, err = h.adm.EditJobRole(ctx, s.Admin.Idempotent(formRequestID(s, c.FormValue("nonce"))), r.ID, admin.JobRoleChange{Name: &name, Grants: &g})
	return h.submitted(c, s, formRole, err, func(status int, msg string) error {
		return h.rolePage(c, s, status, r, name, g, "", msg)
	}, func(notice string) error { return h.rolePage(c, s, http.StatusOK, r, r.Name, r.Grants, notice, "") })
}

// --- account groups ---

type accountBox struct {
	ID, Label string
	Checked   bool
}

type groupRow struct {
	ID, Name string
	Accounts []string
}

type groupsPage struct {
	common
	Rows      []groupRow
	CanCreate bool
	CanEdit   bool
	Name      string
	ID        string
	Accounts  []accountBox
}

func (h *Handler) handleGroups(c echo.Context, s *signedIn) error {
	return h.groupsPage(c, s, http.StatusOK, "groups", store.AccountGroup{}, "", "")
}

func (h *Handler) handleGroup(c echo.Context, s *signedIn) error {
	g, err := h.adm.AccountGroup(c.Request().Context(), s.Admin, c.Param("id"))
	if err != nil {
		return h.fail(c, s, err)
	}
	return h.groupsPage(c, s, http.StatusOK, "group", g, "", "")
}

// groupsPage renders the list and create form ("groups") or the edit form
// of g ("group"), with g's name and accounts in the form.
func (h *Handler) groupsPage(c echo.Context, s *signedIn, status int, page string, g store.AccountGroup, notice, errMsg string) error {
	ctx := c.Request().Context()
	names, err := h.names(ctx, s.Admin)
	if err != nil {
		return h.fail(c, s, err)
	}
	title := "account_groups"
	if page == "group" {
		title = "edit_account_group"
	}
	p := groupsPage{common: h.common(c, s, title), CanCreate: s.Admin.Allowed(store.OpCreateAccountGroup) == nil,
		CanEdit: s.Admin.Allowed(store.OpEditAccountGroup) == nil, Name: g.Name, ID: g.ID}
	p.Notice, p.Error = notice, errMsg
	for _, gr := range names.groups {
		row := groupRow{ID: gr.ID, Name: gr.Name}
		for _, id := range gr.AccountIDs {
			row.Accounts = append(row.Accounts, names.accountLabel(s, id))
		}
		p.Rows = append(p.Rows, row)
	}
	for _, acc := range names.accounts {
		p.Accounts = append(p.Accounts, accountBox{ID: acc.ID, Label: names.accountLabel(s, acc.ID), Checked: slices.Contains(g.AccountIDs, acc.ID)})
	}
	return h.render(c, status, page, p)
}

func (h *Handler) handleCreateGroup(c echo.Context, s *signedIn) error {
	name, ids := strings.TrimSpace(c.FormValue("name")), formValues(c, "account")
	_, err := h.adm.CreateAccountGroup(c.Request().Context(), s.Admin.Idempotent(formRequestID(s, c.FormValue("nonce"))),
		admin.AccountGroupChange{Name: &name, AccountIDs: &ids})
	return h.submitted(c, s, formGroup, err, func(status int, msg string) error {
		return h.groupsPage(c, s, status, "groups", store.AccountGroup{Name: name, AccountIDs: ids}, "", msg)
	}, func(notice string) error {
		return h.groupsPage(c, s, http.StatusOK, "groups", store.AccountGroup{}, notice, "")
	})
}

func (h *Handler) handleEditGroup(c echo.Context, s *signedIn) error {
	ctx := c.Request().Context()
	g, err := h.adm.AccountGroup(ctx, s.Admin, c.Param("id"))
	if err != nil {
		return h.fail(c, s, err)
	}
	name, ids := strings.TrimSpace(c.FormValue("name")), formValues(c, "account")
	_, err = h.adm.EditAccountGroup(ctx, s.Admin.Idempotent(formRequestID(s, c.FormValue("nonce"))), g.ID,
		admin.AccountGroupChange{Name: &name, AccountIDs: &ids})
	return h.submitted(c, s, formGroup, err, func(status int, msg string) error {
		return h.groupsPage(c, s, status, "group", store.AccountGroup{ID: g.ID, Name: name, AccountIDs: ids}, "", msg)
	}, func(notice string) error { return h.groupsPage(c, s, http.StatusOK, "group", g, notice, "") })
}

func formValues(c echo.Context, name string) []string {
	if err := c.Request().ParseForm(); err != nil {
		return nil
	}
	vs := c.Request().PostForm[name]
	if vs == nil {
		vs = []string{}
	}
	return vs
}

// --- approvals ---

type requestRow struct {
	ID, Who, When, What, Status string
}

type approvalsPage struct {
	common
	Pending           []requestRow
	Mine              []requestRow
	TemporaryPassword string
	TemporaryFor      string
}

func (h *Handler) handleApprovals(c echo.Context, s *signedIn) error {
	return h.approvalsPage(c, s, http.StatusOK, approvalsPage{})
}

func (h *Handler) approvalsPage(c echo.Context, s *signedIn, status int, p approvalsPage) error {
	ctx := c.Request().Context()
	pending, err := h.adm.Pending(ctx, s.Admin)
	if err != nil {
		return h.fail(c, s, err)
	}
	mine, err := h.adm.MyRequests(ctx, s.Admin, true)
	if err != nil {
		return h.fail(c, s, err)
	}
	names, err := h.names(ctx, s.Admin)
	if err != nil {
		return h.fail(c, s, err)
	}
	notice, errMsg, tp, tf := p.Notice, p.Error, p.TemporaryPassword, p.TemporaryFor
	p = approvalsPage{common: h.common(c, s, "approvals"), TemporaryPassword: tp, TemporaryFor: tf}
	p.Notice, p.Error = notice, errMsg
	row := func(r store.ApprovalRequest) requestRow {
		return requestRow{ID: r.ID, Who: names.userName(r.InitiatorID), When: formatDateTime(r.CreatedAt),
			What: names.describe(s, r), Status: s.L.T("request_" + strings.ToLower(string(r.Status)))}
	}
	for _, r := range pending {
		p.Pending = append(p.Pending, row(r))
	}
	for _, r := range mine {
		p.Mine = append(p.Mine, row(r))
	}
	return h.render(c, status, "approvals", p)
}

func (h *Handler) handleDecide(c echo.Context, s *signedIn) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	var (
		d   admin.Decision
		err error
	)
	switch c.Param("action") {
	case "approve":
		d, err = h.adm.Approve(ctx, s.Admin, id)
	case "reject":
		d, err = h.adm.Reject(ctx, s.Admin, id, c.FormValue("reason"))
	case "cancel":
		d, err = h.adm.Cancel(ctx, s.Admin, id)
	default:
		return h.renderError(c, s, http.StatusNotFound, s.L.T("not_found"))
	}
	var p *admin.Problem
	switch {
	case err == nil:
	case asProblem(err, &p) && p.Status == http.StatusConflict:
		// Decided by someone else meanwhile, or its target moved on:
		// nothing changed, and the page says which, by the request's state
		// now (still awaiting a decision: its target moved).
		why, err := h.lostRace(c, s, id)
		if err != nil {
			return h.fail(c, s, err)
		}
		return h.approvalsPage(c, s, http.StatusConflict, approvalsPage{common: common{Error: s.L.F("lost_race", s.L.T(why))}})
	case asProblem(err, &p) && p.Status == http.StatusUnprocessableEntity:
		return h.approvalsPage(c, s, p.Status, approvalsPage{common: common{Error: s.L.T("reason_required")}})
	default:
		return h.fail(c, s, err)
	}
	page := approvalsPage{common: common{Notice: s.L.T("decided_" + strings.ToLower(string(d.Request.Status)))}}
	if d.TemporaryPassword != "" {
		page.TemporaryPassword = d.TemporaryPassword
		page.TemporaryFor = h.temporaryFor(d.Request)
	}
	return h.approvalsPage(c, s, http.StatusOK, page)
}

// lostRace is the message key of a decision refused as a conflict: the
// request is still pending (the record it changes moved since it was
// submitted, so approving it would apply a stale change) or it is not (it
// was decided or cancelled meanwhile).
func (h *Handler) lostRace(c echo.Context, s *signedIn, id string) (string, error) {
	ctx := c.Request().Context()
	pending, err := h.adm.Pending(ctx, s.Admin)
	if err != nil {
		return "", err
	}
	mine, err := h.adm.MyRequests(ctx, s.Admin, true)
	if err != nil {
		return "", err
	}
	for _, r := range append(pending, mine...) {
		if r.ID == id {
			return "race_target_moved", nil
		}
	}
	return "race_decided", nil
}

// temporaryFor is the login ID whose temporary password an approval shows.
func (h *Handler) temporaryFor(r store.ApprovalRequest) string {
	p, _ := decodePayload(r)
	return p.LoginID
}

// --- notifications ---

type notificationRow struct {
	Text, When string
	Unread     bool
}

type notificationsPage struct {
	common
	Rows []notificationRow
	Next string
}

func (h *Handler) handleNotifications(c echo.Context, s *signedIn) error {
	return h.notificationsPage(c, s, "")
}

func (h *Handler) notificationsPage(c echo.Context, s *signedIn, notice string) error {
	ns, next, err := h.adm.Notifications(c.Request().Context(), s.Admin, store.Page{After: c.QueryParam("after"), Limit: 50})
	if err != nil {
		return h.fail(c, s, err)
	}
	// Newest first: the store pages oldest first, so this page is reversed.
	slices.SortStableFunc(ns, func(a, b store.Notification) int { return b.CreatedAt.Compare(a.CreatedAt) })
	p := notificationsPage{common: h.common(c, s, "notifications")}
	p.Notice = notice
	if next != "" {
		p.Next = prefix + "/notifications?after=" + next
	}
	for _, n := range ns {
		p.Rows = append(p.Rows, notificationRow{Text: n.Text, When: formatDateTime(n.CreatedAt), Unread: !n.Read})
	}
	return h.render(c, http.StatusOK, "notifications", p)
}

func (h *Handler) handleMarkAllRead(c echo.Context, s *signedIn) error {
	if err := h.adm.MarkAllRead(c.Request().Context(), s.Admin); err != nil {
		return h.fail(c, s, err)
	}
	return h.notificationsPage(c, s, s.L.T("all_read"))
}

// --- connected applications ---

type connectionRow struct {
	ID, Vendor, User, Since, LastUsed, Label string
	Sees, Accounts                           []string
}

type connectionsPage struct {
	common
	Rows          []connectionRow
	CanDisconnect bool
}

func (h *Handler) handleConnections(c echo.Context, s *signedIn) error {
	return h.connectionsPage(c, s, http.StatusOK, "", "")
}

// connectionsPage lists the standing connections of the business's
// accounting software users; revoked ones are in the audit log.
func (h *Handler) connectionsPage(c echo.Context, s *signedIn, status int, notice, errMsg string) error {
	ctx := c.Request().Context()
	cns, err := h.adm.Connections(ctx, s.Admin)
	if err != nil {
		return h.fail(c, s, err)
	}
	names, err := h.names(ctx, s.Admin)
	if err != nil {
		return h.fail(c, s, err)
	}
	p := connectionsPage{common: h.common(c, s, "connections"), CanDisconnect: s.Admin.Allowed(store.OpEditUser) == nil}
	p.Notice, p.Error = notice, errMsg
	now := h.now()
	for _, cn := range cns {
		if !cn.Active(now) {
			continue
		}
		row := connectionRow{ID: cn.ID, Vendor: cn.Vendor, User: cmp.Or(cn.User.DisplayName, cn.User.LoginID) + " (" + cn.User.LoginID + ")",
			Since: formatDateTime(cn.GrantedAt), LastUsed: s.L.T("never_used"), Label: s.L.F("disconnect_label", cn.Vendor, cn.User.LoginID)}
		if !cn.LastUsedAt.IsZero() {
			row.LastUsed = formatDateTime(cn.LastUsedAt)
		}
		row.Sees = scopewords.Describe(s.Lang, cn.Scopes)
		if as, ok := names.assignment[cn.User.ID]; ok {
			for _, id := range names.group[as.AccountGroupID].AccountIDs {
				row.Accounts = append(row.Accounts, names.accountShort(s, id))
			}
		}
		p.Rows = append(p.Rows, row)
	}
	return h.render(c, status, "connections", p)
}

func (h *Handler) handleDisconnect(c echo.Context, s *signedIn) error {
	err := h.adm.Disconnect(c.Request().Context(), s.Admin, c.Param("id"))
	var p *admin.Problem
	if asProblem(err, &p) && p.Status == http.StatusConflict {
		return h.connectionsPage(c, s, http.StatusConflict, "", h.problemText(s, p, formDisconnect))
	} else if err != nil {
		return h.fail(c, s, err)
	}
	return h.connectionsPage(c, s, http.StatusOK, s.L.T("disconnected"), "")
}

// --- audit log ---

type auditRow struct {
	When, Who, What, Target, Outcome string
}

type auditPage struct {
	common
	Who, What, From, To string
	Users               []option
	Rows                []auditRow
	Next                string
}

func (h *Handler) handleAudit(c echo.Context, s *signedIn) error {
	ctx := c.Request().Context()
	p := auditPage{common: h.common(c, s, "audit_log"), Who: c.QueryParam("who"), What: strings.TrimSpace(c.QueryParam("what")),
		From: c.QueryParam("from"), To: c.QueryParam("to")}
	var f store.AuditFilter
	if p.Who != "" {
		f.ActorID = &p.Who
	}
	if p.What != "" {
		f.ActionPrefix = &p.What
	}
	var err error
	if f.Since, err = parseDay(p.From, 0); err != nil {
		return h.renderError(c, s, http.StatusBadRequest, s.L.T("bad_date"))
	}
	if f.Until, err = parseDay(p.To, 24*time.Hour); err != nil {
		return h.renderError(c, s, http.StatusBadRequest, s.L.T("bad_date"))
	}
	es, next, err := h.adm.Audit(ctx, s.Admin, f, store.Page{After: c.QueryParam("after"), Limit: 50})
	if err != nil {
		return h.fail(c, s, err)
	}
	names, err := h.names(ctx, s.Admin)
	if err != nil {
		return h.fail(c, s, err)
	}
	for _, u := range names.users {
		p.Users = append(p.Users, option{u.ID, cmp.Or(u.DisplayName, u.LoginID), u.ID == p.Who})
	}
	if next != "" {
		q := c.Request().URL.Query()
		q.Set("after", next)
		p.Next = prefix + "/audit?" + q.Encode()
	}
	for _, e := range es {
		p.Rows = append(p.Rows, auditRow{When: formatDateTime(e.At), Who: names.userName(e.ActorID), What: e.Action,
			Target: strings.TrimSpace(e.TargetType + " " + e.TargetID), Outcome: e.Outcome})
	}
	return h.render(c, http.StatusOK, "audit", p)
}

// parseDay reads a yyyy-mm-dd date in the bank's zone, plus add ("": zero).
func parseDay(v string, add time.Duration) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, store.Toronto())
	if err != nil {
		return time.Time{}, fmt.Errorf("console: date %q: %w", v, err)
	}
	return t.Add(add), nil
}

// formatDateTime shows a time in the bank's zone.
func formatDateTime(t time.Time) string { return t.In(store.Toronto()).Format("2006-01-02 15:04") }
