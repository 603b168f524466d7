package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestAdmissionGateFollowsTheSetting: -1 is no gate; a positive setting
// admits that many requests at once (the next waits); 0 is a gate too
// (four per CPU).
func TestAdmissionGateFollowsTheSetting(t *testing.T) {
	if g, err := admissionGate(-1, nil); g != nil || err != nil {
		t.Errorf("http.max_active_requests -1: a gate (%v), %v", g != nil, err)
	}
	if g, err := admissionGate(0, nil); g == nil || err != nil {
		t.Errorf("http.max_active_requests 0: no gate (%v), %v", g == nil, err)
	}
	one, err := admissionGate(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	hold := make(chan struct{})
	entered := make(chan struct{}, 2)
	e.GET("/work", func(c echo.Context) error {
		entered <- struct{}{}
		<-hold
		return c.NoContent(http.StatusNoContent)
	}, one)
	srv := httptest.NewServer(e)
	defer srv.Close()
	done := make(chan struct{}, 2)
	for range 2 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/work", nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
			done <- struct{}{}
		}()
	}
	<-entered
	select {
	case <-entered:
		t.Error("a gate of one admitted two requests at once")
	case <-time.After(200 * time.Millisecond):
	}
	close(hold)
	<-done
	<-done
}
