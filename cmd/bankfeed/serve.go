package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/tracing"
)

func (a *app) serveCommand() *cobra.Command {
	var demo, demoForce bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server (OAuth provider, bank pages, data API)",
		Long: `Run the HTTP server until SIGINT or SIGTERM, then drain requests for at most
http.shutdown_timeout; requests still running then are cut (a log line counts
them) and the exit status is still 0. Migrations are applied first unless
migrate_on_start is false. GET /healthz answers 200 while the process is up;
GET /readyz answers 200 only while the database answers with every migration
applied (on SQLite without waiting for the writer).

With --demo, an empty database is first filled with the demo data set and the
demo credentials are printed on stdout; a database that already holds data is
left as it is. The demo's passwords and vendor secret are known to whoever
reads that output, so --demo refuses to start unless the issuer's host is
localhost or a loopback address and the database is not PostgreSQL.
--demo-force starts it anyway and writes the credentials to
` + demoCredentialsFile + ` (mode 0600) in the data directory instead of stdout.`,
		Example: `  bankfeed serve --demo                                 # try it on this machine
  bankfeed serve --demo --demo-force --issuer https://demo.bank.example`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("demo") {
				cfg.Demo = demo
			}
			var out demoOutput
			if cfg.Demo {
				if !cmd.Flags().Changed("demo-force") {
					if demoForce, err = envBool(a.getenv, demoForceEnv); err != nil {
						return err
					}
				}
				if out, err = checkDemo(cfg, demoForce); err != nil {
					return err
				}
			}
			serverGC()
			serverMemProfile(cfg.Metrics.Pprof)
			return a.serve(cmd.Context(), cfg, out)
		},
	}
	cmd.Flags().String("metrics-addr", "", "internal listen address of GET /metrics, e.g. 127.0.0.1:9090; empty: none (env BANKFEED_METRICS_ADDR)")
	cmd.Flags().String("tls-cert", "", "serve HTTPS with this PEM certificate (chain); with --tls-key (env BANKFEED_TLS_CERT)")
	cmd.Flags().String("tls-key", "", "PEM private key of --tls-cert (env BANKFEED_TLS_KEY)")
	cmd.Flags().String("tls-client-ca", "", "PEM CAs of tls_client_auth clients; with --tls-cert, ask every connection for a client certificate (env BANKFEED_TLS_CLIENT_CA)")
	cmd.Flags().BoolVar(&demo, "demo", false, "fill an empty database with the demo data set and print its credentials (env BANKFEED_DEMO)")
	cmd.Flags().BoolVar(&demoForce, "demo-force", false, "let --demo run with a non-local issuer or PostgreSQL, writing the credentials to "+
		demoCredentialsFile+" in the data directory instead of stdout (env "+demoForceEnv+")")
	return cmd
}

// serverGCPercent is serve's GOGC unless the environment sets one. The live
// heap is small (tens of MB) while every data API page allocates its rows
// and strings; collecting at 2× the live heap instead of 1× spends less of
// a page's CPU on the collector. 200, not the 400 it was: measured side by
// side (issue 15), 400 cost ~25 MiB more at peak under 32 clients of the
// data API (105–113 against 79–81 MiB) and put a load with a sign-in at
// 123–129 MiB (120–124 at 200), for ~6 % less server CPU per page.
const serverGCPercent = 200

func serverGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}

// memProfileOnce: heap-profile sampling is one setting for the whole
// process, decided by its first serve.
var memProfileOnce sync.Once

// serverMemProfile turns heap-profile sampling off unless pprof is served,
// the only reader of the profile. Its table of sampled stacks held ~2 MiB
// resident for the process's life (issue 15: the peak beside a sign-in's
// 64 MiB hash was 128.3 MiB against a 128 MiB target).
func serverMemProfile(pprof bool) {
	memProfileOnce.Do(func() {
		if !pprof {
			runtime.MemProfileRate = 0
		}
	})
}

func (a *app) serve(ctx context.Context, cfg config.Config, demoOut demoOutput) error {
	// Every line logged with a request's context names its request ID
	// and, when traced, its trace and span.
	logger := slog.New(tracing.LogHandler(newLogger(cfg.Log, a.stderr).Handler()))
	created, err := cfg.EnsureSecrets()
	if err != nil {
		return err
	}
	for _, p := range created {
		logger.InfoContext(ctx, "generated a secret; keep it with the database", "file", p)
	}
	if err := cfg.Validate(); err != nil { // secrets read from DataDir are checked too
		return err
	}
	applyRuntimeLimits(ctx, cfg, logger)
	tr, stopTracing, err := startTracing(ctx, a.getenv, logger)
	if err != nil {
		return err
	}
	defer stopTracing() // last: flushes the spans of the drained requests

	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.MigrateOnStart {
		if err := st.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if cfg.Demo {
		if err := a.seedDemoIfEmpty(ctx, st, logger, demoOut); err != nil {
			return err
		}
	}

	m, stopMetrics, err := startMetrics(ctx, cfg, st, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	h, err := newHandler(ctx, cfg, deps{Store: st, Logger: logger, Now: time.Now, Metrics: m, Tracing: tr})
	if err != nil {
		return err
	}
	stopDeliveries, err := startDeliveries(ctx, cfg.Notifications, st, logger, m)
	if err != nil {
		return err
	}
	defer stopDeliveries() // after the HTTP drain, before the store closes
	tlsCfg, err := serverTLSConfig(cfg.TLS)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           forwardedCerts(cfg.TLS, h, logger),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    cfg.HTTP.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	var open openConns
	srv.ConnState = open.track
	errc := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificate is in TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	go sweepExpired(ctx, st, logger, time.Now, cfg.Notifications.DeliveredRetention)
	logger.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil, "issuer", cfg.Issuer,
		"database", cfg.RedactedDSN(), "version", buildVersion())
	if a.listening != nil {
		a.listening(ln.Addr())
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.InfoContext(ctx, "shutting down", "timeout", cfg.HTTP.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("shutdown: %w", err)
		}
		// The drain ran its configured time: cutting the stragglers (slow
		// bodies, long exports) is the drain working, not a failed exit.
		cut := open.busy()
		if err := srv.Close(); err != nil {
			return fmt.Errorf("shutdown: close: %w", err)
		}
		logger.WarnContext(ctx, "shutdown timeout: cut requests still running", "cut", cut,
			"timeout", cfg.HTTP.ShutdownTimeout.String())
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.InfoContext(ctx, "stopped")
	return nil
}

// openConns counts the server's connections that are not idle (new or in a
// request), so a shutdown that runs out of time can say how many it cut.
type openConns struct {
	mu    sync.Mutex
	state map[net.Conn]http.ConnState
}

func (o *openConns) track(c net.Conn, s http.ConnState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state == nil {
		o.state = map[net.Conn]http.ConnState{}
	}
	switch s {
	case http.StateNew, http.StateActive:
		o.state[c] = s
	default: // idle, hijacked, closed
		delete(o.state, c)
	}
}

func (o *openConns) busy() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.state)
}
