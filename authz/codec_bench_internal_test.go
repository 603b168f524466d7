package authz

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// BenchmarkStoredRequestCodec encodes a code's request with its session,
// every field of the session set (fill), and decodes it back, as every
// flow does several times (issue 15).
func BenchmarkStoredRequestCodec(b *testing.B) {
	sess := &Session{}
	fill(reflect.ValueOf(sess).Elem())
	sess.refreshScopes = nil
	ar := fosite.NewAuthorizeRequest()
	ar.ID, ar.RequestedAt, ar.Client = "cns_0123456789abcdef", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), &fosite.DefaultClient{ID: "vendor"}
	ar.Form = url.Values{"redirect_uri": {"https://vendor.example/callback"}, "scope": {"openid offline_access accounts.read"}}
	ar.RequestedScope, ar.GrantedScope = fosite.Arguments{"openid", "offline_access", "accounts.read"}, fosite.Arguments{"openid", "offline_access", "accounts.read"}
	ar.Session = sess
	enc, err := encodeRequest(ar)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeRequest(ar); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := parseRequest(enc, newSession()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(len(enc)), "bytes")
}
