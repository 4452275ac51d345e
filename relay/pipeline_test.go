package relay

import (
	"testing"
	"time"
)

// gatedEncoder is fakeEncoder that, for changes of table "slow", signals
// entered and then waits until gate is closed: a publishing stage busy
// encoding while the reading stage goes on.
type gatedEncoder struct {
	fakeEncoder
	entered chan struct{}
	gate    chan struct{}
}

func (e gatedEncoder) Append(msgs []BrokerRecord, c RowChange) ([]BrokerRecord, error) {
	if c.Table == "slow" {
		e.entered <- struct{}{}
		<-e.gate
	}
	return e.fakeEncoder.Append(msgs, c)
}

// A transaction the reading stage has handed on but the publishing stage
// has not yet published counts as in flight: the stream already counts it
// in its caught-up time, so a heartbeat then would claim a change the
// broker does not have.
func TestRunHeartbeatWaitsForTransactionsReadAhead(t *testing.T) {
	enc := gatedEncoder{entered: make(chan struct{}, 1), gate: make(chan struct{})}
	h := startRelay(t, &memCheckpoint{}, func(c *Config) {
		c.HeartbeatInterval = 2 * time.Millisecond
		c.CheckpointInterval = time.Hour // every tick that asks CaughtUpAt is a heartbeat's
		c.Encoder = enc
	})
	var opened bool
	open := func() {
		if !opened {
			opened = true
			close(enc.gate)
		}
	}
	t.Cleanup(open) // before the relay's own cleanup, which waits for it to stop
	waitFor(t, "the stream to open", h.r.Stats().Streaming)
	h.src.txs <- tx(100, change("slow", OpCreate, 50))
	<-enc.entered
	h.src.txs <- tx(200, change("a", OpCreate, 150)) // read ahead, waiting in the pipeline
	t1 := time.Now()
	h.src.setCaughtUp(t1) // as the stream says once Next is called again
	h.src.waitTick(t)     // a whole heartbeat tick saw the news
	if n := h.pub.count(); n != 0 {
		t.Fatalf("%d batches while both transactions are unpublished, want none (no heartbeat)", n)
	}
	open()
	b := h.pub.waitBatches(t, 2)
	if b[0].msgs[0].Topic != "t.slow" || b[1].msgs[0].Topic != "t.a" {
		t.Fatalf("published %s then %s, want read order", b[0].msgs[0].Topic, b[1].msgs[0].Topic)
	}
	h.src.waitTick(t) // a whole heartbeat tick saw the news
	if n := h.pub.count(); n != 2 {
		t.Fatalf("%d batches while both transactions are in flight, want 2", n)
	}
	b[1].done(nil)
	b[0].done(nil)
	b = h.pub.waitBatches(t, 3)
	if m := b[2].msgs[0]; m.Topic != "heartbeat" || string(m.Value) != t1.Format(time.RFC3339Nano) {
		t.Fatalf("third batch %s %s, want a heartbeat at %v", m.Topic, m.Value, t1)
	}
}
