package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// node is one running `gintoki serve` in this process.
type node struct {
	http  string // base URL
	admin string // the admin address (host:port), "" without one
	grpc  inventoryv1.InventoryServiceClient
	conn  *grpc.ClientConn
	stop  func() error
}

// startBroker starts an in-process Kafka-protocol broker on a free port,
// with the change topics created.
func startBroker(tb testing.TB, partitions int32, topics ...string) string {
	tb.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(int(partitions)), kfake.AllowAutoTopicCreation())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), partitions, 1, nil, topics...); err != nil {
		tb.Fatal(err)
	}
	return addr
}

var testTopics = []string{"gintoki.inventory.warehouse_stock_item", "gintoki.inventory.warehouse"}

// startNode runs serve against db and broker on free ports until the test
// ends, and waits until it is ready.
func startNode(tb testing.TB, dsn, broker string, mutate ...func(*serveConfig)) *node {
	tb.Helper()
	return startNodeLogged(tb, nil, dsn, broker, mutate...)
}

// startNodeLogged is startNode with the node's warnings and errors also
// written to logs (when not nil).
func startNodeLogged(tb testing.TB, logs io.Writer, dsn, broker string, mutate ...func(*serveConfig)) *node {
	tb.Helper()
	n, cfg := launchNode(tb, logs, dsn, broker, mutate...)
	if dsn != "" && !cfg.NoCache {
		n.waitReady(tb)
	}
	return n
}

// launchNode is startNodeLogged without waiting for readiness. The node's
// warm start is off unless a mutation turns it on.
func launchNode(tb testing.TB, logs io.Writer, dsn, broker string, mutate ...func(*serveConfig)) (*node, serveConfig) {
	tb.Helper()
	cfg := serveConfig{
		HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", DBDSN: dsn, Database: "inventory",
		StockTable: "warehouse_stock_item", WarehouseTable: "warehouse", CacheBytes: 16 << 20,
		MaxBatch: 1000, FillQueries: 8, LoadTimeout: 2 * time.Second, Brokers: broker, TopicPrefix: "gintoki",
		MaxStaleness: 5 * time.Second, ReplayWindow: 10 * time.Second, ShutdownTimeout: time.Second,
		WarmTimeout: time.Minute, API: defaultAPIConfig(),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	if err := cfg.validate(); err != nil {
		tb.Fatal(err)
	}
	level := slog.LevelWarn
	if os.Getenv("GINTOKI_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	var out io.Writer = os.Stderr
	if logs != nil {
		out = io.MultiWriter(os.Stderr, logs)
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [3]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, log, func(h, g, a string) { addrs <- [3]string{h, g, a} })
	}()
	var a [3]string
	select {
	case a = <-addrs:
	case err := <-done:
		cancel()
		tb.Fatalf("serve exited: %v", err)
	}
	conn, err := grpc.NewClient(a[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	n := &node{http: "http://" + a[0], admin: a[2], grpc: inventoryv1.NewInventoryServiceClient(conn), conn: conn}
	stopped := false
	n.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		conn.Close()
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			return fmt.Errorf("serve did not stop within 15s")
		}
	}
	tb.Cleanup(func() {
		if err := n.stop(); err != nil {
			tb.Errorf("stop: %v", err)
		}
	})
	return n, cfg
}

func (n *node) waitReady(tb testing.TB) {
	tb.Helper()
	pollUntil(tb, 20*time.Second, func() (bool, string) {
		code, body := n.get(tb, "/readyz", nil)
		return code == 200, body
	})
}

// get does a GET and returns the status and body.
func (n *node) get(tb testing.TB, path string, hdr http.Header) (int, string) {
	tb.Helper()
	code, _, body := n.getFull(tb, path, hdr)
	return code, body
}

// getFull is get that also returns the response's header.
func (n *node) getFull(tb testing.TB, path string, hdr http.Header) (int, http.Header, string) {
	tb.Helper()
	req, _ := http.NewRequest("GET", n.http+path, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (n *node) post(tb testing.TB, path, body string) (int, string) {
	tb.Helper()
	resp, err := http.Post(n.http+path, "application/json", strings.NewReader(body))
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pollUntil polls cond until it holds or the timeout passes; the string is
// shown on failure.
func pollUntil(tb testing.TB, timeout time.Duration, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %s; last: %s", timeout, last)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inventoryFromSQL computes a product's expected JSON body from the
// database, independently of the service.
func inventoryFromSQL(tb testing.TB, db *mariadbtest.Server, id int64) (string, bool) {
	tb.Helper()
	h := db.DB(tb, "inventory")
	var n int
	if err := h.QueryRow("SELECT COUNT(*) FROM warehouse_stock_item WHERE product_id = ?", id).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	if n == 0 {
		return "", false
	}
	rows, err := h.Query(`SELECT w.code, s.qty_salable FROM warehouse_stock_item s JOIN warehouse w ON w.id = s.warehouse_id
		WHERE s.product_id = ? AND w.is_active = 1 ORDER BY w.code`, id)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	type wh struct {
		Code string `json:"warehouse_code"`
		Qty  int32  `json:"qty_salable"`
	}
	body := struct {
		ProductID  int64 `json:"product_id"`
		Warehouses []wh  `json:"warehouses"`
	}{ProductID: id, Warehouses: []wh{}}
	for rows.Next() {
		var w wh
		if err := rows.Scan(&w.Code, &w.Qty); err != nil {
			tb.Fatal(err)
		}
		body.Warehouses = append(body.Warehouses, w)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	b, _ := json.Marshal(body)
	return string(b), true
}

// seedSmall creates 4 warehouses (one inactive) and products 1..n stocked
// in 1–3 of them.
func seedSmall(tb testing.TB, db *mariadbtest.Server, n int) {
	tb.Helper()
	db.Exec(tb, `INSERT INTO warehouse VALUES (1,'WH-AMS',1),(2,'WH-BER',1),(3,'WH-CDG',0),(4,'WH-DUB',1)`)
	var b strings.Builder
	b.WriteString("INSERT INTO warehouse_stock_item VALUES ")
	first := true
	for p := 1; p <= n; p++ {
		for w := 1; w <= 1+p%3; w++ {
			if !first {
				b.WriteByte(',')
			}
			first = false
			fmt.Fprintf(&b, "(%d,%d,%d)", p, (p+w)%4+1, (p*7+w)%50)
		}
	}
	db.Exec(tb, b.String())
}

func httpGet(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
