package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestAdmissionGateFollowsTheSetting: -1 is no gate; a positive setting
// admits that many requests at once (the next waits); 0 is a gate too
// (four per CPU). Its line holds http.max_waiting_requests, 64 per slot
// by default: the one request beyond it is turned away at once with 503.
func TestAdmissionGateFollowsTheSetting(t *testing.T) {
	http5s := func(active, waiting int) config.HTTP {
		return config.HTTP{MaxActiveRequests: active, MaxWaitingRequests: waiting, MaxWait: 5 * time.Second}
	}
	if g, err := admissionGate(http5s(-1, 0), nil); g != nil || err != nil {
		t.Errorf("http.max_active_requests -1: a gate (%v), %v", g != nil, err)
	}
	if g, err := admissionGate(http5s(0, 0), nil); g == nil || err != nil {
		t.Errorf("http.max_active_requests 0: no gate (%v), %v", g == nil, err)
	}
	for _, tc := range []struct {
		name            string
		waiting, queued int // the setting; how many wait before one is turned away
	}{
		{"max_waiting_requests 0 (64 per slot)", 0, 64},
		{"max_waiting_requests 2", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			one, err := admissionGate(http5s(1, tc.waiting), nil)
			if err != nil {
				t.Fatal(err)
			}
			e := echo.New()
			hold := make(chan struct{})
			release := sync.OnceFunc(func() { close(hold) })
			entered := make(chan struct{}, tc.queued+2)
			e.GET("/work", func(c echo.Context) error {
				entered <- struct{}{}
				<-hold
				return c.NoContent(http.StatusNoContent)
			}, one.Middleware(nil))
			srv := httptest.NewServer(e)
			defer srv.Close()
			defer release()
			get := func() int {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/work", nil)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return -1
				}
				res.Body.Close()
				return res.StatusCode
			}
			codes := make(chan int, tc.queued+1)
			for range tc.queued + 1 {
				go func() { codes <- get() }()
			}
			<-entered
			deadline := time.Now().Add(10 * time.Second)
			for one.Waiting() < tc.queued && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			select {
			case <-entered:
				t.Fatal("a gate of one admitted two requests at once")
			default:
			}
			if w := one.Waiting(); w != tc.queued {
				t.Fatalf("%d waiting, want %d", w, tc.queued)
			}
			if code := get(); code != http.StatusServiceUnavailable {
				t.Errorf("one more beyond the line: %d, want 503", code)
			}
			release()
			for range tc.queued + 1 {
				if code := <-codes; code != http.StatusNoContent {
					t.Errorf("a request in line: %d", code)
				}
			}
		})
	}
}

// TestIntrospectionGateFollowsItsSetting: introspection's gate is -1: none;
// a positive setting: that many slots; 0: 64 per CPU. Its line holds
// http.max_waiting_requests, by default 4 per slot. Its occupancy and
// refusals are exported under names of their own, beside the shared
// gate's, and newHandler builds both on one registry.
func TestIntrospectionGateFollowsItsSetting(t *testing.T) {
	slots := func(g *admission.Gate) int {
		t.Helper()
		n := 0
		for {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			release, err := g.Hold(ctx)
			cancel()
			if err != nil {
				return n
			}
			defer release()
			n++
		}
	}
	h := config.HTTP{MaxWait: time.Second}
	h.MaxActiveIntrospections = -1
	if g, err := introspectionGate(h, nil); g != nil || err != nil {
		t.Errorf("http.max_active_introspections -1: a gate (%v), %v", g != nil, err)
	}
	for setting, want := range map[int]int{2: 2, 0: 64 * runtime.GOMAXPROCS(0)} {
		h.MaxActiveIntrospections = setting
		g, err := introspectionGate(h, nil)
		if err != nil || g == nil {
			t.Fatalf("http.max_active_introspections %d: %v, %v", setting, g, err)
		}
		if n := slots(g); n != want {
			t.Errorf("http.max_active_introspections %d: %d slots, want %d", setting, n, want)
		}
	}

	// The line: 4 per slot by default (8 behind 2 slots), else the setting.
	for waiting, want := range map[int]int{0: 8, 3: 3} {
		h.MaxActiveIntrospections, h.MaxWaitingRequests = 2, waiting
		g, err := introspectionGate(h, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			release, err := g.Hold(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer release()
		}
		ctx, cancel := context.WithCancel(t.Context())
		waited := make(chan error, want)
		for range want {
			go func() {
				release, err := g.Hold(ctx)
				if err == nil {
					release()
				}
				waited <- err
			}()
		}
		for deadline := time.Now().Add(5 * time.Second); g.Waiting() < want && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		// Turned away at once, not after waiting out its context.
		beyond, stop := context.WithTimeout(t.Context(), 200*time.Millisecond)
		if _, err := g.Hold(beyond); !errors.Is(err, admission.ErrBusy) || g.Waiting() != want {
			t.Errorf("max_waiting_requests %d: one beyond %d waiting: %v, want turned away", waiting, g.Waiting(), err)
		}
		stop()
		cancel()
		for range want {
			<-waited
		}
	}

	m := metrics.New()
	cfg := testConfig(t)
	if _, err := newHandler(t.Context(), cfg, deps{Store: gormtest.OpenStore(t, "cmd_introspection_gate"), Logger: slog.New(slog.DiscardHandler), Now: time.Now, Metrics: m}); err != nil {
		t.Fatal(err)
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for _, name := range []string{"bankfeed_admission_active_requests", "bankfeed_introspection_admission_active_requests",
		"bankfeed_introspection_admission_waiting_requests", "bankfeed_introspection_admission_refused_requests_total"} {
		if !got[name] {
			t.Errorf("served with metrics: no %s", name)
		}
	}
}
