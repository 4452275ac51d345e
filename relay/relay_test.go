package relay

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

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
	waitParked(t, "relay.(*tracker).drain")
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
	h.pub.waitBatches(t, 1)
	h.src.txs <- tx(300) // behind an unacknowledged transaction
	h.src.txs <- tx(400)
	h.src.txs <- tx(500, change("a", OpCreate, 450))
	b := h.pub.waitBatches(t, 2) // so the empty ones before it have been seen
	h.src.waitTick(t)            // and a checkpoint tick since
	if p, _ := cp.get(); p.Pos != 100 {
		t.Fatalf("checkpoint %v moved past an unacknowledged transaction", p)
	}
	b[0].done(nil)
	waitFor(t, "checkpoint 400", func() bool { p, _ := cp.get(); return p.Pos == 400 })
	h.src.waitTick(t)
	if p, _ := cp.get(); p.Pos != 400 {
		t.Fatalf("checkpoint %v moved past an unacknowledged transaction", p)
	}
	b[1].done(nil)
	waitFor(t, "checkpoint 500", func() bool { p, _ := cp.get(); return p.Pos == 500 })
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
	<-sent                                  // the reader took it
	waitParked(t, "relay.(*tracker).begin") // and the publisher waits for room
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
