package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/binlog"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/relay"
)

// restartableBroker is an in-process broker that keeps its data across
// restarts on the same port.
type restartableBroker struct {
	port int // 0 until the first start has bound one
	dir  string
	c    *kfake.Cluster
}

func newRestartableBroker(tb testing.TB, partitions int32, topics ...string) *restartableBroker {
	tb.Helper()
	b := &restartableBroker{dir: tb.TempDir()}
	b.start(tb) // binds a port of its own choosing: no free port to guess
	tb.Cleanup(func() { b.c.Close() })
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr()))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), partitions, 1, nil, topics...); err != nil {
		tb.Fatal(err)
	}
	return b
}

func (b *restartableBroker) addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

// start starts the broker: on port 0 the first time, then on the port that
// start bound, so that clients find it again after a restart.
func (b *restartableBroker) start(tb testing.TB) {
	tb.Helper()
	var err error
	for range 100 { // the port may take a moment to be free again
		b.c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(b.port), kfake.DataDir(b.dir), kfake.SyncWrites(), kfake.AllowAutoTopicCreation())
		if err == nil {
			if b.port == 0 {
				_, port, _ := net.SplitHostPort(b.c.ListenAddrs()[0])
				if b.port, err = strconv.Atoi(port); err != nil {
					tb.Fatal(err)
				}
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("start broker: %v", err)
}

func (b *restartableBroker) restart(tb testing.TB) {
	tb.Helper()
	b.c.Close()
	b.start(tb)
}

// relayProc is a relay running in this process.
type relayProc struct {
	stop func()
}

func startRelay(tb testing.TB, db *mariadbtest.Server, broker string, mutate ...func(*relayConfig)) *relayProc {
	tb.Helper()
	cfg := relayConfig{
		DBAddr: db.Addr(), DBUser: "root", Database: "inventory", Tables: "warehouse,warehouse_stock_item",
		ServerID: 1001, Brokers: broker, TopicPrefix: "gintoki", TopicPartitions: 3, CheckpointTopic: kafka.CheckpointDefaultTopic,
		LockTimeout: binlog.DefaultLockSessionTimeout,
		Heartbeat:   relay.DefaultHeartbeatInterval,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	if err := cfg.validate(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() { done <- relayUntilDone(ctx, cfg, log, nil) }()
	var once sync.Once
	r := &relayProc{stop: func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("relay: %v", err)
				}
			case <-time.After(20 * time.Second):
				tb.Errorf("relay did not stop within 20s")
			}
		})
	}}
	tb.Cleanup(r.stop)
	return r
}

// TestPipelineConverges runs the whole pipeline — real MariaDB, the relay,
// a broker over TCP, two nodes — under concurrent writes and reads, while
// the relay, the broker and one node restart. At the end every touched key
// on both nodes must equal the database, read from the cache.
func TestPipelineConverges(t *testing.T) {
	const products = 200
	db := mariadbtest.Start(t)
	seedSmall(t, db, products)
	broker := newRestartableBroker(t, 3, testTopics...)
	rel := startRelay(t, db, broker.addr())
	waitCheckpoint(t, broker.addr()) // the relay has a position: writes from now on are captured
	nodes := []*node{startNode(t, db.DSN("inventory"), broker.addr()), startNode(t, db.DSN("inventory"), broker.addr())}
	var nodesMu sync.Mutex // protects nodes[1] while it restarts

	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var writes atomic.Int64
	h := db.DB(t, "inventory")
	for w := range 3 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				p, wh := rnd.IntN(products+10)+1, rnd.IntN(4)+1
				var q string
				switch r := rnd.IntN(20); {
				case r < 12:
					q = fmt.Sprintf("UPDATE warehouse_stock_item SET qty_salable = %d WHERE product_id = %d AND warehouse_id = %d", rnd.IntN(1000), p, wh)
				case r < 16:
					q = fmt.Sprintf("INSERT INTO warehouse_stock_item VALUES (%d,%d,%d) ON DUPLICATE KEY UPDATE qty_salable = VALUES(qty_salable)", p, wh, rnd.IntN(1000))
				case r < 18:
					q = fmt.Sprintf("DELETE FROM warehouse_stock_item WHERE product_id = %d AND warehouse_id = %d", p, wh)
				case r < 19: // a primary-key change: delete + create in the stream
					q = fmt.Sprintf("UPDATE IGNORE warehouse_stock_item SET warehouse_id = %d WHERE product_id = %d AND warehouse_id = %d", rnd.IntN(4)+1, p, wh)
				default:
					q = fmt.Sprintf("UPDATE warehouse SET is_active = 1 - is_active WHERE id = %d", wh)
				}
				if _, err := h.ExecContext(ctx, q); err != nil && ctx.Err() == nil {
					t.Errorf("write: %v", err)
					return
				}
				writes.Add(1)
			}
		})
	}
	for r := range 4 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(r), 11))
			for ctx.Err() == nil {
				nodesMu.Lock()
				n := nodes[rnd.IntN(2)]
				nodesMu.Unlock()
				resp, err := httpGet(ctx, n.http+fmt.Sprintf("/v1/products/%d/inventory", rnd.IntN(products+10)+1))
				if err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	pause := func() { time.Sleep(300 * time.Millisecond) } // let writes and reads run between disruptions
	pause()
	rel.stop()
	pause()
	saved := checkpointEnd(t, broker.addr())
	startRelay(t, db, broker.addr()) // stopped at the test's end
	// The new relay reads its checkpoint once, as it starts, and a read that
	// fails stops it: restart the broker only once it relays (it has saved a
	// position since), however long a loaded machine takes to get there.
	waitCheckpointPast(t, broker.addr(), saved)
	pause()
	broker.restart(t)
	pause()
	nodesMu.Lock()
	old := nodes[1]
	nodesMu.Unlock()
	if err := old.stop(); err != nil {
		t.Fatal(err)
	}
	fresh := startNode(t, db.DSN("inventory"), broker.addr())
	nodesMu.Lock()
	nodes[1] = fresh
	nodesMu.Unlock()
	// Every key cached on both nodes while the writes go on, so the final
	// check reads entries that were kept fresh by the stream.
	for _, n := range nodes {
		for id := 1; id <= products+10; id++ {
			n.get(t, fmt.Sprintf("/v1/products/%d/inventory", id), nil)
		}
	}
	pause()
	stopLoad()
	wg.Wait()
	if writes.Load() < 100 {
		t.Fatalf("only %d writes", writes.Load())
	}
	t.Logf("%d writes", writes.Load())

	for i, n := range nodes {
		missesBefore := scrape(t, n, "gintoki_cache_misses_total")
		for id := int64(1); id <= products+10; id++ {
			want, exists := inventoryFromSQL(t, db, id)
			path := fmt.Sprintf("/v1/products/%d/inventory", id)
			pollUntil(t, 10*time.Second, func() (bool, string) {
				code, body := n.get(t, path, nil)
				if !exists {
					return code == 404, fmt.Sprintf("node %d product %d: %d %s, want 404", i, id, code, body)
				}
				return code == 200 && body == want, fmt.Sprintf("node %d product %d: %d %s\nwant %s", i, id, code, body, want)
			})
		}
		// The check must have read the cache, not just the database.
		if misses := scrape(t, n, "gintoki_cache_misses_total") - missesBefore; misses > products/10 {
			t.Errorf("node %d: %v of %d final reads missed the cache: the check did not test cached entries", i, misses, products+10)
		}
	}
}

