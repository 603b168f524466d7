package main

import (
	"context"
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

// The business commands are POST /ops/v1/business-groups and
// POST /ops/v1/business-groups/{id}/administrators for the bank's operators
// at the database: the same store functions, the same JSON, audited with the
// CLI as actor.

func (a *app) businessCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "business",
		Short: "Onboard a business: create its business group and its first administrators",
		Long: `Onboard a business client of the bank.

A business group is created with its built-in "Administrator" job role (the
help article's three lists, with Approve) and an empty "Administrators"
account group. Its first administrators are added by the bank; from then on
every change goes through the business's own maker-checker: one
administrator makes a request, another approves it.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.businessCreateCommand(), a.businessAddAdminCommand())
	return cmd
}

// businessJSON is what business create prints: the business group as
// /ops/v1 shows it, with its built-ins' IDs.
type businessJSON struct {
	ID                           string    `json:"id"`
	Name                         string    `json:"name"`
	LegalName                    string    `json:"legalName,omitempty"`
	AdministratorRoleID          string    `json:"administratorRoleId"`
	AdministratorsAccountGroupID string    `json:"administratorsAccountGroupId"`
	CreatedAt                    time.Time `json:"createdAt"`
	UpdatedAt                    time.Time `json:"updatedAt"`
}

func (a *app) businessCreateCommand() *cobra.Command {
	var g store.BusinessGroup
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a business group and print it as JSON",
		Example: `  bankfeed business create --name "Maple Leaf Manufacturing" --legal-name "Maple Leaf Manufacturing Inc."
  bankfeed business create --name "Boréal Logistique" --id bg-boreal`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, _ *slog.Logger) error {
				now := time.Now().UTC()
				g.CreatedAt, g.UpdatedAt = now, now
				id := g.ID
				var bi store.BuiltIns
				err := st.InTx(ctx, func(ctx context.Context) error {
					var err error
					if g, bi, err = store.OpenBusinessGroup(ctx, st, g); err != nil {
						return err
					}
					created := cliEvent("business_group.created", "business_group", g.ID, map[string]string{"name": g.Name, "legalName": g.LegalName})
					return appendEvents(ctx, st, g.ID, append([]store.AuditEvent{created}, builtInEvents(bi)...)...)
				})
				if errors.Is(err, store.ErrConflict) {
					return fmt.Errorf("business create: a business group with ID %q exists", id)
				} else if err != nil {
					return fmt.Errorf("business create: %w", businessFlagError(err))
				}
				return writeJSON(cmd.OutOrStdout(), businessJSON{ID: g.ID, Name: g.Name, LegalName: g.LegalName,
					AdministratorRoleID: bi.AdministratorRole.ID, AdministratorsAccountGroupID: bi.AdministratorsGroup.ID,
					CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC()})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&g.Name, "name", "", "the business's display name (required)")
	f.StringVar(&g.LegalName, "legal-name", "", "the business group's legal name")
	f.StringVar(&g.ID, "id", "", "the business group's ID: 1 to 64 letters, digits, _ or - (default: a new one)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func (a *app) businessAddAdminCommand() *cobra.Command {
	var in store.NewAdministrator
	cmd := &cobra.Command{
		Use:   "add-admin BUSINESS_GROUP_ID",
		Short: "Add a first administrator and print it as JSON (with its temporary password, once)",
		Long: `Add one of a business's first administrators and print it as JSON on stdout.

The user gets the business group's built-in Administrator job role and the
Administrators account group in the business group overview context, and a
temporary password printed once as "temporaryPassword" and stored only as a
hash: hand it to the person, who replaces it at first sign-in. Add two: each
change the business makes afterwards needs a second administrator's approval.`,
		Example: `  bankfeed business add-admin bg-boreal --login-id boreal.admin --name "Sophie Lavoie" --email sophie@boreal.example`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, logger *slog.Logger) error {
				ad, err := store.AddAdministrator(ctx, st, args[0], in, time.Now(), func(ctx context.Context, ad store.Administrator) error {
					added := cliEvent("business_group.administrator_added", "user", ad.User.ID, ops.AdministratorJSON(ad, false))
					return appendEvents(ctx, st, ad.User.BusinessGroupID, append(builtInEvents(ad.BuiltIns), added)...)
				})
				switch {
				case errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("business add-admin: no business group with ID %q (see GET /ops/v1/business-groups)", args[0])
				case errors.Is(err, store.ErrConflict):
					return fmt.Errorf("business add-admin: the user ID %q is already taken; choose another --login-id", strings.TrimSpace(in.LoginID))
				case err != nil:
					return fmt.Errorf("business add-admin: %w", businessFlagError(err))
				}
				logger.InfoContext(ctx, "administrator added", "business_group_id", args[0], "user_id", ad.User.ID)
				return writeJSON(cmd.OutOrStdout(), ops.AdministratorJSON(ad, true))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.LoginID, "login-id", "", "the user ID typed on the sign-in page: 3 to 64 letters, digits or . _ @ - (required; unique bank-wide)")
	f.StringVar(&in.DisplayName, "name", "", "the person's name (required)")
	f.StringVar(&in.Email, "email", "", "the person's e-mail address")
	_ = cmd.MarkFlagRequired("login-id")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// cliEvent is an audit event of the CLI, whoever runs it on the database:
// the bank's operators (the actor the clients commands record too).
func cliEvent(action, targetType, targetID string, details any) store.AuditEvent {
	e := audit.Origin{UserAgent: "bankfeed-cli/" + buildVersion()}.Event(action, audit.Success, details)
	e.ActorID, e.TargetType, e.TargetID, e.At = "cli", targetType, targetID, time.Now().UTC()
	return e
}

// builtInEvents are the events of the built-ins, if this call created them.
func builtInEvents(bi store.BuiltIns) []store.AuditEvent {
	var es []store.AuditEvent
	if r := bi.AdministratorRole; bi.RoleCreated {
		es = append(es, cliEvent("job_role.created", "job_role", r.ID, map[string]any{"name": r.Name, "grants": r.Grants}))
	}
	if g := bi.AdministratorsGroup; bi.GroupCreated {
		es = append(es, cliEvent("account_group.created", "account_group", g.ID, map[string]any{"name": g.Name, "accountIds": g.AccountIDs}))
	}
	return es
}

// appendEvents records es under the business group, in ctx's transaction.
func appendEvents(ctx context.Context, st store.Store, bg string, es ...store.AuditEvent) error {
	for _, e := range es {
		e.BusinessGroupID = bg
		if _, err := st.AppendAudit(ctx, e); err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	return nil
}

// businessFlags names the flag behind each field the store reports.
var businessFlags = map[string]string{
	"id": "--id", "name": "--name", "loginId": "--login-id", "displayName": "--name", "email": "--email",
}

// businessFlagError restates every invalid field in terms of the flags.
func businessFlagError(err error) error {
	var msgs []string
	var walk func(error)
	walk = func(err error) {
		var re *store.RuleError
		switch x := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		default:
			if errors.As(err, &re) {
				f := businessFlags[re.Field]
				if f == "" {
					f = re.Field
				}
				msgs = append(msgs, f+": "+re.Message)
			}
		}
	}
	walk(err)
	if len(msgs) == 0 {
		return err
	}
	return errors.New(strings.Join(msgs, "; "))
}
