package admission

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// serve answers GET /work with g in front of h.
func serve(t *testing.T, g *Gate, h echo.HandlerFunc) *httptest.Server {
	t.Helper()
	e := echo.New()
	e.GET("/work", h, g.Middleware(nil))
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
	g := New(1, Queue{})
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
	g := New(1, Queue{})
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
	g := New(1, Queue{})
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
	g := New(1, Queue{})
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
	g := New(0, Queue{})
	if g != nil {
		t.Fatalf("New(0, Queue{}) = %v, want no gate", g)
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

// TestFirstPutsTheGateFirst: First prepends the gate, so that the route's
// checks run admitted, or leaves m as it is without one.
func TestFirstPutsTheGateFirst(t *testing.T) {
	g := New(1, Queue{})
	var order []string
	mw := func(name string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				order = append(order, fmt.Sprintf("%s(%d)", name, g.Active()))
				return next(c)
			}
		}
	}
	var none *Gate
	e := echo.New()
	e.GET("/gated", func(echo.Context) error { return nil }, g.First(nil, mw("auth"), mw("scope"))...)
	e.GET("/open", func(echo.Context) error { return nil }, none.First(nil, mw("auth"))...)
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/gated", nil))
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/open", nil))
	if got := strings.Join(order, ","); got != "auth(1),scope(1),auth(0)" {
		t.Errorf("middlewares ran %s, want auth(1),scope(1),auth(0): the gated route's checks inside its slot", got)
	}
}

// busyJSON is a route's own answer to a request the gate turned away.
func busyJSON(c echo.Context) error {
	c.Response().Header().Set("Retry-After", RetryAfter)
	return c.JSON(http.StatusServiceUnavailable, map[string]any{"error": "busy", "turned_away": TurnedAway(c)})
}

// TestGateTurnsAwayBeyondTheQueue: with the slot held and the queue full,
// the next request is answered at once by the route's busy handler, and
// never runs; those in line still are served.
func TestGateTurnsAwayBeyondTheQueue(t *testing.T) {
	g := New(1, Queue{Len: 2})
	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	var ran atomic.Int64
	e := echo.New()
	e.GET("/work", func(c echo.Context) error {
		ran.Add(1)
		if c.QueryParam("n") == "first" {
			<-hold
		}
		return c.NoContent(http.StatusNoContent)
	}, g.Middleware(busyJSON))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	t.Cleanup(release) // before Close, which waits for the handlers
	first := fetch(context.Background(), srv.URL+"/work?n=first")
	waitFor(t, "the first request to hold the slot", func() bool { return g.Active() == 1 })
	queued := []<-chan int{fetch(context.Background(), srv.URL+"/work"), fetch(context.Background(), srv.URL+"/work")}
	waitFor(t, "two requests to wait", func() bool { return g.Waiting() == 2 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/work?n=third", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("beyond the queue: %v (kept waiting?)", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != RetryAfter ||
		!strings.Contains(string(body), `"busy"`) || !strings.Contains(string(body), `"turned_away":true`) {
		t.Errorf("beyond the queue: %d, Retry-After %q, %s; want the busy handler's 503", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if g.Refused() != 1 || g.Waiting() != 2 {
		t.Errorf("refused %d, waiting %d; want 1 and 2", g.Refused(), g.Waiting())
	}
	release()
	for _, done := range append(queued, first) {
		if code := <-done; code != http.StatusNoContent {
			t.Errorf("a request in line: %d", code)
		}
	}
	if ran.Load() != 3 {
		t.Errorf("the handler ran %d times, want 3 (not for the one turned away)", ran.Load())
	}
}

// TestGateTurnsAwayAfterTheLongestWait: a request that waited the queue's
// longest is answered by the busy handler and leaves the line.
func TestGateTurnsAwayAfterTheLongestWait(t *testing.T) {
	const wait = 100 * time.Millisecond
	g := New(1, Queue{Wait: wait})
	hold := make(chan struct{})
	var ran atomic.Int64
	e := echo.New()
	e.GET("/work", func(c echo.Context) error {
		ran.Add(1)
		<-hold
		return c.NoContent(http.StatusNoContent)
	}, g.Middleware(busyJSON))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hold) }) // before Close, which waits for the handlers
	_ = fetch(context.Background(), srv.URL+"/work")
	waitFor(t, "the first request to hold the slot", func() bool { return g.Active() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t0 := time.Now()
	code, err := get(ctx, srv.URL+"/work")
	if err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("behind a slot held past the wait: %d %v, want 503", code, err)
	}
	if waited := time.Since(t0); waited < wait {
		t.Errorf("turned away after %v, before the queue's wait of %v", waited, wait)
	}
	if g.Waiting() != 0 || g.Refused() != 1 || ran.Load() != 1 {
		t.Errorf("waiting %d, refused %d, handler ran %d times; want 0, 1, 1", g.Waiting(), g.Refused(), ran.Load())
	}
}

// TestOutsideComesBackPastAFullQueue: a request that handed its slot back
// (Outside) takes one again even when the line is full: it has work done.
func TestOutsideComesBackPastAFullQueue(t *testing.T) {
	g := New(1, Queue{Len: 1})
	inOutside, queued := make(chan struct{}), make(chan struct{})
	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	srv := serve(t, g, func(c echo.Context) error {
		switch c.QueryParam("n") {
		case "other":
			<-hold
			return c.NoContent(http.StatusNoContent)
		case "later":
			return c.NoContent(http.StatusNoContent)
		}
		err := Outside(c.Request().Context(), func() {
			close(inOutside)
			<-queued // the other holds the slot and one waits: the line is full
		})
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
	t.Cleanup(release) // before the server's Close, which waits for the handlers
	outside := fetch(context.Background(), srv.URL+"/work?n=outside")
	<-inOutside
	other := fetch(context.Background(), srv.URL+"/work?n=other")
	waitFor(t, "the other request to hold the slot", func() bool { return g.Active() == 1 })
	later := fetch(context.Background(), srv.URL+"/work?n=later")
	waitFor(t, "a request to wait", func() bool { return g.Waiting() == 1 })
	close(queued)
	waitFor(t, "the request back from outside to wait beside it", func() bool { return g.Waiting() == 2 })
	release()
	for name, done := range map[string]<-chan int{"outside": outside, "other": other, "later": later} {
		if code := <-done; code != http.StatusOK && code != http.StatusNoContent {
			t.Errorf("%s: %d", name, code)
		}
	}
	if g.Refused() != 0 {
		t.Errorf("refused %d, want 0", g.Refused())
	}
}

// TestHoldTakesASlot: a slot held outside a request is one fewer for
// requests, which are turned away past the queue's wait, and free again
// once released (however many times release is called).
func TestHoldTakesASlot(t *testing.T) {
	g := New(1, Queue{Wait: 20 * time.Millisecond})
	release, err := g.Hold(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, g, func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if code, err := get(ctx, srv.URL+"/work"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("with the slot held: %d %v, want 503", code, err)
	}
	if _, err := g.Hold(ctx); !errors.Is(err, ErrBusy) {
		t.Errorf("a second hold: %v, want ErrBusy", err)
	}
	release()
	release()
	if code, err := get(ctx, srv.URL+"/work"); err != nil || code != http.StatusNoContent {
		t.Errorf("after release: %d %v", code, err)
	}
	if g.Active() != 0 || g.Refused() != 2 {
		t.Errorf("active %d, refused %d; want 0 and 2", g.Active(), g.Refused())
	}
}
