package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicEvent is the part of a change event the check needs. Values may
// come wrapped as {"schema":…,"payload":…} (JsonConverter with schemas).
type topicEvent struct {
	Op     string          `json:"op"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

type stockRow struct {
	P   int64 `json:"product_id"`
	W   int   `json:"warehouse_id"`
	Qty int64 `json:"qty_salable"`
}

type warehouseRow struct {
	ID     int             `json:"id"`
	Code   string          `json:"code"`
	Active json.RawMessage `json:"is_active"` // 0/1 from the relay, a boolean from Debezium
}

func (r warehouseRow) active() int {
	if a := string(r.Active); a == "1" || a == "true" {
		return 1
	}
	return 0
}

// topicCheck is what reading the topics back found.
type topicCheck struct {
	Records, Duplicates int
	Missing             []string // committed changes with no event
	Unknown             []string // events of no committed change
}

// checkTopics reads both change topics from the start to their end and
// matches every committed change of the history (the seed excepted: it was
// written before the relay started) with an event: a create or update
// with its value, a delete naming the value it deleted, a warehouse
// change with its code and activity.
func checkTopics(ctx context.Context, broker string, h *history) (topicCheck, error) {
	var tc topicCheck
	seen := map[string]int{}
	for _, topic := range []string{stockTopic, warehouseTopic} {
		err := readTopic(ctx, broker, topic, func(value []byte) error {
			if value == nil {
				return nil // a tombstone
			}
			tc.Records++
			key, err := eventKey(topic, value)
			if err != nil {
				return err
			}
			seen[key]++
			return nil
		})
		if err != nil {
			return tc, err
		}
	}
	want := map[string]bool{}
	for p := int64(1); p <= int64(h.products); p++ {
		for w := 1; w <= h.warehouses; w++ {
			for _, v := range h.row(p, w) {
				if v.Tx == 0 {
					continue
				}
				k := fmt.Sprintf("row p%d/w%d=%d", p, w, v.Seq)
				if !v.Live {
					k = fmt.Sprintf("delete p%d/w%d=%d", p, w, v.Prev)
				}
				want[k] = true
				if seen[k] == 0 {
					tc.Missing = append(tc.Missing, fmt.Sprintf("%s (tx %d, committed at %s)", k, v.Tx, at(v.Done)))
				}
			}
		}
	}
	for w := 1; w <= h.warehouses; w++ {
		for _, v := range h.whs[w-1] {
			if v.Tx == 0 {
				continue
			}
			k := fmt.Sprintf("warehouse %s active=%d", warehouseCode(w, v.Seq), b2i(v.Live))
			want[k] = true
			if seen[k] == 0 {
				tc.Missing = append(tc.Missing, fmt.Sprintf("%s (tx %d, committed at %s)", k, v.Tx, at(v.Done)))
			}
		}
	}
	for k, n := range seen {
		tc.Duplicates += n - 1
		if !want[k] {
			tc.Unknown = append(tc.Unknown, k)
		}
	}
	return tc, nil
}

// eventKey names the change an event carries, as checkTopics names
// committed changes.
func eventKey(topic string, value []byte) (string, error) {
	var wrapped struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(value, &wrapped); err == nil && len(wrapped.Payload) > 0 {
		value = wrapped.Payload
	}
	var e topicEvent
	if err := json.Unmarshal(value, &e); err != nil {
		return "", fmt.Errorf("decode event of %s: %w: %.200s", topic, err, value)
	}
	img := e.After
	if e.Op == "d" {
		img = e.Before
	}
	if topic == warehouseTopic {
		var r warehouseRow
		if err := json.Unmarshal(img, &r); err != nil {
			return "", fmt.Errorf("decode warehouse event %.200s: %w", value, err)
		}
		if e.Op == "d" {
			return fmt.Sprintf("warehouse %s deleted", r.Code), nil
		}
		return fmt.Sprintf("warehouse %s active=%d", r.Code, r.active()), nil
	}
	var r stockRow
	if err := json.Unmarshal(img, &r); err != nil {
		return "", fmt.Errorf("decode stock event %.200s: %w", value, err)
	}
	if e.Op == "d" {
		return fmt.Sprintf("delete p%d/w%d=%d", r.P, r.W, r.Qty), nil
	}
	return fmt.Sprintf("row p%d/w%d=%d", r.P, r.W, r.Qty), nil
}

// waitTopics waits until every topic has a record.
func waitTopics(ctx context.Context, broker string, timeout time.Duration, topics ...string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(timeout)
	for _, topic := range topics {
		for {
			ends, err := adm.ListEndOffsets(ctx, topic)
			var n int64
			if err == nil {
				ends.Each(func(o kadm.ListedOffset) { n += max(0, o.Offset) })
				if n > 0 {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("topic %s still empty after %s (%v)", topic, timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// readTopic calls fn with the value of every record of topic, from the
// first offset of each partition to the end it has when reading starts.
func readTopic(ctx context.Context, broker, topic string, fn func(value []byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	parts := map[int32]kgo.Offset{}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			parts[o.Partition] = kgo.NewOffset().AtStart()
			left[o.Partition] = o.Offset
		}
	})
	if len(parts) == 0 {
		return nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts})
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %w (partitions not read to the end: %v)", topic, err, left)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, e error) { ferr = e })
		if ferr != nil {
			return fmt.Errorf("read %s: %w", topic, ferr)
		}
		var fnErr error
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end || fnErr != nil {
				return
			}
			fnErr = fn(r.Value)
			if r.Offset == end-1 {
				delete(left, r.Partition)
			}
		})
		if fnErr != nil {
			return fnErr
		}
	}
	return nil
}
