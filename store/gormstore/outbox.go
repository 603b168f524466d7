package gormstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/bankfeed/bankfeed/store"
)

var _ store.OutboxStore = (*Store)(nil)

type deliveryRow struct {
	ID             string `gorm:"column:id;primaryKey"`
	NotificationID string `gorm:"column:notification_id"`
	Channel        string `gorm:"column:channel"`
	Payload        []byte `gorm:"column:payload"`
	Status         string `gorm:"column:status"`
	Attempts       int    `gorm:"column:attempts"`
	NextAttemptAt  int64  `gorm:"column:next_attempt_at"`
	LastError      string `gorm:"column:last_error"`
	DeliveredAt    int64  `gorm:"column:delivered_at"`
	Created        int64  `gorm:"column:created_at"`
	ClaimedBy      string `gorm:"column:claimed_by"`
	ClaimedUntil   int64  `gorm:"column:claimed_until"`
}

func (deliveryRow) TableName() string { return "outbox_deliveries" }

func (r deliveryRow) domain() store.Delivery {
	return store.Delivery{ID: r.ID, NotificationID: r.NotificationID, Channel: store.Channel(r.Channel),
		Payload: r.Payload, Status: store.DeliveryStatus(r.Status), Attempts: r.Attempts,
		NextAttemptAt: fromMicros(r.NextAttemptAt), LastError: r.LastError, DeliveredAt: fromMicros(r.DeliveredAt),
		CreatedAt: fromMicros(r.Created), ClaimedBy: r.ClaimedBy, ClaimedUntil: fromMicros(r.ClaimedUntil)}
}

// EnqueueDeliveries inserts pending deliveries; they are due at once unless
// NextAttemptAt says otherwise.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []store.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	now := s.nowUTC()
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, d := range ds {
			if d.ID == "" {
				d.ID = store.NewID("dlv")
			}
			if d.Channel != store.ChannelWebhook && d.Channel != store.ChannelEmail {
				return fmt.Errorf("gormstore: enqueue delivery: %w: channel %q", store.ErrInvalid, d.Channel)
			}
			created := orNow(d.CreatedAt, now)
			r := deliveryRow{ID: d.ID, NotificationID: d.NotificationID, Channel: string(d.Channel), Payload: d.Payload,
				Status: string(store.DeliveryPending), NextAttemptAt: micros(orNow(d.NextAttemptAt, created)),
				Created: micros(created)}
			if r.Payload == nil {
				r.Payload = []byte{}
			}
			if err := s.insert(ctx, "enqueue delivery", &r); err != nil {
				return err
			}
		}
		return nil
	})
}

// claimSQL leases due deliveries in one statement. On PostgreSQL the
// subquery locks the rows it picks and skips those another claimer holds
// (FOR UPDATE SKIP LOCKED), so concurrent workers split the due rows
// instead of queueing on them; a row claimed and committed meanwhile is
// re-checked against the outer conditions. SQLite runs one writer at a
// time, so the statement alone is enough there.
const claimSQL = `UPDATE outbox_deliveries SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1
	WHERE status = 'pending' AND next_attempt_at <= ? AND claimed_until <= ? AND id IN (
		SELECT id FROM outbox_deliveries
		WHERE status = 'pending' AND next_attempt_at <= ? AND claimed_until <= ?
		ORDER BY next_attempt_at, id LIMIT ?%s)
	RETURNING id, notification_id, channel, payload, status, attempts, next_attempt_at, last_error,
		delivered_at, created_at, claimed_by, claimed_until`

