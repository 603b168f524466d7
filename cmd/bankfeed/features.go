package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"runtime"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/consent"
	"github.com/bankfeed/bankfeed/console"
	"github.com/bankfeed/bankfeed/dataapi"
	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/ops"
	"github.com/bankfeed/bankfeed/store"
)

// mountFeatures is where the feature packages join the router. Each one is
// built from its own Config, filled here from config.Config and deps (never
// from flags or the environment), and mounts its routes on e. authz is built
// first: it is the TokenVerifier of the data and administration APIs.
func mountFeatures(ctx context.Context, e *echo.Echo, cfg config.Config, d deps) error {
	kek, err := cfg.Secrets.KeyEncryptionKeyBytes()
	if err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	tokenSecret := []byte(cfg.Secrets.TokenSecret)

	admit, err := admissionGate(cfg.HTTP, d.Metrics)
	if err != nil {
		return err
	}
	admitIntrospection, err := introspectionGate(cfg.HTTP, d.Metrics)
	if err != nil {
		return err
	}

	var pages *consent.Handler // built below; shows authz's unredirectable errors and its consent pages
	showConsent := func(c echo.Context, challenge, uiLocales string) error {
		return pages.ShowConsent(c, challenge, uiLocales)
	}
	startConsent := func(c echo.Context, f store.AuthFlow, cl store.Client, uiLocales string) (bool, error) {
		return pages.StartConsent(c, f, cl, uiLocales)
	}
	mtls, err := mtlsConfig(cfg.TLS)
	if err != nil {
		return err
	}
	as, err := authz.New(ctx, authz.Config{
		Store:                  d.Store,
		Issuer:                 cfg.Issuer,
		Logger:                 d.Logger,
		Now:                    d.Now,
		TokenSecret:            tokenSecret,
		KeyEncryptionKey:       kek,
		AccessTokenLifespan:    cfg.OAuth.AccessTokenLifespan,
		IDTokenLifespan:        cfg.OAuth.IDTokenLifespan,
		RefreshTokenLifespan:   cfg.OAuth.RefreshTokenLifespan,
		RefreshGracePeriod:     cfg.OAuth.RefreshGracePeriod,
		AuthorizeCodeLifespan:  cfg.OAuth.AuthorizeCodeLifespan,
		PARLifespan:            cfg.OAuth.PARLifespan,
		TokenFormat:            cfg.OAuth.TokenFormat,
		RequirePAR:             cfg.OAuth.RequirePAR,
		SessionCookie:          consent.SessionCookie, // a signed-in browser starts at the consent page,
		StartConsent:           startConsent,          // … shown in the authorization request's response,
		ConsentPage:            showConsent,           // … and again on its reload
		Profile:                cfg.OAuth.Profile,
		DPoP:                   authz.DPoPConfig{IATWindow: cfg.OAuth.DPoP.IATWindow, NonceRequired: cfg.OAuth.DPoP.NonceRequired},
		MTLS:                   mtls,
		Metrics:                d.Metrics,
		Admission:              admit,
		IntrospectionAdmission: admitIntrospection,
		ErrorPage: func(w http.ResponseWriter, r *http.Request, status int, code string) {
			pages.AuthorizeErrorPage(w, r, status, code)
		},
	})
	if err != nil {
		return fmt.Errorf("authz: %w", err)
	}
	as.Mount(e)

	brand, err := bankBranding(cfg) // reads the logo file: a bad one stops the start
	if err != nil {
		return err
	}
	pages, err = consent.New(consent.Config{
		Store:             d.Store,
		Issuer:            cfg.Issuer,
		Logger:            d.Logger,
		Now:               d.Now,
		MaxFailedAttempts: cfg.SignIn.MaxFailedAttempts,
		LockoutDuration:   cfg.SignIn.LockoutDuration,
		LoginKeySecret:    derive(tokenSecret, "bankfeed consent login keys"),
		SessionLifespan:   cfg.SignIn.SessionLifespan,
		ConsentLifespan:   cfg.OAuth.ConsentLifespan,
		Metrics:           d.Metrics,
		Admission:         admit,

		RateLimitPerAddress: cfg.SignIn.RateLimitPerAddress,
		RateLimitPerLoginID: cfg.SignIn.RateLimitPerLoginID,
		Home:                "/business/", // the console (below) sends non-administrators on
		Branding:            brand,
		TemplatesDir:        cfg.UI.TemplatesDir,
		Resume:              as.Resume, // Allow answers with the vendor's redirect
		Finish:              as.Finish, // … deciding and finishing the flow in one statement
	})
	if err != nil {
		return fmt.Errorf("consent: %w", err)
	}
	pages.Mount(e)
	// Before any handler: text no database column may hold, refused in
	// each endpoint's usual shape (issue 11, finding 4).
	e.Use(textGuard(pages.RefuseText))

	api, err := dataapi.New(dataapi.Config{
		Store:              d.Store,
		Verifier:           as,
		IsInvalidToken:     func(err error) bool { return errors.Is(err, authz.ErrInvalidToken) },
		Logger:             d.Logger,
		Now:                d.Now,
		RateLimitPerMinute: cfg.DataAPI.RateLimitPerMinute,
		PageKeySecret:      derive(tokenSecret, "bankfeed dataapi page keys"),
		Bank:               export.Bank{Name: cfg.Exports.BankName, BIC: cfg.Exports.BIC, RoutingID: cfg.Exports.BankID},
		QBOIntuBID:         cfg.Exports.QBOIntuBID,
		MaxExportDays:      cfg.DataAPI.MaxExportDays,
		Metrics:            d.Metrics,
		Admission:          admit,
	})
	if err != nil {
		return fmt.Errorf("dataapi: %w", err)
	}
	api.Mount(e)

	adm, err := admin.New(admin.Config{Store: d.Store, Verifier: as, Logger: d.Logger, Now: d.Now, Metrics: d.Metrics,
		Outbox: newOutbox(cfg.Notifications, d.Store)}) // deliveries sent by serve's worker (startDeliveries)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	adm.Mount(e)

	// The bank's operators' API: the bank's direct writes (issue 14: its
	// own package beside admin's).
	opsAPI, err := ops.New(ops.Config{Store: d.Store, Verifier: as, Logger: d.Logger, Now: d.Now})
	if err != nil {
		return fmt.Errorf("ops: %w", err)
	}
	opsAPI.Mount(e)

	// The administrators' console: the same operations as /admin/v1, as
	// pages behind the bank's sign-in session (issue 14).
	biz, err := console.New(console.Config{Store: d.Store, Admin: adm, Issuer: cfg.Issuer, Logger: d.Logger, Now: d.Now,
		Branding: brand, TemplatesDir: cfg.UI.TemplatesDir})
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	biz.Mount(e)
	return nil
}

