package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// Store is what the outbox and its worker need of the store.
type Store interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	store.OutboxStore
}

// Outbox turns notifications into deliveries on the configured channels. Its
// Enqueue runs in the transaction that creates the notification (the
// administration calls it with that transaction's ctx), so a committed
// notification always has its deliveries and a rolled-back one has none.
type Outbox struct {
	Store   Store
	Webhook bool // deliver every notification to the bank's webhook
	Email   bool // e-mail every notification to its recipient, if they have an address
	// Now stamps the deliveries (default time.Now).
	Now func() time.Time
}

// WebhookMessage is the body of a webhook delivery: the Standard Webhooks
// payload structure (type, timestamp, data). It names the recipient by ID
// only: no e-mail address, no secret.
type WebhookMessage struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is a notification as the webhook receives it.
type WebhookData struct {
	NotificationID string `json:"notificationId"`
	RecipientID    string `json:"recipientId"`
	Text           string `json:"text"`
	RequestID      string `json:"requestId,omitempty"`
}

// EmailMessage is the payload of an e-mail delivery: the address is the
// recipient's at the time the notification was made.
type EmailMessage struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// subjects are the e-mails' subjects by notification kind.
var subjects = map[string]string{
	"approval.submitted": "Your request was submitted",
	"approval.pending":   "A request awaits your approval",
	"approval.decided":   "Your request was decided",
}

// Enqueue writes n's deliveries (in ctx's transaction).
func (o *Outbox) Enqueue(ctx context.Context, n store.Notification) error {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	at := now().UTC()
	var ds []store.Delivery
	if o.Webhook {
		body, err := json.Marshal(WebhookMessage{Type: n.Kind, Timestamp: n.CreatedAt.UTC(), Data: WebhookData{
			NotificationID: n.ID, RecipientID: n.RecipientID, Text: n.Text, RequestID: n.RequestID}})
		if err != nil {
			return fmt.Errorf("notify: webhook payload: %w", err)
		}
		ds = append(ds, store.Delivery{ID: store.NewID("msg"), NotificationID: n.ID, Channel: store.ChannelWebhook,
			Payload: body, CreatedAt: at})
	}
	if o.Email {
		u, err := o.Store.GetUser(ctx, n.RecipientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("notify: recipient of %s: %w", n.ID, err)
		}
		if err == nil && u.Email != "" {
			subject, ok := subjects[n.Kind]
			if !ok {
				subject = "A notification from the bank"
			}
			text := n.Text + "\n\nSign in to the business administration to see it."
			if n.RequestID != "" {
				text += "\nRequest: " + n.RequestID
			}
			body, err := json.Marshal(EmailMessage{To: u.Email, Subject: subject, Text: text + "\n"})
			if err != nil {
				return fmt.Errorf("notify: e-mail payload: %w", err)
			}
			ds = append(ds, store.Delivery{ID: store.NewID("msg"), NotificationID: n.ID, Channel: store.ChannelEmail,
				Payload: body, CreatedAt: at})
		}
	}
	if err := o.Store.EnqueueDeliveries(ctx, ds); err != nil {
		return fmt.Errorf("notify: enqueue deliveries of %s: %w", n.ID, err)
	}
	return nil
}
