package authz

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// TestIntrospectionResponseAsFosites: the answer for an active token is
// byte for byte, headers included, what fosite's WriteIntrospectionResponse
// writes for the same request: bearer, DPoP- and certificate-bound tokens,
// with and without audience, scopes, subject, username and expiry, and
// text that JSON escapes.
func TestIntrospectionResponseAsFosites(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	cases := map[string]func(*fosite.Request, *Session){
		"bearer": func(r *fosite.Request, s *Session) {},
		"dpop":   func(r *fosite.Request, s *Session) { s.DPoPJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" },
		"mtls":   func(r *fosite.Request, s *Session) { s.CertThumbprint = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" },
		"bare": func(r *fosite.Request, s *Session) {
			r.GrantedScope, r.GrantedAudience, r.RequestedAt = nil, nil, time.Time{}
			s.Subject, s.Username, s.ExpiresAt = "", "", nil
		},
		"escaped": func(r *fosite.Request, s *Session) {
			s.Subject, s.Username = `usr_<a>&"b"`, "Zoë \u2028 <script>"
			r.GrantedScope = fosite.Arguments{"accounts.read", "a&b"}
		},
		"refresh expiry only": func(r *fosite.Request, s *Session) {
			s.ExpiresAt = map[fosite.TokenType]time.Time{fosite.RefreshToken: at.Add(24 * time.Hour)}
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			s := newSession()
			s.Subject, s.Username = "usr_abc", "maple.ledgerly"
			s.ExpiresAt = map[fosite.TokenType]time.Time{fosite.AccessToken: at.Add(time.Hour), fosite.RefreshToken: at.Add(24 * time.Hour)}
			ar := fosite.NewAccessRequest(s)
			r := &ar.Request
			r.Client = &fosite.DefaultClient{ID: "cl_vendor"}
			r.RequestedAt = at
			r.GrantedScope = fosite.Arguments{"openid", "offline_access", "accounts.read"}
			r.GrantedAudience = fosite.Arguments{"https://bank.example/fdx/v6"}
			edit(r, s)

			want := httptest.NewRecorder()
			(&fosite.Fosite{}).WriteIntrospectionResponse(t.Context(), want, &fosite.IntrospectionResponse{
				Active: true, AccessRequester: ar, TokenUse: fosite.AccessToken, AccessTokenType: fosite.BearerAccessToken})
			got := httptest.NewRecorder()
			if !writeActive(got, ar) {
				t.Fatal("writeActive left our session to fosite")
			}
			if got.Body.String() != want.Body.String() {
				t.Errorf("body\n got %s\nwant %s", got.Body, want.Body)
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "Pragma"} {
				if got.Header().Get(h) != want.Header().Get(h) {
					t.Errorf("%s %q, fosite's %q", h, got.Header().Get(h), want.Header().Get(h))
				}
			}
		})
	}
	// Another session type is fosite's to answer.
	r := fosite.NewRequest()
	r.Client = &fosite.DefaultClient{ID: "cl_vendor"}
	r.Session = &fosite.DefaultSession{Subject: "x"}
	if writeActive(httptest.NewRecorder(), r) {
		t.Error("writeActive answered for a session it does not know")
	}
}

// BenchmarkIntrospectionResponse: the answer for an active DPoP-bound token,
// by fosite's writer and by writeActive.
func BenchmarkIntrospectionResponse(b *testing.B) {
	s := newSession()
	s.Subject, s.Username, s.DPoPJKT = "usr_abc", "maple.ledgerly", "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	s.ExpiresAt = map[fosite.TokenType]time.Time{fosite.AccessToken: time.Now().Add(time.Hour)}
	ar := fosite.NewAccessRequest(s)
	ar.Client = &fosite.DefaultClient{ID: "cl_vendor"}
	ar.RequestedAt = time.Now()
	ar.GrantedScope = fosite.Arguments{"openid", "offline_access", "accounts.read"}
	b.Run("fosite", func(b *testing.B) {
		f := &fosite.Fosite{}
		for b.Loop() {
			f.WriteIntrospectionResponse(b.Context(), httptest.NewRecorder(), &fosite.IntrospectionResponse{Active: true, AccessRequester: ar})
		}
	})
	b.Run("writeActive", func(b *testing.B) {
		for b.Loop() {
			writeActive(httptest.NewRecorder(), ar)
		}
	})
}
