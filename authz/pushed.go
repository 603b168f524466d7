package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// pushedRequests keeps a pushed authorization request (RFC 9126) in its
// own request_uri instead of in the store: the request, encrypted and
// authenticated for the client that pushed it, with its expiry. The PAR
// endpoint writes no row and the authorization step takes none, two of
// a flow's statements (issue 15). A request_uri is still used once: the
// authorization step names the flow it starts after the request_uri
// (flowID), so a second start is a duplicate flow the store refuses, and
// flows outlive every request_uri (PARLifespan is under 600 s, a flow's
// lifespan 15 min).
// The value stays unguessable and unforgeable (RFC 9126 §2.2): a random
// nonce and an AES-GCM tag under a key only the server has.
type pushedRequests struct {
	seal    *sealer
	flowKey []byte // HMAC key of flowID
}

// sealedURIMark follows parURIPrefix in a sealed request_uri.
const sealedURIMark = "s1."

// maxSealedURI bounds a request_uri read back: far above any pushed
// request's, far below what decoding should be asked to hold.
const maxSealedURI = 32 << 10

func newPushedRequests(kek []byte) (*pushedRequests, error) {
	seal, err := newSealer(kek, "pushed requests")
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, kek)
	m.Write([]byte("bankfeed authz pushed request flows"))
	return &pushedRequests{seal: seal, flowKey: m.Sum(nil)}, nil
}

// uri seals blob, the request as encodeRequest writes it, for clientID
// until expires.
func (p *pushedRequests) uri(blob []byte, clientID string, expires time.Time) string {
	plain := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(blob)), uint64(expires.UnixMicro()))
	plain = append(plain, blob...)
	return parURIPrefix + sealedURIMark + base64.RawURLEncoding.EncodeToString(p.seal.seal(plain, pushedAD(clientID)))
}

var errPushedRequest = errors.New("authz: request_uri unknown, of another client or expired")

// open is uri's inverse for the request of clientID, refused once expired
// (the instant itself included, as stored records are).
func (p *pushedRequests) open(uri, clientID string, now time.Time) ([]byte, error) {
	rest, ok := strings.CutPrefix(uri, parURIPrefix+sealedURIMark)
	if !ok || len(uri) > maxSealedURI {
		return nil, errPushedRequest
	}
	sealed, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, errPushedRequest
	}
	plain, err := p.seal.open(sealed, pushedAD(clientID))
	if err != nil || len(plain) < 8 {
		return nil, errPushedRequest
	}
	if !now.Before(time.UnixMicro(int64(binary.BigEndian.Uint64(plain)))) {
		return nil, fmt.Errorf("%w: expired", errPushedRequest)
	}
	return plain[8:], nil
}

// flowID is the ID of the one flow uri may start: a keyed hash, so it is
// known only to the server, shaped as store.RandomToken(32).
func (p *pushedRequests) flowID(uri string) string {
	m := hmac.New(sha256.New, p.flowKey)
	m.Write([]byte(uri))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func pushedAD(clientID string) string { return "par:" + clientID }

// pushNote carries the sealed request_uri from CreatePARSession, which
// fosite's PAR handler calls with a request_uri of its own making, back to
// handlePAR, which answers with it.
type pushNote struct{ uri string }

type pushNoteKey struct{}

func withPushNote(ctx context.Context) (context.Context, *pushNote) {
	n := &pushNote{}
	return context.WithValue(ctx, pushNoteKey{}, n), n
}

func pushNoteOf(ctx context.Context) *pushNote {
	n, _ := ctx.Value(pushNoteKey{}).(*pushNote)
	return n
}
