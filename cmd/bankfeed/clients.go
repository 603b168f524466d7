package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

func (a *app) clientsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "Register, list, show, update and delete OAuth clients (vendors and the bank's own systems), rotate their secrets",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(a.clientsCreateCommand(), a.clientsListCommand(), a.clientsShowCommand(), a.clientsUpdateCommand(),
		a.clientsRotateSecretCommand(), a.clientsDeleteCommand())
	cmd.AddCommand(a.clientsRegistrationCommands()...)
	return cmd
}

func (a *app) clientsCreateCommand() *cobra.Command {
	var (
		spec     authz.ClientSpec
		jwksFile string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register a client and print it as JSON (with its secret, once)",
		Long: `Register an OAuth client and print it as JSON on stdout.

Choose exactly one way for the client to authenticate at the token endpoint:
  --jwks-file F   private_key_jwt with the public keys in F (a JWKS; ES256 or PS256)
  --jwks-uri U    private_key_jwt with keys the vendor publishes at U (https)
  --secret        client_secret_basic with a generated secret, printed once as
                  "clientSecret" and stored only as a hash: keep it now.
  --auth-method tls_client_auth --tls-subject-dn DN (or one --tls-san-*)
                  mutual TLS with a certificate of a CA in tls.client_ca that
                  carries this subject DN (RFC 4514, e.g. "CN=app,O=Vendor")
                  or SAN (RFC 8705 §2.1)
  --auth-method self_signed_tls_client_auth --jwks-file F (or --jwks-uri U)
                  mutual TLS with a self-signed certificate whose public key
                  is one of the keys in F (RFC 8705 §2.2)

Redirect URIs must match exactly when used: https, or http only on
http://127.0.0.1:PORT and http://[::1]:PORT, never with a fragment.

--first-party registers one of the bank's own systems: it may use the
client_credentials grant and the admin and operator scopes, and its users
skip the consent screen. Vendors are never first-party.`,
		Example: `  bankfeed clients create --name "Ledgerly" --redirect-uri https://app.ledgerly.example/callback \
      --jwks-file ledgerly-jwks.json --require-par --logo-uri https://ledgerly.example/logo.png
  bankfeed clients create --name "Core banking feed" --first-party --secret --scope operator`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			methods := 0
			for _, f := range []string{"jwks-file", "jwks-uri", "secret"} {
				if cmd.Flags().Changed(f) {
					methods++
				}
			}
			if spec.AuthMethod == "tls_client_auth" {
				methods++ // its certificate's name: authz checks there is one
			}
			if methods != 1 {
				return errors.New("clients create: choose exactly one authentication method: --jwks-file F, --jwks-uri U or --secret (or --auth-method tls_client_auth with --tls-subject-dn or a --tls-san-*)")
			}
			if jwksFile != "" {
				b, err := os.ReadFile(jwksFile)
				if err != nil {
					return fmt.Errorf("clients create: --jwks-file: %w", err)
				}
				spec.JWKS = json.RawMessage(b)
			}
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st *gormstore.Store, _ *slog.Logger) error {
				var (
					c      store.Client
					secret string
				)
				err := st.InTx(ctx, func(ctx context.Context) (err error) {
					// oauth.profile fapi2: refuse a client that could not comply.
					if err := authz.CheckClientSpec(cfg.OAuth.Profile, spec); err != nil {
						return err
					}
					if c, secret, err = authz.CreateClient(ctx, st, spec); err != nil {
						return err
					}
					return appendClientEvent(ctx, st, audit.ClientCreated, c.ID, map[string]any{
						"name": c.Name, "firstParty": c.FirstParty, "tokenEndpointAuthMethod": c.TokenEndpointAuthMethod})
				})
				if err != nil {
					return fmt.Errorf("clients create: %w", flagError(err))
				}
				out := toClientJSON(c)
				out.ClientSecret = secret
				return writeJSON(cmd.OutOrStdout(), out)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "name shown to users on the consent page (required)")
	f.StringArrayVar(&spec.RedirectURIs, "redirect-uri", nil, "redirect URI, exact match (repeatable; required unless --first-party)")
	f.StringVar(&jwksFile, "jwks-file", "", "private_key_jwt: file holding the client's public JWKS")
	f.StringVar(&spec.JWKSURI, "jwks-uri", "", "private_key_jwt: https URL of the client's JWKS")
	f.BoolVar(&spec.Secret, "secret", false, "client_secret_basic: generate a secret, printed once")
	f.StringVar(&spec.AuthMethod, "auth-method", "", "tls_client_auth (with --tls-subject-dn or a --tls-san-*) or self_signed_tls_client_auth (with --jwks-file or --jwks-uri): mutual TLS, RFC 8705; default: from --jwks-file, --jwks-uri or --secret")
	tlsNameFlags(cmd, &spec.TLSClientAuth)
	f.StringVar(&spec.SigningAlg, "signing-alg", "", "with --jwks-uri: assertion algorithm, ES256 (default) or PS256")
	f.BoolVar(&spec.RequirePAR, "require-par", false, "require pushed authorization requests (RFC 9126)")
	f.BoolVar(&spec.NativeApp, "native", false, "an app installed on the user's machine: its http://127.0.0.1 or [::1] redirect URIs match on any port (RFC 8252 §7.3); others match exactly")
	f.BoolVar(&spec.RequireSignedRequestObject, "require-signed-request-object", false, "pushed authorization requests must be a request object signed with the client's key (JAR, RFC 9101)")
	f.BoolVar(&spec.DPoPBoundAccessTokens, "dpop", false, "every token must be DPoP-bound: token requests without a DPoP proof are refused (RFC 9449)")
	f.BoolVar(&spec.FirstParty, "first-party", false, "one of the bank's own systems (client_credentials, admin and operator scopes, no consent screen)")
	f.StringVar(&spec.LogoURI, "logo-uri", "", "https URL of the logo shown on the consent page")
	f.StringVar(&spec.PolicyURI, "policy-uri", "", "https URL of the vendor's privacy policy")
	f.StringVar(&spec.TOSURI, "tos-uri", "", "https URL of the vendor's terms of service")
	f.StringArrayVar(&spec.Scopes, "scope", nil, "a scope the client may ask for (repeatable; default: every scope its kind may ask for)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func (a *app) clientsListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the registered clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, _ *slog.Logger) error {
				cs, err := st.ListClients(ctx)
				if err != nil {
					return fmt.Errorf("clients list: %w", err)
				}
				if asJSON {
					out := make([]clientJSON, 0, len(cs))
					for _, c := range cs {
						out = append(out, toClientJSON(c))
					}
					return writeJSON(cmd.OutOrStdout(), out)
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "CLIENT ID\tNAME\tKIND\tAUTH\tPAR\tREDIRECT URIS\tCREATED")
				for _, c := range cs {
					kind := "vendor"
					if c.FirstParty {
						kind = "first-party"
					}
					par := "-"
					if c.RequirePAR {
						par = "required"
					}
					uris := strings.Join(c.RedirectURIs, " ")
					if uris == "" {
						uris = "-"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, kind, c.TokenEndpointAuthMethod, par, uris,
						c.CreatedAt.UTC().Format(time.RFC3339))
				}
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d client(s)\n", len(cs))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func (a *app) clientsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show CLIENT_ID",
		Short: "Print one client as JSON (never its secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, _ *slog.Logger) error {
				c, err := st.GetClient(ctx, args[0])
				if err != nil {
					return clientLookupError("clients show", args[0], err)
				}
				return writeJSON(cmd.OutOrStdout(), toClientJSON(c))
			})
		},
	}
}

