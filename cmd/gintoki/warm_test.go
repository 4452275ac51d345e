package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/internal/mariadbtest"
)

// allFromSQL computes every product's expected JSON body from the
// database, independently of the service (products without rows are
// absent).
func allFromSQL(tb testing.TB, db *mariadbtest.Server) map[int64]string {
	tb.Helper()
	rows, err := db.DB(tb, "inventory").Query(`SELECT s.product_id, w.code, s.qty_salable, w.is_active
		FROM warehouse_stock_item s JOIN warehouse w ON w.id = s.warehouse_id ORDER BY s.product_id, w.code`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	type wh struct {
		Code string `json:"warehouse_code"`
		Qty  int32  `json:"qty_salable"`
	}
	type body struct {
		ProductID  int64 `json:"product_id"`
		Warehouses []wh  `json:"warehouses"`
	}
	bodies := map[int64]*body{}
	for rows.Next() {
		var (
			id     int64
			w      wh
			active bool
		)
		if err := rows.Scan(&id, &w.Code, &w.Qty, &active); err != nil {
			tb.Fatal(err)
		}
		b := bodies[id]
		if b == nil {
			b = &body{ProductID: id, Warehouses: []wh{}}
			bodies[id] = b
		}
		if active {
			b.Warehouses = append(b.Warehouses, w)
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	out := make(map[int64]string, len(bodies))
	for id, b := range bodies {
		j, _ := json.Marshal(b)
		out[id] = string(j)
	}
	return out
}

// cachedBodies reads products 1..n from the node in batches and returns
// the found ones' bodies by id.
func cachedBodies(tb testing.TB, n *node, products int) map[int64]string {
	tb.Helper()
	out := make(map[int64]string, products)
	for lo := 1; lo <= products; lo += 1000 {
		ids := make([]string, 0, 1000)
		for id := lo; id < lo+1000 && id <= products; id++ {
			ids = append(ids, strconv.Itoa(id))
		}
		code, body := n.post(tb, "/v1/inventory:batchGet", `{"product_ids":[`+strings.Join(ids, ",")+`]}`)
		if code != 200 {
			tb.Fatalf("batchGet = %d %s", code, body)
		}
		var res struct {
			Products []json.RawMessage `json:"products"`
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			tb.Fatal(err)
		}
		for _, p := range res.Products {
			var id struct {
				ProductID int64 `json:"product_id"`
			}
			if err := json.Unmarshal(p, &id); err != nil {
				tb.Fatal(err)
			}
			out[id.ProductID] = string(p)
		}
	}
	return out
}

// diff describes the first differences between the node's bodies and the
// database's ("" if none).
func diff(got, want map[int64]string) string {
	var d []string
	for id, w := range want {
		if got[id] != w {
			d = append(d, fmt.Sprintf("product %d: %s, want %s", id, got[id], w))
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			d = append(d, fmt.Sprintf("product %d: %s, want not found", id, g))
		}
	}
	slices.Sort(d)
	if len(d) > 3 {
		d = append(d[:3], fmt.Sprintf("… %d differences", len(d)))
	}
	return strings.Join(d, "\n")
}

// A node warming every product while rows are UPDATEd, inserted and
// deleted, and warehouses switched on and off, ends ready with every
// product cached and equal to the database: the changes consumed during
// the warm were applied on top of its snapshots or made them wait for a
// later one (docs/consistency.md, "Warm start").
func TestWarmUnderWrites(t *testing.T) {
	const products = 5000
	db := mariadbtest.Start(t)
	seedSmall(t, db, products)
	broker := newRestartableBroker(t, 3, testTopics...)
	startRelay(t, db, broker.addr())
	waitCheckpoint(t, broker.addr())

	ctx, stopWrites := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var writes atomic.Int64
	h := db.DB(t, "inventory")
	for w := range 2 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 3))
			for ctx.Err() == nil {
				// Most writes land on products the warm has not reached yet,
				// is loading, or has just loaded, so they race with it.
				p, wh := rnd.IntN(products)+1, rnd.IntN(4)+1
				var q string
				switch r := rnd.IntN(40); {
				case r < 30:
					q = fmt.Sprintf("UPDATE warehouse_stock_item SET qty_salable = %d WHERE product_id = %d", rnd.IntN(1000), p)
				case r < 35:
					q = fmt.Sprintf("INSERT INTO warehouse_stock_item VALUES (%d,%d,%d) ON DUPLICATE KEY UPDATE qty_salable = VALUES(qty_salable)", p, wh, rnd.IntN(1000))
				case r < 39:
					q = fmt.Sprintf("DELETE FROM warehouse_stock_item WHERE product_id = %d AND warehouse_id = %d", p, wh)
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
	pollUntil(t, 10*time.Second, func() (bool, string) { return writes.Load() >= 50, "writes before the node starts" })
	before := writes.Load()
	n, _ := launchNode(t, nil, db.DSN("inventory"), broker.addr(), func(c *serveConfig) {
		c.Warm, c.CacheBytes = warmSource{mode: warmAll}, 64<<20
	})
	n.waitReady(t)
	during := writes.Load() - before
	stopWrites()
	wg.Wait()
	t.Logf("%d writes, %d of them while the node started and warmed", writes.Load(), during)
	if during < 20 {
		t.Fatalf("only %d writes while the node warmed: the test did not race the warm", during)
	}
	// A product whose every row was deleted before the listing reached it
	// is not listed; there are few.
	if got := scrape(t, n, "gintoki_warm_products_loaded_total"); got < products*99/100 {
		t.Fatalf("warm loaded %v products, want about %d", got, products)
	}
	if scrape(t, n, "gintoki_warming") != 0 {
		t.Fatal("gintoki_warming is 1 on a ready node")
	}

	// Every product came from the warm, and every one converges to the
	// database from the cache, with the stream alone.
	missesBefore := scrape(t, n, "gintoki_cache_misses_total")
	want := allFromSQL(t, db)
	pollUntil(t, 20*time.Second, func() (bool, string) {
		d := diff(cachedBodies(t, n, products), want)
		return d == "", d
	})
	// Only products deleted whole before the listing and inserted again
	// since may miss.
	if misses := scrape(t, n, "gintoki_cache_misses_total") - missesBefore; misses > products/100 {
		t.Fatalf("%v reads after the warm missed the cache: the check did not test warmed entries", misses)
	}
}

// Until the warm ends, /readyz answers 503 "warming", gRPC health says
// NOT_SERVING and gintoki_ready is 0, while the change consumer keeps
// applying changes. The warm is held by a write lock on the stock table
// (the warehouse table stays free, so its changes flow).
func TestWarmingNotReady(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 300)
	broker := newRestartableBroker(t, 3, testTopics...)
	startRelay(t, db, broker.addr())
	waitCheckpoint(t, broker.addr())
	lock, err := db.DB(t, "inventory").Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(context.Background(), "LOCK TABLES warehouse_stock_item WRITE"); err != nil {
		t.Fatal(err)
	}
	n, _ := launchNode(t, nil, db.DSN("inventory"), broker.addr(), func(c *serveConfig) {
		c.Warm, c.LoadTimeout = warmSource{mode: warmAll}, time.Minute
	})
	pollUntil(t, 20*time.Second, func() (bool, string) { // the directory loads; the warm's listing waits for the lock
		code, body := n.get(t, "/readyz", nil)
		return code == 503 && body == "warming\n", fmt.Sprintf("%d %q", code, body)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if h, err := healthpb.NewHealthClient(n.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || h.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("gRPC health while warming: %v %v, want NOT_SERVING", h, err)
	}
	if scrape(t, n, "gintoki_ready") != 0 || scrape(t, n, "gintoki_warming") != 1 {
		t.Fatal("gintoki_ready or gintoki_warming wrong while warming")
	}
	// A change consumed during the warm is applied: the directory follows
	// a warehouse renamed now, and the products the warm loads after it
	// show the new code.
	applied := scrape(t, n, "gintoki_changes_applied_total")
	db.Exec(t, "UPDATE warehouse SET code = 'WH-NEW' WHERE id = 2")
	pollUntil(t, 15*time.Second, func() (bool, string) {
		return scrape(t, n, "gintoki_changes_applied_total") > applied, "the warehouse change applied while warming"
	})
	if code, body := n.get(t, "/readyz", nil); code != 503 || body != "warming\n" {
		t.Fatalf("/readyz = %d %q: the warm ended while the table was locked", code, body)
	}
	if _, err := lock.ExecContext(context.Background(), "UNLOCK TABLES"); err != nil {
		t.Fatal(err)
	}
	n.waitReady(t)
	pollUntil(t, 10*time.Second, func() (bool, string) {
		h, err := healthpb.NewHealthClient(n.conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err == nil && h.Status == healthpb.HealthCheckResponse_SERVING && scrape(t, n, "gintoki_ready") == 1, fmt.Sprint(h, err)
	})
	got := cachedBodies(t, n, 300)
	if d := diff(got, allFromSQL(t, db)); d != "" {
		t.Fatalf("after the warm:\n%s", d)
	}
	if !strings.Contains(got[2], "WH-NEW") { // product 2 is stocked in warehouse 2
		t.Fatalf("product 2 = %s, want the renamed warehouse", got[2])
	}
}

// A running node's key list (/debug/cached-ids on its admin address) warms
// another: saved to a file (--warm file:PATH) or fetched (--warm peer:URL).
// Either way the new node holds exactly those products, and reads of them
// hit. A peer that cannot be read makes the node warm every product.
func TestWarmFromFileAndPeer(t *testing.T) {
	const products = 500
	db := mariadbtest.Start(t)
	seedSmall(t, db, products)
	broker := newRestartableBroker(t, 3, testTopics...)
	admin := func(c *serveConfig) { c.API.AdminAddr = "127.0.0.1:0" }
	a := startNode(t, db.DSN("inventory"), broker.addr(), admin)      // warm off
	hot := []int64{3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 99999} // 99999 does not exist: cached as unknown
	for _, id := range hot {
		a.get(t, fmt.Sprintf("/v1/products/%d/inventory", id), nil)
	}
	resp, err := http.Get("http://" + a.admin + "/debug/cached-ids")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ids, err := readKeyList(strings.NewReader(string(list)), "cached-ids")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int64, len(ids))
	for i, id := range ids {
		got[i] = int64(id)
	}
	slices.Sort(got)
	if want := slices.Sorted(slices.Values(hot)); !slices.Equal(got, want) || !strings.HasPrefix(string(list), httpapi.CachedIDsHeader) {
		t.Fatalf("/debug/cached-ids = %q, want the header and %v", list, want)
	}
	path := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(path, append(list, "\n# hand-added, with a comment\n  400  # trailing comment\n"...), 0o600); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, n *node, want []int64) {
		t.Helper()
		if got := scrape(t, n, "gintoki_cache_entries"); got != float64(len(want)) {
			t.Errorf("entries after the warm = %v, want %d", got, len(want))
		}
		if got := scrape(t, n, "gintoki_warm_target_products"); got != float64(len(want)) {
			t.Errorf("gintoki_warm_target_products = %v, want %d", got, len(want))
		}
		misses := scrape(t, n, "gintoki_cache_misses_total")
		for _, id := range want {
			n.get(t, fmt.Sprintf("/v1/products/%d/inventory", id), nil)
		}
		if d := scrape(t, n, "gintoki_cache_misses_total") - misses; d != 0 {
			t.Errorf("%v reads of warmed products missed", d)
		}
	}
	t.Run("file", func(t *testing.T) {
		n := startNode(t, db.DSN("inventory"), broker.addr(), func(c *serveConfig) { c.Warm = warmSource{mode: warmFile, arg: path} })
		check(t, n, append(slices.Clone(hot), 400))
	})
	t.Run("peer", func(t *testing.T) {
		var w warmSource
		if err := w.Set("peer:http://" + a.admin); err != nil {
			t.Fatal(err)
		}
		n := startNode(t, db.DSN("inventory"), broker.addr(), func(c *serveConfig) { c.Warm = w })
		check(t, n, hot)
	})
	t.Run("peer unreachable: every product", func(t *testing.T) {
		n := startNode(t, db.DSN("inventory"), broker.addr(), func(c *serveConfig) {
			c.Warm = warmSource{mode: warmPeer, arg: "http://" + closedAddr(t) + cachedIDsPath}
		})
		if got := scrape(t, n, "gintoki_cache_entries"); got != products {
			t.Errorf("entries = %v, want every product (%d)", got, products)
		}
	})
	t.Run("bad file stops the node", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.txt")
		if err := os.WriteFile(bad, []byte("1\n2\nseven\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := serveConfig{Warm: warmSource{mode: warmFile, arg: bad}, WarmTimeout: time.Second}
		if _, err := newWarmer(cfg, nil, nil, nil, nil); err == nil || !strings.Contains(err.Error(), `line 3: "seven" is not a product id`) {
			t.Fatalf("newWarmer with a bad file: %v", err)
		}
	})
}

// closedAddr returns a loopback address nothing listens on: a port bound
// and closed again, so that connecting to it is refused. (Should another
// process take the port meanwhile, it would not serve the id list either.)
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		tb.Fatal(err)
	}
	return addr
}
