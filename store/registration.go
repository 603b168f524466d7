package store

import (
	"context"
	"fmt"
	"time"
)

// Client statuses. A client registered through dynamic client registration
// (RFC 7591) waits for a bank operator's approval; until then, and for ever
// once rejected, it may neither authorize nor obtain tokens.
const (
	ClientActive   = "active"
	ClientPending  = "pending"
	ClientRejected = "rejected"
)

// ClientRegistration is the metadata a client registered itself with that
// the OAuth server does not act on but returns on RFC 7592 reads and shows
// the operator who approves it (FDX's registration fields among them).
type ClientRegistration struct {
	Contacts           []string `json:"contacts,omitempty"`
	Description        string   `json:"description,omitempty"`
	ClientURI          string   `json:"client_uri,omitempty"`
	DurationType       []string `json:"duration_type,omitempty"`
	DurationPeriod     int      `json:"duration_period,omitempty"`
	LookbackPeriod     int      `json:"lookback_period,omitempty"`
	RegistryReferences []any    `json:"registry_references,omitempty"`
	Intermediaries     []any    `json:"intermediaries,omitempty"`
}

// RegistrationToken is an initial access token (RFC 7591 §3) the bank
// hands a vendor so that it may register clients. Only its hash is kept.
type RegistrationToken struct {
	ID        string
	TokenHash string
	ExpiresAt time.Time
	UsesLeft  int
	CreatedBy string
	CreatedAt time.Time
}

// RegistrationTokenStore keeps initial access tokens.
type RegistrationTokenStore interface {
	CreateRegistrationToken(ctx context.Context, t RegistrationToken) (RegistrationToken, error)
	// UseRegistrationToken spends one use of the token whose hash is given;
	// ErrNotFound if it is unknown, expired at now or used up.
	UseRegistrationToken(ctx context.Context, tokenHash string, now time.Time) error
}

// DecideClient approves (ClientActive) or rejects (ClientRejected) a
// pending client; one that is not pending is ErrConflict, as the decision
// is made once. before is the client as it was.
func DecideClient(ctx context.Context, st ClientStore, id string, approve bool) (before, after Client, err error) {
	after, err = st.UpdateClient(ctx, id, func(c Client) (Client, error) {
		before = c
		if c.Status != ClientPending {
			return c, fmt.Errorf("client %s is %s, not pending: %w", id, c.Status, ErrConflict)
		}
		c.Status = ClientRejected
		if approve {
			c.Status = ClientActive
		}
		return c, nil
	})
	if err != nil {
		return Client{}, Client{}, fmt.Errorf("decide client: %w", err)
	}
	return before, after, nil
}