// derive gives each use of the shared token secret its own key, so a page
// key can never be replayed as an OAuth token signature or the reverse.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// admissionGate is the gate of http.max_active_requests (package
// admission): 0 is four slots per CPU the Go runtime uses, -1 no gate
// (nil). Four per CPU measured best on 2 CPUs shared with PostgreSQL
// (README, "Admission"). Its line holds http.max_waiting_requests (0: 64
// per slot, -1: any number), each for at most http.max_wait. Its
// occupancy and refusals go to m.
func admissionGate(h config.HTTP, m *metrics.Metrics) (*admission.Gate, error) {
	return gate(h.MaxActiveRequests, 4, 64, h, m.AddAdmission)
}

// introspectionGate is introspection's own gate, of
// http.max_active_introspections: 0 is 64 slots per CPU, -1 no gate. Its
// reads are batched, one statement at a time, so its slots bound
// goroutines and memory, not database backends: on 2 CPUs, 16 slots gave
// 1.15× the introspections per second of the shared gate's 8, and none
// 1.3× (README, "Admission"). Its line holds http.max_waiting_requests, by
// default 4 per slot: at the default slots, as many as the shared gate's
// line (64 per slot of four per CPU), not sixteen times as many requests
// held in memory under a flood. Its metrics are as admissionGate's.
func introspectionGate(h config.HTTP, m *metrics.Metrics) (*admission.Gate, error) {
	return gate(h.MaxActiveIntrospections, 64, 4, h, m.AddIntrospectionAdmission)
}

// gate is a gate of active slots (0: perCPU per CPU, -1: none) whose line
// holds h.MaxWaitingRequests (0: waitingPerSlot per slot) for h.MaxWait,
// its occupancy and refusals exported by export.
func gate(active, perCPU, waitingPerSlot int, h config.HTTP, export func(active, waiting func() int, refused func() int64) error) (*admission.Gate, error) {
	switch {
	case active < 0:
		return nil, nil
	case active == 0:
		active = perCPU * runtime.GOMAXPROCS(0)
	}
	q := admission.Queue{Len: h.MaxWaitingRequests, Wait: h.MaxWait}
	if q.Len == 0 {
		q.Len = waitingPerSlot * active
	}
	g := admission.New(active, q)
	if err := export(g.Active, g.Waiting, g.Refused); err != nil {
		return nil, fmt.Errorf("admission metrics: %w", err)
	}
	return g, nil
}
