package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/internal/kafkatest"
	"github.com/gintoki/gintoki/internal/mariadbtest"
	"github.com/gintoki/gintoki/kafka"
)

// TestRelayFailover runs two relay processes, two nodes and the broker
// (with TLS and SASL SCRAM) under writes and reads throughout. It SIGKILLs the leading relay,
// deletes its working directory, starts a new relay in a clean one, and
// SIGKILLs the new leader again; then it pauses the third leader
// (SIGSTOP) until a fourth relay takes over, and lets it run again: it must
// stand by. Afterwards every node's cached answer
// equals the database, none is marked stale, and old events published
// again (as a fenced leader's late messages would be) change nothing.
// It reports the takeover times.
func TestRelayFailover(t *testing.T) {
	const products = 150
	db := mariadbtest.Start(t)
	seedSmall(t, db, products)
	// The broker requires TLS and SASL, as managed Kafka does.
	certs := kafkatest.NewCerts(t)
	const user, pass = "gintoki", "failover-secret"
	broker := secureBroker(t, certs, user, pass)
	sec, err := kafka.SecurityConfig{CAFile: certs.CAFile, SASLMechanism: kafka.SASLScramSHA256, SASLUser: user, SASLPassword: pass}.ClientOptions()
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	relayEnv := []string{envKafkaPassword + "=" + pass}
	relayFlags := []string{"--kafka-tls-ca-file", certs.CAFile, "--kafka-sasl-mechanism", kafka.SASLScramSHA256, "--kafka-sasl-user", user}
	startRelay := func(name string) *relayProcess {
		return startRelayProcess(t, bin, name, db, broker, relayEnv, relayFlags...)
	}
	secureNode := func(c *serveConfig) {
		c.Kafka = kafkaFlags{CAFile: certs.CAFile, SASLMechanism: kafka.SASLScramSHA512, SASLUser: user}
		c.Kafka.resolve(func(k string) (string, bool) { return pass, k == envKafkaPassword })
	}

	a := startRelay("relay-a")
	a.waitRole(t, "leader", 30*time.Second)
	b := startRelay("relay-b")
	b.waitRole(t, "standby", 30*time.Second)
	nodes := []*node{startNode(t, db.DSN("inventory"), broker, secureNode), startNode(t, db.DSN("inventory"), broker, secureNode)}
	for _, n := range nodes { // every key cached: a missed change would leave it stale
		for id := 1; id <= products+10; id++ {
			n.get(t, fmt.Sprintf("/v1/products/%d/inventory", id), nil)
		}
	}

	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var writes atomic.Int64
	h := db.DB(t, "inventory")
	for w := range 2 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 3))
			for ctx.Err() == nil {
				p, wh := rnd.IntN(products+10)+1, rnd.IntN(4)+1
				var q string
				switch r := rnd.IntN(10); {
				case r < 6:
					q = fmt.Sprintf("UPDATE warehouse_stock_item SET qty_salable = %d WHERE product_id = %d AND warehouse_id = %d", rnd.IntN(1000), p, wh)
				case r < 8:
					q = fmt.Sprintf("INSERT INTO warehouse_stock_item VALUES (%d,%d,%d) ON DUPLICATE KEY UPDATE qty_salable = VALUES(qty_salable)", p, wh, rnd.IntN(1000))
				default:
					q = fmt.Sprintf("DELETE FROM warehouse_stock_item WHERE product_id = %d AND warehouse_id = %d", p, wh)
				}
				if _, err := h.ExecContext(ctx, q); err != nil && ctx.Err() == nil {
					t.Errorf("write: %v", err)
					return
				}
				writes.Add(1)
				time.Sleep(time.Millisecond) // a steady stream, not a flood
			}
		})
	}
	wg.Go(func() {
		rnd := rand.New(rand.NewPCG(9, 9))
		for ctx.Err() == nil {
			resp, err := httpGet(ctx, nodes[rnd.IntN(2)].http+fmt.Sprintf("/v1/products/%d/inventory", rnd.IntN(products+10)+1))
			if err == nil {
				resp.Body.Close()
			}
		}
	})
	// Never two leaders at once, as /readyz tells.
	relays := []*relayProcess{a, b}
	var relaysMu sync.Mutex // guards relays
	wg.Go(func() {
		for ctx.Err() == nil {
			relaysMu.Lock()
			rs := append([]*relayProcess(nil), relays...)
			relaysMu.Unlock()
			leaders := 0
			for _, r := range rs {
				if r.role() == "leader" {
					leaders++
				}
			}
			if leaders > 1 {
				t.Errorf("%d relays say they lead", leaders)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	pause := func() { time.Sleep(time.Second) }

	pause()
	killed := time.Now()
	a.kill(t)
	b.waitRole(t, "leader", 30*time.Second)
	takeover1 := time.Since(killed)
	if err := os.RemoveAll(a.dir); err != nil {
		t.Fatal(err)
	}
	c := startRelay("relay-c")
	c.waitRole(t, "standby", 30*time.Second)
	relaysMu.Lock()
	relays = []*relayProcess{b, c}
	relaysMu.Unlock()
	pause()
	killed = time.Now()
	b.kill(t)
	c.waitRole(t, "leader", 30*time.Second)
	takeover2 := time.Since(killed)
	pause()

	// A leader that stops answering without dying (SIGSTOP: a paused VM, a
	// network cut): the database drops its silent session after
	// --failover-timeout and a standby takes over; when it runs again it
	// must find its lease lost and stand by.
	d := startRelay("relay-d")
	d.waitRole(t, "standby", 30*time.Second)
	relaysMu.Lock()
	relays = []*relayProcess{c, d}
	relaysMu.Unlock()
	if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	d.waitRole(t, "leader", 30*time.Second)
	takeover3 := time.Since(paused)
	if err := c.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	c.waitRole(t, "standby", 30*time.Second)
	pause()
	stopLoad()
	wg.Wait()
	t.Logf("%d writes; takeover after SIGKILL of the leader: %v (a → b), %v (b → c, a relay on a clean directory); after SIGSTOP of the leader: %v (c → d; --failover-timeout 5s)",
		writes.Load(), takeover1.Round(time.Millisecond), takeover2.Round(time.Millisecond), takeover3.Round(time.Millisecond))
	for i, d := range []time.Duration{takeover1, takeover2, takeover3} {
		if d > 10*time.Second {
			t.Errorf("takeover %d took %v, bound 10s", i+1, d)
		}
	}
	if writes.Load() < 100 {
		t.Fatalf("only %d writes", writes.Load())
	}

	checkConverged := func(what string) {
		t.Helper()
		for i, n := range nodes {
			for id := int64(1); id <= products+10; id++ {
				want, exists := inventoryFromSQL(t, db, id)
				path := fmt.Sprintf("/v1/products/%d/inventory", id)
				pollUntil(t, 15*time.Second, func() (bool, string) {
					resp, err := httpGet(context.Background(), n.http+path)
					if err != nil {
						return false, err.Error()
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					code, body := resp.StatusCode, string(b)
					if err != nil {
						return false, err.Error()
					}
					if stale := resp.Header.Get("X-Gintoki-Stale"); stale != "" {
						return false, fmt.Sprintf("%s: node %d product %d marked stale", what, i, id)
					}
					if !exists {
						return code == 404, fmt.Sprintf("%s: node %d product %d: %d %s, want 404", what, i, id, code, body)
					}
					return code == 200 && body == want, fmt.Sprintf("%s: node %d product %d: %d %s\nwant %s", what, i, id, code, body, want)
				})
			}
		}
	}
	checkConverged("after failovers")

	// A fenced leader's late messages are old events arriving after newer
	// ones. Publish the oldest event of many keys again: no answer moves.
	before := make([]float64, len(nodes))
	for i, n := range nodes {
		before[i] = scrape(t, n, "gintoki_changes_total")
	}
	dups := republishOldest(t, broker, "gintoki.inventory.warehouse_stock_item", 50, sec...)
	for i, n := range nodes {
		pollUntil(t, 15*time.Second, func() (bool, string) {
			got := scrape(t, n, "gintoki_changes_total") - before[i]
			return got >= float64(dups), fmt.Sprintf("node %d consumed %v of %d duplicates", i, got, dups)
		})
	}
	t.Logf("%d old events published again", dups)
	checkConverged("after late duplicates")
}

// republishOldest publishes again the oldest non-tombstone record of up to
// n keys of topic, unchanged, and returns how many it published.
func republishOldest(tb testing.TB, broker, topic string, n int, opts ...kgo.Opt) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		tb.Fatal(err)
	}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	seen := map[string]bool{}
	var oldest []*kgo.Record
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			tb.Fatal("reading the topic timed out")
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Value != nil && !seen[string(r.Key)] && len(oldest) < n {
				seen[string(r.Key)] = true
				oldest = append(oldest, &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value})
			}
			if r.Offset+1 >= remaining[r.Partition] {
				delete(remaining, r.Partition)
			}
		})
	}
	if err := cl.ProduceSync(ctx, oldest...).FirstErr(); err != nil {
		tb.Fatal(err)
	}
	return len(oldest)
}
