package relay

import (
	"errors"
	"testing"
	"time"
)

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
