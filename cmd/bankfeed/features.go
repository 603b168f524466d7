package main

import (
	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/config"
)

// mountFeatures is where the feature packages join the router. Each one is
// built from its own Config, filled here from config.Config and deps (never
// from flags or the environment), and mounts its routes on e:
//
//	a, err := authz.New(authz.Config{Issuer: cfg.Issuer, Store: d.Store, Logger: d.Logger, Now: d.Now, ...})
//	if err != nil {
//		return fmt.Errorf("authz: %w", err)
//	}
//	a.Mount(e)
//
// Order: authz, consent, dataapi, admin. Routes must not overlap /healthz
// and /readyz.
func mountFeatures(e *echo.Echo, cfg config.Config, d deps) error {
	_, _, _ = e, cfg, d
	return nil
}