// waitCheckpoint waits until a relay has saved a position in the broker's
// checkpoint topic.
func waitCheckpoint(tb testing.TB, broker string, opts ...kgo.Opt) {
	tb.Helper()
	waitCheckpointPast(tb, broker, 0, opts...)
}

// waitCheckpointPast waits until the checkpoint topic's end offset is
// past end: a relay has saved a position since checkpointEnd said end.
func waitCheckpointPast(tb testing.TB, broker string, end int64, opts ...kgo.Opt) {
	tb.Helper()
	adm := adminClient(tb, broker, opts...)
	pollUntil(tb, 20*time.Second, func() (bool, string) {
		o, err := checkpointOffset(adm)
		return err == nil && o > end, fmt.Sprintf("checkpoint topic's end offset %d, want past %d (%v)", o, end, err)
	})
}

// checkpointEnd returns the checkpoint topic's end offset (0 while it does
// not exist).
func checkpointEnd(tb testing.TB, broker string, opts ...kgo.Opt) int64 {
	tb.Helper()
	o, err := checkpointOffset(adminClient(tb, broker, opts...))
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

// adminClient returns an admin client of broker, closed when the test ends.
func adminClient(tb testing.TB, broker string, opts ...kgo.Opt) *kadm.Client {
	tb.Helper()
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(broker))...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// checkpointOffset asks the broker for the checkpoint topic's end offset.
func checkpointOffset(adm *kadm.Client) (int64, error) {
	ends, err := adm.ListEndOffsets(context.Background(), kafka.CheckpointDefaultTopic)
	if err != nil {
		return 0, err
	}
	o, ok := ends.Lookup(kafka.CheckpointDefaultTopic, 0)
	if !ok || errors.Is(o.Err, kerr.UnknownTopicOrPartition) {
		return 0, nil
	}
	return o.Offset, o.Err
}

// scrape returns the value of an unlabelled metric.
func scrape(tb testing.TB, n *node, name string) float64 {
	tb.Helper()
	_, body := n.get(tb, "/metrics", nil)
	return metricValue(tb, body, name)
}

// metricValue returns the value of an unlabelled metric in a /metrics body.
func metricValue(tb testing.TB, body, name string) float64 {
	tb.Helper()
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return v
		}
	}
	tb.Fatalf("metric %s not found", name)
	return 0
}

// A node whose change topics do not exist yet (no change was ever
// relayed) is ready, and picks the topics up when the first changes create
// them.
func TestNodeBeforeTopicsExist(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 10)
	broker := newRestartableBroker(t, 3) // no topics
	n := startNode(t, db.DSN("inventory"), broker.addr())
	if code, body := n.get(t, "/v1/products/1/inventory", nil); code != 200 {
		t.Fatalf("read = %d %s", code, body)
	}
	startRelay(t, db, broker.addr())
	waitCheckpoint(t, broker.addr())
	db.Exec(t, "UPDATE warehouse_stock_item SET qty_salable = 4242 WHERE product_id = 1")
	db.Exec(t, "UPDATE warehouse SET code = 'WH-ZZZ' WHERE id = 2")
	want, _ := inventoryFromSQL(t, db, 1)
	pollUntil(t, 15*time.Second, func() (bool, string) {
		_, body := n.get(t, "/v1/products/1/inventory", nil)
		return body == want, body + " want " + want
	})
}
