package dataapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// sealer makes page keys and cursors opaque to clients and tamper-evident:
// base64url(JSON) "." base64url(HMAC-SHA256(kind, JSON))[:16 bytes]. The
// content is not secret (it names the caller's own account and positions);
// what matters is that a client cannot forge a position or move a key to
// another account or query.
type sealer struct {
	keys [][]byte // keys[0] seals; all open
}

// maxSealedLength bounds what open() will even look at.
const maxSealedLength = 2048

var errBadSeal = errors.New("dataapi: malformed or tampered sealed value")

func newSealer(key []byte, old [][]byte) *sealer {
	return &sealer{keys: append([][]byte{key}, old...)}
}

func mac(key []byte, kind string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bankfeed/dataapi/v1/" + kind + "\x00"))
	m.Write(payload)
	return m.Sum(nil)[:16]
}

func (s *sealer) seal(kind string, v any) string {
	payload, err := json.Marshal(v)
	if err != nil {
		panic("dataapi: seal: " + err.Error()) // only our own plain structs are sealed
	}
	return base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(mac(s.keys[0], kind, payload))
}

// open checks the seal and decodes into v.
func (s *sealer) open(kind, sealed string, v any) error {
	if len(sealed) > maxSealedLength {
		return errBadSeal
	}
	p64, m64, ok := strings.Cut(sealed, ".")
	if !ok {
		return errBadSeal
	}
	payload, err := base64.RawURLEncoding.DecodeString(p64)
	if err != nil {
		return errBadSeal
	}
	got, err := base64.RawURLEncoding.DecodeString(m64)
	if err != nil {
		return errBadSeal
	}
	valid := false
	for _, k := range s.keys {
		if hmac.Equal(got, mac(k, kind, payload)) {
			valid = true
			break
		}
	}
	if !valid {
		return errBadSeal
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errBadSeal
	}
	return nil
}
