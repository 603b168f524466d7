package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/testenv"
)

// TestHelperNeed is run by TestNeed in a child process.
func TestHelperNeed(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") == "" {
		t.Skip("run by TestNeed")
	}
	testenv.LookPath(t, testenv.XMLLint, "bankfeed-no-such-tool")
	t.Error("LookPath returned for a missing tool")
}

func TestNeed(t *testing.T) {
	for _, c := range []struct {
		require  string
		fails    bool
		contains string
	}{
		{"", false, "SKIPPED xmllint"},
		{"postgres", false, "SKIPPED xmllint"},
		{"postgres, xmllint", true, "requires them"},
		{"all", true, "requires them"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNeed$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_HELPER=1", testenv.RequireEnv+"="+c.require)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.fails {
			t.Errorf("%s=%q: failed = %v, want %v\n%s", testenv.RequireEnv, c.require, failed, c.fails, out)
		}
		if !strings.Contains(string(out), c.contains) {
			t.Errorf("%s=%q: output lacks %q:\n%s", testenv.RequireEnv, c.require, c.contains, out)
		}
		if !strings.Contains(string(out), "apt-get install libxml2-utils") {
			t.Errorf("output does not say how to install the tool:\n%s", out)
		}
	}
}

func TestHas(t *testing.T) {
	if !testenv.Has("bankfeed-no-such-tool", "go") && !testenv.Has("sh") {
		t.Error("Has finds neither go nor sh")
	}
	if testenv.Has("bankfeed-no-such-tool") {
		t.Error("Has finds a tool that does not exist")
	}
}
