package dataapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// The FDX Consent API (issue 13 §2): a recipient reads, and ends, a consent
// it holds. The consent ID is the grant_id of the token response; the
// caller authenticates with an access token of any of its connections and
// reaches only its own client's consents (another's, or an unknown one, is
// the same 404).

// consentGrantJSON is FDX's ConsentGrant.
type consentGrantJSON struct {
	ID             string                `json:"id"`
	Status         string                `json:"status"`
	Parties        []consentPartyJSON    `json:"parties"`
	CreatedTime    string                `json:"createdTime"`
	ExpirationTime string                `json:"expirationTime,omitempty"`
	UpdatedTime    string                `json:"updatedTime,omitempty"`
	DurationType   string                `json:"durationType"`
	DurationPeriod int                   `json:"durationPeriod,omitempty"`
	Resources      []consentResourceJSON `json:"resources"`
}

type consentPartyJSON struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	LogoURI string `json:"logoUri,omitempty"`
}

type consentResourceJSON struct {
	ResourceType string   `json:"resourceType"`
	ResourceID   string   `json:"resourceId"`
	DataClusters []string `json:"dataClusters"`
}

// dataClusters are FDX's data clusters of each data scope; ours map onto
// FDX's (accounts.read is the account clusters and transactions).
var dataClusters = map[string][]string{
	store.ScopeAccountsRead:       {"ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS"},
	store.ScopeStatementsRead:     {"STATEMENTS"},
	store.ScopeFDXAccountBasic:    {"ACCOUNT_BASIC"},
	store.ScopeFDXAccountDetailed: {"ACCOUNT_DETAILED"},
	store.ScopeFDXTransactions:    {"TRANSACTIONS"},
	store.ScopeFDXStatements:      {"STATEMENTS"},
	store.ScopeFDXCustomerContact: {"CUSTOMER_CONTACT"},
}

// clusterOrder is the order clusters are listed in.
var clusterOrder = []string{"ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS", "STATEMENTS", "CUSTOMER_CONTACT"}

func errConsentNotFound() *Problem {
	return newProblem(http.StatusNotFound, "consent-not-found", "Consent not found", codeDataNotFound,
		"no consent with this consentId is held by this client")
}

// errPutOnly answers a method other than PUT on the revocation resource.
func errPutOnly() *Problem {
	p := newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", codeMethodNotAllowed,
		"only PUT is allowed on a consent's revocation")
	p.allow = http.MethodPut
	return p
}

// codeDataNotFound is FDX's "Data not found for request parameters".
const codeDataNotFound = "1107"

