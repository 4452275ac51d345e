package kafka

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/app"
)

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The consumer's horizon follows the topics while it keeps up, stays at
// the last probe it had caught up with while its handler cannot run (a
// paused process, as far as the stream can tell) or the broker does not
// answer, and carries the source time read before that probe.
func TestConsumerHorizon(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(2), kfake.SeedTopics(2, "changes"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.DefaultProduceTopic("changes"))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produce := func(key string) {
		t.Helper()
		if err := prod.ProduceSync(context.Background(), &kgo.Record{Key: []byte(key), Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce("before")

	var (
		gate     sync.Mutex // held by the test to stop the handler
		handled  atomic.Int64
		sourceNs atomic.Int64 // the "source time" of the last record handled
	)
	c, err := NewConsumer(ConsumerConfig{
		Brokers: cluster.ListenAddrs(), Topics: []string{"changes"}, ProbeInterval: 20 * time.Millisecond,
		SourceTime: func() time.Time {
			if n := sourceNs.Load(); n != 0 {
				return time.Unix(0, n)
			}
			return time.Time{}
		},
	}, func(msgs []app.StreamRecord) {
		gate.Lock()
		defer gate.Unlock()
		handled.Add(int64(len(msgs)))
		sourceNs.Store(time.Now().UnixNano())
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	fresh := func(within time.Duration) func() bool {
		return func() bool {
			h := c.Horizon()
			return !h.Consumed.IsZero() && time.Since(h.Consumed) < within
		}
	}
	waitFor(t, "caught up and keeping up", fresh(500*time.Millisecond))
	if handled.Load() != 1 || !c.Status().CaughtUp {
		t.Fatalf("handled %d records, caught up %v", handled.Load(), c.Status().CaughtUp)
	}
	// The source time the handler reported is carried by the next probe.
	waitFor(t, "the handler's source time in the horizon", func() bool { return c.Horizon().Source.UnixNano() == sourceNs.Load() })

	// The handler stops (as if the process were paused): probes go on, see
	// the new record, and must not move the horizon.
	gate.Lock()
	produce("during")
	stuck := time.Now()
	waitFor(t, "a probe to see the backlog", func() bool { return c.State().LagRecords > 0 || handled.Load() > 1 })
	time.Sleep(300 * time.Millisecond)
	if h := c.Horizon(); h.Consumed.After(stuck) {
		t.Fatalf("horizon %v moved past %v with a record unconsumed", h.Consumed, stuck)
	}
	for _, p := range c.Status().Partitions {
		if p.LagRecords > 0 && p.CaughtUpAt.After(stuck) {
			t.Fatalf("partition %d with %d records behind caught up at %v, after the backlog began at %v", p.Partition, p.LagRecords, p.CaughtUpAt, stuck)
		}
	}
	gate.Unlock()
	waitFor(t, "the horizon to pass the backlog", func() bool { return c.Horizon().Consumed.After(stuck) })

	// The broker goes away: probes fail, the horizon stops.
	cluster.Close()
	waitFor(t, "a failed probe", func() bool { return c.State().ProbeError != nil })
	h := c.Horizon()
	time.Sleep(200 * time.Millisecond)
	if h2 := c.Horizon(); !h2.Consumed.Equal(h.Consumed) {
		t.Fatalf("horizon moved from %v to %v with the broker down", h.Consumed, h2.Consumed)
	}
}
