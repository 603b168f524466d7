package store

import "time"

// UserStatus is the lifecycle of a user.
type UserStatus string

const (
	UserPendingApproval UserStatus = "PENDING_APPROVAL"       // creation awaits a checker
	UserAwaitingSignIn  UserStatus = "AWAITING_FIRST_SIGN_IN" // approved; must replace the temporary password
	UserActive          UserStatus = "ACTIVE"
	UserLocked          UserStatus = "LOCKED"
	UserDeleted         UserStatus = "DELETED"
)

// User signs in to online banking for business; AccountingSoftware is set at
// creation and can never change.
type User struct {
	ID                 string
	BusinessGroupID    string
	LegalEntityID      string // the entity the user belongs to; "" for the business group overview
	LoginID            string // the "User ID" typed on the sign-in page; unique bank-wide among users not deleted
	DisplayName        string
	Email              string
	AccountingSoftware bool
	Status             UserStatus

	PasswordHash       string // PHC-encoded argon2id
	MustChangePassword bool   // set while PasswordHash is a temporary password
	SecurityQuestion   string
	SecurityAnswerHash string
	// Sign-in bookkeeping (SignInState): written by SignInStore without
	// changing Version, and by UpdateUser only when fn changes it.
	FailedAttempts int
	LastFailedAt   time.Time
	LockedUntil    time.Time // zero: not locked by failures

	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt time.Time
	Version   int64 // incremented on every administrative update (compare-and-swap); sign-in bookkeeping leaves it
}

// Secretless is u without its password and security answer hashes: what
// the reads that judge a grant or show a page return (GetTokenGrant,
// ReadAccess, GrantRecords, FinishAuthFlow, SessionAccessFlow), since
// nothing there checks a password.
func (u User) Secretless() User {
	u.PasswordHash, u.SecurityAnswerHash = "", ""
	return u
}

// Standing is u as a token grant reads it (TokenStore.GetTokenGrant): what
// JudgeGrant judges and a grant's principal names, the rest zero.
func (u User) Standing() User {
	return User{ID: u.ID, BusinessGroupID: u.BusinessGroupID, LegalEntityID: u.LegalEntityID, LoginID: u.LoginID,
		AccountingSoftware: u.AccountingSoftware, Status: u.Status}
}

// CanSignIn reports whether the user may attempt to sign in at now.
func (u User) CanSignIn(now time.Time) bool {
	switch u.Status {
	case UserActive, UserAwaitingSignIn:
		return u.LockedUntil.IsZero() || now.After(u.LockedUntil)
	}
	return false
}

// SecurityQuestions are the questions offered at first sign-in (keys are
// stable; labels are translated by the pages).
var SecurityQuestions = []string{
	"first_school", "first_pet", "birth_city", "first_employer", "favourite_teacher",
}
