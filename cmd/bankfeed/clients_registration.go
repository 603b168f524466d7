package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// Audit actions of dynamic client registration's operator side; admin's
// POST /ops/v1/clients/{id}/approve and /reject record the same two.
const (
	actionRegistrationTokenIssued = "client.registration_token_issued"
	actionClientApproved          = "client.approved"
	actionClientRejected          = "client.rejected"
)

// maxRegistrationTokenTTL bounds --expires: an initial access token is for
// one vendor's onboarding, not a standing credential.
const maxRegistrationTokenTTL = 30 * 24 * time.Hour

// clientsRegistrationCommands are the operator's side of dynamic client
// registration (RFC 7591): issue initial access tokens, decide on the
// clients that registered with them.
func (a *app) clientsRegistrationCommands() []*cobra.Command {
	return []*cobra.Command{a.clientsRegistrationTokenCommand(), a.clientsDecideCommand(true), a.clientsDecideCommand(false)}
}

func (a *app) clientsRegistrationTokenCommand() *cobra.Command {
	var (
		expires time.Duration
		uses    int
	)
	cmd := &cobra.Command{
		Use:   "registration-token",
		Short: "Issue an initial access token a vendor registers its client with (POST /oauth2/register), printed once",
		Long: `Issue an initial access token for dynamic client registration (RFC 7591)
and print it once on stdout: it is stored only as a hash. Hand it to the
vendor; its software sends it as "Authorization: Bearer <token>" to
POST /oauth2/register. Each registration spends one use (a refused one
spends none); the token stops after --expires or its last use.

A client that registered itself is pending until an operator approves it
(bankfeed clients approve ID, or POST /ops/v1/clients/{id}/approve).
Recorded in the audit log as client.registration_token_issued (never the
token).`,
		Example: `  bankfeed clients registration-token                       # one registration within 24h
  bankfeed clients registration-token --expires 168h --uses 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case expires <= 0 || expires > maxRegistrationTokenTTL:
				return fmt.Errorf("clients registration-token: --expires must be positive and at most %s (30 days)", maxRegistrationTokenTTL)
			case uses < 1 || uses > 1000:
				return errors.New("clients registration-token: --uses must be from 1 to 1000")
			}
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, _ *slog.Logger) error {
				var (
					tok string
					rt  store.RegistrationToken
				)
				err := st.InTx(ctx, func(ctx context.Context) (err error) {
					if tok, rt, err = authz.IssueRegistrationToken(ctx, st, expires, uses, cliActor, time.Now()); err != nil {
						return err
					}
					return appendEvent(ctx, st, actionRegistrationTokenIssued, "registration_token", rt.ID,
						map[string]any{"expiresAt": rt.ExpiresAt, "uses": rt.UsesLeft})
				})
				if err != nil {
					return fmt.Errorf("clients registration-token: %w", err)
				}
				return writeJSON(cmd.OutOrStdout(), map[string]any{
					"initialAccessToken": tok, "expiresAt": rt.ExpiresAt.UTC(), "uses": rt.UsesLeft,
				})
			})
		},
	}
	cmd.Flags().DurationVar(&expires, "expires", 24*time.Hour, "how long the token may be used (at most 720h)")
	cmd.Flags().IntVar(&uses, "uses", 1, "how many clients may be registered with it")
	return cmd
}

// clientsDecideCommand is clients approve (or reject) ID.
func (a *app) clientsDecideCommand(approve bool) *cobra.Command {
	verb, action, short := "reject", actionClientRejected, "Reject a pending client's registration for good"
	if approve {
		verb, action, short = "approve", actionClientApproved, "Approve a pending client's registration: it may then authorize and obtain tokens"
	}
	return &cobra.Command{
		Use:   verb + " CLIENT_ID",
		Short: short,
		Long: short + `.
Only a pending client (one that registered itself through POST
/oauth2/register) can be decided on, once. Running servers see the decision
within 2 seconds (their client cache). Recorded in the audit log as ` + action + `.
Print the client first with bankfeed clients show CLIENT_ID.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, logger *slog.Logger) error {
				var after store.Client
				err := st.InTx(ctx, func(ctx context.Context) error {
					before, c, err := store.DecideClient(ctx, st, args[0], approve)
					if err != nil {
						return err
					}
					after = c
					return appendEvent(ctx, st, action, "client", c.ID, map[string]any{"before": before.Status, "after": c.Status})
				})
				if errors.Is(err, store.ErrConflict) {
					c, gerr := st.GetClient(ctx, args[0])
					if gerr == nil {
						return fmt.Errorf("clients %s: client %q is %s; only a pending client can be approved or rejected", verb, args[0], c.Status)
					}
				}
				if err != nil {
					return clientLookupError("clients "+verb, args[0], err)
				}
				logger.InfoContext(ctx, "client "+after.Status, "client_id", after.ID)
				fmt.Fprintf(cmd.OutOrStdout(), "client %s is %s\n", after.ID, after.Status)
				return nil
			})
		},
	}
}

// appendEvent records a bank-level event about targetType targetID in the
// caller's transaction, as appendClientEvent does for clients.
func appendEvent(ctx context.Context, st store.Store, action, targetType, targetID string, details any) error {
	e := audit.Origin{UserAgent: "bankfeed-cli/" + buildVersion()}.Event(action, audit.Success, details)
	e.ActorID, e.TargetType, e.TargetID, e.At = cliActor, targetType, targetID, time.Now().UTC()
	if _, err := st.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
