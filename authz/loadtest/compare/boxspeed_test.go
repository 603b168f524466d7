package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/loadreport"
)

func TestProbeWorkRoundTrips(t *testing.T) {
	for _, i := range []int{0, 1, 7, 1 << 20} {
		if !probeWork(i) {
			t.Errorf("probeWork(%d): the record did not come back from its JSON round trip", i)
		}
	}
}

func TestBoxSpeedIsARate(t *testing.T) {
	speed, err := boxSpeed(30 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if speed <= 0 || math.IsInf(speed, 0) || math.IsNaN(speed) {
		t.Fatalf("boxSpeed = %v, want a positive finite rate", speed)
	}
}

// TestMarkdownListsBoxSpeeds: the table's text names every probe in the
// order taken, and leaves the line out of a run without any.
func TestMarkdownListsBoxSpeeds(t *testing.T) {
	o := options{rounds: 2, workers: 32, duration: 15 * time.Second, warmup: 2 * time.Second, scenarios: []string{"refresh"}}
	var r results
	for _, x := range []runResult{
		{Figures: loadreport.Figures{Name: "before round 1", RPS: 41234}, Server: "box", Round: 1},
		{Figures: loadreport.Figures{Name: "refresh", RPS: 100, N: 1500}, Server: "Hydra", Round: 1},
		{Figures: loadreport.Figures{Name: "refresh", RPS: 1600, N: 24000}, Server: "bankfeed", Round: 1},
		{Figures: loadreport.Figures{Name: "before round 2", RPS: 39876}, Server: "box", Round: 2},
		{Figures: loadreport.Figures{Name: "at the end", RPS: 40500}, Server: "box"},
	} {
		r.add(x)
	}
	text := r.markdown(o)
	want := "before round 1 41,234, before round 2 39,876, at the end 40,500."
	if !strings.Contains(text, want) {
		t.Errorf("the table does not list the probes as %q:\n%s", want, text)
	}
	if strings.Contains(text, "| before round") {
		t.Errorf("a probe was printed as a scenario's row:\n%s", text)
	}
	var none results
	none.add(runResult{Figures: loadreport.Figures{Name: "refresh", RPS: 1600}, Server: "bankfeed", Round: 1})
	if text := none.markdown(o); strings.Contains(text, "Box speed") {
		t.Errorf("a run without probes prints a box-speed line:\n%s", text)
	}
}
