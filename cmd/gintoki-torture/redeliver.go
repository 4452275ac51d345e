package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The change topics the relay publishes to (prefix gintoki, database
// inventory).
const (
	stockTopic     = "gintoki.inventory.warehouse_stock_item"
	warehouseTopic = "gintoki.inventory.warehouse"
	heartbeatTopic = "__debezium-heartbeat.gintoki"
)

// redeliver re-publishes up to 200 of the latest records of one partition
// of a change topic, unchanged and to the same partition, as an
// at-least-once producer does after a lost acknowledgement (or a consumer
// after a rewind). It returns what it did.
func redeliver(ctx context.Context, broker string, rng *rand.Rand, partitions int) (string, error) {
	topic := stockTopic
	if rng.IntN(4) == 0 {
		topic = warehouseTopic
	}
	part := int32(rng.IntN(partitions))
	want := 1 + rng.Int64N(200)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		return "", fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	recs, err := readRange(ctx, cl, topic, part, want)
	if err != nil {
		return "", err
	}
	for _, r := range recs {
		r.Topic, r.Partition, r.Offset = topic, part, 0
		r.Timestamp = time.Time{}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return "", fmt.Errorf("re-publish: %w", err)
	}
	return fmt.Sprintf("re-published %d records of %s[%d]", len(recs), topic, part), nil
}

// readRange reads the last want records of one partition (fewer if it
// has fewer), as fresh records ready to be produced again.
func readRange(ctx context.Context, cl *kgo.Client, topic string, part int32, want int64) ([]*kgo.Record, error) {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	o, ok := ends.Lookup(topic, part)
	if !ok || o.Err != nil {
		return nil, fmt.Errorf("end offset of %s[%d]: %v", topic, part, o.Err)
	}
	end := o.Offset
	start := max(0, end-want)
	if start >= end {
		return nil, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {part: kgo.NewOffset().At(start)}})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: {part}})
	var out []*kgo.Record
	for int64(len(out)) < end-start {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s[%d] %d..%d: %w", topic, part, start, end, err)
		}
		fs.EachError(func(_ string, _ int32, e error) { err = e })
		if err != nil {
			return nil, fmt.Errorf("read %s[%d]: %w", topic, part, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < end {
				out = append(out, &kgo.Record{Key: r.Key, Value: r.Value, Headers: r.Headers})
			}
		})
	}
	return out, nil
}
