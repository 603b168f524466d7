package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrGrantEnded is wrapped by every reason JudgeGrant gives for a grant that
// no longer stands: the token endpoint answers invalid_grant, the data API
// 401 invalid_token, and the vendor sends the user through authorization
// again (rule 6).
var ErrGrantEnded = errors.New("the grant no longer stands")

// grantEnded is one precise reason; errors.Is matches it and ErrGrantEnded.
type grantEnded struct{ msg string }

func (e *grantEnded) Error() string { return e.msg }
func (e *grantEnded) Unwrap() error { return ErrGrantEnded }

// The reasons a grant no longer stands.
var (
	ErrGrantUserGone           error = &grantEnded{"the user no longer exists"}
	ErrGrantUserDeleted        error = &grantEnded{"the user was deleted"}
	ErrGrantUserLocked         error = &grantEnded{"the user was locked by an administrator"}
	ErrGrantUserNotActive      error = &grantEnded{"the user is not active"} // pending approval or awaiting first sign-in
	ErrGrantNotSoftwareUser    error = &grantEnded{"the user is not an accounting software user"}
	ErrGrantConsentGone        error = &grantEnded{"the authorization no longer exists"}
	ErrGrantConsentRevoked     error = &grantEnded{"the authorization was revoked"}
	ErrGrantConsentExpired     error = &grantEnded{"the authorization has expired"}
	ErrGrantConsentNotTheGrant error = &grantEnded{"the authorization belongs to another user or client"}
	// ErrGrantScopeWithdrawn: at the token endpoint, the job role no longer
	// allows a data scope of the grant (StrictScopes); the error names them.
	ErrGrantScopeWithdrawn error = &grantEnded{"the user's job role no longer allows"}
)

// Principal is what a standing grant may do now.
type Principal struct {
	User    User
	Consent Consent
	// Scopes are the data scopes held now: the grant's, within the consent,
	// that the job role allows now. Empty when the user has no assignment.
	Scopes []string
	// Withdrawn are the grant's or consent's data scopes the job role no
	// longer allows.
	Withdrawn []string
	// Group is the user's account group, nil without one (or with one of
	// another business group).
	Group *AccountGroup
	// Account is the account asked for, nil unless the principal may see it:
	// the store found it in the group's membership, and it is the user's
	// business group's.
	Account *Account
}

// BusinessGroupID is the business group the principal acts in.
func (p Principal) BusinessGroupID() string { return p.User.BusinessGroupID }

// HasScope reports whether the principal holds the data scope s now.
func (p Principal) HasScope(s string) bool { return slices.Contains(p.Scopes, s) }

// StrictScopes asks JudgeGrant to refuse a grant with any withdrawn data
// scope (ErrGrantScopeWithdrawn): a token grant issues a new token with the
// grant's scopes, so it stands only whole, and the vendor reconnects for
// what the role allows now. The data API narrows per request instead.
type StrictScopes bool

// JudgeGrant is the one rule for "does this grant still stand", for every
// token grant (code exchange, refresh) and every data API request. g is the
// grant (consent ID in RequestID, client, user, scopes, first party); a holds
// the records read now, a missing one zero (ID ""): the consent, the user,
// the user's own assignment with its job role and account group, and the
// account asked for. It returns the principal, or the reason the grant no
// longer stands (one of the ErrGrant… errors, all wrapping ErrGrantEnded).
//
// A brute-force lockout (User.LockedUntil) is not a reason: it stops
// interactive sign-in only (User.CanSignIn), or anyone knowing a login ID
// could cut a business's accounting software off. An administrator's lock
// and deletion are.
func JudgeGrant(g Grant, a Access, now time.Time, strict StrictScopes) (Principal, error) {
	if err := JudgeUser(a.User); err != nil {
		return Principal{}, err
	}
	c := a.Consent
	switch {
	case c.ID == "":
		return Principal{}, ErrGrantConsentGone
	case c.ID != g.RequestID || c.UserID != g.UserID || c.ClientID != g.ClientID || a.User.ID != g.UserID:
		return Principal{}, ErrGrantConsentNotTheGrant
	case !c.RevokedAt.IsZero():
		return Principal{}, ErrGrantConsentRevoked
	case !c.Active(now):
		return Principal{}, ErrGrantConsentExpired
	}
	if !g.FirstParty && !a.User.AccountingSoftware {
		return Principal{}, ErrGrantNotSoftwareUser
	}
	p := Principal{User: a.User, Consent: c}
	var allowed []string
	if a.Role.ID != "" {
		allowed = AllowedScopes(EffectiveGrants(a.User, a.Role))
	}
	for _, sc := range DataScopes {
		inGrant, inConsent := slices.Contains(g.Scopes, sc), slices.Contains(c.Scopes, sc)
		switch {
		case !inGrant && !inConsent:
		case !slices.Contains(allowed, sc):
			p.Withdrawn = append(p.Withdrawn, sc)
		case inGrant && inConsent:
			p.Scopes = append(p.Scopes, sc)
		}
	}
	if strict && len(p.Withdrawn) > 0 {
		return Principal{}, fmt.Errorf("%w %s", ErrGrantScopeWithdrawn, strings.Join(p.Withdrawn, " "))
	}
	if a.Group.ID != "" && a.Group.BusinessGroupID == a.User.BusinessGroupID {
		grp := a.Group
		p.Group = &grp
		if a.Account.ID != "" && a.Account.BusinessGroupID == a.User.BusinessGroupID {
			acc := a.Account
			p.Account = &acc
		}
	}
	return p, nil
}

// JudgeUser is JudgeGrant's rule for the user alone (u zero: not found):
// only an active user's grants stand. LockedUntil is ignored (see
// JudgeGrant).
func JudgeUser(u User) error {
	switch {
	case u.ID == "":
		return ErrGrantUserGone
	case u.Status == UserDeleted:
		return ErrGrantUserDeleted
	case u.Status == UserLocked:
		return ErrGrantUserLocked
	case u.Status != UserActive:
		return ErrGrantUserNotActive
	}
	return nil
}
