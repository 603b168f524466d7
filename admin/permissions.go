package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

type label struct {
	EN string `json:"en"`
	FR string `json:"fr"`
}

var rightLabels = map[store.Right]label{
	store.RightView: {"View", "Consulter"}, store.RightCreate: {"Create", "Créer"}, store.RightEdit: {"Edit", "Modifier"},
	store.RightDelete: {"Delete", "Supprimer"}, store.RightApprove: {"Approve", "Approuver"},
	store.RightExecute: {"Execute", "Exécuter"}, store.RightSign: {"Sign", "Signer"},
}

type rightJSON struct {
	Name  string `json:"name"`
	Title label  `json:"title"`
}

type permissionJSON struct {
	Name          store.Permission `json:"name"`
	Title         label            `json:"title"`
	Transactional bool             `json:"transactional"`
	// AccountingSoftwareRights are what an accounting software user's role
	// may hold on this permission (empty: none).
	AccountingSoftwareRights store.RightSet `json:"accountingSoftwareRights"`
}

type operationJSON struct {
	Name         store.Operation `json:"name"`
	Requirements []string        `json:"requirements"`
}

type catalogueJSON struct {
	Permissions []permissionJSON `json:"permissions"`
	Rights      []rightJSON      `json:"rights"`
	Operations  []operationJSON  `json:"operations"`
}

var operations = []store.Operation{
	store.OpViewUsers, store.OpCreateUser, store.OpEditUser, store.OpDeleteUser,
	store.OpViewJobRoles, store.OpCreateJobRole, store.OpEditJobRole, store.OpDeleteJobRole, store.OpEditSelfApproved,
	store.OpViewAccountGroups, store.OpCreateAccountGroup, store.OpEditAccountGroup, store.OpDeleteAccountGroup,
	store.OpViewAssignments, store.OpAssign,
}

// handlePermissions is the catalogue the front end builds its forms from;
// any admin caller may read it.
func (s *Server) handlePermissions(c echo.Context) error {
	out := catalogueJSON{}
	ceiling := store.AccountingSoftwareReadOnlyGrants()
	for _, p := range store.Permissions() {
		out.Permissions = append(out.Permissions, permissionJSON{Name: p, Title: label{p.TitleIn("en"), p.TitleIn("fr")},
			Transactional: p.Transactional(), AccountingSoftwareRights: ceiling.Rights(p)})
	}
	for _, r := range store.AllRights() {
		out.Rights = append(out.Rights, rightJSON{Name: r.String(), Title: rightLabels[r]})
	}
	for _, op := range operations {
		o := operationJSON{Name: op}
		for _, r := range op.Requirements() {
			o.Requirements = append(o.Requirements, r.String())
		}
		out.Operations = append(out.Operations, o)
	}
	return c.JSON(http.StatusOK, out)
}
