package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
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

// Connection is a consent an accounting software user of the business
// gave a vendor: the connection the business can see and cut.
type Connection struct {
	store.Consent
	User   store.User
	Vendor string // the client's registered name (its ID if it is gone)
}

func toConnectionJSON(cn Connection, now time.Time) connectionJSON {
	scopes := cn.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return connectionJSON{ID: cn.ID, UserID: cn.User.ID, LoginID: cn.User.LoginID, ClientID: cn.ClientID, Vendor: cn.Vendor,
		Scopes: scopes, Since: cn.GrantedAt.UTC(), LastUsedAt: apihttp.TimeOrNil(cn.LastUsedAt), ExpiresAt: apihttp.TimeOrNil(cn.ExpiresAt),
		RevokedAt: apihttp.TimeOrNil(cn.RevokedAt), Active: cn.Active(now)}
}

// handleListConnections lists every consent of the group's accounting
// software users that the caller's context reaches, keyset-paged by consent
// ID. ?active=true keeps standing ones.
func (s *Server) handleListConnections(c echo.Context) error {
	cl := mustCaller(c)
	if err := allow(cl, store.OpViewUsers); err != nil {
		return err
	}
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	activeOnly, err := apihttp.QueryBool(c, "active")
	if err != nil {
		return err
	}
	cns, err := s.connections(c.Request().Context(), cl, activeOnly)
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]connectionJSON, 0, len(cns))
	for _, cn := range cns {
		out = append(out, toConnectionJSON(cn, now))
	}
	items, next := apihttp.Paginate(out, p, func(cn connectionJSON) string { return cn.ID })
	return c.JSON(http.StatusOK, apihttp.NewList(items, next))
}

// connections are the consents of the accounting software users the
// caller's context reaches (standing ones only when activeOnly says so).
func (s *Server) connections(ctx context.Context, cl caller, activeOnly *bool) ([]Connection, error) {
	if err := allow(cl, store.OpViewUsers); err != nil {
		return nil, err
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
		return nil, fmt.Errorf("admin: list users: %w", err)
	}
	now := s.now()
	vendors := map[string]string{}
	var out []Connection
	for _, u := range users {
		cs, err := s.st.ListConsents(ctx, u.ID)
		if err != nil {
			return nil, fmt.Errorf("admin: list consents: %w", err)
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
					return nil, fmt.Errorf("admin: get client: %w", err)
				}
				vendors[cn.ClientID] = name
			}
			out = append(out, Connection{Consent: cn, User: u, Vendor: name})
		}
	}
	return out, nil
}

// handleRevokeConnection revokes a consent at once (not maker-checker:
// cutting access must not wait for a second person).
func (s *Server) handleRevokeConnection(c echo.Context) error {
	if err := s.revokeConnection(c.Request().Context(), mustCaller(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// revokeConnection revokes connection (consent) id of a user the caller's
// context reaches (404 otherwise), with every token issued under it.
func (s *Server) revokeConnection(ctx context.Context, cl caller, id string) error {
	if err := allow(cl, store.OpEditUser); err != nil {
		return err
	}
	cn, err := s.st.GetConsent(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apihttp.NotFound("connection", id)
	} else if err != nil {
		return fmt.Errorf("admin: get consent: %w", err)
	}
	if _, err := s.reachableUser(cl)(ctx, cl.User.BusinessGroupID, cn.UserID); err != nil {
		return apihttp.NotFound("connection", id)
	}
	if !cn.RevokedAt.IsZero() {
		return apihttp.Conflict("the connection was already revoked")
	}
	return s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.RevokeConsent(ctx, cn.ID, s.now().UTC()); err != nil {
			return fmt.Errorf("admin: revoke consent: %w", err)
		}
		return s.auditTx(ctx, cl, auditEntry{Action: audit.ConsentRevoked, TargetType: "consent", TargetID: cn.ID,
			Before: map[string]any{"userId": cn.UserID, "clientId": cn.ClientID, "scopes": cn.Scopes},
			After:  map[string]any{"by": audit.ByAdministrator, "userId": cn.UserID, "clientId": cn.ClientID}})
	})
}
