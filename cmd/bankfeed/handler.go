package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/tracing"
)

// deps are the parts newHandler wires together; tests build them directly.
type deps struct {
	Store  store.Store
	Logger *slog.Logger
	Now    func() time.Time
	// Metrics, when not nil, counts requests and what the features report.
	Metrics *metrics.Metrics
	// Tracing, when enabled, starts a span for every request.
	Tracing *tracing.Tracing
}

// newHandler builds the one router of bankfeed: shared middleware, the
// health endpoints, then every feature package (mountFeatures). serve and
// the end-to-end tests both use it.
func newHandler(ctx context.Context, cfg config.Config, d deps) (*echo.Echo, error) {
	if d.Store == nil || d.Logger == nil {
		return nil, fmt.Errorf("newHandler: Store and Logger are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	bodyLimit, err := config.ParseBodyLimit(cfg.HTTP.BodyLimit)
	if err != nil {
		return nil, fmt.Errorf("newHandler: http.body_limit: %w", err)
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(slogWriter{d.Logger}) // echo's own messages, rare
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)

	// Order matters: the request ID and headers exist before anything can
	// fail, the access log sees the final status, recover sits inside it.
	e.Use(requestID())
	e.Use(traceRequests(d.Tracing)) // after the request ID, which its spans carry
	e.Use(securityHeaders(strings.HasPrefix(cfg.Issuer, "https://")))
	e.Use(d.Metrics.Middleware()) // outside the access log, which settles the status
	e.Use(accessLog(d.Logger))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisablePrintStack: true,
		DisableStackAll:   true, // the panicking goroutine is enough
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			d.Logger.ErrorContext(c.Request().Context(), "panic", "request_id", requestIDOf(c),
				"path", c.Request().URL.Path, "err", err, "stack", string(stack))
			return err
		},
	}))
	// echo reads K/M as powers of 1000; pass bytes so config's meaning holds.
	e.Use(middleware.BodyLimit(strconv.FormatInt(bodyLimit, 10)))

	h := &health{store: d.Store, logger: d.Logger}
	e.GET("/healthz", h.handleHealthz)
	e.GET("/readyz", h.handleReadyz)

	if err := mountFeatures(ctx, e, cfg, d); err != nil {
		return nil, err
	}
	return e, nil
}

// health answers liveness and readiness probes.
type health struct {
	store  store.Store
	logger *slog.Logger
}

func (h *health) handleHealthz(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (h *health) handleReadyz(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		// The cause goes to the log, never to an unauthenticated caller.
		h.logger.WarnContext(ctx, "not ready", "request_id", requestIDOf(c), "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// validRequestID accepts a caller's X-Request-ID only if it is short and
// plain, so it cannot forge log lines or bloat them.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestID keeps a well-formed incoming X-Request-ID or makes one, and sets
// it on the response and on the request header, where feature packages read
// it (c.Request().Header.Get(echo.HeaderXRequestID)) without importing cmd,
// and in the request's context, from which every span and log line of the
// request takes it (package tracing).
func requestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Request().Header.Get(echo.HeaderXRequestID)
			if !validRequestID.MatchString(id) {
				var b [16]byte
				_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
				id = hex.EncodeToString(b[:])
			}
			req := c.Request()
			req.Header.Set(echo.HeaderXRequestID, id)
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			c.SetRequest(req.WithContext(tracing.WithRequestID(req.Context(), id)))
			return next(c)
		}
	}
}

func requestIDOf(c echo.Context) string {
	return c.Request().Header.Get(echo.HeaderXRequestID)
}

// securityHeaders are set before the handler runs so error pages get them too.
func securityHeaders(https bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			if https {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// accessLog writes one line per request. It logs the path only: query
// strings carry authorization codes, states and tokens, and headers carry
// credentials and cookies, so neither is ever logged. A request whose
// client went away before it was answered is logged at INFO as 499
// (clientGone), not as the server's error; one the admission gate turned
// away, at WARN.
func accessLog(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			req, res := c.Request(), c.Response()
			// Cancelled before the handler returned: the client cannot
			// have had the whole answer, which net/http sends (or ends)
			// only after the handler.
			gone := clientGone(req)
			if err != nil && !gone {
				c.Error(err) // let the error handler write the status we log
			}
			level := slog.LevelInfo
			if gone {
				// Whatever the handler made of its cancelled work (a 500
				// of "context canceled", a 503, a 409 of a lock it gave up
				// on) is nobody's failure: 499 is what the metrics and the
				// span read too.
				res.Status = statusClientClosed
			} else if admission.TurnedAway(c) {
				// Load shed by the admission gate (503 at once, nothing
				// read): the replica is full, nothing failed; a flood of
				// these must not read as errors (the metrics count them).
				level = slog.LevelWarn
			} else if res.Status >= 500 {
				level = slog.LevelError
			}
			if !logger.Enabled(req.Context(), level) {
				return nil // nothing built for a line not written
			}
			attrs := []slog.Attr{
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.Int("status", res.Status),
				slog.Int64("bytes", res.Size),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", requestIDOf(c)),
				slog.String("remote_ip", c.RealIP()),
			}
			if gone {
				attrs = append(attrs, slog.Bool("client_gone", true))
			} else if err != nil && res.Status >= 500 {
				attrs = append(attrs, slog.String("err", err.Error()))
			}
			logger.LogAttrs(req.Context(), level, "request", attrs...)
			return nil
		}
	}
}

// statusClientClosed is nginx's 499: the client closed the connection
// before the answer.
const statusClientClosed = 499

// clientGone reports whether r was cancelled because its client went away:
// net/http cancels a request's context when its connection closes (or the
// server cuts it at the end of a shutdown drain). A deadline is the
// server's own failure and stays one.
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// ipExtractor believes X-Forwarded-For only from the configured proxies.
func ipExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, _ := netip.ParseAddr(p) // validated by config
			prefix = netip.PrefixFrom(a, a.BitLen())
		}
		opts = append(opts, echo.TrustIPRange(netipToIPNet(prefix)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// slogWriter adapts echo's io.Writer logger to slog.
type slogWriter struct{ logger *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.logger.Warn("echo", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}

func netipToIPNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
