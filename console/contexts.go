package console

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// contextCookie remembers the legal-entity context an administrator chose
// (overviewValue for the business group overview). It names a context
// only: each request checks that the signed-in user still administers
// there, and falls back to the home context otherwise.
const (
	contextCookie = "bankfeed_console_context"
	overviewValue = "overview"
	pathContext   = prefix + "/context"
)

// adminContext is one place an administrator may administer from.
type adminContext struct {
	Entity string // "" for the business group overview
	Name   string
}

// contexts are where u administers: an assignment in the overview makes
// the overview and every legal entity of the business group (its rights
// hold in each); otherwise the entities of u's assignments. Overview first,
// then by name.
func (h *Handler) contexts(ctx context.Context, u store.User, l msgs) ([]adminContext, error) {
	overview := false
	mine := map[string]bool{}
	for p := (store.Page{Limit: 1000}); ; {
		as, next, err := h.st.ListAssignments(ctx, u.BusinessGroupID, p)
		if err != nil {
			return nil, fmt.Errorf("console: list assignments: %w", err)
		}
		for _, a := range as {
			if a.UserID == u.ID {
				overview = overview || a.LegalEntityID == ""
				mine[a.LegalEntityID] = true
			}
		}
		if next == "" {
			break
		}
		p.After = next
	}
	es, err := h.st.ListLegalEntities(ctx, u.BusinessGroupID)
	if err != nil {
		return nil, fmt.Errorf("console: list legal entities: %w", err)
	}
	var out []adminContext
	for _, e := range es {
		if overview || mine[e.ID] {
			out = append(out, adminContext{Entity: e.ID, Name: e.Name})
		}
	}
	slices.SortFunc(out, func(a, b adminContext) int { return strings.Compare(a.Name, b.Name) })
	if overview {
		out = slices.Insert(out, 0, adminContext{Name: l.T("overview")})
	}
	return out, nil
}

// cookieContext is the context the browser's cookie names ("" for the
// overview); ok=false without one.
func cookieContext(c echo.Context) (entity string, ok bool) {
	ck, err := c.Cookie(contextCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 64 {
		return "", false
	}
	if ck.Value == overviewValue {
		return "", true
	}
	return ck.Value, true
}

// holds reports whether cs has the context of entity ("": the overview).
func holds(cs []adminContext, entity string) bool {
	return slices.ContainsFunc(cs, func(x adminContext) bool { return x.Entity == entity })
}

type contextsPage struct {
	common
	Contexts []contextOption
}

type contextOption struct {
	Value, Name string
	Current     bool
}

// handleContexts is the chooser: every context the administrator may
// administer from, the current one marked.
func (h *Handler) handleContexts(c echo.Context, s *signedIn) error {
	p := contextsPage{common: h.common(c, s, "choose_context")}
	for _, x := range s.Contexts {
		p.Contexts = append(p.Contexts, contextOption{Value: cmp.Or(x.Entity, overviewValue), Name: x.Name, Current: x.Entity == s.Admin.LegalEntityID()})
	}
	return h.render(c, http.StatusOK, "contexts", p)
}

// handleChooseContext switches the console to the chosen context (one the
// administrator may administer from; another is not found) and goes home.
func (h *Handler) handleChooseContext(c echo.Context, s *signedIn) error {
	v := c.FormValue("context")
	want := v
	if v == overviewValue {
		want = ""
	}
	if v == "" || !holds(s.Contexts, want) {
		return h.renderError(c, s, http.StatusNotFound, s.L.T("not_found"))
	}
	c.SetCookie(&http.Cookie{Name: contextCookie, Value: v, Path: prefix, HttpOnly: true,
		Secure: strings.HasPrefix(h.issuer, "https://"), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, prefix+"/")
}
