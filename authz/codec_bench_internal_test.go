package authz

import (
	"net/url"
	"testing"

	"github.com/ory/fosite"
)

// BenchmarkStoredRequestCodec encodes a code's request with its session,
// every field of the session set (fill), and decodes it back, as every
// flow does several times (issue 15).
func BenchmarkStoredRequestCodec(b *testing.B) {
	ar := filledRequest("cns_0123456789abcdef", url.Values{"redirect_uri": {"https://vendor.example/callback"},
		"scope": {"openid offline_access accounts.read"}})
	ar.RequestedScope, ar.GrantedScope = fosite.Arguments{"openid", "offline_access", "accounts.read"}, fosite.Arguments{"openid", "offline_access", "accounts.read"}
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
