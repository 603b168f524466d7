package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load builds a Config from Default, then the YAML file at path (skipped when
// path is empty), then BANKFEED_* variables read through getenv, then secret
// files (*_FILE). Precedence is therefore env over file over default; cmd
// applies flags on top. It reports every unreadable value at once; semantic
// checks are Validate's.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		if err := cfg.loadFile(path); err != nil {
			return Config{}, err
		}
	}
	var errs []error
	for _, f := range fields(&cfg) {
		v := getenv(f.Env)
		if v == "" {
			continue
		}
		if err := f.set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Env, err))
		}
	}
	errs = append(errs, cfg.readSecretFiles()...)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return cfg, nil
}

func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: read %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: parse %s: %w", path, err)
	}
	return nil
}

// readSecretFiles fills each secret from its *File setting.
func (c *Config) readSecretFiles() []error {
	var errs []error
	for _, s := range []struct {
		name        string
		value, file *string
	}{
		{EnvPrefix + "KEY_ENCRYPTION_KEY", &c.Secrets.KeyEncryptionKey, &c.Secrets.KeyEncryptionKeyFile},
		{EnvPrefix + "TOKEN_SECRET", &c.Secrets.TokenSecret, &c.Secrets.TokenSecretFile},
		{EnvPrefix + "NOTIFICATIONS_SMTP_PASSWORD", &c.Notifications.SMTPPassword, &c.Notifications.SMTPPasswordFile},
		{EnvPrefix + "NOTIFICATIONS_WEBHOOK_SECRET", &c.Notifications.WebhookSecret, &c.Notifications.WebhookSecretFile},
	} {
		if *s.file == "" {
			continue
		}
		if *s.value != "" {
			errs = append(errs, fmt.Errorf("%s and %s_FILE are both set; set one", s.name, s.name))
			continue
		}
		b, err := os.ReadFile(*s.file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_FILE: %w", s.name, err))
			continue
		}
		*s.value = strings.TrimRight(string(b), "\r\n")
	}
	return errs
}

// Field describes one setting: its YAML key (dotted), environment variable
// and default, as listed in README.md.
type Field struct {
	Key     string
	Env     string
	Default string
	Secret  bool

	v reflect.Value
}

// Fields lists every setting of cfg in declaration order; Default() gives the
// defaults. The README's configuration reference is checked against it.
func Fields(cfg Config) []Field {
	fs := fields(&cfg)
	for i := range fs {
		fs[i].Default = fs[i].String()
		fs[i].v = reflect.Value{}
	}
	return fs
}

func fields(cfg *Config) []Field {
	var out []Field
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			key := prefix + strings.Split(sf.Tag.Get("yaml"), ",")[0]
			if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeFor[time.Duration]() {
				walk(v.Field(i), key+".")
				continue
			}
			out = append(out, Field{
				Key:    key,
				Env:    EnvPrefix + sf.Tag.Get("env"),
				Secret: sf.Tag.Get("secret") == "true",
				v:      v.Field(i),
			})
		}
	}
	walk(reflect.ValueOf(cfg).Elem(), "")
	return out
}

func (f Field) set(s string) error {
	switch p := f.v.Addr().Interface().(type) {
	case *string:
		*p = s
	case *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false)", s)
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*p = n
	case *time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 90s or 10m", s)
		}
		*p = d
	case *[]string:
		*p = nil
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				*p = append(*p, part)
			}
		}
	default:
		panic(fmt.Sprintf("config: field %s has unsupported type %T", f.Key, p))
	}
	return nil
}

// String renders the field's current value as it would be written in the
// environment (secrets are not special-cased: callers of Fields use Default).
func (f Field) String() string {
	switch v := f.v.Interface().(type) {
	case []string:
		return strings.Join(v, ",")
	case time.Duration:
		return formatDuration(v)
	default:
		return fmt.Sprint(v)
	}
}

// formatDuration prints 720h0m0s as 720h and 1m30s as 1m30s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
