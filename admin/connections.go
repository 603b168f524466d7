package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

type connectionJSON struct {
	ID         string     `json:"id"` // the consent ID
	UserID     string     `json:"userId"`
	LoginID    string     `json:"loginId"`
	ClientID   string     `json:"clientId"`
	Vendor     string     `json:"vendor"`
	Scopes     []string   `json:"scopes"`
	Since      time.Time  `json:"since"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	Active     bool       `json:"active"`
}

// handleListConnections lists every consent of the group's accounting
// software users that the caller's context reaches, keyset-paged by consent
// ID. ?active=true keeps standing ones.
func (s *Server) handleListConnections(c echo.Context) error {
	cl := mustCaller(c)
	ctx := c.Request().Context()
	if err := allow(cl, store.OpViewUsers); err != nil {
		return err
	}
	p, err := page(c)
	if err != nil {
		return err
	}
	activeOnly, err := queryBool(c, "active")
	if err != nil {
		return err
	}
	yes := true
	f := store.UserFilter{BusinessGroupID: cl.User.BusinessGroupID, AccountingSoftware: &yes, IncludeDeleted: true}
	if !cl.scope().Overview() {
		f.LegalEntityID = &cl.LegalEntityID
	}
	users, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.User, string, error) {
		return s.st.ListUsers(ctx, f, p)
	})
	if err != nil {
		return fmt.Errorf("admin: list users: %w", err)
	}
	now := s.now()
	vendors := map[string]string{}
	out := []connectionJSON{}
	for _, u := range users {
		cs, err := s.st.ListConsents(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("admin: list consents: %w", err)
		}
		for _, cn := range cs {
			if activeOnly != nil && *activeOnly != cn.Active(now) {
				continue
			}
			name, ok := vendors[cn.ClientID]
			if !ok {
				cli, err := s.st.GetClient(ctx, cn.ClientID)
				switch {
				case err == nil:
					name = cli.Name
				case errors.Is(err, store.ErrNotFound):
					name = cn.ClientID
				default:
					return fmt.Errorf("admin: get client: %w", err)
				}
				vendors[cn.ClientID] = name
			}
			scopes := cn.Scopes
			if scopes == nil {
				scopes = []string{}
			}
			out = append(out, connectionJSON{ID: cn.ID, UserID: u.ID, LoginID: u.LoginID, ClientID: cn.ClientID, Vendor: name,
				Scopes: scopes, Since: cn.GrantedAt.UTC(), LastUsedAt: timeOrNil(cn.LastUsedAt), ExpiresAt: timeOrNil(cn.ExpiresAt),
				RevokedAt: timeOrNil(cn.RevokedAt), Active: cn.Active(now)})
		}
	}
	items, next := pageOf(out, p, func(cn connectionJSON) string { return cn.ID })
	return c.JSON(http.StatusOK, newList(items, next))
}

// handleRevokeConnection revokes a consent at once (not maker-checker:
// cutting access must not wait for a second person).
func (s *Server) handleRevokeConnection(c echo.Context) error {
	cl := mustCaller(c)
	ctx := c.Request().Context()
	if err := allow(cl, store.OpEditUser); err != nil {
		return err
	}
	id := c.Param("id")
	cn, err := s.st.GetConsent(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("connection", id)
	} else if err != nil {
		return fmt.Errorf("admin: get consent: %w", err)
	}
	if _, err := s.reachableUser(cl)(ctx, cl.User.BusinessGroupID, cn.UserID); err != nil {
		return notFound("connection", id)
	}
	if !cn.RevokedAt.IsZero() {
		return conflict("the connection was already revoked")
	}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.RevokeConsent(ctx, cn.ID, s.now().UTC()); err != nil {
			return fmt.Errorf("admin: revoke consent: %w", err)
		}
		return s.auditTx(ctx, cl, auditEntry{Action: audit.ConsentRevoked, TargetType: "consent", TargetID: cn.ID,
			Before: map[string]any{"userId": cn.UserID, "clientId": cn.ClientID, "scopes": cn.Scopes},
			After:  map[string]any{"by": audit.ByAdministrator, "userId": cn.UserID, "clientId": cn.ClientID}})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
