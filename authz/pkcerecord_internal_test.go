package authz

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
)

// TestPKCEAndOIDCRecordsCarryNoSession: a PKCE record's request is stored
// without the session (fosite's PKCE handler reads its form alone; issue
// 15), and so is an OpenID Connect session's (fosite reads it in the code
// exchange with the session the code's record restored); the code's is
// stored with it. Reading a PKCE or OpenID Connect record back leaves the
// session it is given as it was.
func TestPKCEAndOIDCRecordsCarryNoSession(t *testing.T) {
	seal, err := newSealer(bytes.Repeat([]byte{7}, 32), "test")
	if err != nil {
		t.Fatal(err)
	}
	a := &fositeStore{seal: seal, now: time.Now}
	ar := filledRequest("cns_1", url.Values{"code_challenge": {"c"}, "code_challenge_method": {"S256"}})
	sess := ar.Session.(*Session)

	ctx, batch := withTokenBatch(t.Context())
	for _, kind := range []store.TokenKind{store.TokenPKCE, store.TokenAuthorizeCode, store.TokenOIDC} {
		if err := a.create(ctx, kind, "sig", "", ar, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	for _, rec := range batch.take() {
		b, err := seal.open(rec.Request, recordAD(rec.Kind, rec.Signature))
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		if _, has := fields["session"]; has != (rec.Kind == store.TokenAuthorizeCode) {
			t.Errorf("%s record: session stored %v", rec.Kind, has)
		}
		if rec.Subject != sess.GetSubject() {
			t.Errorf("%s record: subject %q, want the session's %q", rec.Kind, rec.Subject, sess.GetSubject())
		}
		if rec.Kind == store.TokenAuthorizeCode {
			continue
		}
		given := newSession()
		given.Subject = "usr_given"
		sr, got, err := parseRequest(b, given)
		if err != nil {
			t.Fatal(err)
		}
		if got != any(given) || given.Subject != "usr_given" || sr.Form.Get("code_challenge") != "c" {
			t.Errorf("%s record read back: session %+v, form %v", rec.Kind, got, sr.Form)
		}
	}
}

// filledRequest is an authorization request of vendor's, with form and a
// session whose every stored field is set (fill).
func filledRequest(id string, form url.Values) *fosite.AuthorizeRequest {
	sess := &Session{}
	fill(reflect.ValueOf(sess).Elem())
	sess.refreshScopes = nil
	ar := fosite.NewAuthorizeRequest()
	ar.ID, ar.RequestedAt, ar.Client = id, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), &fosite.DefaultClient{ID: "vendor"}
	ar.Form = form
	ar.Session = sess
	return ar
}
