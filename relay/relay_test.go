package relay

import (
	"context"
	"errors"
	"fmt"
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
	deadline := time.After(5 * time.Second)
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
	deadline := time.Now().Add(5 * time.Second)
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

func TestRunSavesOnlyAcknowledgedPrefix(t *testing.T) {
	cp := &memCheckpoint{}
	h := startRelay(t, cp, nil)
	h.src.txs <- tx(100, change("a", OpCreate, 50))
	h.src.txs <- tx(200, change("a", OpUpdate, 150), change("b", OpCreate, 160))
	h.src.txs <- tx(300, change("a", OpDelete, 250))
	b := h.pub.waitBatches(t, 3)
	if len(b[1].msgs) != 2 || len(b[2].msgs) != 2 {
		t.Fatalf("batch sizes %d %d, want 2 2 (two changes; delete and tombstone)", len(b[1].msgs), len(b[2].msgs))
	}
	if b[2].msgs[1].Value != nil {
		t.Fatalf("second message of a delete has value %q, want tombstone", b[2].msgs[1].Value)
	}

	// Later transactions acknowledged first must not move the checkpoint.
	b[2].done(nil)
	b[1].done(nil)
	waitFor(t, "the start position to be saved", func() bool {
		p, _ := cp.get()
		return p.Pos == 4
	})
	if p, _ := cp.get(); p.Pos != 4 {
		t.Fatalf("checkpoint %v before the first transaction was acknowledged", p)
	}
	b[0].done(nil)
	waitFor(t, "checkpoint after the third transaction", func() bool {
		p, _ := cp.get()
		return p.Pos == 300
	})
	_, saves := cp.get()
	for _, p := range saves {
		if p.Pos != 4 && p.Pos != 300 {
			t.Errorf("saved %v, which is not an acknowledged prefix", p)
		}
	}
}

func TestRunResumesFromCheckpoint(t *testing.T) {
	cp := &memCheckpoint{pos: BinlogPosition{File: "bin.000007", Pos: 777}}
	h := startRelay(t, cp, nil)
	h.src.txs <- tx(900, change("a", OpCreate, 800))
	h.pub.waitBatches(t, 1)[0].done(nil)
	waitFor(t, "checkpoint 900", func() bool { p, _ := cp.get(); return p.Pos == 900 })
	h.src.mu.Lock()
	from := h.src.from
	h.src.mu.Unlock()
	if len(from) != 1 || from[0] != (BinlogPosition{File: "bin.000007", Pos: 777}) {
		t.Fatalf("Open called with %v, want the saved position", from)
	}
	if _, saves := cp.get(); saves[0].Pos == 777 {
		t.Fatalf("resaved the loaded position: %v", saves)
	}
}

func TestRunSavesStartWhenNoCheckpoint(t *testing.T) {
	cp := &memCheckpoint{}
	startRelay(t, cp, func(c *Config) { c.CheckpointInterval = time.Hour })
	waitFor(t, "start position saved", func() bool {
		p, _ := cp.get()
		return p == BinlogPosition{File: "bin.000001", Pos: 4}
	})
}

func TestRunGracefulStopWaitsForInFlight(t *testing.T) {
	cp := &memCheckpoint{}
	h := startRelay(t, cp, func(c *Config) { c.CheckpointInterval = time.Hour })
	h.src.txs <- tx(100, change("a", OpCreate, 50))
	b := h.pub.waitBatches(t, 1)
	h.stop()
	select {
	case err := <-h.done:
		t.Fatalf("Run returned %v before the in-flight batch was acknowledged", err)
	default:
	}
	b[0].done(nil)
	if err := h.wait(t); err != nil {
		t.Fatalf("Run = %v, want nil on graceful stop", err)
	}
	if p, _ := cp.get(); p.Pos != 100 {
		t.Fatalf("checkpoint %v after stop, want pos 100", p)
	}
	h.src.mu.Lock()
	closed := h.src.closed
	h.src.mu.Unlock()
	if !closed {
		t.Fatal("stream not closed")
	}
}

func TestRunPublishFailure(t *testing.T) {
	cp := &memCheckpoint{}
	h := startRelay(t, cp, nil)
	h.src.txs <- tx(100, change("a", OpCreate, 50))
	h.src.txs <- tx(200, change("a", OpCreate, 150))
	h.src.txs <- tx(300, change("a", OpCreate, 250))
	b := h.pub.waitBatches(t, 3)
	b[0].done(nil)
	b[2].done(nil)
	b[1].done(errors.New("broker says no"))
	err := h.wait(t)
	if err == nil || !strings.Contains(err.Error(), "broker says no") {
		t.Fatalf("Run = %v, want the publish error", err)
	}
	if p, _ := cp.get(); p.Pos != 100 {
		t.Fatalf("checkpoint %v, want 100 (the acknowledged prefix)", p)
	}
}

func TestRunReadAndEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		feed func(h *harness)
		want string
	}{
		{"read", func(h *harness) { h.src.readErr <- errors.New("connection lost") }, "connection lost"},
		{"encode", func(h *harness) { h.src.txs <- tx(100, change("bad", OpCreate, 50)) }, "cannot encode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startRelay(t, &memCheckpoint{}, nil)
			tc.feed(h)
			if err := h.wait(t); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestRunOpenError(t *testing.T) {
	cp := &memCheckpoint{}
	src := newFakeSource(BinlogPosition{})
	src.openErr = errors.New("binlog_format is STATEMENT")
	r, err := New(Config{Source: src, Encoder: fakeEncoder{}, Publisher: newFakePublisher(), Checkpoint: cp})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "STATEMENT") {
		t.Fatalf("Run = %v, want the open error", err)
	}
}

func TestRunEmptyTransactionsAdvanceCheckpoint(t *testing.T) {
	cp := &memCheckpoint{}
	h := startRelay(t, cp, nil)
	h.src.txs <- tx(100)
	waitFor(t, "checkpoint 100", func() bool { p, _ := cp.get(); return p.Pos == 100 })

	h.src.txs <- tx(200, change("a", OpCreate, 150))
	b := h.pub.waitBatches(t, 1)
	h.src.txs <- tx(300) // behind an unacknowledged transaction
	h.src.txs <- tx(400)
	if p, _ := cp.get(); p.Pos != 100 {
		t.Fatalf("checkpoint %v moved past an unacknowledged transaction", p)
	}
	b[0].done(nil)
	waitFor(t, "checkpoint 400", func() bool { p, _ := cp.get(); return p.Pos == 400 })
}

func TestRunBoundsInFlightMessages(t *testing.T) {
	h := startRelay(t, &memCheckpoint{}, func(c *Config) { c.MaxInFlight = 2 })
	h.src.txs <- tx(100, change("a", OpCreate, 50))
	h.src.txs <- tx(200, change("a", OpCreate, 150))
	b := h.pub.waitBatches(t, 2)
	sent := make(chan struct{})
	go func() {
		h.src.txs <- tx(300, change("a", OpCreate, 250))
		close(sent)
	}()
	<-sent // the reader took it, and now waits for room
	if n := h.pub.count(); n != 2 {
		t.Fatalf("published %d batches with 2 messages in flight and a bound of 2", n)
	}
	b[0].done(nil)
	b = h.pub.waitBatches(t, 3)
	b[1].done(nil)
	b[2].done(nil)
	h.stop()
	if err := h.wait(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestNewRequiresPorts(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New with no ports succeeded")
	}
}

func TestRunCountsItsWork(t *testing.T) {
	var (
		mu     sync.Mutex
		delays []time.Duration
	)
	cp := &memCheckpoint{}
	h := startRelay(t, cp, func(c *Config) {
		c.AckDelay = func(d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			delays = append(delays, d)
		}
	})
	st := h.r.Stats()
	waitFor(t, "the stream to open", st.Streaming)
	commit := time.Now().Add(-time.Second)
	c1, c2 := change("a", OpCreate, 50), change("a", OpDelete, 60)
	c1.Source.Time, c2.Source.Time = commit, commit
	h.src.txs <- tx(100, c1, c2)                     // two changes, three messages
	h.src.txs <- tx(200)                             // nothing to publish
	h.src.txs <- tx(300, change("b", OpUpdate, 250)) // no commit time
	b := h.pub.waitBatches(t, 2)
	if got := [...]uint64{st.Transactions.Load(), st.Changes.Load(), st.Published.Load(), st.Acked.Load()}; got != [...]uint64{2, 3, 4, 0} {
		t.Errorf("transactions, changes, published, acked = %v, want [2 3 4 0]", got)
	}
	if !st.LastCommit().Equal(commit) {
		t.Errorf("last commit %v, want %v (a transaction without a commit time leaves it)", st.LastCommit(), commit)
	}
	b[0].done(nil)
	b[1].done(nil)
	waitFor(t, "4 acknowledged messages", func() bool { return st.Acked.Load() == 4 })
	waitFor(t, "a checkpoint save", func() bool { return st.CheckpointSaves.Load() > 0 })
	mu.Lock()
	if len(delays) != 1 || delays[0] < time.Second {
		t.Errorf("ack delays %v, want one of at least 1s (the transaction without a commit time has none)", delays)
	}
	mu.Unlock()
	h.stop()
	if err := h.wait(t); err != nil {
		t.Fatal(err)
	}
	if st.Streaming() {
		t.Error("still streaming after Run returned")
	}
}

// Heartbeats go out when the source says it is caught up since the last
// one and nothing is in flight; a failed one does not stop the relay.
func TestRunPublishesHeartbeats(t *testing.T) {
	h := startRelay(t, &memCheckpoint{}, func(c *Config) {
		c.HeartbeatInterval = 2 * time.Millisecond
		c.CheckpointInterval = time.Hour // every tick that asks CaughtUpAt is a heartbeat's
	})
	st := h.r.Stats()
	waitFor(t, "the stream to open", st.Streaming)
	isBeat := func(c publishCall) bool { return len(c.msgs) == 1 && c.msgs[0].Topic == "heartbeat" }

	t1 := time.Now()
	h.src.setCaughtUp(t1)
	b := h.pub.waitBatches(t, 1)
	if !isBeat(b[0]) || string(b[0].msgs[0].Value) != t1.Format(time.RFC3339Nano) {
		t.Fatalf("first batch %+v, want a heartbeat at %v", b[0], t1)
	}
	b[0].done(errors.New("broker says no")) // logged, not fatal
	h.src.waitTick(t)                       // a heartbeat tick: none without news
	if n := h.pub.count(); n != 1 {
		t.Fatalf("%d batches after one heartbeat and no news, want 1", n)
	}

	// A transaction in flight holds heartbeats back until it is acknowledged.
	h.src.txs <- tx(100, change("a", OpCreate, 50))
	b = h.pub.waitBatches(t, 2)
	h.src.setCaughtUp(t1.Add(time.Second))
	h.src.waitTick(t)
	if n := h.pub.count(); n != 2 {
		t.Fatalf("%d batches while a transaction is in flight, want 2", n)
	}
	b[1].done(nil)
	b = h.pub.waitBatches(t, 3)
	if !isBeat(b[2]) {
		t.Fatalf("third batch %+v, want a heartbeat", b[2])
	}
	b[2].done(nil)
	waitFor(t, "an acknowledged heartbeat", func() bool { return st.Heartbeats.Load() == 1 })
	if got := st.CaughtUp(); !got.Equal(t1.Add(time.Second)) {
		t.Errorf("stats caught up at %v, want the stream's %v", got, t1.Add(time.Second))
	}
	select {
	case err := <-h.done:
		t.Fatalf("relay stopped: %v", err)
	default:
	}
}

func TestRunWithoutHeartbeats(t *testing.T) {
	h := startRelay(t, &memCheckpoint{}, func(c *Config) { c.HeartbeatInterval = -1 })
	waitFor(t, "the stream to open", h.r.Stats().Streaming)
	h.src.setCaughtUp(time.Now())
	h.src.waitTick(t) // a checkpoint tick saw the news; no heartbeat tick exists
	if n := h.pub.count(); n != 0 {
		t.Fatalf("%d batches with heartbeats off, want 0", n)
	}
}
