package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/internal/kafkatest"
	"github.com/gintoki/gintoki/relay"
)

func publisherTestCluster(tb testing.TB) *kfake.Cluster {
	tb.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

func publisherTestPublish(tb testing.TB, p *Publisher, msgs ...relay.BrokerRecord) error {
	tb.Helper()
	done := make(chan error, 2) // 2: a second call would be a bug to report, not a hang
	p.Publish(context.Background(), msgs, func(err error) { done <- err })
	select {
	case err := <-done:
		select {
		case err2 := <-done:
			tb.Fatalf("done called twice (%v, then %v)", err, err2)
		default:
		}
		return err
	case <-time.After(15 * time.Second):
		tb.Fatal("publish not acknowledged")
		return nil
	}
}

func TestPublisher(t *testing.T) {
	cluster := publisherTestCluster(t)
	ctx := context.Background()
	admin, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	// One topic exists already with another partition count: that is fine.
	if _, err := adm.CreateTopic(ctx, 2, -1, nil, "cdc.db.existing"); err != nil {
		t.Fatal(err)
	}

	p, err := NewPublisher(PublisherConfig{Brokers: cluster.ListenAddrs(), Partitions: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	var msgs []relay.BrokerRecord
	for i := range 20 {
		key := fmt.Sprintf(`{"id":%d}`, i%5)
		msgs = append(msgs, relay.BrokerRecord{Topic: "cdc.db.items", Key: []byte(key), Value: []byte(fmt.Sprint(i))})
	}
	msgs = append(msgs,
		relay.BrokerRecord{Topic: "cdc.db.items", Key: []byte(`{"id":0}`)}, // tombstone
		relay.BrokerRecord{Topic: "cdc.db.existing", Key: []byte(`{"id":9}`), Value: []byte("x")},
	)
	if err := publisherTestPublish(t, p, msgs...); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := publisherTestPublish(t, p); err != nil {
		t.Fatalf("publish of nothing: %v", err)
	}

	details, err := adm.ListTopics(ctx, "cdc.db.items", "cdc.db.existing")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(details["cdc.db.items"].Partitions); n != 6 {
		t.Errorf("created topic has %d partitions, want 6", n)
	}
	if n := len(details["cdc.db.existing"].Partitions); n != 2 {
		t.Errorf("existing topic has %d partitions, want 2 (untouched)", n)
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...),
		kgo.ConsumeTopics("cdc.db.items"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got []*kgo.Record
	pollCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for len(got) < 21 {
		fs := consumer.PollFetches(pollCtx)
		if err := pollCtx.Err(); err != nil {
			t.Fatalf("consumed %d records, want 21: %v", len(got), err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, r) })
	}
	last := map[string]int{} // key → value of the last record seen, per-key order check
	for _, r := range got {
		want := kafkatest.Partition(r.Key, 6)
		if r.Partition != want {
			t.Errorf("key %s in partition %d, want %d (murmur2)", r.Key, r.Partition, want)
		}
		if r.Value == nil {
			if string(r.Key) != `{"id":0}` {
				t.Errorf("unexpected tombstone for %s", r.Key)
			}
			continue
		}
		var v int
		fmt.Sscan(string(r.Value), &v)
		if prev, ok := last[string(r.Key)]; ok && v <= prev {
			t.Errorf("key %s: value %d after %d", r.Key, v, prev)
		}
		last[string(r.Key)] = v
	}
}

func TestPublisherReportsFailure(t *testing.T) {
	cluster := publisherTestCluster(t)
	p, err := NewPublisher(PublisherConfig{Brokers: cluster.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// franz-go fails a record too large for any batch at once.
	err = publisherTestPublish(t, p,
		relay.BrokerRecord{Topic: "cdc.db.t", Key: []byte("k"), Value: []byte("fine")},
		relay.BrokerRecord{Topic: "cdc.db.t", Key: []byte("k"), Value: make([]byte, 2<<20)},
	)
	if err == nil {
		t.Fatal("publish of an oversized record succeeded")
	}
	t.Logf("publish error: %v", err)
}

func TestNewPublisherNeedsBrokers(t *testing.T) {
	if _, err := NewPublisher(PublisherConfig{}); err == nil {
		t.Fatal("NewPublisher with no brokers succeeded")
	}
}
