package authz

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
)

// TestSessionDeepCopySharesNothing: deepCopy of a session with every field
// set (filled by reflection, so a field fosite adds is filled too) is equal
// to it and shares no map, slice or pointer with it — a cached session is
// copied for each introspection and fosite changes its copy.
func TestSessionDeepCopySharesNothing(t *testing.T) {
	s := &Session{}
	fill(reflect.ValueOf(s).Elem())
	c := s.deepCopy()
	if !reflect.DeepEqual(s, c) {
		t.Fatalf("copy differs:\n%#v\n%#v", s, c)
	}
	shared(t, "Session", reflect.ValueOf(s).Elem(), reflect.ValueOf(c).Elem())
}

// fill sets every field reachable from v: one element in each slice and
// map, nested JSON-like values in interface maps.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			f := v.Field(i)
			if !f.CanSet() {
				f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // unexported
			}
			fill(f)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]interface{}{"n": []interface{}{"x", map[string]interface{}{"m": "y"}}, "s": []string{"z"}}))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	}
}

// shared fails for every map, slice or pointer of b that is a's.
func shared(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice:
		if a.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s is shared by the copy", path)
			return
		}
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !a.IsNil() {
			shared(t, path, a.Elem(), b.Elem())
		}
	case reflect.Struct:
		for i := range a.NumField() {
			shared(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
	case reflect.Slice:
		for i := range a.Len() {
			shared(t, path+"[]", a.Index(i), b.Index(i))
		}
	case reflect.Map:
		for _, k := range a.MapKeys() {
			shared(t, path+"["+k.String()+"]", a.MapIndex(k), b.MapIndex(k))
		}
	}
}

// TestStoredRequestFormatUnchanged: a request's record is encoded with its
// session in one pass, byte for byte as when the session was marshalled on
// its own and embedded (json.RawMessage) — records written by earlier
// releases still decode — and decodes back to the same session, every
// field set (filled by reflection).
func TestStoredRequestFormatUnchanged(t *testing.T) {
	sess := &Session{}
	fill(reflect.ValueOf(sess).Elem())
	sess.refreshScopes = nil // never stored
	ar := fosite.NewAuthorizeRequest()
	ar.ID, ar.RequestedAt, ar.Client = "cns_1", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), &fosite.DefaultClient{ID: "vendor"}
	ar.RequestedScope, ar.GrantedScope = fosite.Arguments{"openid", "accounts.read"}, fosite.Arguments{"accounts.read"}
	ar.Form = url.Values{"nonce": {"n-1"}, "client_assertion": {"secret"}}
	ar.Session = sess
	got, err := encodeRequest(ar)
	if err != nil {
		t.Fatal(err)
	}

	// The encoding before: the session marshalled apart, then embedded.
	rawSess, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	old := storedRequest{ID: ar.ID, RequestedAt: ar.RequestedAt, ClientID: "vendor", RequestedScope: ar.RequestedScope,
		GrantedScope: ar.GrantedScope, Form: url.Values{"nonce": {"n-1"}}, Session: json.RawMessage(rawSess), Authorize: true,
		ResponseTypes: []string{}}
	want, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("stored request changed:\n got %s\nwant %s", got, want)
	}

	sr, decoded, err := parseRequest(want, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Session != nil || sr.ID != ar.ID || !slices.Equal(sr.GrantedScope, ar.GrantedScope) {
		t.Errorf("decoded request = %+v", sr)
	}
	again, err := json.Marshal(decoded)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, rawSess) {
		t.Errorf("decoded session differs:\n got %s\nwant %s", again, rawSess)
	}
	if _, _, err := parseRequest([]byte(`{"id":"x","session":null}`), nil); err != nil {
		t.Errorf("a request without a session: %v", err)
	}
}

