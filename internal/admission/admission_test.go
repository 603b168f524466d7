package admission

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// serve answers GET /work with g in front of h.
func serve(t *testing.T, g *Gate, h echo.HandlerFunc) *httptest.Server {
	t.Helper()
	e := echo.New()
	e.GET("/work", h, g.Middleware())
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// fetch runs a GET in the background and reports its status on the channel.
func fetch(ctx context.Context, url string) <-chan int {
	done := make(chan int, 1)
	go func() {
		code, err := get(ctx, url)
		if err != nil {
			code = -1
		}
		done <- code
	}()
	return done
}

// TestGateAdmitsInArrivalOrder: with the one slot held, requests that came
// one after another are admitted one at a time in the order they came.
func TestGateAdmitsInArrivalOrder(t *testing.T) {
	g := New(1)
	var mu sync.Mutex
	var order []string
	hold := make(chan struct{})
	srv := serve(t, g, func(c echo.Context) error {
		name := c.QueryParam("n")
		if name == "first" {
			<-hold
		}
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
		return c.String(http.StatusOK, name)
	})
	names := []string{"first", "a", "b", "c", "d", "e"}
	var dones []<-chan int
	for i, name := range names {
		dones = append(dones, fetch(context.Background(), srv.URL+"/work?n="+name))
		if i == 0 {
			waitFor(t, "the first request to hold the slot", func() bool { return g.Active() == 1 })
			continue
		}
		waitFor(t, name+" to wait", func() bool { return g.Waiting() == i })
		// Waiting counts a request just before it joins the channel's
		// queue: give it the moment to get there before the next comes.
		time.Sleep(20 * time.Millisecond)
	}
	close(hold)
	for i, done := range dones {
		if code := <-done; code != http.StatusOK {
			t.Errorf("%s: status %d", names[i], code)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range names {
		if i >= len(order) || order[i] != names[i] {
			t.Fatalf("admitted in the order %v, want %v", order, names)
		}
	}
	if g.Active() != 0 || g.Waiting() != 0 {
		t.Errorf("after every request ended: %d active, %d waiting", g.Active(), g.Waiting())
	}
}

// TestGateLetsGoWhenTheAnswerStarts: a handler that has started its answer
// holds no slot while it goes on writing (a client slow to read it).
func TestGateLetsGoWhenTheAnswerStarts(t *testing.T) {
	g := New(1)
	wrote, finish := make(chan struct{}), make(chan struct{})
	srv := serve(t, g, func(c echo.Context) error {
		if c.QueryParam("n") != "slow" {
			return c.String(http.StatusOK, "quick")
		}
		c.Response().WriteHeader(http.StatusOK)
		c.Response().Flush()
		close(wrote)
		<-finish
		_, err := c.Response().Write([]byte("the rest"))
		return err
	})
	slow := fetch(context.Background(), srv.URL+"/work?n=slow")
	<-wrote
	if g.Active() != 0 {
		t.Errorf("a handler writing its answer holds %d slots", g.Active())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code, err := get(ctx, srv.URL+"/work?n=quick"); err != nil || code != http.StatusOK {
		t.Errorf("a request beside one that answers slowly: %d %v", code, err)
	}
	close(finish)
	if code := <-slow; code != http.StatusOK {
		t.Errorf("the slow answer: %d", code)
	}
}

// TestGateForgetsAClientThatLeft: a request whose client goes away while
// it waits is never admitted and takes no slot with it.
func TestGateForgetsAClientThatLeft(t *testing.T) {
	g := New(1)
	hold := make(chan struct{})
	var mu sync.Mutex
	ran := map[string]bool{}
	srv := serve(t, g, func(c echo.Context) error {
		mu.Lock()
		ran[c.QueryParam("n")] = true
		mu.Unlock()
		if c.QueryParam("n") == "first" {
			<-hold
		}
		return c.NoContent(http.StatusNoContent)
	})
	first := fetch(context.Background(), srv.URL+"/work?n=first")
	waitFor(t, "the first request to hold the slot", func() bool { return g.Active() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	gone := fetch(ctx, srv.URL+"/work?n=gone")
	waitFor(t, "the second request to wait", func() bool { return g.Waiting() == 1 })
	cancel()
	if code := <-gone; code != -1 {
		t.Errorf("the request whose client left got status %d", code)
	}
	waitFor(t, "the request whose client left to stop waiting", func() bool { return g.Waiting() == 0 })
	close(hold)
	if code := <-first; code != http.StatusNoContent {
		t.Errorf("first: %d", code)
	}
	if code, err := get(context.Background(), srv.URL+"/work?n=after"); err != nil || code != http.StatusNoContent {
		t.Errorf("a request after: %d %v", code, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if ran["gone"] {
		t.Error("the handler ran for a client that had left while it waited")
	}
	if g.Active() != 0 {
		t.Errorf("%d slots held after every request ended", g.Active())
	}
}

// TestOutsideHandsTheSlotBack: while a request waits on someone else
// (Outside), another is admitted; then the first takes a slot again.
func TestOutsideHandsTheSlotBack(t *testing.T) {
	g := New(1)
	otherDone, inOutside := make(chan struct{}), make(chan struct{})
	srv := serve(t, g, func(c echo.Context) error {
		if c.QueryParam("n") == "other" {
			close(otherDone)
			return c.NoContent(http.StatusNoContent)
		}
		ctx := c.Request().Context()
		var activeInside int
		err := Outside(ctx, func() {
			activeInside = g.Active()
			close(inOutside)
			select { // the other is admitted only if this slot was handed back
			case <-otherDone:
			case <-time.After(10 * time.Second):
			}
		})
		if err != nil {
			return err
		}
		if activeInside != 0 || g.Active() != 1 {
			return c.String(http.StatusInternalServerError, "slots: inside, after")
		}
		return c.NoContent(http.StatusOK)
	})
	waiter := fetch(context.Background(), srv.URL+"/work?n=waiter")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	<-inOutside
	if code, err := get(ctx, srv.URL+"/work?n=other"); err != nil || code != http.StatusNoContent {
		t.Errorf("the other request: %d %v", code, err)
	}
	if code := <-waiter; code != http.StatusOK {
		t.Errorf("the request that waited outside: %d (500: it did not hand its slot back, or did not take it again)", code)
	}
}

// TestNoGateAdmitsEverything: a limit below 1 is no gate.
func TestNoGateAdmitsEverything(t *testing.T) {
	g := New(0)
	if g != nil {
		t.Fatalf("New(0) = %v, want no gate", g)
	}
	n := 8
	var wg sync.WaitGroup
	inside := make(chan struct{}, n)
	release := make(chan struct{})
	srv := serve(t, g, func(c echo.Context) error {
		inside <- struct{}{}
		<-release
		return Outside(c.Request().Context(), func() {})
	})
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = get(context.Background(), srv.URL+"/work") }()
	}
	for range n {
		<-inside // all n at once: nothing held any back
	}
	close(release)
	wg.Wait()
}

// TestFirstPutsTheGateFirst: First prepends the gate, or leaves m as it is
// without one.
func TestFirstPutsTheGateFirst(t *testing.T) {
	var order []string
	mw := func(name string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error { order = append(order, name); return next(c) }
		}
	}
	e := echo.New()
	e.GET("/gated", func(echo.Context) error { return nil }, First(mw("gate"), mw("auth"), mw("scope"))...)
	e.GET("/open", func(echo.Context) error { return nil }, First(nil, mw("auth"))...)
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/gated", nil))
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/open", nil))
	if got := strings.Join(order, ","); got != "gate,auth,scope,auth" {
		t.Errorf("middlewares ran %s, want gate,auth,scope,auth", got)
	}
}
