package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckTimeout bounds one probe: below Docker's default 30 s health
// check timeout and the compose file's 5 s, so a hung server reads as
// unhealthy rather than as a probe that never finished.
const healthcheckTimeout = 3 * time.Second

func (a *app) healthcheckCommand() *cobra.Command {
	var target string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if the local server is ready (GET /readyz answers 200), else 1",
		Long: `Ask the server at the configured listen address (addr, BANKFEED_ADDR,
--addr; a wildcard host is asked on loopback) whether it is ready: GET /readyz
must answer 200 within --timeout. For the container image's HEALTHCHECK, which
has no shell or curl: the binary itself is the probe. --url asks another
address. The configuration is read as serve reads it but not validated: the
probe needs only the address.`,
		Example: `  bankfeed healthcheck                              # HEALTHCHECK CMD ["bankfeed", "healthcheck"]
  bankfeed healthcheck --url http://10.0.0.5:8080/readyz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u := target
			if u == "" {
				cfg, err := a.readConfig(cmd)
				if err != nil {
					return err
				}
				if u, err = readyzURL(cfg.Addr); err != nil {
					return err
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if err := probe(ctx, u); err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ready: %s\n", u)
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "url", "", "readiness URL to ask (default: http://<addr>/readyz, loopback for a wildcard host)")
	cmd.Flags().DurationVar(&timeout, "timeout", healthcheckTimeout, "give up after this long")
	return cmd
}

// readyzURL is the readiness URL of a server listening on addr: a wildcard
// or empty host is asked on loopback, where every such listener answers.
func readyzURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: listen address %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/readyz"}
	return u.String(), nil
}

// probe GETs u and wants a 200; anything else, a refused connection or a
// timeout says the server is not ready.
func probe(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	// No proxy from the environment: the probe asks this host's server.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s did not answer in time", u)
		}
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", u, res.Status)
	}
	return nil
}
