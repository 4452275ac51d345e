package kafka

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/relay"
)

func checkpointTestNew(tb testing.TB, brokers []string, key string) *Checkpoint {
	tb.Helper()
	c, err := NewCheckpoint(CheckpointConfig{Brokers: brokers, Key: key})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

func checkpointTestLoad(tb testing.TB, c *Checkpoint) relay.BinlogPosition {
	tb.Helper()
	p, err := c.Load(context.Background())
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return p
}

// The position lives in the broker: a new Checkpoint, as a relay on a new
// machine would make, loads the last one saved under its key, and nothing
// saved under another key; Reset forgets it.
func TestCheckpointInBroker(t *testing.T) {
	cluster := publisherTestCluster(t)
	brokers := cluster.ListenAddrs()
	ctx := context.Background()

	first := checkpointTestNew(t, brokers, "gintoki")
	if p := checkpointTestLoad(t, first); !p.IsZero() {
		t.Fatalf("Load on an empty topic = %v, want no position", p)
	}
	for _, p := range []relay.BinlogPosition{{File: "mysql-bin.000001", Pos: 400}, {File: "mysql-bin.000002", Pos: 4}, {File: "mysql-bin.000002", Pos: 9000}} {
		if err := first.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	other := checkpointTestNew(t, brokers, "other-db")
	if err := other.Save(ctx, relay.BinlogPosition{File: "x-bin.000009", Pos: 1}); err != nil {
		t.Fatal(err)
	}

	fresh := checkpointTestNew(t, brokers, "gintoki")
	if p, want := checkpointTestLoad(t, fresh), (relay.BinlogPosition{File: "mysql-bin.000002", Pos: 9000}); p != want {
		t.Fatalf("a new relay loads %v, want %v", p, want)
	}
	if p := checkpointTestLoad(t, checkpointTestNew(t, brokers, "other-db")); p.Pos != 1 {
		t.Fatalf("other key loads %v", p)
	}

	// The topic is compacted, with one partition.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	cfgs, err := adm.DescribeTopicConfigs(ctx, CheckpointDefaultTopic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfgs.On(CheckpointDefaultTopic, nil)
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.Value != nil {
			policy = *c.Value
		}
	}
	if policy != "compact" {
		t.Errorf("cleanup.policy = %q, want compact", policy)
	}

	if err := fresh.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if p := checkpointTestLoad(t, checkpointTestNew(t, brokers, "gintoki")); !p.IsZero() {
		t.Fatalf("Load after Reset = %v, want no position", p)
	}
}

// A record that is not a position is an error, not a silent start at the
// end of the binlog.
func TestCheckpointRejectsGarbage(t *testing.T) {
	cluster := publisherTestCluster(t)
	c := checkpointTestNew(t, cluster.ListenAddrs(), "gintoki")
	checkpointTestLoad(t, c) // creates the topic
	if err := c.produce(context.Background(), []byte(`{"pos": 5}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "names no binlog file") {
		t.Fatalf("Load = %v, want an error naming the problem", err)
	}
	if err := c.produce(context.Background(), []byte(`not json`)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(context.Background()); err == nil {
		t.Fatal("Load accepted a record that is not JSON")
	}
}

func TestNewCheckpointNeedsBrokersAndKey(t *testing.T) {
	if _, err := NewCheckpoint(CheckpointConfig{Key: "k"}); err == nil {
		t.Error("no brokers accepted")
	}
	if _, err := NewCheckpoint(CheckpointConfig{Brokers: []string{"127.0.0.1:1"}}); err == nil {
		t.Error("no key accepted")
	}
}
