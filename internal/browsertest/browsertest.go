// Package browsertest drives the bank's pages in a real headless Chromium
// for tests: one browser set-up (the flags that keep it from reaching out
// beyond the test's servers), steps that fail saying where the browser
// is, controls found by their visible labels, axe-core's WCAG check and
// screenshots for a reviewer.
//
// Only _test.go files import it (it imports internal/testenv).
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bankfeed/bankfeed/internal/testenv"
)

// Env variables the browser tests read.
const (
	// AxeEnv names axe-core's axe.min.js (.ci/run installs the npm
	// package axe-core); unset, pages are not checked for WCAG.
	AxeEnv = "BANKFEED_TEST_AXE"
	// ScreenshotsEnv names a directory where pages are saved for a
	// reviewer (issue 14); screenshots are never assertions.
	ScreenshotsEnv = "BANKFEED_TEST_SCREENSHOTS"
)

// Chromium is the path of Debian's Chromium (or a Chrome), or skips t
// (fails it when BANKFEED_TEST_REQUIRE asks for the browser tests).
func Chromium(t testing.TB) string {
	t.Helper()
	return testenv.LookPath(t, testenv.Chromium, "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
}

// New starts a headless Chromium with a fresh profile and nothing reaching
// out beyond the test's servers, closed when t ends. The returned context
// is the browser's tab.
func New(t testing.TB, bin string) context.Context {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first action starts the browser and ties it to its context: start
	// it here, so that the steps' shorter contexts do not end it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	return bctx
}

// Steps runs actions in the browser and fails t saying where the browser
// is and what it shows. Each batch has a deadline only so that a wait for
// a page that never comes ends in that failure.
func Steps(t testing.TB, bctx context.Context, a ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(sctx, a...); err != nil {
		dctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(dctx, chromedp.Location())
		body, _ := chromedp.Run(dctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("browser at %s: %v\n%s", strings.Split(loc, "?")[0], err, body)
	}
}

// WaitLoaded waits until the page shown has loaded whole (its stylesheet
// applied), so that what is measured is the page as a person sees it: a
// page reached by a redirect can be visible before its stylesheet is.
func WaitLoaded(t testing.TB, bctx context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(bctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState === "complete"`)); err != nil {
		t.Fatalf("wait for the page to load: %v", err)
	}
}

// ByLabel is the XPath of the control whose visible <label> reads text.
func ByLabel(text string) string {
	return fmt.Sprintf(`//*[@id=//label[normalize-space()=%q]/@for]`, text)
}

// Button is the XPath of the button named text.
func Button(text string) string { return fmt.Sprintf(`//button[normalize-space()=%q]`, text) }

// Screenshot saves the page as name under $BANKFEED_TEST_SCREENSHOTS (when
// set) for a person to look at; it checks nothing.
func Screenshot(t testing.TB, bctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// Axe is axe-core's source, read once per test from $BANKFEED_TEST_AXE.
type Axe struct{ src string }

// LoadAxe reads axe-core from $BANKFEED_TEST_AXE. Unset, it returns nil
// (Check then checks nothing), unless BANKFEED_TEST_REQUIRE asks for the
// browser tests whole, which fails t.
func LoadAxe(t testing.TB) *Axe {
	t.Helper()
	path := os.Getenv(AxeEnv)
	if path == "" {
		if testenv.Required(testenv.Chromium) {
			t.Fatalf("%s unset, and %s requires the browser tests whole: install the npm package axe-core and name its axe.min.js",
				AxeEnv, testenv.RequireEnv)
		}
		t.Logf("%s unset: no axe-core accessibility check", AxeEnv)
		return nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", AxeEnv, err)
	}
	return &Axe{src: string(src)}
}

// WCAG22AA are axe-core's tags for WCAG 2.2 levels A and AA.
var WCAG22AA = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// Violations injects axe-core into the page (through DevTools, which the
// pages' CSP does not govern) and runs its WCAG 2.2 A and AA rules: the
// violations, one line each (rule, help, the elements), and how many
// rules passed.
func (a *Axe) Violations(bctx context.Context) (violations []string, passes int, err error) {
	ctx, cancel := context.WithTimeout(bctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](a.src+";true")); err != nil {
		return nil, 0, fmt.Errorf("inject axe-core: %w", err)
	}
	tags, err := json.Marshal(WCAG22AA)
	if err != nil {
		return nil, 0, err
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}})
  .then(r => JSON.stringify({passes: r.passes.length,
    violations: r.violations.map(v => v.id + ": " + v.help + " — " + v.nodes.map(n => n.target.join(" ")).join(", "))}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, 0, fmt.Errorf("axe.run: %w", err)
	}
	var res struct {
		Passes     int      `json:"passes"`
		Violations []string `json:"violations"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, 0, fmt.Errorf("axe result %q: %w", out, err)
	}
	return res.Violations, res.Passes, nil
}

// Check fails t on any WCAG 2.2 A or AA violation of the page shown, named
// page in the messages; a nil Axe checks nothing.
func (a *Axe) Check(t testing.TB, bctx context.Context, page string) {
	t.Helper()
	if a == nil {
		return
	}
	WaitLoaded(t, bctx)
	violations, passes, err := a.Violations(bctx)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	if passes == 0 {
		t.Errorf("%s: axe-core checked nothing", page)
	}
	t.Logf("%s: axe-core: %d rules passed, %d violated", page, passes, len(violations))
	for _, v := range violations {
		t.Errorf("%s: %s", page, v)
	}
}