// ClaimDeliveries leases up to limit due deliveries to worker. The attempt
// is counted at the claim, so a worker that dies while sending still uses
// one of the delivery's attempts.
func (s *Store) ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]store.Delivery, error) {
	if worker == "" || lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("gormstore: claim deliveries: %w: worker, lease and limit are required", store.ErrInvalid)
	}
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	at := micros(now.UTC())
	var rows []deliveryRow
	err := s.write(ctx).Raw(fmt.Sprintf(claimSQL, lock), worker, micros(now.UTC().Add(lease)), at, at, at, at, limit).
		Scan(&rows).Error
	if err != nil {
		return nil, wrap("claim deliveries", err)
	}
	out := make([]store.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	slices.SortFunc(out, func(a, b store.Delivery) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// MarkDelivered ends a delivery claimed by worker as delivered.
func (s *Store) MarkDelivered(ctx context.Context, id, worker string, at time.Time) error {
	return s.settle(ctx, "mark delivered", id, worker, map[string]any{
		"status": string(store.DeliveryDelivered), "delivered_at": micros(at.UTC()), "last_error": "",
	})
}

// MarkFailed records a failed attempt of a delivery claimed by worker.
func (s *Store) MarkFailed(ctx context.Context, id, worker, lastError string, retryAt time.Time, dead bool) error {
	status := store.DeliveryPending
	if dead {
		status = store.DeliveryDead
	}
	return s.settle(ctx, "mark failed", id, worker, map[string]any{
		"status": string(status), "next_attempt_at": micros(retryAt.UTC()), "last_error": lastError,
	})
}

// settle writes the outcome of worker's attempt and releases its lease, if
// the delivery is still pending and claimed by worker.
func (s *Store) settle(ctx context.Context, op, id, worker string, set map[string]any) error {
	set["claimed_by"], set["claimed_until"] = "", int64(0)
	res := s.write(ctx).Model(&deliveryRow{}).
		Where("id = ? AND claimed_by = ? AND status = ?", id, worker, string(store.DeliveryPending)).Updates(set)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	if _, err := s.GetDelivery(ctx, id); err != nil {
		return fmt.Errorf("gormstore: %s: %w", op, err)
	}
	return fmt.Errorf("gormstore: %s %s: %w: not claimed by %s", op, id, store.ErrConflict, worker)
}

func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, error) {
	r, err := take[deliveryRow](ctx, s, "get delivery", "id = ?", id)
	if err != nil {
		return store.Delivery{}, err
	}
	return r.domain(), nil
}

func (s *Store) ListDeliveries(ctx context.Context, notificationID string) ([]store.Delivery, error) {
	var rows []deliveryRow
	if err := s.read(ctx).Where("notification_id = ?", notificationID).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap("list deliveries", err)
	}
	out := make([]store.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// deliveryCountRow is one group of CountDeliveries.
type deliveryCountRow struct {
	Channel string `gorm:"column:channel"`
	Status  string `gorm:"column:status"`
	N       int64  `gorm:"column:n"`
}

func (s *Store) CountDeliveries(ctx context.Context, statuses ...store.DeliveryStatus) ([]store.DeliveryCount, error) {
	var rows []deliveryCountRow
	err := countDeliveries(s.read(ctx), statuses).Scan(&rows).Error
	if err != nil {
		return nil, wrap("count deliveries", err)
	}
	out := make([]store.DeliveryCount, len(rows))
	for i, r := range rows {
		out[i] = store.DeliveryCount{Channel: store.Channel(r.Channel), Status: store.DeliveryStatus(r.Status), Count: r.N}
	}
	return out, nil
}

// countDeliveries is CountDeliveries' statement. With statuses it reads
// their rows alone through migration 6's (status, …) indexes: the
// delivered rows, which pile up until the sweep, are never visited by a
// scrape (the channel is read from the few rows found).
func countDeliveries(db *gorm.DB, statuses []store.DeliveryStatus) *gorm.DB {
	q := db.Model(&deliveryRow{}).Select("channel, status, COUNT(*) AS n")
	if len(statuses) > 0 {
		ss := make([]string, len(statuses))
		for i, st := range statuses {
			ss[i] = string(st)
		}
		q = q.Where("status IN ?", ss)
	}
	return q.Group("channel, status").Order("channel, status")
}

// DeleteDeliveredBefore deletes the deliveries delivered before before, so
// the outbox does not grow without bound; pending and dead rows stay.
func (s *Store) DeleteDeliveredBefore(ctx context.Context, before time.Time) (int64, error) {
	res := s.write(ctx).Where("status = ? AND delivered_at < ?", string(store.DeliveryDelivered), micros(before.UTC())).
		Delete(&deliveryRow{})
	if res.Error != nil {
		return 0, wrap("delete delivered deliveries", res.Error)
	}
	return res.RowsAffected, nil
}

// ListDeliveriesByStatus pages the deliveries in status by ID (migration
// 6's index).
func (s *Store) ListDeliveriesByStatus(ctx context.Context, status store.DeliveryStatus, p store.Page) ([]store.Delivery, string, error) {
	q := s.read(ctx).Model(&deliveryRow{}).Where("status = ?", string(status))
	rows, next, err := pageByID(q, p, func(r deliveryRow) string { return r.ID })
	if err != nil {
		return nil, "", wrap("list deliveries by status", err)
	}
	out := make([]store.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// RetryDelivery sets a dead delivery back to pending, attempts 0, due at
// at, unleased. The status check is in the UPDATE itself, so two operators
// retrying at once reset it once and the second is told it is no longer
// dead. The last error stays until the next attempt replaces it.
func (s *Store) RetryDelivery(ctx context.Context, id string, at time.Time) (store.Delivery, error) {
	var out store.Delivery
	err := s.InTx(ctx, func(ctx context.Context) error {
		res := s.write(ctx).Model(&deliveryRow{}).Where("id = ? AND status = ?", id, string(store.DeliveryDead)).
			Updates(map[string]any{"status": string(store.DeliveryPending), "attempts": 0,
				"next_attempt_at": micros(at.UTC()), "claimed_by": "", "claimed_until": int64(0)})
		if res.Error != nil {
			return wrap("retry delivery", res.Error)
		}
		d, err := s.GetDelivery(ctx, id)
		if err != nil {
			return fmt.Errorf("gormstore: retry delivery: %w", err)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("gormstore: retry delivery %s: %w: it is %s, not dead", id, store.ErrConflict, d.Status)
		}
		out = d
		return nil
	})
	return out, err
}
