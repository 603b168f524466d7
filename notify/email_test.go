package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bankfeed/bankfeed/notify"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// mail is one message the test SMTP server accepted.
type mail struct {
	From string
	To   []string
	Data string
	TLS  bool
	User string
}

// smtpServer is a real SMTP server (github.com/emersion/go-smtp) on a
// loopback port that offers STARTTLS with a certificate of its own and takes
// AUTH PLAIN only over TLS.
type smtpServer struct {
	Addr  string
	Roots *x509.CertPool
	mu    sync.Mutex
	mails []mail
}

func newSMTPServer(t *testing.T, withTLS bool) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &smtpSession{srv: s, tls: isTLS, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if withTLS {
		cert, roots := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.Roots = roots
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *smtpServer) received() []mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mail(nil), s.mails...)
}

type smtpSession struct {
	srv  *smtpServer
	conn *smtp.Conn
	tls  bool
	user string
	m    mail
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != "bankfeed" || password != "smtp-pass" {
			return errors.New("invalid credentials")
		}
		s.user = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	_, s.tls = s.conn.TLSConnectionState()
	s.m = mail{From: from, TLS: s.tls, User: s.user}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.To = append(s.m.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.Data = string(b)
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, s.m)
	s.srv.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// newRecipient makes a user with an e-mail address.
func newRecipient(t *testing.T, st store.Store, login, email string) store.User {
	t.Helper()
	ctx := t.Context()
	g, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: store.NewID("bg"), Name: "Acme " + login})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.User{BusinessGroupID: g.ID, LoginID: login, DisplayName: "User " + login,
		Email: email, Status: store.UserActive, PasswordHash: "$argon2id$fake"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestEmailDelivery: with e-mail configured, a notification reaches its
// recipient's address through a real SMTP server, over STARTTLS with AUTH,
// with the notification's text and nothing secret; a recipient without an
// address gets no e-mail delivery.
func TestEmailDelivery(t *testing.T) {
	st := gormtest.OpenStore(t, "notify")
	srv := newSMTPServer(t, true)
	u := newRecipient(t, st, "carol", "carol@example.com")
	silent := newRecipient(t, st, "dave", "")
	o := &notify.Outbox{Store: st, Email: true}
	n := notifyTx(t, st, o, store.Notification{RecipientID: u.ID, Kind: "approval.pending",
		Text: "A request awaits your approval: reset a user's password.", RequestID: "apr_7"})
	none := notifyTx(t, st, o, store.Notification{RecipientID: silent.ID, Kind: "approval.pending", Text: "x"})
	if ds, err := st.ListDeliveries(t.Context(), none.ID); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries for a recipient without e-mail = %v, %v", ds, err)
	}
	email := &notify.Email{Addr: srv.Addr, From: "bank@example.com", Username: "bankfeed", Password: "smtp-pass",
		TLSConf: &tls.Config{RootCAs: srv.Roots, MinVersion: tls.VersionTLS12}, Timeout: 10 * time.Second}
	w := newWorker(t, notify.Config{Store: st, Logger: quiet, Senders: map[store.Channel]notify.Sender{store.ChannelEmail: email}})
	if got := runOnce(t, w); got != 1 {
		t.Fatalf("claimed %d, want 1", got)
	}
	if d := delivery(t, st, n.ID); d.Status != store.DeliveryDelivered {
		t.Fatalf("delivery = %+v; want delivered", d)
	}
	ms := srv.received()
	if len(ms) != 1 {
		t.Fatalf("server got %d mails, want 1", len(ms))
	}
	m := ms[0]
	if !m.TLS || m.User != "bankfeed" || m.From != "bank@example.com" || len(m.To) != 1 || m.To[0] != "carol@example.com" {
		t.Errorf("mail = TLS %v, user %q, from %q, to %v; want STARTTLS, authenticated, to carol@example.com", m.TLS, m.User, m.From, m.To)
	}
	data := strings.ReplaceAll(m.Data, "\r\n", "\n")
	for _, want := range []string{"Subject: A request awaits your approval", "To: <carol@example.com>",
		"A request awaits your approval: reset a user's password.", "Request: apr_7"} {
		if !strings.Contains(data, want) {
			t.Errorf("mail lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(data, "smtp-pass") {
		t.Error("mail carries the SMTP password")
	}
}

// TestEmailRequiresTLS: a server that offers no STARTTLS gets no mail (the
// attempt fails and is retried), and plain text is refused for a server
// that is not on a loopback address.
func TestEmailRequiresTLS(t *testing.T) {
	st := gormtest.OpenStore(t, "notify")
	srv := newSMTPServer(t, false)
	u := newRecipient(t, st, "erin", "erin@example.com")
	n := notifyTx(t, st, &notify.Outbox{Store: st, Email: true}, store.Notification{RecipientID: u.ID, Kind: "approval.decided", Text: "t"})
	email := &notify.Email{Addr: srv.Addr, From: "bank@example.com", Timeout: 10 * time.Second}
	w := newWorker(t, notify.Config{Store: st, Logger: quiet, Senders: map[store.Channel]notify.Sender{store.ChannelEmail: email}})
	runOnce(t, w)
	if d := delivery(t, st, n.ID); d.Status != store.DeliveryPending || d.LastError == "" || len(srv.received()) != 0 {
		t.Fatalf("delivery = %+v, %d mails; want a failed attempt and no mail without TLS", d, len(srv.received()))
	}
	// Explicitly without TLS, to a loopback server: sent.
	plain := *email
	plain.TLS = notify.SMTPNoTLS
	d := delivery(t, st, n.ID)
	if err := plain.Send(context.Background(), d); err != nil || len(srv.received()) != 1 {
		t.Fatalf("plain loopback send: %v, %d mails", err, len(srv.received()))
	}
	remote := notify.Email{Addr: "mail.example.com:25", From: "bank@example.com", TLS: notify.SMTPNoTLS}
	if err := remote.Check(); err == nil {
		t.Error("plain text to a remote server accepted")
	}
}
