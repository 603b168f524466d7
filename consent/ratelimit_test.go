package consent

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
)

// TestSignInHashingBound (issue 11, finding 1): a burst of sign-ins runs at
// most MaxConcurrent argon2id computations at once — observed in the real
// hashing path's counters — and those beyond the short queue get 503 with
// Retry-After and the sign-in page saying nothing was checked, in the
// user's language. A refused attempt counts no failure: each login ID's
// failure count is exactly the number of its 401 answers.
func TestSignInHashingBound(t *testing.T) {
	store.SetHashLimits(store.HashLimits{MaxConcurrent: 2, Queue: 1, QueueTimeout: time.Minute})
	t.Cleanup(func() { store.SetHashLimits(store.DefaultHashLimits()) })
	m := metrics.New()
	en := newEnv(t, func(c *Config) { c.MaxFailedAttempts, c.Metrics = 100, m })
	en.user("alice", userOpts{role: en.roleFull.ID})
	// The bound is about production-cost hashes: give alice one, and the
	// handler its dummy hash for unknown IDs.
	was := store.SetCheapHashingForTests(false)
	t.Cleanup(func() { store.SetCheapHashingForTests(was) })
	var err error
	if en.h.dummyHash, err = store.HashSecret(store.RandomToken(16)); err != nil {
		t.Fatal(err)
	}
	hash, err := store.HashSecret("Alice-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := en.st.UpdateUser(t.Context(), "usr_alice", func(u store.User) (store.User, error) { u.PasswordHash = hash; return u, nil }); err != nil {
		t.Fatal(err)
	}

	const n = 12
	type prepared struct {
		b     *browser
		login string
		form  url.Values
	}
	var ps []prepared
	for i := range n {
		b := en.browser()
		if i%2 == 1 {
			b.hdr.Set("Accept-Language", "fr-CA")
		}
		p := b.get(pathLogin)
		csrf, _ := p.form(t)
		login := "alice"
		if i%3 == 0 {
			login = "nobody" + strconv.Itoa(i)
		}
		ps = append(ps, prepared{b, login, url.Values{"csrf": {csrf}, "user_id": {login}, "password": {"Wrong-Password-1"}}})
	}
	type answer struct {
		status     int
		retryAfter string
		body       string
		err        error
	}
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			<-start
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, en.ts.URL+pathLogin, strings.NewReader(p.form.Encode()))
			if err != nil {
				answers[i].err = err
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range p.b.hdr {
				req.Header[k] = v
			}
			res, err := p.b.c.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			answers[i] = answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: string(body), err: err}
		})
	}
	close(start)
	wg.Wait()

	if peak := store.CurrentHashStats().Peak; peak > 2 || peak < 1 {
		t.Errorf("peak concurrent argon2id computations = %d, want at most 2", peak)
	}
	failures := map[string]int{}
	busy := 0
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("attempt %d: %v", i, a.err)
		}
		switch a.status {
		case http.StatusUnauthorized:
			failures[ps[i].login]++
		case http.StatusServiceUnavailable:
			busy++
			if s, err := strconv.Atoi(a.retryAfter); err != nil || s < 1 {
				t.Errorf("attempt %d: 503 with Retry-After %q", i, a.retryAfter)
			}
			want := catalogue(langEN).T("signin_busy")
			if i%2 == 1 {
				want = catalogue(langFR).T("signin_busy")
			}
			if !strings.Contains(html.UnescapeString(a.body), want) {
				t.Errorf("attempt %d: 503 page lacks %q:\n%s", i, want, a.body)
			}
		default:
			t.Errorf("attempt %d (%s): status %d", i, ps[i].login, a.status)
		}
	}
	if busy == 0 {
		t.Errorf("no attempt of %d was refused with 2 slots and a queue of 1", n)
	}
	if got := signIns(t, m, metrics.SignInBusy); got != float64(busy) {
		t.Errorf("signin_attempts_total{outcome=busy} = %v for %d 503 answers", got, busy)
	}
	if got := en.getUser("usr_alice").FailedAttempts; got != failures["alice"] {
		t.Errorf("alice: %d failures counted for %d 401 answers", got, failures["alice"])
	}
	for i, p := range ps {
		if p.login == "alice" {
			continue
		}
		f, err := en.st.GetLoginFailures(t.Context(), en.h.loginKey(p.login))
		if err != nil {
			t.Fatal(err)
		}
		if f.FailedAttempts != failures[p.login] {
			t.Errorf("attempt %d (%s): %d failures counted for %d 401 answers", i, p.login, f.FailedAttempts, failures[p.login])
		}
	}
}

