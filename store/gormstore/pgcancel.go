package gormstore

import (
	"context"
	"database/sql/driver"
	"runtime"
	"sync"
	"weak"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// cancelMarks remembers the PostgreSQL connections on which a context was
// cancelled while a statement ran, so that the pool never hands them out
// again (issue 15, finding 1). pgx interrupts a cancelled statement by
// setting a deadline on the socket; when the statement was already
// answered, the connection stays open, but a read that pgx's background
// reader (started by a slow write, and outliving the statement) still had
// pending can have failed on that deadline, and pgx keeps the "i/o timeout"
// as the connection's next read: the next statement, whoever runs it, would
// fail at once. A connection that was cancelled is cheap to replace; a
// request failed for another client's disconnection is not.
type cancelMarks struct {
	m sync.Map // weak.Pointer[pgconn.PgConn] → struct{}
}

// handler is pgconn.Config.BuildContextWatcherHandler: pgx's default
// (a deadline at once) that also marks the connection.
func (cm *cancelMarks) handler(pc *pgconn.PgConn) ctxwatch.Handler {
	return &markingHandler{DeadlineContextWatcherHandler: pgconn.DeadlineContextWatcherHandler{Conn: pc.Conn()}, marks: cm, pc: pc}
}

func (cm *cancelMarks) mark(pc *pgconn.PgConn) {
	key := weak.Make(pc)
	if _, loaded := cm.m.LoadOrStore(key, struct{}{}); !loaded {
		// A connection pgx closed itself is never reset: its mark goes
		// with it.
		runtime.AddCleanup(pc, func(k weak.Pointer[pgconn.PgConn]) { cm.m.Delete(k) }, key)
	}
}

// resetSession is stdlib's OptionResetSession, run before a used
// connection is handed out again: a marked one is refused
// (driver.ErrBadConn), so database/sql closes it and takes another.
func (cm *cancelMarks) resetSession(_ context.Context, c *pgx.Conn) error {
	if _, marked := cm.m.LoadAndDelete(weak.Make(c.PgConn())); marked {
		return driver.ErrBadConn
	}
	return nil
}

type markingHandler struct {
	pgconn.DeadlineContextWatcherHandler
	marks *cancelMarks
	pc    *pgconn.PgConn
}

func (h *markingHandler) HandleCancel(ctx context.Context) {
	h.marks.mark(h.pc)
	h.DeadlineContextWatcherHandler.HandleCancel(ctx)
}
