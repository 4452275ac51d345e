package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/mariadbtest"
)

func TestReadAPI(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 300)
	broker := startBroker(t, 3, testTopics...)
	n := startNode(t, db.DSN("inventory"), broker, func(c *serveConfig) {
		c.MaxBatch = 50
		// A loaded machine must not fail a fill: a failed one makes the
		// node probe the database every second until one succeeds, and
		// those probes are SELECTs that "1000 concurrent misses" counts.
		// With the database down, fills fail at once (connection refused).
		c.LoadTimeout = 30 * time.Second
	})
	ctx := context.Background()

	t.Run("single reads match SQL over HTTP and gRPC", func(t *testing.T) {
		for id := int64(1); id <= 302; id += 7 {
			want, exists := inventoryFromSQL(t, db, id)
			for _, path := range []string{fmt.Sprintf("/v1/products/%d/inventory", id), fmt.Sprintf("/cache?product_id=%d", id)} {
				for round := range 2 { // miss, then hit
					code, body := n.get(t, path, nil)
					if !exists {
						if code != 404 || !strings.Contains(body, `"NOT_FOUND"`) {
							t.Fatalf("round %d GET %s = %d %s, want 404", round, path, code, body)
						}
						continue
					}
					if code != 200 || body != want {
						t.Fatalf("round %d GET %s = %d %s\nwant %s", round, path, code, body, want)
					}
				}
			}
			resp, err := n.grpc.GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: id})
			if !exists {
				if status.Code(err) != codes.NotFound {
					t.Fatalf("gRPC %d: %v, want NotFound", id, err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := protoJSON(t, resp); got != want {
				t.Fatalf("gRPC %d = %s, want %s", id, got, want)
			}
		}
	})

	t.Run("batch reads match SQL, per position", func(t *testing.T) {
		ids := []int64{5, 999, 6, 5, 250, 1000, 999}
		var wantBodies []string
		for _, id := range []int64{5, 6, 5, 250} {
			w, _ := inventoryFromSQL(t, db, id)
			wantBodies = append(wantBodies, w)
		}
		want := `{"products":[` + strings.Join(wantBodies, ",") + `],"not_found":[999,1000,999]}`
		b, _ := json.Marshal(map[string]any{"product_ids": ids})
		if code, body := n.post(t, "/v1/inventory:batchGet", string(b)); code != 200 || body != want {
			t.Fatalf("batch = %d %s\nwant %s", code, body, want)
		}
		resp, err := n.grpc.BatchGetInventory(ctx, &inventoryv1.BatchGetInventoryRequest{ProductIds: ids})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range resp.Products {
			got = append(got, protoJSON(t, p))
		}
		if strings.Join(got, ",") != strings.Join(wantBodies, ",") || fmt.Sprint(resp.NotFound) != "[999 1000 999]" {
			t.Fatalf("gRPC batch = %v %v", got, resp.NotFound)
		}
	})

	t.Run("bad input is a 400 / InvalidArgument with a JSON error", func(t *testing.T) {
		for _, path := range []string{"/v1/products/abc/inventory", "/v1/products/0/inventory", "/v1/products/-3/inventory",
			"/v1/products/99999999999999999999/inventory", "/cache", "/cache?product_id=x", "/cache?product_id=1&product_id=2"} {
			code, body := n.get(t, path, nil)
			var e struct {
				Error struct {
					Code            int
					Status, Message string
				}
			}
			if code != 400 || json.Unmarshal([]byte(body), &e) != nil || e.Error.Status != "INVALID_ARGUMENT" || e.Error.Message == "" {
				t.Errorf("GET %s = %d %s, want 400 INVALID_ARGUMENT", path, code, body)
			}
		}
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprint(i + 1)
		}
		for _, body := range []string{``, `{`, `[]`, `{"product_ids":[]}`, `{"product_ids":["a"]}`, `{"product_ids":[1]} x`,
			`{"product_ids":[1],"other":1}`, `{"product_ids":[0]}`, `{"product_ids":[` + strings.Join(many, ",") + `]}`,
			`{"product_ids":[` + strings.Repeat("1,", 600000) + `1]}`} {
			if code, resp := n.post(t, "/v1/inventory:batchGet", body); code != 400 || !strings.Contains(resp, "INVALID_ARGUMENT") {
				t.Errorf("POST %.40q = %d %s, want 400", body, code, resp)
			}
		}
		for _, req := range []*inventoryv1.GetInventoryRequest{{ProductId: 0}, {ProductId: -1}} {
			if _, err := n.grpc.GetInventory(ctx, req); status.Code(err) != codes.InvalidArgument {
				t.Errorf("gRPC get %d: %v", req.ProductId, err)
			}
		}
		for _, ids := range [][]int64{nil, make([]int64, 51)} {
			if _, err := n.grpc.BatchGetInventory(ctx, &inventoryv1.BatchGetInventoryRequest{ProductIds: ids}); status.Code(err) != codes.InvalidArgument {
				t.Errorf("gRPC batch of %d: %v", len(ids), err)
			}
		}
		if code, _ := n.get(t, "/nope", nil); code != 404 {
			t.Errorf("unknown route = %d", code)
		}
	})

	t.Run("request ids", func(t *testing.T) {
		req, _ := http.NewRequest("GET", n.http+"/v1/products/1/inventory", nil)
		req.Header.Set("X-Request-Id", "abc-123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Request-Id"); got != "abc-123" {
			t.Errorf("echoed request id = %q", got)
		}
		resp, err = http.Get(n.http + "/v1/products/1/inventory")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Request-Id") == "" {
			t.Error("no generated request id")
		}
		var hdr metadata.MD
		mctx := metadata.AppendToOutgoingContext(ctx, "x-request-id", "grpc-77")
		if _, err := n.grpc.GetInventory(mctx, &inventoryv1.GetInventoryRequest{ProductId: 1}, grpcHeader(&hdr)); err != nil {
			t.Fatal(err)
		}
		if got := hdr.Get("x-request-id"); len(got) != 1 || got[0] != "grpc-77" {
			t.Errorf("gRPC request id = %v", got)
		}
	})

	t.Run("health, readiness, metrics, openapi", func(t *testing.T) {
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/openapi.yaml": "openapi: 3"} {
			if code, body := n.get(t, path, nil); code != 200 || !strings.Contains(body, want) {
				t.Errorf("GET %s = %d %s", path, code, body)
			}
		}
		pollUntil(t, 5*time.Second, func() (bool, string) {
			h, err := healthpb.NewHealthClient(n.conn).Check(ctx, &healthpb.HealthCheckRequest{})
			return err == nil && h.Status == healthpb.HealthCheckResponse_SERVING, fmt.Sprint(h, err)
		})
		_, body := n.get(t, "/metrics", nil)
		for _, m := range []string{"gintoki_cache_hits_total", "gintoki_cache_misses_total", "gintoki_cache_negative_hits_total",
			"gintoki_cache_entries", "gintoki_cache_evictions_total", "gintoki_db_loads_total", "gintoki_db_load_duration_seconds_bucket",
			"gintoki_coalesced_waiters_total", `gintoki_request_duration_seconds_count{code="200",route="get_inventory",transport="http"}`,
			`transport="grpc"`, "gintoki_consumer_lag_records", "gintoki_consumer_attached 1", "gintoki_change_apply_delay_seconds",
			"gintoki_ready 1", "gintoki_stale ", `gintoki_changes_rejected_total{reason="malformed"} 0`} {
			if !strings.Contains(body, m) {
				t.Errorf("/metrics lacks %s", m)
			}
		}
	})

	t.Run("1000 concurrent misses on one key cost one query at the database", func(t *testing.T) {
		const id = 77
		before := db.QueryCount(t, "Com_select")
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		want, _ := inventoryFromSQL(t, db, id)
		afterSQL := db.QueryCount(t, "Com_select") // inventoryFromSQL ran two SELECTs
		for range 1000 {
			wg.Go(func() { // no t.Fatal here: not the test's goroutine
				resp, err := httpGet(context.Background(), n.http+fmt.Sprintf("/v1/products/%d/inventory", id))
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err != nil || resp.StatusCode != 200 || string(body) != want {
					errs <- fmt.Errorf("%d %s (%v)", resp.StatusCode, body, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := db.QueryCount(t, "Com_select") - afterSQL; got != 1 {
			t.Fatalf("SELECTs at the database for 1000 concurrent misses = %d, want 1 (before %d)", got, before)
		}
	})

	t.Run("database down: cached keys served, uncached keys 503", func(t *testing.T) {
		n.get(t, "/v1/products/3/inventory", nil)
		db.Stop(t)
		if code, _ := n.get(t, "/v1/products/3/inventory", nil); code != 200 {
			t.Errorf("cached read with the database down = %d", code)
		}
		if code, body := n.get(t, "/v1/products/4/inventory", nil); code != 503 || !strings.Contains(body, "UNAVAILABLE") {
			t.Errorf("uncached read with the database down = %d %s", code, body)
		}
		if _, err := n.grpc.GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: 4}); status.Code(err) != codes.Unavailable {
			t.Errorf("gRPC uncached read with the database down: %v", err)
		}
		// The public body names no internal host; the metric says not
		// ready too.
		if code, body := n.get(t, "/readyz", nil); code != 503 || body != "not ready\n" {
			t.Errorf("/readyz with the database down = %d %q, want 503 \"not ready\"", code, body)
		}
		// gintoki_ready follows the policy's periodic check (healthInterval).
		pollUntil(t, 5*time.Second, func() (bool, string) {
			_, body := n.get(t, "/metrics", nil)
			return strings.Contains(body, "\ngintoki_ready 0\n"), "gintoki_ready is not 0 with the database down"
		})
		db.Restart(t)
		n.waitReady(t)
		if code, _ := n.get(t, "/v1/products/4/inventory", nil); code != 200 {
			t.Errorf("after restart = %d", code)
		}
	})
}

func protoJSON(tb testing.TB, m *inventoryv1.ProductInventory) string {
	tb.Helper()
	// Normalise to the HTTP body's shape: numbers, not strings, for int64.
	type wh struct {
		Code string `json:"warehouse_code"`
		Qty  int32  `json:"qty_salable"`
	}
	out := struct {
		ProductID  int64 `json:"product_id"`
		Warehouses []wh  `json:"warehouses"`
	}{ProductID: m.ProductId, Warehouses: []wh{}}
	for _, w := range m.Warehouses {
		out.Warehouses = append(out.Warehouses, wh{w.WarehouseCode, w.QtySalable})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// The database-only mode (a benchmark baseline) reads every request from
// the database, warehouses included, with no change stream.
func TestNoCacheMode(t *testing.T) {
	db := mariadbtest.Start(t)
	seedSmall(t, db, 20)
	n := startNode(t, db.DSN("inventory"), "", func(c *serveConfig) { c.NoCache = true })
	n.waitReady(t)
	for _, change := range []string{"", "UPDATE warehouse SET is_active = 1 - is_active", "UPDATE warehouse_stock_item SET qty_salable = qty_salable + 1"} {
		if change != "" {
			db.Exec(t, change)
		}
		for id := int64(1); id <= 21; id++ {
			want, exists := inventoryFromSQL(t, db, id)
			code, body := n.get(t, fmt.Sprintf("/v1/products/%d/inventory", id), nil)
			if exists && (code != 200 || body != want) || !exists && code != 404 {
				t.Fatalf("after %q: product %d = %d %s, want %s", change, id, code, body, want)
			}
		}
	}
	code, body := n.post(t, "/v1/inventory:batchGet", `{"product_ids":[1,2,99]}`)
	if code != 200 || !strings.Contains(body, `"not_found":[99]`) {
		t.Fatalf("batch = %d %s", code, body)
	}
}
