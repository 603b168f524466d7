package console

import (
	"net/http"
	"strings"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// The forms whose refusals the console words (problemText's form).
const (
	formAddUser    = "add_user"
	formUserAction = "user_action"
	formRole       = "role"
	formGroup      = "group"
	formDisconnect = "disconnect"
)

// problemText words a problem for the page, in the user's language. The
// rules (package admin) write their problems' details in English for
// /admin/v1; the console words them by what they are — the problem's type,
// the field it names and the form that was refused — never by reading the
// English. A refusal the console has no words for shows the rules' detail
// after a sentence in the user's language.
func (h *Handler) problemText(s *signedIn, p *admin.Problem, form string) string {
	l := s.L
	switch {
	case p.Missing != nil:
		perm := store.Permission(p.Missing.Permission).TitleIn(s.Lang)
		right, self := strings.CutPrefix(p.Missing.Right, "self-approved ")
		if self {
			return l.F("missing_self", rightName(l, right), perm)
		}
		return l.F("missing_right", rightName(l, right), perm)
	case p.Status == http.StatusNotFound:
		return l.T("not_found")
	case p.Type == apihttp.ProblemTypeBase+"invalid":
		if key := invalidKey(p, form); key != "" {
			return l.T(key)
		}
	case p.Status == http.StatusConflict:
		if key, ok := conflictKeys[form]; ok {
			return l.T(key)
		}
	}
	return l.F("refused_other", p.Detail)
}

// invalidKey is the message of a 422 by the field it names.
func invalidKey(p *admin.Problem, form string) string {
	field := ""
	if len(p.Errors) > 0 {
		field = p.Errors[0].Field
	}
	switch field {
	case "jobRoleId":
		// Rule 3: the role cannot be given to an accounting software user.
		return "refused_rule3_role"
	case "grants":
		if form == formRole {
			return "refused_grants"
		}
	case "id":
		if form == formUserAction {
			return "refused_self"
		}
	case "legalEntityId", "accountGroupId", "accountId":
		return "refused_entity_context"
	case "accountingSoftware":
		return "refused_software_box"
	case "name":
		return "refused_name"
	case "reason":
		return "reason_required"
	}
	return ""
}

// conflictKeys are the messages of a 409 by the form refused: each form
// meets one kind of conflict with the current state.
var conflictKeys = map[string]string{
	formAddUser:    "refused_login_taken",
	formUserAction: "refused_user_state",
	formRole:       "refused_role_conflict",
	formGroup:      "refused_group_conflict",
	formDisconnect: "refused_disconnected",
}
