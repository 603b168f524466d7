package authz_test

import (
	"net/http"
	"net/url"
	"testing"
)

// Benchmarks of the hot endpoints through HTTP against SQLite:
//
//	go test -run '^$' -bench . -benchtime 3s ./authz/
func BenchmarkRefreshGrant(b *testing.B) {
	e := newEnv(b, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	rt := tr.RefreshToken
	b.ResetTimer()
	for b.Loop() {
		r := e.refresh(rt)
		if r.Status != http.StatusOK {
			b.Fatalf("refresh: %+v", r)
		}
		rt = r.RefreshToken
	}
}

func BenchmarkIntrospection(b *testing.B) {
	e := newEnv(b, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	form := url.Values{"token": {tr.AccessToken}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp := e.postForm("/oauth2/introspect", form, e.vendor.ID, e.secret)
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("introspect: %d", resp.StatusCode)
			}
			resp.Body.Close()
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	e := newEnv(b, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.srv.Verify(e.ctx, tr.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDiscovery(b *testing.B) {
	e := newEnv(b, envOpts{})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := http.Get(e.iss + "/.well-known/openid-configuration")
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("discovery: %v", err)
			}
			resp.Body.Close()
		}
	})
}

// BenchmarkRefreshGrantParallel refreshes 32 grant families concurrently.
func BenchmarkRefreshGrantParallel(b *testing.B) {
	e := newEnv(b, envOpts{})
	pool := make(chan string, 32)
	for range 32 {
		pool <- e.exchange(e.vendor.ID, e.secret).RefreshToken
	}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rt := <-pool
			r := e.refresh(rt)
			if r.Status != http.StatusOK {
				b.Errorf("refresh: %+v", r)
				pool <- rt
				return
			}
			pool <- r.RefreshToken
		}
	})
}
