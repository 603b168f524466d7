package consent

import "github.com/bankfeed/bankfeed/metrics"

// countSignIn counts a checked sign-in by outcome, and a failure that
// started a lockout.
func (h *Handler) countSignIn(a signInAttempt) {
	m := h.cfg.Metrics
	if m == nil {
		return
	}
	switch a.res {
	case authOK:
		m.SignIn(metrics.SignInSuccess)
	case authFailed:
		m.SignIn(metrics.SignInFailure)
	case authLocked, authAdminLocked:
		m.SignIn(metrics.SignInLocked)
	}
	if a.lockedNow {
		m.LockedOut()
	}
}
