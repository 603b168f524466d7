package notify_test

import (
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/notify"
)

// TestSignerSpecVector signs the Standard Webhooks specification's published
// example (its reference libraries' TestWebhookSign) and gets its signature.
func TestSignerSpecVector(t *testing.T) {
	s, err := notify.NewSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestNewSignerRefuses(t *testing.T) {
	for _, secret := range []string{
		"",
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", // no whsec_ prefix
		"whsec_not base64!",                // not base64
		"whsec_c2hvcnQ=",                   // 5 bytes: under the spec's 24
		"whsec_AA==",                       // 1 byte
	} {
		if _, err := notify.NewSigner(secret); err == nil {
			t.Errorf("NewSigner(%q) accepted", secret)
		}
	}
}
