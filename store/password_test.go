package store

import (
	"slices"
	"strings"
	"testing"
)

func TestHashSecretRoundTrip(t *testing.T) {
	h, err := HashSecret("correct horse Battery 9")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	if !VerifySecret(h, "correct horse Battery 9") {
		t.Fatal("right secret refused")
	}
	for _, wrong := range []string{"", "correct horse battery 9", "correct horse Battery 9 "} {
		if VerifySecret(h, wrong) {
			t.Fatalf("wrong secret %q accepted", wrong)
		}
	}
	h2, _ := HashSecret("correct horse Battery 9")
	if h == h2 {
		t.Fatal("same salt twice")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=3,p=2$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=4294967295,t=3,p=2$c2FsdA$aGFzaA", h[:len(h)-3] + "!!!"} {
		if VerifySecret(bad, "x") {
			t.Fatalf("malformed hash %q matched", bad)
		}
	}
}

func TestCheckNewPassword(t *testing.T) {
	temp, _ := HashSecret("Temporary-Pass-123")
	tests := []struct {
		name, pw, confirm string
		want              []string
	}{
		{"good", "Blue-Harbour-2026", "Blue-Harbour-2026", nil},
		{"short", "Ab1!", "Ab1!", []string{PasswordTooShort}},
		{"user id inside", "xJohnDoe-2026!", "xJohnDoe-2026!", []string{PasswordIsUserID}},
		{"temporary", "Temporary-Pass-123", "Temporary-Pass-123", []string{PasswordIsTemporary}},
		{"simple", "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", []string{PasswordTooSimple}},
		{"mismatch", "Blue-Harbour-2026", "Blue-Harbour-2027", []string{PasswordMismatch}},
		{"long", strings.Repeat("Ab1-", 65), strings.Repeat("Ab1-", 65), []string{PasswordTooLong}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckNewPassword(tc.pw, tc.confirm, "johndoe", temp)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
}

func TestTokensAndIDs(t *testing.T) {
	tok := RandomToken(32)
	if len(tok) != 43 || !VerifyToken(HashToken(tok), tok) || VerifyToken(HashToken(tok), tok+"x") {
		t.Fatalf("token round trip failed: %q", tok)
	}
	id := NewID("acc")
	if !strings.HasPrefix(id, "acc_") || len(id) != 24 || id == NewID("acc") {
		t.Fatalf("bad id %q", id)
	}
	p, err := TemporaryPassword()
	if err != nil || len(p) != 16 {
		t.Fatalf("%q %v", p, err)
	}
}

func TestNormalizeAnswer(t *testing.T) {
	if got := NormalizeAnswer("  Saint  Jean\tBaptiste "); got != "saint jean baptiste" {
		t.Fatal(got)
	}
}
