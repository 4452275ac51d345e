package binlog_test

import (
	"context"
	"testing"
	"time"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/relay"
)

func newLock(tb testing.TB, srv *mariadbtest.Server, name string) *binlog.Lock {
	tb.Helper()
	l, err := binlog.NewLock(binlog.LockConfig{
		Addr: srv.Addr(), User: "root", Name: name,
		Ping: 200 * time.Millisecond, Lease: time.Second, SessionTimeout: 2 * time.Second,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// acquire runs Acquire in the background.
func acquire(l *binlog.Lock) (<-chan relay.Lease, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan relay.Lease, 1)
	go func() {
		ls, err := l.Acquire(ctx)
		if err == nil {
			ch <- ls
		}
	}()
	return ch, cancel
}

func waitLease(tb testing.TB, ch <-chan relay.Lease, within time.Duration) relay.Lease {
	tb.Helper()
	select {
	case ls := <-ch:
		return ls
	case <-time.After(within):
		tb.Fatalf("lock not acquired within %v", within)
		return nil
	}
}

// lockSession returns the id of the session holding the lock.
func lockSession(tb testing.TB, srv *mariadbtest.Server, name string) int64 {
	tb.Helper()
	var id *int64
	if err := srv.DB(tb, "").QueryRow("SELECT IS_USED_LOCK(?)", name).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	if id == nil {
		return 0
	}
	return *id
}

// One holder at a time: a second waits while the first holds the lock, gets
// it at once when the first releases it, and again when the holder's
// session is killed — and the killed holder's lease says it is lost.
func TestLockElectsOneHolder(t *testing.T) {
	srv := mariadbtest.Start(t)
	const name = "gintoki-relay-test"
	a, b := newLock(t, srv, name), newLock(t, srv, name)

	chA, cancelA := acquire(a)
	defer cancelA()
	leaseA := waitLease(t, chA, 10*time.Second)
	chB, cancelB := acquire(b)
	defer cancelB()
	select {
	case <-chB:
		t.Fatal("two holders")
	case <-time.After(1500 * time.Millisecond): // past a lease: the holder keeps it by confirming
	}
	select {
	case <-leaseA.Lost():
		t.Fatal("a healthy holder lost its lease")
	default:
	}
	if err := leaseA.Release(); err != nil {
		t.Fatal(err)
	}
	leaseB := waitLease(t, chB, 3*time.Second)

	// The holder's session dies (as when its process is killed): the lease
	// is lost on the holder's side, and another takes the lock.
	chA, cancelA = acquire(a)
	defer cancelA()
	holder := lockSession(t, srv, name)
	if holder == 0 {
		t.Fatal("no session holds the lock")
	}
	killed := time.Now()
	srv.Exec(t, "KILL ?", holder)
	select {
	case <-leaseB.Lost():
	case <-time.After(3 * time.Second):
		t.Fatal("the killed holder still thinks it holds the lock")
	}
	leaseA = waitLease(t, chA, 3*time.Second)
	t.Logf("taken over %v after the holder's session was killed", time.Since(killed).Round(time.Millisecond))
	if err := leaseB.Release(); err != nil {
		t.Errorf("release of a lost lease: %v", err)
	}
	select {
	case <-leaseA.Lost():
		t.Fatal("the new holder lost its lease")
	default:
	}
}

// A holder that cannot reach the server stops counting on the lock within
// its lease, before the server's session timeout would free it for another.
func TestLockLostWhenServerUnreachable(t *testing.T) {
	srv := mariadbtest.Start(t)
	l := newLock(t, srv, "gintoki-relay-test")
	ch, cancel := acquire(l)
	defer cancel()
	ls := waitLease(t, ch, 10*time.Second)
	stopped := time.Now()
	srv.Stop(t)
	select {
	case <-ls.Lost():
		if d := time.Since(stopped); d > 2*time.Second {
			t.Errorf("lease lost %v after the server went away, lease 1s, session timeout 2s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lease not lost with the server gone")
	}
	if l.Healthy() {
		t.Error("Healthy with the server gone")
	}
}

func TestNewLockValidates(t *testing.T) {
	for _, cfg := range []binlog.LockConfig{
		{Addr: "127.0.0.1:1"},
		{Addr: "127.0.0.1:1", Name: string(make([]byte, 65))},
		{Addr: "127.0.0.1:1", Name: "x", Lease: 5 * time.Second, SessionTimeout: 5 * time.Second},
	} {
		if _, err := binlog.NewLock(cfg); err == nil {
			t.Errorf("NewLock(%+v) accepted", cfg)
		}
	}
}
