package config_test

import (
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/config"
)

// TestOAuthProfile: oauth.profile is "default" unless set, BANKFEED_OAUTH_PROFILE
// (and the YAML key) choose fapi2, and any other value is a validation
// error naming the variable.
func TestOAuthProfile(t *testing.T) {
	if p := config.Default().OAuth.Profile; p != config.OAuthProfileDefault {
		t.Fatalf("default profile %q, want %q", p, config.OAuthProfileDefault)
	}
	c, err := config.Load("", env(map[string]string{"BANKFEED_OAUTH_PROFILE": "fapi2"}))
	if err != nil || c.OAuth.Profile != config.OAuthProfileFAPI2 {
		t.Fatalf("env: %v, profile %q", err, c.OAuth.Profile)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("fapi2 Validate: %v", err)
	}
	c, err = config.Load(writeFile(t, "bankfeed.yaml", "oauth:\n  profile: fapi2\n"), env(nil))
	if err != nil || c.OAuth.Profile != config.OAuthProfileFAPI2 {
		t.Fatalf("yaml: %v, profile %q", err, c.OAuth.Profile)
	}
	c.OAuth.Profile = "fapi"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "BANKFEED_OAUTH_PROFILE") {
		t.Fatalf("profile fapi: %v", err)
	}
}
