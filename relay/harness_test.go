package relay

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSource opens a fakeStream fed by the test through txs.
type fakeSource struct {
	start   BinlogPosition // returned when Open is given the zero BinlogPosition
	openErr error
	txs     chan Transaction
	readErr chan error

	mu       sync.Mutex
	from     []BinlogPosition // guarded by mu: every position Open was given
	closed   bool             // guarded by mu
	caughtUp time.Time        // guarded by mu
	// samples counts the calls of CaughtUpAt (guarded by mu): the relay
	// asks on every heartbeat tick and checkpoint tick, so a count that
	// moved on by two since a test changed something proves that the
	// relay's loop went once through a whole tick that saw the change.
	samples int
}

// setCaughtUp makes the stream say the source was caught up at t.
func (s *fakeSource) setCaughtUp(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.caughtUp = t
}

// sampled returns how many times the relay has asked CaughtUpAt.
func (s *fakeSource) sampled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// waitTick waits until the relay's loop has gone through a whole tick that
// began after this call: ticks run one at a time on Run's goroutine, and
// each asks CaughtUpAt first, so the second call after now starts only
// once the tick of the first has finished, and whatever it decided to
// publish has been handed to the publisher.
func (s *fakeSource) waitTick(tb testing.TB) {
	tb.Helper()
	n := s.sampled()
	waitFor(tb, "a whole tick of the relay's loop", func() bool { return s.sampled() >= n+2 })
}

func newFakeSource(start BinlogPosition) *fakeSource {
	return &fakeSource{start: start, txs: make(chan Transaction), readErr: make(chan error, 1)}
}

func (s *fakeSource) Open(ctx context.Context, from BinlogPosition) (Stream, BinlogPosition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.from = append(s.from, from)
	if s.openErr != nil {
		return nil, BinlogPosition{}, s.openErr
	}
	if from.IsZero() {
		from = s.start
	}
	return (*fakeStream)(s), from, nil
}

type fakeStream fakeSource

func (s *fakeStream) Next(ctx context.Context) (Transaction, error) {
	select {
	case tx := <-s.txs:
		return tx, nil
	case err := <-s.readErr:
		return Transaction{}, err
	case <-ctx.Done():
		return Transaction{}, fmt.Errorf("next: %w", ctx.Err())
	}
}

func (s *fakeStream) CaughtUpAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	return s.caughtUp
}

func (s *fakeStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// fakeEncoder encodes a change as one message keyed by table and position,
// and a delete as the message and a tombstone.
type fakeEncoder struct{}

func (fakeEncoder) Append(msgs []BrokerRecord, c RowChange) ([]BrokerRecord, error) {
	if c.Table == "bad" {
		return msgs, errors.New("cannot encode")
	}
	key := []byte(fmt.Sprintf("%s/%d/%d", c.Table, c.Source.Pos, c.Source.Row))
	msgs = append(msgs, BrokerRecord{Topic: "t." + c.Table, Key: key, Value: []byte{c.Op}})
	if c.Op == OpDelete {
		msgs = append(msgs, BrokerRecord{Topic: "t." + c.Table, Key: key})
	}
	return msgs, nil
}

func (fakeEncoder) Heartbeat(at time.Time) BrokerRecord {
	return BrokerRecord{Topic: "heartbeat", Value: []byte(at.Format(time.RFC3339Nano))}
}

// fakePublisher holds every publish until the test acknowledges it.
type fakePublisher struct {
	mu      sync.Mutex
	batches []publishCall // guarded by mu
	changed chan struct{} // capacity 1, signalled on every publish
}

type publishCall struct {
	msgs []BrokerRecord
	done func(error)
}

func newFakePublisher() *fakePublisher {
	return &fakePublisher{changed: make(chan struct{}, 1)}
}

func (p *fakePublisher) Publish(ctx context.Context, msgs []BrokerRecord, done func(error)) {
	p.mu.Lock()
	p.batches = append(p.batches, publishCall{msgs: msgs, done: done})
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// waitBatches waits until n batches have been published and returns them.
func (p *fakePublisher) waitBatches(tb testing.TB, n int) []publishCall {
	tb.Helper()
	deadline := time.After(30 * time.Second)
	for {
		p.mu.Lock()
		got := append([]publishCall(nil), p.batches...)
		p.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-p.changed:
		case <-deadline:
			tb.Fatalf("published %d batches, want %d", len(got), n)
		}
	}
}

func (p *fakePublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.batches)
}

// memCheckpoint is an in-memory Checkpoint that remembers every save.
type memCheckpoint struct {
	mu    sync.Mutex
	pos   BinlogPosition   // guarded by mu
	saves []BinlogPosition // guarded by mu
}

func (m *memCheckpoint) Load(ctx context.Context) (BinlogPosition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos, nil
}

func (m *memCheckpoint) Save(ctx context.Context, p BinlogPosition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pos = p
	m.saves = append(m.saves, p)
	return nil
}

func (m *memCheckpoint) get() (BinlogPosition, []BinlogPosition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos, append([]BinlogPosition(nil), m.saves...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type harness struct {
	r    *Relay
	src  *fakeSource
	pub  *fakePublisher
	cp   *memCheckpoint
	stop context.CancelFunc
	done chan error
}

func startRelay(tb testing.TB, cp *memCheckpoint, tune func(*Config)) *harness {
	tb.Helper()
	h := &harness{
		src:  newFakeSource(BinlogPosition{File: "bin.000001", Pos: 4}),
		pub:  newFakePublisher(),
		cp:   cp,
		done: make(chan error, 1),
	}
	cfg := Config{
		Source: h.src, Encoder: fakeEncoder{}, Publisher: h.pub, Checkpoint: cp,
		CheckpointInterval: time.Millisecond, DrainTimeout: 5 * time.Second,
	}
	if tune != nil {
		tune(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	h.r = r
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.done <- r.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			tb.Error("relay did not stop")
		}
	})
	return h
}

func (h *harness) wait(tb testing.TB) error {
	tb.Helper()
	select {
	case err := <-h.done:
		h.done <- err // so that cleanup finds it too
		return err
	case <-time.After(10 * time.Second):
		tb.Fatal("Run did not return")
		return nil
	}
}

func tx(end uint64, changes ...RowChange) Transaction {
	return Transaction{Changes: changes, End: BinlogPosition{File: "bin.000001", Pos: end}}
}

func change(table string, op byte, pos uint64) RowChange {
	return RowChange{Database: "db", Table: table, Op: op, Source: SourceInfo{File: "bin.000001", Pos: pos}}
}

// waitParked waits until some goroutine is blocked (parked: in a select,
// a channel operation or on a lock) with fn as its innermost frame, e.g.
// "relay.(*tracker).begin". A test that then checks that something did not
// happen knows the code that would do it has gone as far as it can, rather
// than hoping a sleep was long enough on a loaded machine.
func waitParked(tb testing.TB, fn string) {
	tb.Helper()
	buf := make([]byte, 1<<20)
	waitFor(tb, "a goroutine parked in "+fn, func() bool {
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			head, frames, _ := strings.Cut(g, "\n")
			parked := strings.Contains(head, "[select") || strings.Contains(head, "[chan ") ||
				strings.Contains(head, "[sync.") || strings.Contains(head, "[semacquire")
			if parked && strings.Contains(strings.SplitN(frames, "\n", 2)[0], fn+"(") {
				return true
			}
		}
		return false
	})
}