func (a *app) clientsDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a client; its tokens stop working within seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, logger *slog.Logger) error {
				err := st.InTx(ctx, func(ctx context.Context) error {
					c, err := st.GetClient(ctx, args[0])
					if err != nil {
						return err
					}
					if err := st.DeleteClient(ctx, c.ID); err != nil {
						return err
					}
					return appendClientEvent(ctx, st, audit.ClientDeleted, c.ID, map[string]any{"name": c.Name})
				})
				if err != nil {
					return clientLookupError("clients delete", args[0], err)
				}
				logger.InfoContext(ctx, "client deleted", "client_id", args[0])
				fmt.Fprintf(cmd.OutOrStdout(), "deleted client %s\n", args[0])
				return nil
			})
		},
	}
}

func clientLookupError(op, id string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%s: no client with ID %q (see bankfeed clients list)", op, id)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%s: client %q changed while this command ran; nothing was written, run it again", op, id)
	case errors.Is(err, store.ErrInvalid):
		return fmt.Errorf("%s: %w", op, flagError(err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (a *app) clientsUpdateCommand() *cobra.Command {
	var (
		u                                   authz.ClientUpdate
		name, jwksFile, jwksURI, signingAlg string
		logoURI, policyURI, tosURI          string
		redirectURIs                        []string
		requirePAR, dpop, signedRequests    bool
		tlsName                             store.TLSClientAuth
	)
	cmd := &cobra.Command{
		Use:   "update CLIENT_ID",
		Short: "Change a client's name, redirect URIs, pages, keys or PAR; print it as JSON",
		Long: `Change the fields given of a registered client and print it as JSON on
stdout (never its secret). Fields not given stay as they are.

  --redirect-uri U   replaces the whole list: repeat it for every URI to keep.
                     Checked as by create (https, or http only on
                     http://127.0.0.1:PORT and http://[::1]:PORT, no fragment).
  --logo-uri ""      (and --policy-uri, --tos-uri) removes the page.
  --require-par=false stops requiring pushed authorization requests.
  --dpop=false       stops requiring DPoP-bound tokens.
  --tls-subject-dn DN (or one --tls-san-dns, -uri, -ip, -email)
                     replaces the name a tls_client_auth client's
                     certificate must carry.
  --require-signed-request-object[=false]
                     requires (or stops requiring) pushed authorization
                     requests to be request objects signed with the
                     client's keys (JAR); not for a client with a secret.
  --jwks-file F, --jwks-uri U, --signing-alg A
                     replace a private_key_jwt client's keys: one of
                     --jwks-file and --jwks-uri. A client that authenticates
                     with a secret cannot be given keys, and the kind of
                     client and its scopes do not change: register a new
                     client for that. Rotate a secret with rotate-secret.

The client's connections stay: its consents and tokens are not revoked.
Running servers cache a client for up to 2 seconds, so they see the change
within that time. The change is recorded in the audit log as client.updated
with the names of the fields changed.`,
		Example: `  bankfeed clients update cli_123 --name "Ledgerly Books" \
      --redirect-uri https://app.ledgerly.example/v2/callback --require-par
  bankfeed clients update cli_456 --jwks-file ledgerly-jwks-2026.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !slices.ContainsFunc(clientUpdateFlags, f.Changed) {
				return fmt.Errorf("clients update: nothing to update: give at least one of --%s", strings.Join(clientUpdateFlags, ", --"))
			}
			set := func(flag string, src *string, dst **string) {
				if f.Changed(flag) {
					*dst = src
				}
			}
			set("name", &name, &u.Name)
			set("jwks-uri", &jwksURI, &u.JWKSURI)
			set("signing-alg", &signingAlg, &u.SigningAlg)
			set("logo-uri", &logoURI, &u.LogoURI)
			set("policy-uri", &policyURI, &u.PolicyURI)
			set("tos-uri", &tosURI, &u.TOSURI)
			if f.Changed("redirect-uri") {
				u.RedirectURIs = append([]string{}, redirectURIs...)
			}
			if f.Changed("require-par") {
				u.RequirePAR = &requirePAR
			}
			if f.Changed("dpop") {
				u.DPoPBoundAccessTokens = &dpop
			}
			if slices.ContainsFunc(tlsNameFlagNames, f.Changed) {
				u.TLSClientAuth = &tlsName // the whole name: the others cleared
			}
			if f.Changed("require-signed-request-object") {
				u.RequireSignedRequestObject = &signedRequests
			}
			if f.Changed("jwks-file") {
				b, err := os.ReadFile(jwksFile)
				if err != nil {
					return fmt.Errorf("clients update: --jwks-file: %w", err)
				}
				u.JWKS = json.RawMessage(b)
			}
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st *gormstore.Store, _ *slog.Logger) error {
				var c store.Client
				err := st.InTx(ctx, func(ctx context.Context) error {
					var (
						changed []string
						err     error
					)
					if cur, err := st.GetClient(ctx, args[0]); err == nil {
						// oauth.profile fapi2: refuse a change the client
						// could not comply with (UpdateClient reports a
						// missing client itself).
						if err := authz.CheckClientUpdate(cfg.OAuth.Profile, cur, u); err != nil {
							return err
						}
					}
					if c, changed, err = authz.UpdateClient(ctx, st, args[0], u); err != nil {
						return err
					}
					return appendClientEvent(ctx, st, audit.ClientUpdated, c.ID, map[string]any{"fields": nonNil(changed)})
				})
				if err != nil {
					return clientLookupError("clients update", args[0], err)
				}
				return writeJSON(cmd.OutOrStdout(), toClientJSON(c))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "name shown to users on the consent page")
	f.StringArrayVar(&redirectURIs, "redirect-uri", nil, "redirect URI, exact match (repeatable; replaces the whole list)")
	f.StringVar(&jwksFile, "jwks-file", "", "private_key_jwt: file holding the client's new public JWKS")
	f.StringVar(&jwksURI, "jwks-uri", "", "private_key_jwt: https URL of the client's JWKS")
	f.StringVar(&signingAlg, "signing-alg", "", "private_key_jwt: assertion algorithm, ES256 or PS256 (must match the keys)")
	f.BoolVar(&requirePAR, "require-par", false, "require pushed authorization requests (RFC 9126); --require-par=false to stop")
	f.BoolVar(&dpop, "dpop", false, "every token must be DPoP-bound (RFC 9449); --dpop=false to stop")
	tlsNameFlags(cmd, &tlsName)
	f.BoolVar(&signedRequests, "require-signed-request-object", false, "pushed authorization requests must be a request object signed with the client's key (JAR, RFC 9101); =false to stop")
	f.StringVar(&logoURI, "logo-uri", "", `https URL of the logo shown on the consent page ("" removes it)`)
	f.StringVar(&policyURI, "policy-uri", "", `https URL of the vendor's privacy policy ("" removes it)`)
	f.StringVar(&tosURI, "tos-uri", "", `https URL of the vendor's terms of service ("" removes it)`)
	return cmd
}

// tlsNameFlags are the names a tls_client_auth client's certificate must
// carry: one of them.
func tlsNameFlags(cmd *cobra.Command, t *store.TLSClientAuth) {
	f := cmd.Flags()
	f.StringVar(&t.SubjectDN, "tls-subject-dn", "", `tls_client_auth: the certificate's subject DN, RFC 4514 (e.g. "CN=app,O=Vendor,C=CA")`)
	f.StringVar(&t.SANDNS, "tls-san-dns", "", "tls_client_auth: a DNS name of the certificate's SAN")
	f.StringVar(&t.SANURI, "tls-san-uri", "", "tls_client_auth: a URI of the certificate's SAN")
	f.StringVar(&t.SANIP, "tls-san-ip", "", "tls_client_auth: an IP address of the certificate's SAN")
	f.StringVar(&t.SANEmail, "tls-san-email", "", "tls_client_auth: an email address of the certificate's SAN")
}

var tlsNameFlagNames = []string{"tls-subject-dn", "tls-san-dns", "tls-san-uri", "tls-san-ip", "tls-san-email"}

// clientUpdateFlags are the flags of clients update, each a field to change.
var clientUpdateFlags = []string{"name", "redirect-uri", "logo-uri", "policy-uri", "tos-uri",
	"jwks-file", "jwks-uri", "signing-alg", "require-par", "dpop", "tls-subject-dn", "tls-san-dns", "tls-san-uri", "tls-san-ip", "tls-san-email", "require-signed-request-object"}

func (a *app) clientsRotateSecretCommand() *cobra.Command {
	var keepOld time.Duration
	cmd := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID",
		Short: "Give a client a new secret, printed once as JSON; optionally keep the old one for a while",
		Long: `Generate a new secret for a client that authenticates with a secret
(client_secret_basic) and print the client as JSON on stdout with the new
secret as "clientSecret", once: it is stored only as a hash, keep it now.

--keep-old DURATION keeps the current secret valid beside the new one for
DURATION (e.g. 24h, at most 720h), so the vendor can deploy the new secret
without an outage; "previousSecretExpiresAt" says until when. The default,
0, stops the old secret at once. A rotation during an overlap ends it: the
secret it replaces becomes the previous one and the one before stops, so at
most two secrets are ever valid.

The client's connections stay: its consents and tokens are not revoked.
The new secret works at once. Running servers cache a client for up to 2
seconds, so an old secret may still be accepted for up to 2 seconds after
it stops. A private_key_jwt client has no secret: replace its keys with
clients update. The rotation is recorded in the audit log as
client.secret_rotated with the overlap (never a secret).`,
		Example: `  bankfeed clients rotate-secret cli_123 --keep-old 24h
  bankfeed clients rotate-secret cli_123   # the old secret stops now`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, _ *slog.Logger) error {
				var (
					c      store.Client
					secret string
				)
				err := st.InTx(ctx, func(ctx context.Context) (err error) {
					if c, secret, err = authz.RotateClientSecret(ctx, st, args[0], keepOld, time.Now()); err != nil {
						return err
					}
					return appendClientEvent(ctx, st, audit.ClientSecretRotated, c.ID, map[string]any{"keepOld": keepOld.String()})
				})
				if err != nil {
					return clientLookupError("clients rotate-secret", args[0], err)
				}
				out := toClientJSON(c)
				out.ClientSecret = secret
				return writeJSON(cmd.OutOrStdout(), out)
			})
		},
	}
	cmd.Flags().DurationVar(&keepOld, "keep-old", 0, "keep the current secret valid this long beside the new one (at most 720h; 0: stops at once)")
	return cmd
}

