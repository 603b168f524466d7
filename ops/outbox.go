package ops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// Delivery is an outbox delivery as operators see it (GET /ops/v1/outbox
// and `bankfeed outbox`). The payload is
// left out: it is a notification's text and its recipient's address, which
// an operator deciding on a retry does not need; the webhook secret is never
// stored with a delivery (each attempt signs at send time).
type Delivery struct {
	ID             string     `json:"id"`
	NotificationID string     `json:"notificationId"`
	Channel        string     `json:"channel"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  time.Time  `json:"nextAttemptAt"`
	LastError      string     `json:"lastError,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
	DeliveredAt    *time.Time `json:"deliveredAt,omitempty"`
	ClaimedUntil   *time.Time `json:"claimedUntil,omitempty"` // a worker is sending it now
}

// DeliveryOf is d as operators see it.
func DeliveryOf(d store.Delivery) Delivery {
	return Delivery{ID: d.ID, NotificationID: d.NotificationID, Channel: string(d.Channel), Status: string(d.Status),
		Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt.UTC(), LastError: d.LastError, CreatedAt: d.CreatedAt.UTC(),
		DeliveredAt: apihttp.TimeOrNil(d.DeliveredAt), ClaimedUntil: apihttp.TimeOrNil(d.ClaimedUntil)}
}

// handleListDeliveries pages the outbox's dead deliveries (or, with
// ?status=pending, those still to be sent), by ID. Delivered ones are not
// listed: they are done, and the expiry sweep deletes them.
func (s *Server) handleListDeliveries(c echo.Context) error {
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	status := store.DeliveryDead
	if v := c.QueryParam("status"); v != "" {
		status = store.DeliveryStatus(strings.ToLower(v))
		if status != store.DeliveryDead && status != store.DeliveryPending {
			return apihttp.BadRequest("status must be dead or pending, not %q", v)
		}
	}
	ds, next, err := s.st.ListDeliveriesByStatus(c.Request().Context(), status, p)
	if err != nil {
		return fmt.Errorf("ops: list deliveries: %w", err)
	}
	return apihttp.ListOf(c, ds, next, DeliveryOf)
}

// handleRetryDelivery sends a dead delivery again: pending at once with
// its attempts back to 0, so the worker gives it the full retry schedule.
// Audited as a bank-level event; a delivery that is not dead is a 409.
func (s *Server) handleRetryDelivery(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	var out store.Delivery
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		before, err := apihttp.Lookup(ctx, "delivery", id, s.st.GetDelivery)
		if err != nil {
			return err
		}
		if out, err = s.st.RetryDelivery(ctx, id, s.now().UTC()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return apihttp.NotFound("delivery", id)
			}
			return apihttp.MapConflict(err, "delivery %q is %s; only a dead delivery can be retried", id, before.Status)
		}
		type state struct {
			Status   string `json:"status"`
			Attempts int    `json:"attempts"`
		}
		return s.audit(ctx, operatorFrom(c), "", "outbox.delivery_retried", "delivery", id,
			state{string(before.Status), before.Attempts}, state{string(out.Status), out.Attempts})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, DeliveryOf(out))
}
