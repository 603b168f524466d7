package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// ErrHashBusy: every password-hashing slot is taken and the short queue in
// front of them is full, or the wait for a slot ran out. Callers answer 503
// with Retry-After; nothing about the secret was checked.
var ErrHashBusy = errors.New("store: password hashing busy")

// HashLimits bound the argon2id work of the whole process: each hash holds
// argonMemory (64 MiB) while it runs, so concurrent hashes, not requests,
// decide the memory a sign-in flood can take (issue 11, finding 1).
type HashLimits struct {
	// MaxConcurrent hashes run at once (≤0: the number of CPUs, at least 2).
	MaxConcurrent int
	// Queue is how many callers may wait for a slot beyond them; a caller
	// that finds the queue full is refused at once. Negative: none.
	Queue int
	// QueueTimeout is the longest wait for a slot (≤0: 2 s).
	QueueTimeout time.Duration
}

// DefaultHashLimits are the limits before SetHashLimits: one hash per CPU
// (at least 2), a queue of twice that, a 2 s wait.
func DefaultHashLimits() HashLimits {
	n := max(2, runtime.NumCPU())
	return HashLimits{MaxConcurrent: n, Queue: 2 * n, QueueTimeout: 2 * time.Second}
}

// hashGate is the process-wide semaphore every argon2id computation takes.
type hashGate struct {
	limits  HashLimits
	slots   chan struct{}
	waiting atomic.Int64
	running atomic.Int64
	peak    atomic.Int64
}

var (
	gateMu sync.Mutex
	gate   = newHashGate(DefaultHashLimits())
)

func newHashGate(l HashLimits) *hashGate {
	d := DefaultHashLimits()
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = d.MaxConcurrent
	}
	if l.Queue < 0 {
		l.Queue = 0
	}
	if l.QueueTimeout <= 0 {
		l.QueueTimeout = d.QueueTimeout
	}
	return &hashGate{limits: l, slots: make(chan struct{}, l.MaxConcurrent)}
}

// SetHashLimits replaces the process's bound on argon2id work (serve calls
// it once at start; tests set small limits). Hashes already running finish
// under the old bound.
func SetHashLimits(l HashLimits) {
	g := newHashGate(l)
	gateMu.Lock()
	gate = g
	gateMu.Unlock()
}

func currentGate() *hashGate {
	gateMu.Lock()
	defer gateMu.Unlock()
	return gate
}

// HashStats is what the bound observes: hashes running now and the most
// that ever ran at once under the current limits.
type HashStats struct {
	Running, Peak int
	Limits        HashLimits
}

// CurrentHashStats reports the bound's counters (for tests and metrics).
func CurrentHashStats() HashStats {
	g := currentGate()
	return HashStats{Running: int(g.running.Load()), Peak: int(g.peak.Load()), Limits: g.limits}
}

// acquire takes a slot. queued callers (sign-in) wait at most QueueTimeout
// behind at most Queue others, else ErrHashBusy; unqueued callers
// (administrative and first sign-in paths, authenticated and rare) wait for a
// slot as long as ctx allows, so they are bounded too but never refused.
func (g *hashGate) acquire(ctx context.Context, queued bool) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
	default:
		if queued {
			if g.waiting.Add(1) > int64(g.limits.Queue) {
				g.waiting.Add(-1)
				return nil, ErrHashBusy
			}
			defer g.waiting.Add(-1)
			t := time.NewTimer(g.limits.QueueTimeout)
			defer t.Stop()
			select {
			case g.slots <- struct{}{}:
			case <-t.C:
				return nil, ErrHashBusy
			case <-ctx.Done():
				return nil, fmt.Errorf("store: wait for password hashing: %w", ctx.Err())
			}
		} else {
			select {
			case g.slots <- struct{}{}:
			case <-ctx.Done():
				return nil, fmt.Errorf("store: wait for password hashing: %w", ctx.Err())
			}
		}
	}
	n := g.running.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	return func() {
		g.running.Add(-1)
		<-g.slots
	}, nil
}

