package authz

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"math/rand/v2"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// codecCases are stored requests whose encodings the codec tests compare:
// a code's request with every session field set, a PKCE record (no
// session), and one whose form, state and scopes carry what JSON encoders
// treat specially (HTML characters, line and paragraph separators,
// non-ASCII, invalid UTF-8, control characters) and whose time is not in
// UTC and has nanoseconds.
//
// A slice, not a map: the damaged-input test draws its damage from one
// seeded generator across the cases, so their order must not vary from run
// to run, or a failure could not be repeated.
func codecCases(t *testing.T) []codecCase {
	special := "<script>&amp;\"'\\ \u2028\u2029 é 🙂 \xff\xfe \x01\t\n"
	odd := filledRequest("cns_odd", url.Values{"state": {special}, "nonce": {"", special}, special: {"k"}})
	odd.RequestedAt = time.Date(2026, 12, 8, 1, 2, 3, 456789012, time.FixedZone("EST", -5*3600))
	odd.RequestedScope, odd.GrantedScope = fosite.Arguments{"openid", special}, fosite.Arguments{}
	odd.State = special
	odd.RedirectURI, _ = url.Parse("https://vendor.example/cb?x=<y>&z=%E2%80%A8")
	code := filledRequest("cns_code", url.Values{"redirect_uri": {"https://vendor.example/callback"}, "scope": {"openid offline_access accounts.read"}})
	code.RequestedScope, code.GrantedScope = fosite.Arguments{"openid", "offline_access", "accounts.read"}, fosite.Arguments{"openid", "accounts.read"}
	pkce := filledRequest("cns_pkce", url.Values{"code_challenge": {"c"}, "code_challenge_method": {"S256"}})
	enc := func(name string, req fosite.Requester, withSession bool) codecCase {
		b, err := encodeRequestSession(req, withSession)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return codecCase{name: name, encoded: b, stored: storedRequestOf(req, withSession)}
	}
	return []codecCase{
		enc("code", code, true),
		enc("pkce", pkce, false),
		enc("odd", odd, true),
		enc("odd, no session", odd, false),
	}
}

// codecCase is a stored request as encodeRequestSession encoded it, and
// the record it encoded.
type codecCase struct {
	name    string
	encoded []byte
	stored  storedRequest
}

// TestStoredRequestCodecMatchesEncodingJSON: the stored requests' codec
// (github.com/goccy/go-json, for speed: issue 15) writes what
// encoding/json writes, byte for byte, and reads what encoding/json wrote
// into the same values. Records outlive a release and replicas of two
// releases share one database during a rolling upgrade: either release
// must read what the other wrote.
func TestStoredRequestCodecMatchesEncodingJSON(t *testing.T) {
	for _, c := range codecCases(t) {
		name, got := c.name, c.encoded
		want, err := stdjson.Marshal(c.stored)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoded\n%s\nencoding/json:\n%s", name, got, want)
		}
		gotSR, gotSess, gotErr := parseRequest(want, newSession())
		wantSR, wantSess, wantErr := parseRequestStd(want)
		if gotErr != nil || wantErr != nil {
			t.Fatalf("%s: decode: %v; encoding/json: %v", name, gotErr, wantErr)
		}
		if !reflect.DeepEqual(gotSR, wantSR) || !reflect.DeepEqual(gotSess, wantSess) {
			t.Errorf("%s: decoded %+v %+v\nencoding/json: %+v %+v", name, gotSR, gotSess, wantSR, wantSess)
		}
	}
}

// TestStoredRequestCodecAgreesOnDamagedInput: on thousands of damaged
// copies of stored requests (cut short, bytes replaced, inserted or
// removed), the codec fails where encoding/json fails, never panics, and
// where both read the copy, they read the same values. A sealed record
// cannot be damaged unnoticed; this is about the codec, not the seal.
func TestStoredRequestCodecAgreesOnDamagedInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 2026))
	const alphabet = "{}[]\":,.-+eE0123456789 \\/untrfals\u2028\xff"
	for _, c := range codecCases(t) {
		name, orig := c.name, c.encoded
		for i := range 1500 {
			b := bytes.Clone(orig)
			for range 1 + rng.IntN(3) {
				at := rng.IntN(len(b))
				switch rng.IntN(4) {
				case 0:
					b = b[:at]
				case 1:
					b[at] = alphabet[rng.IntN(len(alphabet))]
				case 2:
					b = append(b[:at], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[at:]...)...)
				case 3:
					b = append(b[:at], b[at+1:]...)
				}
				if len(b) == 0 {
					b = []byte("{")
				}
			}
			gotSR, gotSess, gotErr := parseRequest(b, newSession())
			wantSR, wantSess, wantErr := parseRequestStd(b)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%s, copy %d %q: error %v, encoding/json's %v", name, i, b, gotErr, wantErr)
			}
			if gotErr == nil && (!reflect.DeepEqual(gotSR, wantSR) || !reflect.DeepEqual(gotSess, wantSess)) {
				t.Fatalf("%s, copy %d %q: read %+v %+v\nencoding/json: %+v %+v", name, i, b, gotSR, gotSess, wantSR, wantSess)
			}
		}
	}
}

// parseRequestStd is parseRequest with encoding/json.
func parseRequestStd(b []byte) (storedRequest, fosite.Session, error) {
	sess := newSession()
	sr := storedRequest{Session: sess}
	if err := stdjson.Unmarshal(b, &sr); err != nil {
		return sr, nil, err
	}
	if sr.Session != nil && sr.Session != any(sess) {
		return sr, nil, errors.New("session not decoded in place")
	}
	sr.Session = nil
	return sr, sess, nil
}
