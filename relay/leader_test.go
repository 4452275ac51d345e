package relay

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeLock grants a lease each time the test sends one.
type fakeLock struct{ grant chan *fakeLease }

func (l *fakeLock) Acquire(ctx context.Context) (Lease, error) {
	select {
	case ls := <-l.grant:
		return ls, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("acquire: %w", ctx.Err())
	}
}

type fakeLease struct {
	lost     chan struct{}
	mu       sync.Mutex
	released bool // guarded by mu
}

func newFakeLease() *fakeLease { return &fakeLease{lost: make(chan struct{})} }

func (l *fakeLease) Lost() <-chan struct{} { return l.lost }

func (l *fakeLease) Held() bool { return !closed(l.lost) }

func (l *fakeLease) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.released = true
	return nil
}

func (l *fakeLease) isReleased() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.released
}

func (s *fakeSource) opens() []BinlogPosition {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BinlogPosition(nil), s.from...)
}

// offer tries to hand tx to the stream's reader for a while, and reports
// whether it took it.
func (s *fakeSource) offer(tx Transaction, wait time.Duration) bool {
	select {
	case s.txs <- tx:
		return true
	case <-time.After(wait):
		return false
	}
}

// A relay with a lock stands by until it holds the lock, relays while it
// does, stops reading the moment the lease is lost (no more publishing,
// no final checkpoint), and resumes from the saved position when it leads
// again.
func TestLeadPublishesOnlyWhileHoldingTheLock(t *testing.T) {
	cp := &memCheckpoint{pos: BinlogPosition{File: "bin.000001", Pos: 50}}
	lock := &fakeLock{grant: make(chan *fakeLease)}
	h := startRelay(t, cp, func(c *Config) { c.Lock = lock })

	waitParked(t, "relay.(*fakeLock).Acquire")
	if h.src.offer(tx(60, change("a", OpCreate, 55)), 30*time.Millisecond) {
		t.Fatal("a standby read the change stream")
	}
	if h.r.Stats().Leader() || len(h.src.opens()) != 0 {
		t.Fatal("a standby opened the change stream or says it leads")
	}

	first := newFakeLease()
	lock.grant <- first
	waitFor(t, "leadership", h.r.Stats().Leader)
	h.src.txs <- tx(100, change("a", OpCreate, 90))
	h.pub.waitBatches(t, 1)[0].done(nil)
	waitFor(t, "checkpoint 100", func() bool { p, _ := cp.get(); return p.Pos == 100 })

	// One more transaction published, not acknowledged, then the lease is
	// lost: the relay stops at once and does not wait for it.
	h.src.txs <- tx(200, change("a", OpCreate, 150))
	pending := h.pub.waitBatches(t, 2)[1]
	close(first.lost)
	waitFor(t, "standing by", func() bool { return !h.r.Stats().Leader() && first.isReleased() })
	waitParked(t, "relay.(*fakeLock).Acquire") // the term is over: nothing reads
	if h.src.offer(tx(300, change("a", OpCreate, 250)), 30*time.Millisecond) {
		t.Fatal("the relay read on after losing its lease")
	}
	pending.done(nil) // lands late, as a duplicate would
	if n := h.pub.count(); n != 2 {
		t.Fatalf("%d batches published, want 2: nothing after the lease was lost", n)
	}
	if got := h.r.Stats().LeasesLost.Load(); got != 1 {
		t.Errorf("LeasesLost = %d, want 1", got)
	}

	lock.grant <- newFakeLease()
	waitFor(t, "leadership again", h.r.Stats().Leader)
	// Leader says so before the term opens the stream.
	waitFor(t, "the second term's stream", func() bool { return len(h.src.opens()) == 2 })
	opens := h.src.opens()
	if len(opens) != 2 || opens[1] != (BinlogPosition{File: "bin.000001", Pos: 100}) {
		t.Fatalf("second term opened the stream at %v, want the saved position 100 (a lost term saves nothing)", opens)
	}
	h.src.txs <- tx(300, change("a", OpCreate, 250))
	h.pub.waitBatches(t, 3)[2].done(nil) // so that the relay stops without waiting
	if got := h.r.Stats().Terms.Load(); got != 2 {
		t.Errorf("Terms = %d, want 2", got)
	}
}

// Without a lock the relay is the leader while it runs.
func TestRunWithoutLockLeads(t *testing.T) {
	h := startRelay(t, &memCheckpoint{}, nil)
	waitFor(t, "leadership", h.r.Stats().Leader)
	h.stop()
	if err := h.wait(t); err != nil {
		t.Fatal(err)
	}
	if h.r.Stats().Leader() {
		t.Error("still the leader after Run returned")
	}
}

// stallLease is held until the test says otherwise, without closing Lost:
// a process paused past its lease whose confirming goroutine has not run
// yet.
type stallLease struct {
	*fakeLease
	held    chan bool     // capacity 1; the latest value says whether it is held
	refused chan struct{} // capacity 1; signalled when Held says no
}

func (l *stallLease) Held() bool {
	v := <-l.held
	l.held <- v
	if !v {
		select {
		case l.refused <- struct{}{}:
		default:
		}
	}
	return v
}

// A lease that the clock says has run out stops publishing at once, even
// before Lost is closed, and the position never moves past what was not
// published.
func TestLeadChecksTheLeaseBeforeEveryPublish(t *testing.T) {
	cp := &memCheckpoint{pos: BinlogPosition{File: "bin.000001", Pos: 50}}
	ls := &stallLease{fakeLease: newFakeLease(), held: make(chan bool, 1), refused: make(chan struct{}, 1)}
	ls.held <- true
	lock := stallLock{ls: make(chan *stallLease, 1)}
	lock.ls <- ls
	h := startRelay(t, cp, func(c *Config) { c.Lock = lock })
	waitFor(t, "leadership", h.r.Stats().Leader)
	h.src.txs <- tx(100, change("a", OpCreate, 90))
	h.pub.waitBatches(t, 1)[0].done(nil)
	// Saved before the lease runs out: a lost term saves nothing more.
	waitFor(t, "checkpoint 100", func() bool { p, _ := cp.get(); return p.Pos == 100 })
	<-ls.held
	ls.held <- false
	h.src.txs <- tx(200, change("a", OpCreate, 150))
	// Only the publishing stage asks Held from now on, right before it
	// would publish; a checkpoint tick after it must not move the position.
	select {
	case <-ls.refused:
	case <-time.After(30 * time.Second):
		t.Fatal("the relay never asked whether it still held the lease")
	}
	h.src.waitTick(t)
	if n := h.pub.count(); n != 1 {
		t.Fatalf("%d batches published, want 1: none once the lease ran out", n)
	}
	close(ls.lost)
	waitFor(t, "standing by", func() bool { return !h.r.Stats().Leader() })
	if p, _ := cp.get(); p.Pos != 100 {
		t.Fatalf("checkpoint %v, want 100", p)
	}
}

// stallLock grants its one stallLease, then nothing.
type stallLock struct{ ls chan *stallLease }

func (l stallLock) Acquire(ctx context.Context) (Lease, error) {
	select {
	case ls := <-l.ls:
		return ls, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
