package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix marks a Standard Webhooks symmetric secret.
const secretPrefix = "whsec_"

// Signer signs webhook messages with the Standard Webhooks symmetric scheme
// (v1: HMAC-SHA256). The specification's reference Go library is not
// published as a module of its own and the scheme is a few lines, so it is
// implemented here and checked against the specification's test vector.
type Signer struct {
	key []byte
}

// NewSigner takes a secret "whsec_" + base64 of 24 to 64 random bytes (the
// specification's bounds).
func NewSigner(secret string) (*Signer, error) {
	b64, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("notify: webhook secret must start with " + secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("notify: webhook secret is not whsec_ and base64")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, errors.New("notify: webhook secret must decode to 24 to 64 bytes")
	}
	return &Signer{key: key}, nil
}

// Sign returns the webhook-signature value for a message: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" (timestamp in unix seconds).
func (s *Signer) Sign(id string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
