package relay_test

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/internal/proctest"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/relay"
)

const (
	topicWarehouse = "gintoki.inventory.warehouse"
	topicStock     = "gintoki.inventory.warehouse_stock_item"
	partitions     = 6
)

// env is one test's database, broker, checkpoint file and log.
type env struct {
	srv        *mariadbtest.Server
	brokers    []string
	checkpoint string
	log        *slog.Logger
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(partitions))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cluster.Close)
	logs := &proctest.Buffer{} // the relay's goroutines write to it
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("relay log:\n%s", logs)
		}
	})
	return &env{
		srv:        mariadbtest.Start(tb),
		brokers:    cluster.ListenAddrs(),
		checkpoint: filepath.Join(tb.TempDir(), "relay", "checkpoint.json"),
		log:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// running is a relay started by start.
type running struct {
	cancel context.CancelFunc
	done   chan error
	pub    *kafka.Publisher
}

// start wires a relay as gintoki relay does and runs it in a goroutine
// that stop (or the test's cleanup) ends.
func (e *env) start(tb testing.TB) *running {
	tb.Helper()
	src, err := binlog.New(binlog.Config{
		Addr: e.srv.Addr(), User: "root", Database: "inventory",
		Tables: []string{"warehouse", "warehouse_stock_item"}, ServerID: 1001, Logger: e.log,
	})
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: e.brokers, Partitions: partitions, Logger: e.log})
	if err != nil {
		tb.Fatal(err)
	}
	r, err := relay.New(relay.Config{
		Source: src, Encoder: debezium.NewEncoder(""), Publisher: pub,
		Checkpoint: relay.NewFileCheckpoint(e.checkpoint), Logger: e.log,
		CheckpointInterval: 20 * time.Millisecond,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &running{cancel: cancel, done: make(chan error, 1), pub: pub}
	go func() { run.done <- r.Run(ctx) }()
	tb.Cleanup(func() { run.stop(tb) })
	return run
}

// stop stops the relay and returns what Run returned. Calling it again
// returns nil.
func (r *running) stop(tb testing.TB) error {
	tb.Helper()
	if r.done == nil {
		return nil
	}
	r.cancel()
	var err error
	select {
	case err = <-r.done:
	case <-time.After(30 * time.Second):
		tb.Fatal("relay did not stop")
	}
	r.done = nil
	r.pub.Close()
	return err
}

// waitStarted waits until the relay has saved its start position, so that
// every write from now on is after it.
func (e *env) waitStarted(tb testing.TB, r *running) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(e.checkpoint); err == nil {
			return
		}
		select {
		case err := <-r.done:
			tb.Fatalf("relay stopped before starting: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatal("relay did not save its start position")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// event is a record read back from the broker.
type event struct {
	topic     string
	partition int32
	key       string
	value     []byte // nil for a tombstone
	env       struct {
		Before map[string]any `json:"before"`
		After  map[string]any `json:"after"`
		Op     string         `json:"op"`
		Source struct {
			Name     string  `json:"name"`
			DB       string  `json:"db"`
			Table    string  `json:"table"`
			File     string  `json:"file"`
			Pos      uint64  `json:"pos"`
			Row      uint32  `json:"row"`
			GTID     *string `json:"gtid"`
			ServerID uint32  `json:"server_id"`
			TsMs     int64   `json:"ts_ms"`
			Snapshot string  `json:"snapshot"`
		} `json:"source"`
		TsMs int64 `json:"ts_ms"`
	}
}

// position orders the events of one key.
func (ev *event) position() string {
	s := ev.env.Source
	return fmt.Sprintf("%s/%020d/%010d", s.File, s.Pos, s.Row)
}

// consumer reads both topics from the start.
type consumer struct {
	cl     *kgo.Client
	events []*event
}

func newConsumer(tb testing.TB, e *env) *consumer {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...),
		kgo.ConsumeTopics(topicWarehouse, topicStock),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cl.Close)
	return &consumer{cl: cl}
}

// until polls until done holds for the events read so far.
func (c *consumer) until(tb testing.TB, what string, done func([]*event) bool) []*event {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !done(c.events) {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s; have %d events", what, len(c.events))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fs := c.cl.PollFetches(ctx)
		cancel()
		fs.EachError(func(topic string, p int32, err error) {
			if ctx.Err() == nil {
				tb.Logf("fetch %s/%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			ev := &event{topic: r.Topic, partition: r.Partition, key: string(r.Key), value: r.Value}
			if r.Value != nil {
				if err := json.Unmarshal(r.Value, &ev.env); err != nil {
					tb.Errorf("record %s: %v", r.Value, err)
				}
			}
			c.events = append(c.events, ev)
		})
	}
	return c.events
}

func count(topic string, n int) func([]*event) bool {
	return func(evs []*event) bool {
		k := 0
		for _, ev := range evs {
			if ev.topic == topic {
				k++
			}
		}
		return k >= n
	}
}

// writer applies numbered updates to a few stock rows, one transaction
// each, and remembers, per key, the quantities in commit order.
type writer struct {
	db   *sql.DB
	keys int
	want map[string][]string // key → qty_salable values in order
	next int
}

func newWriter(tb testing.TB, srv *mariadbtest.Server, keys int) *writer {
	tb.Helper()
	return &writer{db: srv.DB(tb, "inventory"), keys: keys, want: map[string][]string{}, next: 1}
}

// write commits n transactions. Every fifth touches two keys at once. It
// may run in a goroutine of its own, but not in two at once.
func (w *writer) write(ctx context.Context, n int) error {
	for range n {
		i := w.next
		w.next++
		ks := []int{i % w.keys}
		if i%5 == 0 {
			ks = append(ks, (i+1)%w.keys)
		}
		var stmts []string
		for _, k := range ks {
			key := fmt.Sprintf(`{"product_id":%d,"warehouse_id":1}`, 1000+k)
			if len(w.want[key]) == 0 {
				stmts = append(stmts, fmt.Sprintf("INSERT INTO warehouse_stock_item VALUES (%d, 1, %d)", 1000+k, i))
			} else {
				stmts = append(stmts, fmt.Sprintf("UPDATE warehouse_stock_item SET qty_salable = %d WHERE product_id = %d AND warehouse_id = 1", i, 1000+k))
			}
			w.want[key] = append(w.want[key], fmt.Sprint(i))
		}
		if _, err := w.db.ExecContext(ctx, "BEGIN; "+strings.Join(stmts, "; ")+"; COMMIT"); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
	}
	return nil
}

// total returns how many row changes w has written.
func (w *writer) total() int {
	n := 0
	for _, vs := range w.want {
		n += len(vs)
	}
	return n
}

// checkAtLeastOnceInOrder checks that every change w wrote is among the
// stock events, and that per key, once duplicates (a replay after a
// restart) are set aside, they come in commit order.
// It returns the number of duplicates.
func checkAtLeastOnceInOrder(tb testing.TB, w *writer, evs []*event) int {
	tb.Helper()
	type seen struct {
		last string
		all  map[string]string // position → qty
		vals []string
	}
	perKey := map[string]*seen{}
	dups := 0
	for _, ev := range evs {
		if ev.topic != topicStock || ev.value == nil {
			continue
		}
		s := perKey[ev.key]
		if s == nil {
			s = &seen{all: map[string]string{}}
			perKey[ev.key] = s
		}
		pos := ev.position()
		qty := fmt.Sprint(ev.env.After["qty_salable"])
		if cmp.Compare(pos, s.last) <= 0 {
			// A replay: must repeat something already delivered, unchanged.
			if prev, ok := s.all[pos]; !ok || prev != qty {
				tb.Errorf("key %s: event at %s (qty %s) arrives after %s and is not a duplicate", ev.key, pos, qty, s.last)
			}
			dups++
			continue
		}
		s.last, s.all[pos] = pos, qty
		s.vals = append(s.vals, qty)
	}
	for key, want := range w.want {
		got := []string(nil)
		if s := perKey[key]; s != nil {
			got = s.vals
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			tb.Errorf("key %s:\n got %v\nwant %v", key, got, want)
		}
	}
	tb.Logf("%d changes written, %d events read, %d duplicates", w.total(), len(evs), dups)
	return dups
}

func stockEvents(n int) func([]*event) bool {
	return func(evs []*event) bool {
		uniq := map[string]bool{}
		for _, ev := range evs {
			if ev.topic == topicStock && ev.value != nil {
				uniq[ev.key+ev.position()] = true
			}
		}
		return len(uniq) >= n
	}
}
