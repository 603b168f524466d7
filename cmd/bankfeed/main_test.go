package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/syncbuf"
)

// TestMain lets a test run the real main() in a child process (to see its
// exit status and output): BANKFEED_TEST_MAIN_ARGS holds the JSON arguments.
func TestMain(m *testing.M) {
	if args := os.Getenv("BANKFEED_TEST_MAIN_ARGS"); args != "" {
		os.Args = []string{"bankfeed"}
		if err := json.Unmarshal([]byte(args), &os.Args); err != nil {
			panic(err)
		}
		os.Args = append([]string{"bankfeed"}, os.Args...)
		main()
		os.Exit(0)
	}
	if pprof := os.Getenv("BANKFEED_TEST_MEMPROFILE_PPROF"); pprof != "" {
		serverMemProfile(pprof == "true")
		serverMemProfile(pprof != "true") // the first call decides
		fmt.Print(runtime.MemProfileRate)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestServeMemProfile: serve samples the heap profile only when pprof is
// served (issue 15: the sampled stacks' table held ~2 MiB resident), and
// the process's first serve decides. Each case is a fresh process.
func TestServeMemProfile(t *testing.T) {
	for pprof, want := range map[string]string{"true": strconv.Itoa(512 * 1024), "false": "0"} {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "BANKFEED_TEST_MEMPROFILE_PPROF="+pprof, "GOCOVERDIR="+t.TempDir())
		out, err := cmd.Output()
		if err != nil || string(out) != want {
			t.Errorf("pprof %s: MemProfileRate %q (%v), want %s", pprof, out, err, want)
		}
	}
}

// runMain runs main() with args and env in a child process and returns its
// exit code, stdout and stderr.
func runMain(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	// GOCOVERDIR: under go test -cover the child is instrumented too, and
	// without it prints a warning on stderr that tests would read as output.
	cmd.Env = append([]string{"BANKFEED_TEST_MAIN_ARGS=" + string(a), "PATH=" + os.Getenv("PATH"), "GOCOVERDIR=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("run main: %v", err)
	}
	return code, out.String(), errb.String()
}

// env turns key=value pairs into a getenv function.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// server is a running `bankfeed serve` started through the real command line.
type server struct {
	URL            string
	DataDir        string
	Stdout, Stderr *syncbuf.Buffer
	Stop           func() // shuts down and waits; also run at cleanup
}

// startServe runs `bankfeed serve` with args on 127.0.0.1:0 and dataDir
// (embedded SQLite; "" makes a temporary one), waits until it listens, and
// stops it (as SIGINT would: context cancel) when the test ends, requiring a
// clean shutdown.
func startServe(t *testing.T, getenv func(string) string, dataDir string, args ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = filepath.Join(t.TempDir(), "data")
	}
	s := &server{DataDir: dataDir, Stdout: &syncbuf.Buffer{}, Stderr: &syncbuf.Buffer{}}
	a := newApp(getenv, s.Stdout, s.Stderr)
	addrc := make(chan net.Addr, 1)
	a.listening = func(addr net.Addr) { addrc <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", s.DataDir}, args...)
	go func() { done <- a.execute(ctx, args) }()
	select {
	case addr := <-addrc:
		s.URL = "http://" + addr.String()
	case err := <-done:
		cancel()
		t.Fatalf("serve exited before listening: %v\nstderr:\n%s", err, s.Stderr)
	case <-time.After(5 * time.Minute): // --demo seeds first: slow under -race on a busy machine
		cancel()
		t.Fatal("serve did not listen within 5 minutes")
	}
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v on shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down within 30s")
		}
	})
	s.Stop = stop
	t.Cleanup(stop)
	return s
}

func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}
