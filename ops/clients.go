package ops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// clientJSON is an OAuth client as the operator who decides on its
// registration sees it: who it says it is and what it asks for, never its
// secret, keys or registration access token.
type clientJSON struct {
	ID                      string    `json:"id"`
	Name                    string    `json:"name"`
	Status                  string    `json:"status"`
	RedirectURIs            []string  `json:"redirectUris"`
	Scopes                  []string  `json:"scopes"`
	TokenEndpointAuthMethod string    `json:"tokenEndpointAuthMethod"`
	Description             string    `json:"description,omitempty"`
	ClientURI               string    `json:"clientUri,omitempty"`
	LogoURI                 string    `json:"logoUri,omitempty"`
	Contacts                []string  `json:"contacts,omitempty"`
	SelfRegistered          bool      `json:"selfRegistered"`
	CreatedAt               time.Time `json:"createdAt"`
}

func toClientJSON(c store.Client) clientJSON {
	return clientJSON{ID: c.ID, Name: c.Name, Status: c.Status, RedirectURIs: nonNil(c.RedirectURIs), Scopes: nonNil(c.Scopes),
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, Description: c.Registration.Description,
		ClientURI: c.Registration.ClientURI, LogoURI: c.LogoURI, Contacts: c.Registration.Contacts,
		SelfRegistered: c.RegistrationTokenHash != "", CreatedAt: c.CreatedAt.UTC()}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleApproveClient lets a client that registered itself (RFC 7591)
// authorize and obtain tokens.
func (s *Server) handleApproveClient(c echo.Context) error { return s.decideClient(c, true) }

// handleRejectClient refuses a registration for good: the client stays
// unable to authorize (a new registration is a new client).
func (s *Server) handleRejectClient(c echo.Context) error { return s.decideClient(c, false) }

// decideClient moves a pending client to active or rejected, audited as a
// bank-level event in the same transaction; a client that is not pending
// is a 409 (the decision is made once).
func (s *Server) decideClient(c echo.Context, approve bool) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	action := "client.rejected"
	if approve {
		action = "client.approved"
	}
	var out store.Client
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		before, after, err := store.DecideClient(ctx, s.st, id, approve)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return apihttp.NotFound("client", id)
		case errors.Is(err, store.ErrConflict):
			cur, gerr := s.st.GetClient(ctx, id)
			if gerr != nil {
				return fmt.Errorf("ops: get client: %w", gerr)
			}
			return apihttp.Conflict("client %q is %s; only a pending client can be approved or rejected", id, cur.Status)
		case err != nil:
			return fmt.Errorf("ops: decide client: %w", err)
		}
		out = after
		type state struct {
			Status string `json:"status"`
		}
		return s.audit(ctx, operatorFrom(c), "", action, "client", id, state{before.Status}, state{after.Status})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toClientJSON(out))
}

// handleGetClient shows a client, for the operator deciding on it.
func (s *Server) handleGetClient(c echo.Context) error {
	cl, err := apihttp.Lookup(c.Request().Context(), "client", c.Param("id"), s.st.GetClient)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toClientJSON(cl))
}
