package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/bankfeed/bankfeed/store"
)

// TLS modes of the SMTP connection.
const (
	SMTPStartTLS = "starttls" // STARTTLS, required (the default)
	SMTPTLS      = "tls"      // implicit TLS (SMTPS, port 465)
	SMTPNoTLS    = "none"     // plain text: only to a loopback address
)

// Email sends e-mail deliveries through an SMTP server with
// github.com/wneessen/go-mail. TLS is required: STARTTLS or implicit TLS;
// plain text only to a server on a loopback address.
type Email struct {
	Addr     string // host:port
	From     string
	Username string // optional; with Password, SMTP AUTH (PLAIN or LOGIN, as the server offers)
	Password string
	TLS      string        // SMTPStartTLS (default), SMTPTLS or SMTPNoTLS
	TLSConf  *tls.Config   // optional: e.g. a private CA's roots
	Timeout  time.Duration // default 30 s
}

// Check reports a configuration Send cannot work with.
func (e *Email) Check() error {
	host, port, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return fmt.Errorf("notify: smtp address %q: %w", e.Addr, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return fmt.Errorf("notify: smtp address %q: port is not a number", e.Addr)
	}
	switch e.TLS {
	case "", SMTPStartTLS, SMTPTLS:
	case SMTPNoTLS:
		if !isLoopback(host) {
			return errors.New("notify: smtp without TLS is only for a server on a loopback address")
		}
	default:
		return fmt.Errorf("notify: smtp TLS mode %q is not starttls, tls or none", e.TLS)
	}
	if e.From == "" {
		return errors.New("notify: smtp sender address is required")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send makes one attempt at the e-mail in d's payload.
func (e *Email) Send(ctx context.Context, d store.Delivery) error {
	var m EmailMessage
	if err := json.Unmarshal(d.Payload, &m); err != nil || m.To == "" {
		return Permanent(fmt.Errorf("notify: e-mail %s: payload has no recipient", d.ID))
	}
	if err := e.Check(); err != nil {
		return err
	}
	host, portText, _ := net.SplitHostPort(e.Addr)
	port, _ := strconv.Atoi(portText)
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(timeout)}
	switch e.TLS {
	case SMTPTLS:
		opts = append(opts, mail.WithSSL())
	case SMTPNoTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	conf := e.TLSConf
	if conf == nil {
		conf = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		conf = conf.Clone()
	}
	conf.ServerName = host
	opts = append(opts, mail.WithTLSConfig(conf))
	if e.Username != "" {
		opts = append(opts, mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(e.Username), mail.WithPassword(e.Password))
	}
	c, err := mail.NewClient(host, opts...)
	if err != nil {
		return fmt.Errorf("notify: e-mail %s: %w", d.ID, err)
	}
	msg := mail.NewMsg()
	if err := msg.From(e.From); err != nil {
		return fmt.Errorf("notify: e-mail %s: sender: %w", d.ID, err)
	}
	if err := msg.To(m.To); err != nil {
		return Permanent(fmt.Errorf("notify: e-mail %s: recipient: %w", d.ID, err))
	}
	msg.SetMessageIDWithValue(d.ID + "@bankfeed")
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("notify: e-mail %s: %w", d.ID, err)
	}
	return nil
}
