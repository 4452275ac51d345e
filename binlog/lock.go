package binlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gintoki/gintoki/relay"
)

// Defaults of LockConfig.
const (
	DefaultLockPing           = time.Second
	DefaultLockLease          = 3 * time.Second
	DefaultLockSessionTimeout = 5 * time.Second
)

// SQL of the leader lock. GET_LOCK needs no privilege; the lock belongs to
// the session and the server releases it when the session ends, however it
// ends: closed, killed, or dropped after wait_timeout of silence.
const (
	lockSessionSQL = "SET SESSION wait_timeout = ?, net_read_timeout = ?, net_write_timeout = ?"
	lockGetSQL     = "SELECT GET_LOCK(?, ?)"
	lockHeldSQL    = "SELECT IS_USED_LOCK(?) = CONNECTION_ID()"
	lockReleaseSQL = "SELECT RELEASE_LOCK(?)"
)

// LockConfig configures a Lock.
type LockConfig struct {
	Addr     string // host:port of the source database
	User     string // any user: GET_LOCK needs no privilege
	Password string
	Name     string // the lock's name, at most 64 characters, the same for every relay of a pair
	// Ping is how often the holder confirms the lock (DefaultLockPing).
	Ping time.Duration
	// Lease is how long the holder may go without confirming the lock
	// before it counts it lost and stops publishing (DefaultLockLease). It
	// must be well below SessionTimeout: the holder must give up before the
	// server can hand the lock to another.
	Lease time.Duration
	// SessionTimeout is the lock session's wait_timeout: how long the server
	// waits on a silent session (a holder whose host or network is gone)
	// before it ends it and releases the lock (DefaultLockSessionTimeout;
	// whole seconds). A holder that dies with its host still up (a crash,
	// SIGKILL) closes its connection and releases the lock at once.
	SessionTimeout time.Duration
	Logger         *slog.Logger // nil discards logs
}

// Lock is a leader lock held with MariaDB's (or MySQL's) GET_LOCK on a
// connection of its own. It satisfies relay.Lock.
//
// Why the database rather than the broker: the relay cannot work without
// the database, so a lock there adds no dependency; the server releases it
// when the holder's session ends, within SessionTimeout even when the
// holder's host vanishes without closing its connection; and the holder
// confirms it cheaply every Ping, so it can stop publishing before anyone
// else could be granted the lock. Kafka group membership would need the
// session timeout and rebalance machinery of a consumer group to say the
// same, and would not fence the relay's binlog reading.
type Lock struct {
	cfg     LockConfig
	db      *sql.DB
	log     *slog.Logger
	healthy atomic.Bool // the last attempt to reach the server worked
}

var _ relay.Lock = (*Lock)(nil)