// TestStoredRequestOfAnEarlierRelease: a record written before the session
// was encoded in the request's own pass (ea705bd's encodeRequest, verbatim)
// decodes to its request and session, and is written again without its
// zero claims, to the same session.
func TestStoredRequestOfAnEarlierRelease(t *testing.T) {
	const stored = `{"id":"cns_1","requested_at":"2026-12-05T10:00:00Z","client_id":"vendor-books","granted_scopes":["openid","accounts.read"],` +
		`"session":{"id_token":{"id_token_claims":{"jti":"","iss":"","sub":"usr_1","aud":null,"nonce":"nonce-1","exp":"0001-01-01T00:00:00Z",` +
		`"iat":"0001-01-01T00:00:00Z","rat":"2026-12-05T10:00:00Z","auth_time":"2026-12-05T10:00:00Z","at_hash":"",` +
		`"acr":"urn:bankfeed:acr:password","amr":null,"c_hash":"","ext":null},"headers":{"extra":null},"expires_at":null,` +
		`"username":"usr_1","subject":"usr_1"},"jwt_claims":{"Subject":"usr_1","Issuer":"","Audience":null,"JTI":"",` +
		`"IssuedAt":"0001-01-01T00:00:00Z","NotBefore":"0001-01-01T00:00:00Z","ExpiresAt":"0001-01-01T00:00:00Z","Scope":null,` +
		`"Extra":{"client_id":"vendor-books"},"ScopeField":0},"client_id":"vendor-books","dpop_jkt":"jkt-1"},"authorize":true}`
	sr, decoded, err := parseRequest([]byte(stored), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := decoded.(*Session)
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	if sr.ID != "cns_1" || sr.ClientID != "vendor-books" || !sr.RequestedAt.Equal(at) || !slices.Equal(sr.GrantedScope, []string{"openid", "accounts.read"}) {
		t.Errorf("request = %+v", sr)
	}
	if s.Subject != "usr_1" || s.Claims.Nonce != "nonce-1" || !s.Claims.AuthTime.Equal(at) || s.ClientID != "vendor-books" ||
		s.DPoPJKT != "jkt-1" || s.JWTClaims.Extra["client_id"] != "vendor-books" {
		t.Errorf("session = %+v, claims %+v", s, s.Claims)
	}
	ar := fosite.NewAuthorizeRequest()
	ar.ID, ar.RequestedAt, ar.Client = sr.ID, sr.RequestedAt, &fosite.DefaultClient{ID: sr.ClientID}
	ar.GrantedScope, ar.Session = sr.GrantedScope, s
	again, err := encodeRequest(ar)
	if err != nil {
		t.Fatal(err)
	}
	const compact = `{"id":"cns_1","requested_at":"2026-12-05T10:00:00Z","client_id":"vendor-books","granted_scopes":["openid","accounts.read"],` +
		`"session":{"id_token":{"id_token_claims":{"sub":"usr_1","nonce":"nonce-1","rat":"2026-12-05T10:00:00Z","auth_time":"2026-12-05T10:00:00Z",` +
		`"acr":"urn:bankfeed:acr:password"},"headers":{},"username":"usr_1","subject":"usr_1"},` +
		`"jwt_claims":{"Subject":"usr_1","Extra":{"client_id":"vendor-books"}},"client_id":"vendor-books","dpop_jkt":"jkt-1"},"authorize":true}`
	if string(again) != compact {
		t.Errorf("written again:\n got %s\nwant %s", again, compact)
	}
	_, reread, err := parseRequest(again, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameSession(t, reread.(*Session), s)
}

// TestStoredSessionLeavesOutZeroClaims: a stored request carries the
// session without its zero claims (no zero timestamp, no null), and
// decoding it, as Session's plain decoding does in this release and in
// earlier ones, gives back the session encoded: the claims a grant sets,
// an empty session, empty but non-nil slices and maps, nil claims.
func TestStoredSessionLeavesOutZeroClaims(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	grant := userSession("vendor", "usr_1", at, at, "nonce-1", false)
	grant.ExpiresAt = map[fosite.TokenType]time.Time{fosite.AccessToken: at.Add(time.Hour)}
	empties := newSession()
	empties.Claims.Audience, empties.Claims.Extra = []string{}, map[string]interface{}{}
	empties.ExpiresAt = map[fosite.TokenType]time.Time{}
	empties.JWTClaims = &jwt.JWTClaims{Scope: []string{}}
	noClaims := newSession()
	noClaims.Claims, noClaims.Headers = nil, nil
	bound := userSession("vendor", "usr_1", at, at, "", true)
	bound.bind("jkt-1")
	for name, sess := range map[string]*Session{"grant": grant, "bound": bound, "empty": newSession(), "empties": empties,
		"no claims": noClaims, "no id token": {ClientID: "vendor"}} {
		t.Run(name, func(t *testing.T) {
			ar := fosite.NewAuthorizeRequest()
			ar.ID, ar.Client, ar.Session = "cns_1", &fosite.DefaultClient{ID: "vendor"}, sess
			b, err := encodeRequest(ar)
			if err != nil {
				t.Fatal(err)
			}
			session := b[bytes.Index(b, []byte(`"session":`)):]
			if bytes.Contains(session, []byte("0001-01-01")) || bytes.Contains(session, []byte(`""`)) {
				t.Errorf("zero claims stored: %s", session)
			}
			if name != "no claims" && name != "no id token" && bytes.Contains(session, []byte("null")) {
				t.Errorf("null stored: %s", session)
			}
			_, decoded, err := parseRequest(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			sameSession(t, decoded.(*Session), sess)
		})
	}
}

// sameSession compares two sessions in Session's full encoding, which
// writes every field (time.Time's location aside, that is equality).
func sameSession(t *testing.T, got, want *Session) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("decoded session differs:\n got %s\nwant %s", g, w)
	}
}
