package gormtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/bankfeed/bankfeed/store/gormstore"
)

// Outage is a store whose database a test can take away and give back, as
// a real outage looks to the server:
//   - on PostgreSQL the store connects through a loopback TCP proxy; Cut
//     closes the proxy's listener and every connection through it (the
//     pool's next statement fails with a reset or EOF, a new connection is
//     refused), Restore listens again on the same address;
//   - on SQLite, whose database is a file the process holds open, nothing
//     short of the process losing it makes it unusable: removing or
//     renaming the file leaves the open connections working on it, and
//     permissions do not apply to open descriptors. Cut closes the store's
//     connection pools (every statement then fails with "sql: database is
//     closed"), and Restore is not possible (CanRestore is false).
type Outage struct {
	Store *gormstore.Store
	DSN   string // the store's DSN (through the proxy), for another process to use
	proxy *proxy
}

// OpenOutage is Open with the database behind an Outage.
func OpenOutage(t testing.TB, prefix string, cfg gormstore.Config) *Outage {
	t.Helper()
	dsn := cfg.DSN
	if dsn == "" {
		dsn = DSN(t, prefix)
	}
	o := &Outage{}
	u, err := url.Parse(dsn)
	if err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		o.proxy = newProxy(t, u.Host)
		u.Host = o.proxy.addr
		dsn = u.String()
	}
	cfg.DSN, o.DSN = dsn, dsn
	o.Store = Open(t, prefix, cfg)
	return o
}

// CanRestore reports whether Restore can give the database back
// (PostgreSQL only).
func (o *Outage) CanRestore() bool { return o.proxy != nil }

// Cut takes the database away.
func (o *Outage) Cut(t testing.TB) {
	t.Helper()
	if o.proxy == nil {
		if err := o.Store.Close(); err != nil {
			t.Fatalf("gormtest: outage: close store: %v", err)
		}
		return
	}
	o.proxy.cut()
}

// Restore gives the database back (PostgreSQL only: it fails t on SQLite).
func (o *Outage) Restore(t testing.TB) {
	t.Helper()
	if o.proxy == nil {
		t.Fatal("gormtest: outage: a closed SQLite store cannot be restored")
	}
	if err := o.proxy.listen(); err != nil {
		t.Fatalf("gormtest: outage: restore: %v", err)
	}
}

// proxy forwards loopback connections to target until cut.
type proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	p := &proxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	if err := p.listen(); err != nil {
		t.Fatalf("gormtest: outage: %v", err)
	}
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

// listen accepts on p.addr (the same port again after a cut).
func (p *proxy) listen() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by cut
			}
			p.serve(c)
		}
	}()
	return nil
}

func (p *proxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	p.wg.Add(2)
	go pipe(up, c)
	go pipe(c, up)
}

// cut closes the listener and every connection through it.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}
