package dataapi_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bankfeed/bankfeed/internal/browsertest"
)

// TestBrowserAPIReference opens /fdx/v6/docs in Debian's Chromium: Redoc,
// from the embedded bundle, renders every operation of the OpenAPI
// document by its summary, the page loads nothing from another origin,
// and the browser reports no error (a CSP violation is one).
func TestBrowserAPIReference(t *testing.T) {
	bin := browsertest.Chromium(t)
	e := newEnv(t, envOptions{})
	bctx := browsertest.New(t, bin)
	var mu sync.Mutex
	var problems []string
	report := func(s string) {
		mu.Lock()
		problems = append(problems, s)
		mu.Unlock()
	}
	if err := chromedp.Listen(bctx, func(ev any) {
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				report(ev.Entry.Text + " " + ev.Entry.URL)
			}
		case *runtime.EventExceptionThrown:
			report("exception: " + ev.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				report("console.error")
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	// Redoc shows one tag's operations at a time, at #/<tag>.
	byTag := map[string][]string{}
	for _, p := range e.spec.Paths.Map() {
		if op := p.Get; op != nil && op.Summary != "" && len(op.Tags) > 0 {
			byTag[op.Tags[0]] = append(byTag[op.Tags[0]], op.Summary)
		}
	}
	// A deadline only so that a page that never renders fails with what
	// the browser shows.
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+base+"/docs")); err != nil {
		t.Fatal(err)
	}
	for tag, summaries := range byTag {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+base+"/docs#/"+strings.ToLower(tag))); err != nil {
			t.Fatal(err)
		}
		var text string
		for missing := summaries; len(missing) > 0; {
			var err error
			if text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`)); err != nil {
				t.Fatalf("tag %s: the reference does not show %q: %v\n%s", tag, missing, err, text)
			}
			missing = slices.DeleteFunc(slices.Clone(summaries), func(s string) bool { return strings.Contains(text, s) })
			if len(missing) > 0 {
				time.Sleep(100 * time.Millisecond) // rendering; the deadline above ends a wait that never succeeds
			}
		}
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => e.name)`))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := url.Parse(e.srv.URL)
	for _, l := range loaded {
		if u, err := url.Parse(l); err != nil || (u.Host != srv.Host && u.Scheme != "data" && u.Scheme != "blob") {
			t.Errorf("the page loaded %s from another origin", l)
		}
	}
	if len(loaded) < 2 {
		t.Errorf("resources loaded: %v, want the bundle and the document", loaded)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
