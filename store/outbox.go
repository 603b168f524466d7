package store

import (
	"context"
	"time"
)

// Channel is how a delivery reaches people outside the API.
type Channel string

const (
	ChannelWebhook Channel = "webhook"
	ChannelEmail   Channel = "email"
)

// DeliveryStatus is where a delivery stands: pending until it is delivered,
// or dead once its attempts ran out (kept, for operators to see).
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryDead      DeliveryStatus = "dead"
)

// Delivery is one notification's message on one channel: a row of the
// outbox, enqueued in the transaction that creates the notification and sent
// later by a worker, at least once. Payload is what is sent, fixed at
// enqueue (a webhook's body; an e-mail's recipient and text), so every
// attempt sends the same bytes.
type Delivery struct {
	ID             string // stable across attempts (the webhook-id)
	NotificationID string
	Channel        Channel
	Payload        []byte
	Status         DeliveryStatus
	Attempts       int
	NextAttemptAt  time.Time
	LastError      string
	DeliveredAt    time.Time // zero until delivered
	CreatedAt      time.Time
	// ClaimedBy and ClaimedUntil are the lease of the worker sending it now;
	// another worker may claim it only once the lease has run out.
	ClaimedBy    string
	ClaimedUntil time.Time
}

// DeliveryCount is how many deliveries of a channel stand in a status.
type DeliveryCount struct {
	Channel Channel
	Status  DeliveryStatus
	Count   int64
}

// OutboxStore is the durable queue of deliveries. A lease fences each
// worker's writes: MarkDelivered and MarkFailed change a delivery only while
// the caller's claim holds it, and return ErrConflict otherwise (the lease
// ran out and another worker may be sending it).
type OutboxStore interface {
	// EnqueueDeliveries adds pending deliveries (in ctx's transaction, if
	// any); ErrConflict for a taken ID.
	EnqueueDeliveries(ctx context.Context, ds []Delivery) error
	// ClaimDeliveries leases up to limit pending deliveries due at now and
	// not leased by a live claim to worker until now+lease, oldest due first.
	// Concurrent claimers (other replicas too) never get the same delivery
	// while its lease holds.
	ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// MarkDelivered records the attempt at at that delivered it.
	MarkDelivered(ctx context.Context, id, worker string, at time.Time) error
	// MarkFailed records a failed attempt: pending again at retryAt, or dead.
	MarkFailed(ctx context.Context, id, worker, lastError string, retryAt time.Time, dead bool) error
	// GetDelivery reads one delivery (ErrNotFound).
	GetDelivery(ctx context.Context, id string) (Delivery, error)
	// ListDeliveries lists a notification's deliveries by ID.
	ListDeliveries(ctx context.Context, notificationID string) ([]Delivery, error)
	// CountDeliveries counts the deliveries in statuses (every status if
	// none) by channel and status. The metrics ask for pending and dead
	// only, which an index finds without reading the delivered rows.
	CountDeliveries(ctx context.Context, statuses ...DeliveryStatus) ([]DeliveryCount, error)
	// DeleteDeliveredBefore deletes the deliveries delivered before before
	// and returns how many; pending and dead deliveries are never deleted.
	DeleteDeliveredBefore(ctx context.Context, before time.Time) (int64, error)
	// ListDeliveriesByStatus pages the deliveries in status by ID (operators'
	// view of dead and pending ones); next is "" after the last page.
	ListDeliveriesByStatus(ctx context.Context, status DeliveryStatus, p Page) (ds []Delivery, next string, err error)
	// RetryDelivery makes a dead delivery pending again with no attempts
	// used, due at at, so a worker sends it anew (an operator's decision,
	// once the receiver is fixed). ErrNotFound; ErrConflict unless dead.
	RetryDelivery(ctx context.Context, id string, at time.Time) (Delivery, error)
}