// ownConsent is the route's consent when the caller's client holds it.
func (s *Server) ownConsent(c echo.Context) (store.Consent, error) {
	id := c.Param("consentId")
	if !validID(id) {
		return store.Consent{}, errConsentNotFound()
	}
	cs, err := s.store.GetConsent(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && cs.ClientID != principalFrom(c).grant.ClientID {
		return store.Consent{}, errConsentNotFound()
	} else if err != nil {
		return store.Consent{}, fmt.Errorf("dataapi: get consent: %w", err)
	}
	return cs, nil
}

// handleGetConsent is FDX getConsentGrant: the consent as it stands now.
func (s *Server) handleGetConsent(c echo.Context) error {
	ctx := c.Request().Context()
	if err := readQuery(c).err(); err != nil {
		return err
	}
	cs, err := s.ownConsent(c)
	if err != nil {
		return err
	}
	client, err := s.store.GetClient(ctx, cs.ClientID)
	if err != nil {
		return fmt.Errorf("dataapi: get client: %w", err)
	}
	now := s.now()
	bank := s.bank.Name
	if bank == "" {
		bank = "bankfeed"
	}
	out := consentGrantJSON{
		ID: cs.ID, Status: "ACTIVE", CreatedTime: timestamp(cs.GrantedAt), DurationType: "PERSISTENT",
		Parties: []consentPartyJSON{
			{Name: client.Name, Type: "DATA_RECIPIENT", LogoURI: client.LogoURI},
			{Name: bank, Type: "DATA_PROVIDER"},
		},
		Resources: []consentResourceJSON{},
	}
	if !cs.ExpiresAt.IsZero() {
		out.DurationType = "TIME_BOUND"
		out.ExpirationTime = timestamp(cs.ExpiresAt)
		out.DurationPeriod = int((cs.ExpiresAt.Sub(cs.GrantedAt) + 12*time.Hour) / (24 * time.Hour))
	}
	switch {
	case !cs.RevokedAt.IsZero():
		out.Status, out.UpdatedTime = "REVOKED", timestamp(cs.RevokedAt)
		return c.JSON(http.StatusOK, out)
	case !cs.Active(now):
		out.Status = "EXPIRED"
		return c.JSON(http.StatusOK, out)
	}
	// What the consent grants now: its scopes the user's job role still
	// allows, on the accounts of the user's account group.
	a, err := s.store.ReadAccess(ctx, cs.ID, cs.UserID, "")
	if err != nil {
		return fmt.Errorf("dataapi: read access: %w", err)
	}
	sp, err := store.JudgeGrant(store.Grant{RequestID: cs.ID, ClientID: cs.ClientID, UserID: cs.UserID, Scopes: cs.Scopes}, a, now, false)
	if errors.Is(err, store.ErrGrantEnded) {
		return c.JSON(http.StatusOK, out) // the user is gone or locked: nothing is granted now
	} else if err != nil {
		return fmt.Errorf("dataapi: judge consent: %w", err)
	}
	var clusters []string
	for _, name := range clusterOrder {
		for _, sc := range sp.Scopes {
			if slices.Contains(dataClusters[sc], name) && !slices.Contains(clusters, name) {
				clusters = append(clusters, name)
			}
		}
	}
	if len(clusters) == 0 {
		return c.JSON(http.StatusOK, out)
	}
	accounts, err := s.visibleAccounts(ctx, &principal{user: sp.User, group: sp.Group}, nil, "", maxLimit*10)
	if err != nil {
		return err
	}
	for _, acc := range accounts {
		out.Resources = append(out.Resources, consentResourceJSON{ResourceType: "ACCOUNT", ResourceID: acc.ID, DataClusters: clusters})
	}
	return c.JSON(http.StatusOK, out)
}

// consentRevocationJSON is FDX's ConsentRevocationRequest.
type consentRevocationJSON struct {
	Reason    string `json:"reason"`
	Initiator string `json:"initiator"`
}

const maxRevocationBody = 4096

// handleRevokeConsent is FDX revokeConsentGrant: the recipient ends the
// connection. It takes effect at once (the consent's tokens stop working
// and the bank's connections page no longer lists it) and is audited;
// revoking a revoked consent changes nothing.
func (s *Server) handleRevokeConsent(c echo.Context) error {
	ctx := c.Request().Context()
	if err := readQuery(c).err(); err != nil {
		return err
	}
	cs, err := s.ownConsent(c)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxRevocationBody+1))
	if err != nil {
		return fmt.Errorf("dataapi: read revocation: %w", err)
	}
	var req consentRevocationJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var pe paramErrors
	switch err := dec.Decode(&req); {
	case len(body) > maxRevocationBody:
		pe.add(codeInvalidInput, "body", "body", "is longer than %d bytes", maxRevocationBody)
	case err != nil || dec.More():
		pe.add(codeInvalidInput, "body", "body", "must be one JSON object {\"reason\", \"initiator\"} and nothing else")
	default:
		if req.Reason != "USER_ACTION" && req.Reason != "BUSINESS_RULE" {
			pe.add(codeInvalidInput, "reason", "body", "must be USER_ACTION or BUSINESS_RULE")
		}
		switch req.Initiator {
		case "DATA_RECIPIENT", "DATA_ACCESS_PLATFORM", "INDIVIDUAL":
		case "":
			pe.add(codeInvalidInput, "initiator", "body", "is required: DATA_RECIPIENT, DATA_ACCESS_PLATFORM or INDIVIDUAL")
		default:
			pe.add(codeInvalidInput, "initiator", "body", "must be DATA_RECIPIENT, DATA_ACCESS_PLATFORM or INDIVIDUAL (the recipient's side), not %q", clip(req.Initiator))
		}
	}
	if err := pe.err(); err != nil {
		return err
	}
	if !cs.RevokedAt.IsZero() {
		return c.NoContent(http.StatusNoContent)
	}
	now := s.now()
	if err := s.store.RevokeConsent(ctx, cs.ID, now); err != nil {
		return fmt.Errorf("dataapi: revoke consent: %w", err)
	}
	e := audit.OriginOf(c).Event(audit.ConsentRevoked, audit.Success, map[string]string{"by": audit.ByClient, "clientId": cs.ClientID,
		"userId": cs.UserID, "reason": req.Reason, "initiator": req.Initiator})
	e.ActorID, e.TargetType, e.TargetID = cs.ClientID, "consent", cs.ID
	if u, err := s.store.GetUser(ctx, cs.UserID); err == nil {
		e.BusinessGroupID = u.BusinessGroupID
	}
	audit.Record(ctx, s.store, s.log, now, e)
	return c.NoContent(http.StatusNoContent)
}