// NewLock checks cfg and returns a Lock. It does not connect. Close it when
// done.
func NewLock(cfg LockConfig) (*Lock, error) {
	switch {
	case cfg.Name == "":
		return nil, errors.New("leader lock: no name")
	case len(cfg.Name) > 64:
		return nil, fmt.Errorf("leader lock: name %q longer than 64 characters", cfg.Name)
	}
	if cfg.Ping <= 0 {
		cfg.Ping = DefaultLockPing
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLockLease
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultLockSessionTimeout
	}
	cfg.SessionTimeout = cfg.SessionTimeout.Round(time.Second)
	if cfg.SessionTimeout < time.Second {
		cfg.SessionTimeout = time.Second
	}
	if cfg.Lease+cfg.Ping > cfg.SessionTimeout {
		return nil, fmt.Errorf("leader lock: lease %v plus ping %v must not exceed the session timeout %v", cfg.Lease, cfg.Ping, cfg.SessionTimeout)
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = cfg.User, cfg.Password, "tcp", cfg.Addr
	c.Timeout = cfg.Lease
	connector, err := mysql.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("leader lock: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := sql.OpenDB(connector)
	// No idle connections: a session given back to the pool is closed, so
	// closing a lease's connection always ends its session, and the lock
	// with it, rather than parking a session that still holds it.
	db.SetMaxIdleConns(0)
	return &Lock{cfg: cfg, db: db, log: log.With("lock", cfg.Name)}, nil
}

// Close closes the Lock's connections; a lease still held is lost.
func (l *Lock) Close() error { return l.db.Close() }

// Healthy reports whether the Lock's last attempt to reach the server (to
// acquire the lock, or to confirm it) worked: a standby that is not healthy
// could not take over.
func (l *Lock) Healthy() bool { return l.healthy.Load() }

// Acquire implements relay.Lock. It waits on the server, a second at a time
// so that its own session never goes silent, and retries with backoff when
// the server cannot be reached.
func (l *Lock) Acquire(ctx context.Context) (relay.Lease, error) {
	delay := 250 * time.Millisecond
	for {
		lease, err := l.try(ctx)
		if lease != nil {
			l.healthy.Store(true)
			return lease, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("acquire leader lock: %w", ctx.Err())
		}
		l.healthy.Store(false)
		l.log.Warn("leader lock: server unreachable; retrying", "error", err, "delay", delay)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("acquire leader lock: %w", ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// try opens a session and waits there until it holds the lock (a lease),
// ctx ends or the session fails (an error).
func (l *Lock) try(ctx context.Context) (relay.Lease, error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	secs := int(l.cfg.SessionTimeout / time.Second)
	if _, err := conn.ExecContext(ctx, lockSessionSQL, secs, secs, secs); err != nil {
		conn.Close()
		return nil, fmt.Errorf("set session timeouts: %w", err)
	}
	for {
		l.healthy.Store(true)
		var got sql.NullInt64
		// A bounded wait: the session stays active, and ctx is checked.
		if err := conn.QueryRowContext(ctx, lockGetSQL, l.cfg.Name, 1).Scan(&got); err != nil {
			conn.Close()
			return nil, fmt.Errorf("GET_LOCK: %w", err)
		}
		if !got.Valid {
			conn.Close()
			return nil, errors.New("GET_LOCK returned NULL")
		}
		if got.Int64 == 1 {
			return l.hold(conn), nil
		}
		if ctx.Err() != nil {
			conn.Close()
			return nil, ctx.Err()
		}
	}
}

// lease is a held lock. Its goroutine (started by hold) confirms it every
// Ping and closes lost when it cannot within Lease; it ends when lost is
// closed or Release is called.
type lease struct {
	l    *Lock
	conn *sql.Conn
	lost chan struct{}
	stop chan struct{}
	done chan struct{} // closed when the goroutine has ended
	// confirmed is when the last confirming query was sent (Unix
	// nanoseconds), written by the goroutine, read by Held.
	confirmed atomic.Int64
	release   sync.Once
}

func (l *Lock) hold(conn *sql.Conn) *lease {
	ls := &lease{l: l, conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	now := time.Now()
	ls.confirmed.Store(now.UnixNano())
	go ls.confirm(now)
	return ls
}

// Held implements relay.Lease: not lost, and confirmed within the lease
// by the clock now, whether or not the goroutine has run since.
func (ls *lease) Held() bool {
	if closedChan(ls.lost) {
		return false
	}
	return time.Since(time.Unix(0, ls.confirmed.Load())) < ls.l.cfg.Lease
}

// Lost implements relay.Lease.
func (ls *lease) Lost() <-chan struct{} { return ls.lost }

// confirm asks the server every Ping whether the session still holds the
// lock. confirmed is the time the last confirming query was sent: the
// server saw the session alive after it, so it cannot drop the session
// (and free the lock) before confirmed + SessionTimeout, and the lease
// ends at confirmed + Lease, earlier.
func (ls *lease) confirm(confirmed time.Time) {
	defer close(ls.done)
	cfg := ls.l.cfg
	tick := time.NewTicker(cfg.Ping)
	defer tick.Stop()
	for {
		select {
		case <-ls.stop:
			return
		case <-tick.C:
		}
		sent := time.Now()
		ctx, cancel := context.WithDeadline(context.Background(), confirmed.Add(cfg.Lease))
		var mine sql.NullBool
		err := ls.conn.QueryRowContext(ctx, lockHeldSQL, cfg.Name).Scan(&mine)
		cancel()
		switch {
		case err == nil && mine.Valid && mine.Bool:
			confirmed = sent
			ls.confirmed.Store(sent.UnixNano())
			ls.l.healthy.Store(true)
			continue
		case err == nil:
			ls.l.log.Error("leader lock: held by another session now")
		case time.Since(confirmed) < cfg.Lease:
			ls.l.log.Warn("leader lock: could not confirm; retrying within the lease", "error", err)
			continue
		default:
			ls.l.healthy.Store(false)
			ls.l.log.Error("leader lock: not confirmed within the lease", "error", err, "lease", cfg.Lease)
		}
		close(ls.lost)
		ls.conn.Close() // ends the session, if it still exists, and so frees the lock
		return
	}
}

// Release implements relay.Lease.
func (ls *lease) Release() error {
	var err error
	ls.release.Do(func() {
		close(ls.stop)
		<-ls.done
		if closedChan(ls.lost) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), ls.l.cfg.Lease)
		defer cancel()
		var ok sql.NullInt64
		if qerr := ls.conn.QueryRowContext(ctx, lockReleaseSQL, ls.l.cfg.Name).Scan(&ok); qerr != nil {
			err = fmt.Errorf("RELEASE_LOCK: %w", qerr)
		}
		// Closing the session frees the lock even if the query failed.
		if cerr := ls.conn.Close(); cerr != nil && err == nil && !errors.Is(cerr, sql.ErrConnDone) {
			err = fmt.Errorf("close lock session: %w", cerr)
		}
	})
	return err
}

func closedChan(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
