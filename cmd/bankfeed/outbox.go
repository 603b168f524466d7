package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/ops"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// deliveryRetried is the audit action of a dead delivery sent again (the
// same as POST /ops/v1/outbox/{id}/retry's).
const deliveryRetried = "outbox.delivery_retried"

func (a *app) outboxCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "List the notification outbox's dead (or pending) deliveries, send a dead one again",
		Args:  cobra.NoArgs,
	}
	var status string
	list := &cobra.Command{
		Use:   "list",
		Short: "Print the dead deliveries (--status pending: those still to be sent) as a JSON array, by ID, without payloads",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st := store.DeliveryStatus(strings.ToLower(status))
			if st != store.DeliveryDead && st != store.DeliveryPending {
				return fmt.Errorf("--status must be dead or pending, not %q", status)
			}
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, s *gormstore.Store, _ *slog.Logger) error {
				out := []ops.Delivery{}
				for p := (store.Page{Limit: 1000}); ; {
					ds, next, err := s.ListDeliveriesByStatus(ctx, st, p)
					if err != nil {
						return fmt.Errorf("list deliveries: %w", err)
					}
					for _, d := range ds {
						out = append(out, ops.DeliveryOf(d))
					}
					if next == "" {
						break
					}
					p.After = next
				}
				return writeJSON(a.stdout, out)
			})
		},
	}
	list.Flags().StringVar(&status, "status", "dead", "dead or pending")
	retry := &cobra.Command{
		Use:   "retry DELIVERY_ID",
		Short: "Send a dead delivery again: pending at once, attempts back to 0 (audited as outbox.delivery_retried)",
		Long: `Send a dead delivery again, once its receiver is fixed: it is pending at once
with its attempts back to 0, so a serve replica's worker sends it with the
whole retry schedule. Only a dead delivery can be retried. The change is
recorded in the audit log as outbox.delivery_retried, actor "cli".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, s *gormstore.Store, _ *slog.Logger) error {
				var out store.Delivery
				err := s.InTx(ctx, func(ctx context.Context) error {
					before, err := s.GetDelivery(ctx, args[0])
					if err != nil {
						return err
					}
					if out, err = s.RetryDelivery(ctx, args[0], time.Now().UTC()); err != nil {
						if errors.Is(err, store.ErrConflict) {
							return fmt.Errorf("delivery %s is %s; only a dead delivery can be retried", args[0], before.Status)
						}
						return err
					}
					e := audit.Origin{UserAgent: "bankfeed-cli/" + buildVersion()}.Event(deliveryRetried, audit.Success, nil)
					e.ActorID, e.TargetType, e.TargetID, e.At = cliActor, "delivery", out.ID, time.Now().UTC()
					e.Before, _ = json.Marshal(map[string]any{"status": before.Status, "attempts": before.Attempts})
					e.After, _ = json.Marshal(map[string]any{"status": out.Status, "attempts": out.Attempts})
					if _, err := s.AppendAudit(ctx, e); err != nil {
						return fmt.Errorf("audit %s: %w", deliveryRetried, err)
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("outbox retry: %w", err)
				}
				return writeJSON(a.stdout, ops.DeliveryOf(out))
			})
		},
	}
	cmd.AddCommand(list, retry)
	return cmd
}
