package gormstore

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// TestClockDecidesExpiry: expiry checks use Config.Now, not the wall clock.
func TestClockDecidesExpiry(t *testing.T) {
	ctx := t.Context()
	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := Open(ctx, Config{DSN: filepath.Join(t.TempDir(), "clock.db"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "c", ExpiresAt: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if !f.CreatedAt.Equal(now) {
		t.Errorf("CreatedAt = %v, want the injected clock %v", f.CreatedAt, now)
	}
	if err := s.CreateBrowserSession(ctx, store.BrowserSession{ID: "b", UserID: "u", ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAuthFlow(ctx, f.ID); err != nil {
		t.Fatalf("GetAuthFlow before expiry: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if _, err := s.GetAuthFlow(ctx, f.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAuthFlow after expiry = %v, want ErrNotFound", err)
	}
	if _, err := s.GetBrowserSession(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetBrowserSession after expiry = %v, want ErrNotFound", err)
	}
}

// TestLogsNoSQLArguments: even a query logged in full (here every query is
// "slow") shows placeholders, never the values, which carry token
// signatures and password hashes.
func TestLogsNoSQLArguments(t *testing.T) {
	ctx := t.Context()
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&buf, &mu}, nil))
	s, err := Open(ctx, Config{DSN: filepath.Join(t.TempDir(), "log.db"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s.w.Config.Logger = &slogLogger{log: log, slow: -1}
	const secret = "sig-TOP-SECRET-1234"
	if err := s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: secret, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeactivateToken(ctx, store.TokenAccess, secret); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "INSERT INTO") {
		t.Fatalf("the statements were not logged at all:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("log contains a SQL argument:\n%s", out)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestSQLiteInMemory: an in-memory DSN works (one shared connection).
func TestSQLiteInMemory(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, Config{DSN: "file:mem-" + store.RandomToken(6) + "?mode=memory&cache=shared"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg", Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBusinessGroup(ctx, "bg"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPingUnreachable: Ping fails once the database is gone.
func TestPingUnreachable(t *testing.T) {
	s := openSQLiteTemp(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping on a closed store succeeded")
	}
}
