package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files in DataDir that hold generated secrets.
const (
	KeyEncryptionKeyFile = "key-encryption-key"
	TokenSecretFile      = "token-secret"
)

// EnsureSecrets gives an embedded-SQLite installation its secrets without
// set-up: each one left empty is read from its file in DataDir, or generated
// once into a new 0600 file there (in a 0700 DataDir). It returns the paths it
// created. With PostgreSQL it changes nothing: replicas must share secrets
// given explicitly, which Validate demands.
func (c *Config) EnsureSecrets() (created []string, err error) {
	if c.IsPostgres() || (c.Secrets.KeyEncryptionKey != "" && c.Secrets.TokenSecret != "") {
		return nil, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("config: create data directory: %w", err)
	}
	for _, s := range []struct {
		value *string
		name  string
		size  int
	}{
		{&c.Secrets.KeyEncryptionKey, KeyEncryptionKeyFile, 32},
		{&c.Secrets.TokenSecret, TokenSecretFile, 48},
	} {
		if *s.value != "" {
			continue
		}
		path := filepath.Join(c.DataDir, s.name)
		v, made, err := readOrCreateSecret(path, s.size)
		if err != nil {
			return created, err
		}
		*s.value = v
		if made {
			created = append(created, path)
		}
	}
	return created, nil
}

// readOrCreateSecret returns the secret in path, creating it (exclusively, so
// two processes starting at once agree on one value) if absent.
func readOrCreateSecret(path string, size int) (string, bool, error) {
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return "", false, fmt.Errorf("config: generate secret: %w", err)
	}
	v := base64.StdEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		old, err := os.ReadFile(path)
		if err != nil {
			return "", false, fmt.Errorf("config: read secret: %w", err)
		}
		if s := strings.TrimRight(string(old), "\r\n"); s != "" {
			return s, false, nil
		}
		return "", false, fmt.Errorf("config: secret file %s is empty; delete it to generate a new one", path)
	}
	if err != nil {
		return "", false, fmt.Errorf("config: create secret: %w", err)
	}
	if _, err := f.WriteString(v + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("config: write secret %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("config: write secret %s: %w", path, err)
	}
	return v, true, nil
}
