package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestReadyzSQLiteWriterBusy: on SQLite every write queues for one writer
// connection, and a readiness probe that waited for it answered 503 under
// write load (issue 11, finding 5). Held by a long write transaction, the
// writer is busy, not broken: /readyz stays 200; a database file that is
// no longer a database is 503.
func TestReadyzSQLiteWriterBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bankfeed.db")
	st := gormtest.Open(t, "", gormstore.Config{DSN: path})
	var logs syncbuf.Buffer
	h, err := newHandler(t.Context(), testConfig(t), deps{Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	holding, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		// The writer's transactions begin IMMEDIATE: this one holds the
		// write lock and the only writer connection until released.
		done <- st.InTx(context.Background(), func(context.Context) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	for i := range 3 {
		if res := get(t, ts.URL+"/readyz"); res.StatusCode != http.StatusOK {
			t.Errorf("poll %d: readyz = %d while the writer is busy; want 200\nlog: %s", i, res.StatusCode, logs.String())
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// The files stop being a database under the running server: zeros over
	// the database, its write-ahead log and shared index, each kept at its
	// length (the index is mapped into memory).
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteAt(make([]byte, fi.Size()), 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if res := get(t, ts.URL+"/readyz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz = %d with the database file overwritten; want 503", res.StatusCode)
	}
}
