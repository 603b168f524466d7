package authz_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bankfeed/bankfeed/authz"
)

// TestIDTokenLifespan: ID tokens live for IDTokenLifespan (default 1 h), not
// for the access token's lifespan (security review, issue 12 §5).
func TestIDTokenLifespan(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  time.Duration
		want time.Duration
	}{
		{"default", 0, time.Hour},
		{"configured", 20 * time.Minute, 20 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.IDTokenLifespan = tc.set }})
			tr := e.exchange(e.vendor.ID, e.secret)
			for name, raw := range map[string]string{"code exchange": tr.IDToken, "refresh": e.refresh(tr.RefreshToken).IDToken} {
				claims := jwt.MapClaims{}
				if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
					t.Fatalf("%s: id token: %v", name, err)
				}
				exp, _ := claims.GetExpirationTime()
				iat, _ := claims.GetIssuedAt()
				if exp == nil || iat == nil || exp.Sub(iat.Time) != tc.want {
					t.Fatalf("%s: id token exp - iat = %v, want %v", name, exp.Sub(iat.Time), tc.want)
				}
			}
		})
	}
}