// idKey runs argon2id inside a slot of the gate. A hash that runs alone
// hands the heap's free memory back to the operating system before it
// starts and its own m KiB after it ends (issue 15, peak resident memory):
// the process's resident size was the load's heap goal with the hash's 64
// MiB on top, and stayed there until the scavenger came round. The last
// hash to finish also collects, as the release does: its m KiB, live while
// it ran, made the collector's next goal GOGC times more than the process
// needs (445 MB peak resident beside a live heap of about 10 MB). Each
// release is a collection of a small heap beside ~100 ms of argon2id.
// releaseAboveKiB is the argon2id memory from which a hash's memory is
// handed back (idKey).
const releaseAboveKiB = 8 << 10

func idKey(ctx context.Context, queued bool, secret, salt []byte, t, m uint32, p uint8, n uint32) ([]byte, error) {
	g := currentGate()
	release, err := g.acquire(ctx, queued)
	if err != nil {
		return nil, err
	}
	big := m >= releaseAboveKiB // not the tests' cheap hashes
	if big && g.running.Load() == 1 {
		debug.FreeOSMemory()
	}
	key := argon2.IDKey(secret, salt, t, m, p, n)
	release()
	if big && g.running.Load() == 0 {
		debug.FreeOSMemory()
	}
	return key, nil
}

// HashSecret hashes a password or security answer with argon2id and returns
// a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash). It waits for a
// slot of the process's hashing bound without a queue limit.
func HashSecret(secret string) (string, error) {
	return hashSecret(context.Background(), false, secret)
}

// HashSecretContext is HashSecret for request paths: it waits in the
// bound's short queue and returns ErrHashBusy when that is full or the wait
// runs out.
func HashSecretContext(ctx context.Context, secret string) (string, error) {
	return hashSecret(ctx, true, secret)
}

func hashSecret(ctx context.Context, queued bool, secret string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("store: hash secret: %w", err)
	}
	t, m := uint32(argonTime), uint32(argonMemory)
	if cheapHashing.Load() {
		t, m = cheapArgonTime, cheapArgonMemory
	}
	key, err := idKey(ctx, queued, []byte(secret), salt, t, m, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, t, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// cheapHashing: see SetCheapHashingForTests.
var cheapHashing atomic.Bool

const (
	cheapArgonTime   = 1
	cheapArgonMemory = 64 // KiB
)

// SetCheapHashingForTests(true) makes every later HashSecret in this
// process use argon2id with 64 KiB and one pass instead of 64 MiB and
// three: under the race detector one production hash takes seconds, and
// the test suites create hundreds of users. Verification reads the
// parameters from the stored hash, so hashes of either cost verify as
// before. It returns the previous setting. Only tests and the test-support
// package gormtest may call it (.ci/run checks); the production parameters
// are tested in this package, which never calls it.
func SetCheapHashingForTests(on bool) (was bool) { return cheapHashing.Swap(on) }

// VerifySecret reports whether secret matches the PHC hash, in constant time.
// A malformed hash never matches. Like HashSecret it waits for a slot of the
// hashing bound without a queue limit.
func VerifySecret(hash, secret string) bool {
	ok, _ := verifySecret(context.Background(), false, hash, secret) // only ctx errors, and Background has none
	return ok
}

// VerifySecretContext is VerifySecret for sign-in: ErrHashBusy when the
// bound's queue is full or the wait runs out (nothing was verified).
func VerifySecretContext(ctx context.Context, hash, secret string) (bool, error) {
	return verifySecret(ctx, true, hash, secret)
}

func verifySecret(ctx context.Context, queued bool, hash, secret string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, nil
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false, nil
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, nil
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false, nil
	}
	got, err := idKey(ctx, queued, []byte(secret), salt, t, m, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
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