// TestSignInRateLimits (issue 11, finding 1): past RateLimitPerLoginID
// attempts a minute, a login ID gets 429 with Retry-After and a page saying
// so — the same status, message and Retry-After whether anyone holds the ID
// — and past RateLimitPerAddress a client address does, whatever ID it
// types. Refusals check no password and count no failure; each key's
// refusals reach the audit log once per minute (signin.failed, outcome
// refused, reason rate_limited). A minute later the buckets have refilled.
func TestSignInRateLimits(t *testing.T) {
	m := metrics.New()
	en := newEnv(t, func(c *Config) { c.RateLimitPerLoginID, c.RateLimitPerAddress, c.Metrics = 2, 10, m })
	en.user("alice", userOpts{role: en.roleFull.ID})
	var hashes int
	var mu sync.Mutex
	en.h.verify = func(ctx context.Context, hash, secret string) (bool, error) {
		mu.Lock()
		hashes++
		mu.Unlock()
		return store.VerifySecretContext(ctx, hash, secret)
	}
	hashed := func() int { mu.Lock(); defer mu.Unlock(); h := hashes; hashes = 0; return h }

	type outcome struct {
		status     int
		msg        string
		retryAfter string
	}
	attempt := func(login string) outcome {
		t.Helper()
		p := en.browser().signIn(pathLogin, login, "Wrong-Password-1")
		m := loginErrorRe.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("%s: no error on the page (status %d):\n%s", login, p.StatusCode, p.Body)
		}
		return outcome{p.StatusCode, m[1], p.Header.Get("Retry-After")}
	}
	limited := catalogue(langEN).T("signin_limited")
	for _, login := range []string{"alice", "nobody"} {
		for i := 1; i <= 2; i++ {
			if o := attempt(login); o.status != http.StatusUnauthorized {
				t.Fatalf("%s attempt %d: %+v", login, i, o)
			}
		}
		if h := hashed(); h != 2 {
			t.Errorf("%s: %d verifications for 2 attempts", login, h)
		}
	}
	var refused []outcome
	for _, login := range []string{"alice", "nobody", "Alice", "NOBODY"} {
		o := attempt(login)
		refused = append(refused, o)
		if o.status != http.StatusTooManyRequests || o.msg != limited {
			t.Errorf("%s past its limit: %+v, want 429 %q", login, o, limited)
		}
		if s, err := strconv.Atoi(o.retryAfter); err != nil || s < 1 || s > 60 {
			t.Errorf("%s: Retry-After %q", login, o.retryAfter)
		}
	}
	if refused[0] != refused[1] {
		t.Errorf("known and unknown login IDs refused differently: %+v vs %+v", refused[0], refused[1])
	}
	if h := hashed(); h != 0 {
		t.Errorf("%d verifications for refused attempts", h)
	}
	if got := en.getUser("usr_alice").FailedAttempts; got != 2 {
		t.Errorf("alice: %d failures counted, want 2 (refusals are not failures)", got)
	}
	if f, err := en.st.GetLoginFailures(t.Context(), en.h.loginKey("nobody")); err != nil || f.FailedAttempts != 2 {
		t.Errorf("nobody: %d failures counted (%v), want 2", f.FailedAttempts, err)
	}

	// The address has spent 8 of its 10; two more IDs pass, the next is refused.
	for i := range 2 {
		if o := attempt("other" + strconv.Itoa(i)); o.status != http.StatusUnauthorized {
			t.Fatalf("other%d: %+v", i, o)
		}
	}
	if o := attempt("fresh"); o.status != http.StatusTooManyRequests || o.msg != limited {
		t.Errorf("past the address limit: %+v", o)
	}
	if o := attempt("fresh2"); o.status != http.StatusTooManyRequests {
		t.Errorf("past the address limit: %+v", o)
	}
	// Six 429s and six 401s so far: the refusals are counted, not as failures.
	if got := signIns(t, m, metrics.SignInRateLimited); got != 6 {
		t.Errorf("signin_attempts_total{outcome=rate_limited} = %v, want 6", got)
	}
	if got := signIns(t, m, metrics.SignInFailure); got != 6 {
		t.Errorf("signin_attempts_total{outcome=failure} = %v, want 6", got)
	}

	// One audit event per key and window: alice's two refusals, nobody's
	// two, the address's two → three events.
	var events []store.AuditEvent
	for _, e := range en.auditFrom(0) {
		if e.Action == audit.SignInFailed && strings.Contains(string(e.After), reasonRateLimited) {
			events = append(events, e)
		}
	}
	if len(events) != 3 {
		t.Fatalf("%d rate_limited events, want 3: %+v", len(events), events)
	}
	byLimit := map[string]store.AuditEvent{}
	for _, e := range events {
		if e.Outcome != audit.Refused {
			t.Errorf("rate_limited event with outcome %q", e.Outcome)
		}
		switch {
		case e.TargetType == "user":
			byLimit["alice"] = e
		case e.TargetType == "login_key":
			byLimit["nobody"] = e
		default:
			byLimit["address"] = e
		}
	}
	if e := byLimit["alice"]; e.TargetID != "usr_alice" || e.BusinessGroupID != en.bg.ID {
		t.Errorf("alice's refusal audited as %+v", e)
	}
	if e := byLimit["nobody"]; e.TargetID != en.h.loginKey("nobody") || e.BusinessGroupID != "" {
		t.Errorf("nobody's refusal audited as %+v", e)
	}
	if e := byLimit["address"]; e.BusinessGroupID != "" || e.RemoteAddr == "" || !strings.Contains(string(e.After), limitAddress) {
		t.Errorf("the address's refusal audited as %+v", e)
	}

	en.clock.Advance(time.Minute)
	if o := attempt("alice"); o.status != http.StatusUnauthorized {
		t.Errorf("alice a minute later: %+v", o)
	}
}

// signIns reads bankfeed_signin_attempts_total{outcome} from m.
func signIns(t *testing.T, m *metrics.Metrics, outcome string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "bankfeed_signin_attempts_total" {
			continue
		}
		for _, c := range mf.GetMetric() {
			for _, l := range c.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return c.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestKeyedLimiterBoundedMemory: keys beyond maxKeys evict the least
// recently seen, so rotating addresses cannot grow the map.
func TestKeyedLimiterBoundedMemory(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)}
	l := newKeyedLimiter(1, clk.Now)
	l.maxKeys = 100
	if _, ok := l.take("a"); !ok {
		t.Fatal("first attempt refused")
	}
	if _, ok := l.take("a"); ok {
		t.Fatal("second attempt within the minute let through")
	}
	for i := range 1000 {
		l.take("k" + strconv.Itoa(i))
	}
	if len(l.buckets) != 100 || l.lru.Len() != 100 {
		t.Fatalf("%d buckets, %d in the LRU list; want 100", len(l.buckets), l.lru.Len())
	}
	if newKeyedLimiter(0, clk.Now) != nil {
		t.Error("a limit of 0 is not disabled")
	}
}
