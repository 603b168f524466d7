package gormstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestOutageIsUnavailable: with the database taken away (PostgreSQL behind
// a cut proxy, SQLite's pools closed) reads, writes, transactions and the
// pgx read path fail with store.ErrUnavailable, never ErrNotFound or
// ErrConflict, which callers would answer as a refusal; a duplicate key, a
// missing record and a cancelled request are not unavailability; once the
// proxy is restored the same records are read again (issue 11, findings 2
// and 3).
func TestOutageIsUnavailable(t *testing.T) {
	o := gormtest.OpenOutage(t, "outage", gormstore.Config{})
	st := o.Store
	ctx := t.Context()
	c := store.Client{ID: "vendor", Name: "Vendor", RedirectURIs: []string{"https://vendor.example/cb"}, GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "client_secret_basic"}
	if _, err := st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateClient(ctx, c); !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("duplicate client: %v, want ErrConflict only", err)
	}
	if _, err := st.GetClient(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("missing client: %v, want ErrNotFound only", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.GetClient(cancelled, "vendor"); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("cancelled request: %v, want an error that is not ErrUnavailable", err)
	}

	o.Cut(t)
	checks := map[string]func() error{
		"read": func() error { _, err := st.GetClient(ctx, "vendor"); return err },
		"write": func() error {
			_, err := st.CreateClient(ctx, store.Client{ID: "other", Name: "Other", TokenEndpointAuthMethod: "client_secret_basic"})
			return err
		},
		"transaction": func() error {
			return st.InTx(ctx, func(ctx context.Context) error { _, err := st.GetClient(ctx, "vendor"); return err })
		},
		"token grant": func() error { _, _, err := st.GetTokenGrant(ctx, store.TokenAccess, "sig"); return err },
	}
	for name, f := range checks {
		err := f()
		if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s during the outage: %v, want ErrUnavailable only", name, err)
		}
	}
	if !o.CanRestore() {
		return
	}
	o.Restore(t)
	got, err := st.GetClient(ctx, "vendor")
	if err != nil || got.ID != "vendor" {
		t.Fatalf("after restore: %+v, %v", got, err)
	}
}
