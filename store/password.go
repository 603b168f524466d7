package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: RFC 9106's second recommended option (t=3, 64 MiB,
// 16-byte salt, 32-byte tag; memory-hard) but with 2 lanes instead of its 4.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashSecret hashes a password or security answer with argon2id and returns
// a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashSecret(secret string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("store: hash secret: %w", err)
	}
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifySecret reports whether secret matches the PHC hash, in constant time.
// A malformed hash never matches.
func VerifySecret(hash, secret string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(secret), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NormalizeAnswer makes security answers comparable: trimmed, lower case,
// inner spaces collapsed.
func NormalizeAnswer(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// TemporaryPassword returns a random 16-character password drawn from an
// alphabet without look-alike characters.
func TemporaryPassword() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
	return randomString(alphabet, 16)
}

func randomString(alphabet string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: random: %w", err)
	}
	out := make([]byte, n)
	for i := range b {
		out[i] = alphabet[int(b[i])%len(alphabet)] // 256 % 56 bias is negligible for a one-time password
	}
	return string(out), nil
}

// MinPasswordLength is the password policy's minimum length.
const MinPasswordLength = 12

// PasswordProblem codes name each policy failure so pages can translate them.
const (
	PasswordTooShort    = "too_short"
	PasswordIsUserID    = "is_user_id"
	PasswordIsTemporary = "is_temporary"
	PasswordTooSimple   = "too_simple"
	PasswordMismatch    = "mismatch"
	PasswordTooLong     = "too_long"
)

// CheckNewPassword applies the policy: at least 12 characters (at most 256),
// not the user ID, not the current temporary password, and at least three
// kinds of characters. It returns the codes of every failure (empty: ok).
func CheckNewPassword(pw, confirm, loginID, temporaryHash string) []string {
	var problems []string
	n := len([]rune(pw))
	if n < MinPasswordLength {
		problems = append(problems, PasswordTooShort)
	}
	if n > 256 {
		problems = append(problems, PasswordTooLong)
	}
	if loginID != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(loginID)) {
		problems = append(problems, PasswordIsUserID)
	}
	if temporaryHash != "" && VerifySecret(temporaryHash, pw) {
		problems = append(problems, PasswordIsTemporary)
	}
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	kinds := 0
	for _, k := range []bool{lower, upper, digit, other} {
		if k {
			kinds++
		}
	}
	if kinds < 3 {
		problems = append(problems, PasswordTooSimple)
	}
	if pw != confirm {
		problems = append(problems, PasswordMismatch)
	}
	return problems
}

// NewID returns prefix + 20 random base32 characters (100 bits), the shape
// of every generated ID (e.g. "acc_..."). IDs are opaque to clients.
func NewID(prefix string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	s, err := randomString(alphabet, 20)
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "_" + s
}

// RandomToken returns n random bytes URL-safe base64 encoded (for CSRF
// tokens, challenges, verifiers).
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is the SHA-256 of a high-entropy random value (a client secret, a
// session cookie, a one-time verifier), base64url encoded. A fast hash is
// right here: the input has ≥128 bits of entropy, so it cannot be guessed,
// and token endpoints must answer thousands of times a second. Never use it
// for passwords (HashSecret).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifyToken compares a token with its HashToken in constant time.
func VerifyToken(hash, token string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashToken(token))) == 1
}
