package authz

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// sealer encrypts blobs at rest with AES-256-GCM. The additional data binds a
// ciphertext to its row (kind and signature, flow ID, key ID) so that a blob
// copied to another row does not decrypt.
type sealer struct{ aead cipher.AEAD }

// newSealer derives a purpose-specific key from the key-encryption key, so
// the same configured key never encrypts two kinds of data directly.
func newSealer(kek []byte, purpose string) (*sealer, error) {
	if len(kek) != 32 {
		return nil, fmt.Errorf("authz: key-encryption key must be 32 bytes, got %d", len(kek))
	}
	m := hmac.New(sha256.New, kek)
	m.Write([]byte("bankfeed authz " + purpose))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("authz: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("authz: gcm: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(plain []byte, ad string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(ad))
}

var errOpen = errors.New("authz: stored blob does not decrypt")

func (s *sealer) open(blob []byte, ad string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(blob) < n+s.aead.Overhead() {
		return nil, errOpen
	}
	out, err := s.aead.Open(nil, blob[:n], blob[n:], []byte(ad))
	if err != nil {
		return nil, errOpen
	}
	return out, nil
}
