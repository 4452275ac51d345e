package relay

import (
	"context"
	"testing"
	"time"
)

// part is a part of a transaction that more parts follow.
func part(changes ...RowChange) Transaction { return Transaction{Changes: changes, More: true} }

// A transaction that comes in parts is published part by part, and the
// checkpoint moves past it only once every part is acknowledged, whatever
// the order of the acknowledgements.
func TestRunPartsMoveCheckpointOnlyAfterLastPart(t *testing.T) {
	cp := &memCheckpoint{}
	h := startRelay(t, cp, nil)
	waitFor(t, "start saved", func() bool { p, _ := cp.get(); return p.Pos == 4 })
	h.src.txs <- part(change("a", OpCreate, 10), change("a", OpCreate, 11))
	h.src.txs <- part(change("a", OpCreate, 20))
	h.src.txs <- tx(100, change("a", OpCreate, 30))
	b := h.pub.waitBatches(t, 3)
	b[2].done(nil)
	b[0].done(nil)
	h.src.waitTick(t) // a whole checkpoint tick since: nothing may move
	if p, _ := cp.get(); p.Pos != 4 {
		t.Fatalf("checkpoint %v with the middle part unacknowledged", p)
	}
	b[1].done(nil)
	waitFor(t, "checkpoint 100", func() bool { p, _ := cp.get(); return p.Pos == 100 })
	_, saves := cp.get()
	for _, p := range saves {
		if p.Pos != 4 && p.Pos != 100 {
			t.Errorf("saved %v: inside a transaction", p)
		}
	}
	if n := h.r.Stats().Transactions.Load(); n != 1 {
		t.Errorf("counted %d transactions, want 1", n)
	}
}

// A last part with no relayed change still ends the transaction whose
// earlier parts were published.
func TestRunEmptyLastPart(t *testing.T) {
	cp := &memCheckpoint{}
	h := startRelay(t, cp, nil)
	h.src.txs <- part(change("a", OpCreate, 10))
	h.src.txs <- tx(100)
	h.src.txs <- tx(200, change("a", OpCreate, 150))
	b := h.pub.waitBatches(t, 2) // so the empty last part has been seen
	h.src.waitTick(t)            // and a checkpoint tick since
	if p, _ := cp.get(); p.Pos != 4 {
		t.Fatalf("checkpoint %v before the part was acknowledged, want the start", p)
	}
	b[0].done(nil)
	waitFor(t, "checkpoint 100", func() bool { p, _ := cp.get(); return p.Pos == 100 })
	b[1].done(nil) // so that the relay stops without waiting
}

// Parts wait for room in the in-flight window: a transaction of any size
// holds at most the window (plus one part) in memory.
func TestRunPartsWaitForRoom(t *testing.T) {
	h := startRelay(t, &memCheckpoint{}, func(c *Config) { c.MaxInFlight = 2 })
	h.src.txs <- part(change("a", OpCreate, 10), change("a", OpCreate, 11))
	b := h.pub.waitBatches(t, 1)
	sent := make(chan struct{})
	go func() {
		h.src.txs <- part(change("a", OpCreate, 20))
		close(sent)
	}()
	<-sent
	waitParked(t, "relay.(*tracker).begin")
	if n := h.pub.count(); n != 1 {
		t.Fatalf("published %d parts with the window full", n)
	}
	b[0].done(nil)
	h.pub.waitBatches(t, 2)[1].done(nil) // so that the relay stops without waiting
}

// A last part without an end position is a broken source, not a part.
func TestRunRefusesLastPartWithoutEnd(t *testing.T) {
	h := startRelay(t, &memCheckpoint{}, nil)
	h.src.txs <- Transaction{Changes: []RowChange{change("a", OpCreate, 10)}}
	if err := h.wait(t); err == nil {
		t.Fatal("Run accepted a transaction without an end position")
	}
}

// The acknowledged commit time, which heartbeats carry while messages are
// in flight, never passes a transaction still being retried, whatever
// later ones were acknowledged.
func TestTrackerAckedCommitWaitsForEarlierTransactions(t *testing.T) {
	tr := newTracker(BinlogPosition{File: "b.1", Pos: 4}, 100)
	c1, c2 := time.Unix(100, 0), time.Unix(101, 0)
	p1, err := tr.begin(context.Background(), BinlogPosition{File: "b.1", Pos: 10}, c1, 1)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := tr.begin(context.Background(), BinlogPosition{File: "b.1", Pos: 20}, c2, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr.finish(p2, nil)
	if got := tr.ackedCommit(); !got.IsZero() {
		t.Fatalf("acked commit with the first transaction still in flight = %v, want zero", got)
	}
	tr.finish(p1, nil)
	if got := tr.ackedCommit(); !got.Equal(c2) {
		t.Fatalf("acked commit = %v, want %v", got, c2)
	}
}