// cliActor is the audit log's actor of the CLI's changes: whoever can run
// it on the database, the bank's operators.
const cliActor = "cli"

// appendClientEvent records a client's lifecycle event, bank-level, in the
// caller's transaction: the change and its record stand or fall together.
func appendClientEvent(ctx context.Context, st store.Store, action, clientID string, details any) error {
	e := audit.Origin{UserAgent: "bankfeed-cli/" + buildVersion()}.Event(action, audit.Success, details)
	e.ActorID, e.TargetType, e.TargetID, e.At = cliActor, "client", clientID, time.Now().UTC()
	if _, err := st.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// withStore loads the configuration and opens the database for an
// administrative command. It does not migrate: a command that only reads or
// registers must not change the schema behind a running server, so it asks
// for `bankfeed migrate` instead (Ping checks that every migration is applied).
func (a *app) withStore(cmd *cobra.Command, fn func(context.Context, config.Config, *gormstore.Store, *slog.Logger) error) error {
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, a.stderr)
	ctx := cmd.Context()
	st, err := openExistingStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Ping(ctx); err != nil {
		return fmt.Errorf("database %s is not ready: %w", cfg.RedactedDSN(), err)
	}
	return fn(ctx, cfg, st, logger)
}

// clientJSON is what the clients commands print. ClientSecret is set only by
// create; the secret's hash is never printed.
type clientJSON struct {
	ClientID                    string          `json:"clientId"`
	ClientSecret                string          `json:"clientSecret,omitempty"`
	Name                        string          `json:"name"`
	RedirectURIs                []string        `json:"redirectUris"`
	GrantTypes                  []string        `json:"grantTypes"`
	Scopes                      []string        `json:"scopes"`
	TokenEndpointAuthMethod     string          `json:"tokenEndpointAuthMethod"`
	TokenEndpointAuthSigningAlg string          `json:"tokenEndpointAuthSigningAlg,omitempty"`
	JWKSURI                     string          `json:"jwksUri,omitempty"`
	JWKS                        json.RawMessage `json:"jwks,omitempty"` // public keys only (authz refuses private ones)
	RequirePAR                  bool            `json:"requirePar"`
	DPoPBoundAccessTokens       bool            `json:"dpopBoundAccessTokens"`
	RequireSignedRequestObject  bool            `json:"requireSignedRequestObject"`
	// TLSClientAuth: the name a tls_client_auth client's certificate carries.
	TLSSubjectDN string `json:"tlsClientAuthSubjectDn,omitempty"`
	TLSSANDNS    string `json:"tlsClientAuthSanDns,omitempty"`
	TLSSANURI    string `json:"tlsClientAuthSanUri,omitempty"`
	TLSSANIP     string `json:"tlsClientAuthSanIp,omitempty"`
	TLSSANEmail  string `json:"tlsClientAuthSanEmail,omitempty"`
	FirstParty   bool   `json:"firstParty"`
	Status       string `json:"status,omitempty"` // pending or rejected: registered itself (POST /oauth2/register)
	NativeApp    bool   `json:"nativeApp"`
	LogoURI      string `json:"logoUri,omitempty"`
	PolicyURI    string `json:"policyUri,omitempty"`
	TOSURI       string `json:"tosUri,omitempty"`
	// PreviousSecretExpiresAt is the end of a secret rotation's overlap.
	PreviousSecretExpiresAt *time.Time `json:"previousSecretExpiresAt,omitempty"`
	CreatedAt               time.Time  `json:"createdAt"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toClientJSON(c store.Client) clientJSON {
	out := clientJSON{
		ClientID:                    c.ID,
		Name:                        c.Name,
		RedirectURIs:                nonNil(c.RedirectURIs),
		GrantTypes:                  nonNil(c.GrantTypes),
		Scopes:                      nonNil(c.Scopes),
		TokenEndpointAuthMethod:     c.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg,
		JWKSURI:                     c.JWKSURI,
		RequirePAR:                  c.RequirePAR,
		DPoPBoundAccessTokens:       c.DPoPBoundAccessTokens,
		RequireSignedRequestObject:  c.RequireSignedRequestObject,
		TLSSubjectDN:                c.TLSClientAuth.SubjectDN,
		TLSSANDNS:                   c.TLSClientAuth.SANDNS,
		TLSSANURI:                   c.TLSClientAuth.SANURI,
		TLSSANIP:                    c.TLSClientAuth.SANIP,
		TLSSANEmail:                 c.TLSClientAuth.SANEmail,
		FirstParty:                  c.FirstParty,
		NativeApp:                   c.NativeApp,
		LogoURI:                     c.LogoURI,
		PolicyURI:                   c.PolicyURI,
		TOSURI:                      c.TOSURI,
		CreatedAt:                   c.CreatedAt.UTC(),
	}
	if len(c.JWKS) > 0 && json.Valid(c.JWKS) {
		out.JWKS = c.JWKS
	}
	if c.Status != store.ClientActive {
		out.Status = c.Status
	}
	if c.PreviousSecretHash != "" && !c.PreviousSecretExpiresAt.IsZero() {
		t := c.PreviousSecretExpiresAt.UTC()
		out.PreviousSecretExpiresAt = &t
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// flagFor names the command-line flag behind a field authz reports.
var flagFor = map[string]string{
	"name":         "--name",
	"redirect_uri": "--redirect-uri",
	"jwks":         "--jwks-file",
	"jwks_uri":     "--jwks-uri",
	"signing_alg":  "--signing-alg",
	"logo_uri":     "--logo-uri",
	"policy_uri":   "--policy-uri",
	"tos_uri":      "--tos-uri",
	"scope":        "--scope",
	"keep_old":     "--keep-old",
}

// flagError restates a validation error in terms of the flags the operator typed.
func flagError(err error) error {
	var re *store.RuleError
	if errors.As(err, &re) {
		if f, ok := flagFor[re.Field]; ok {
			return &store.RuleError{Field: f, Message: re.Message}
		}
	}
	return err
}
