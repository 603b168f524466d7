package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/config"
)

const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // 24 bytes

// TestNotificationsValidate: a webhook needs a Standard Webhooks secret;
// SMTP needs TLS unless its server is on a loopback address; the retry
// settings must make sense.
func TestNotificationsValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Notifications)
		want string // "" when valid
	}{
		{"webhook with secret", func(n *config.Notifications) { n.WebhookURL, n.WebhookSecret = "https://hooks.example/bank", whsec }, ""},
		{"webhook without secret", func(n *config.Notifications) { n.WebhookURL = "https://hooks.example/bank" }, "BANKFEED_NOTIFICATIONS_WEBHOOK_SECRET"},
		{"secret without prefix", func(n *config.Notifications) {
			n.WebhookURL, n.WebhookSecret = "https://hooks.example/bank", strings.TrimPrefix(whsec, "whsec_")
		}, "BANKFEED_NOTIFICATIONS_WEBHOOK_SECRET"},
		{"secret too short", func(n *config.Notifications) {
			n.WebhookURL, n.WebhookSecret = "https://hooks.example/bank", "whsec_c2hvcnQ="
		},
			"BANKFEED_NOTIFICATIONS_WEBHOOK_SECRET"},
		{"smtp starttls", func(n *config.Notifications) { n.SMTPAddr, n.SMTPFrom = "mail.example:587", "bank@example.com" }, ""},
		{"smtp implicit tls", func(n *config.Notifications) {
			n.SMTPAddr, n.SMTPFrom, n.SMTPTLS = "mail.example:465", "bank@example.com", "tls"
		}, ""},
		{"smtp plain to loopback", func(n *config.Notifications) {
			n.SMTPAddr, n.SMTPFrom, n.SMTPTLS = "127.0.0.1:25", "bank@example.com", "none"
		}, ""},
		{"smtp plain to a remote server", func(n *config.Notifications) {
			n.SMTPAddr, n.SMTPFrom, n.SMTPTLS = "mail.example:25", "bank@example.com", "none"
		}, "BANKFEED_NOTIFICATIONS_SMTP_TLS"},
		{"smtp unknown tls mode", func(n *config.Notifications) {
			n.SMTPAddr, n.SMTPFrom, n.SMTPTLS = "mail.example:25", "bank@example.com", "ssl"
		}, "BANKFEED_NOTIFICATIONS_SMTP_TLS"},
		{"no attempts", func(n *config.Notifications) { n.MaxAttempts = 0 }, "BANKFEED_NOTIFICATIONS_MAX_ATTEMPTS"},
		{"retry max below initial", func(n *config.Notifications) { n.RetryInitial, n.RetryMax = time.Hour, time.Minute },
			"BANKFEED_NOTIFICATIONS_RETRY_INITIAL"},
		{"delivered kept forever", func(n *config.Notifications) { n.DeliveredRetention = 0 }, ""},
		{"negative delivered retention", func(n *config.Notifications) { n.DeliveredRetention = -time.Hour },
			"BANKFEED_NOTIFICATIONS_DELIVERED_RETENTION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.edit(&c.Notifications)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v; want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestWebhookSecretFile: the webhook secret may come from a file, like
// every secret.
func TestWebhookSecretFile(t *testing.T) {
	path := writeFile(t, "whsec", whsec+"\n")
	c, err := config.Load("", env(map[string]string{"BANKFEED_NOTIFICATIONS_WEBHOOK_SECRET_FILE": path}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Notifications.WebhookSecret != whsec {
		t.Errorf("WebhookSecret = %q, want the file's", c.Notifications.WebhookSecret)
	}
}
