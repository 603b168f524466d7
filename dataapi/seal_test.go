package dataapi

import (
	"bytes"
	"testing"
)

func TestSealerRotationAndTampering(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32)
	type v struct {
		A string `json:"a"`
		Q int64  `json:"q"`
	}
	sealedOld := newSealer(oldKey, nil).seal("sync", v{"acc", 42})
	rotated := newSealer(newKey, [][]byte{oldKey})
	var got v
	if err := rotated.open("sync", sealedOld, &got); err != nil || got != (v{"acc", 42}) {
		t.Fatalf("a cursor sealed before the rotation: %v %+v", err, got)
	}
	if err := newSealer(newKey, nil).open("sync", sealedOld, &got); err == nil {
		t.Fatal("opened with a key that never sealed it")
	}
	if err := rotated.open("tx", sealedOld, &got); err == nil {
		t.Fatal("a sync cursor opened as a page key")
	}
	for i := range sealedOld {
		b := []byte(sealedOld)
		b[i] ^= 0x01
		if err := rotated.open("sync", string(b), &got); err == nil && string(b) != sealedOld {
			t.Fatalf("tampered byte %d accepted", i)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("no store accepted")
	}
	if _, err := New(Config{Store: nilStore{}, Verifier: nil}); err == nil {
		t.Fatal("no verifier accepted")
	}
	if _, err := New(Config{Store: nilStore{}, Verifier: nilVerifier{}, PageKeySecret: []byte("short")}); err == nil {
		t.Fatal("short secret accepted")
	}
	if _, err := New(Config{Store: nilStore{}, Verifier: nilVerifier{}, RateLimitPerMinute: -1}); err == nil {
		t.Fatal("negative rate limit accepted")
	}
	if _, err := New(Config{Store: nilStore{}, Verifier: nilVerifier{}, MaxExportDays: -1}); err == nil {
		t.Fatal("negative export limit accepted")
	}
	if _, err := New(Config{Store: nilStore{}, Verifier: nilVerifier{}}); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
}
