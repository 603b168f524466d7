package gormstore_test

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// TestGrantRecords: the joined read returns exactly what the single reads
// return, and ok=false (no error) when any record is missing.
func TestGrantRecords(t *testing.T) {
	onDemoStores(t, func(t *testing.T, s *gormstore.Store, creds demo.Credentials, c store.Consent) {
		ctx := t.Context()
		uid := c.UserID
		gc, gu, gr, ok, err := s.GrantRecords(ctx, c.ID, uid)
		if err != nil || !ok {
			t.Fatalf("GrantRecords = ok %v, %v", ok, err)
		}
		wc, _ := s.GetConsent(ctx, c.ID)
		wu, _ := s.GetUser(ctx, uid)
		a, _ := s.UserAssignment(ctx, uid, "")
		wr, _ := s.GetJobRole(ctx, a.JobRoleID)
		for _, p := range []struct {
			what      string
			got, want any
		}{{"consent", gc, wc}, {"user", gu, wu}, {"role", gr, wr}} {
			if !reflect.DeepEqual(p.got, p.want) {
				t.Errorf("%s:\n got %+v\nwant %+v", p.what, p.got, p.want)
			}
		}
		for _, miss := range [][2]string{{"cns_missing", uid}, {c.ID, "usr_missing"}} {
			if _, _, _, ok, err := s.GrantRecords(ctx, miss[0], miss[1]); ok || err != nil {
				t.Errorf("GrantRecords(%s, %s) = ok %v, %v; want not ok, no error", miss[0], miss[1], ok, err)
			}
		}
		// Inside a transaction it joins the transaction.
		if err := s.InTx(ctx, func(ctx context.Context) error {
			_, _, _, ok, err := s.GrantRecords(ctx, c.ID, uid)
			if !ok {
				t.Error("GrantRecords in a transaction: not ok")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// onDemoStores runs test on SQLite and (with BANKFEED_TEST_POSTGRES_DSN) on
// PostgreSQL, each seeded with the small demo data set and holding a consent
// of the first business group's accounting software user to the vendor.
func onDemoStores(t *testing.T, test func(t *testing.T, s *gormstore.Store, creds demo.Credentials, c store.Consent)) {
	backends := map[string]func(testing.TB) *gormstore.Store{"sqlite": newSQLite}
	if os.Getenv(postgresEnv) != "" {
		backends["postgres"] = newPostgres
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			creds, err := demo.Seed(ctx, s, demo.Options{Now: time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.CreateConsent(ctx, store.Consent{UserID: creds.BusinessGroups[0].AccountingSoftware.UserID,
				ClientID: creds.Vendor.ClientID, Scopes: []string{"openid", "accounts.read"},
				LastUsedAt: time.Date(2026, 3, 30, 1, 2, 3, 4000, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			test(t, s, creds, c)
		})
	}
}
