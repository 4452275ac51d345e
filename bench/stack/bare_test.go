package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
)

// testProducts returns the JSON and protobuf bodies of products 1..n.
func testProducts(tb testing.TB, n int) (jsonBodies, protoBodies map[int64][]byte) {
	tb.Helper()
	jsonBodies, protoBodies = map[int64][]byte{}, map[int64][]byte{}
	for id := int64(1); id <= int64(n); id++ {
		m := &inventoryv1.ProductInventory{ProductId: id, Warehouses: []*inventoryv1.WarehouseStock{
			{WarehouseCode: "WH-AMS", QtySalable: int32(id)}, {WarehouseCode: "WH-\"Q\"", QtySalable: 0},
		}}
		b, err := proto.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		protoBodies[id] = b
		jsonBodies[id] = []byte(`{"product_id":` + strconv.FormatInt(id, 10) +
			`,"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":` + strconv.FormatInt(id, 10) +
			`},{"warehouse_code":"WH-\"Q\"","qty_salable":0}]}`)
	}
	return jsonBodies, protoBodies
}

func listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}

func TestBareHTTP(t *testing.T) {
	bodies, _ := testProducts(t, 3)
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeBareHTTP(ctx, ln, bodies) }()
	base := "http://" + ln.Addr().String()
	for _, tc := range []struct {
		path   string
		status int
		body   []byte
	}{
		{"/v1/products/2/inventory", 200, bodies[2]},
		{"/cache?product_id=3", 200, bodies[3]},
		{"/v1/products/9/inventory", 404, nil},
		{"/v1/products/x/inventory", 404, nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(base + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || tc.body != nil && !bytes.Equal(b, tc.body) {
				t.Errorf("got %d %q", resp.StatusCode, b)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBareGRPC(t *testing.T) {
	_, bodies := testProducts(t, 2500)
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeBareGRPC(ctx, ln, bodies) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := inventoryv1.NewInventoryServiceClient(cc)

	got, err := client.GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: 7})
	if err != nil || got.GetProductId() != 7 || got.GetWarehouses()[0].GetQtySalable() != 7 {
		t.Fatalf("GetInventory: %v, %v", got, err)
	}
	if _, err := client.GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: 99999}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown id: %v", err)
	}
	batch, err := client.BatchGetInventory(ctx, &inventoryv1.BatchGetInventoryRequest{ProductIds: []int64{3, 99998, 1, 99999}})
	if err != nil || len(batch.GetProducts()) != 2 || batch.GetProducts()[0].GetProductId() != 3 || len(batch.GetNotFound()) != 2 || batch.GetNotFound()[1] != 99999 {
		t.Errorf("BatchGetInventory: %v, %v", batch, err)
	}

	// The raw fetch returns the bodies byte for byte.
	n := 0
	if err := probe.BatchGetGRPCRaw(ctx, cc, 2500, 1000, func(ps []probe.Product) {
		for _, p := range ps {
			n++
			if !bytes.Equal(p.Body, bodies[p.ID]) {
				t.Errorf("product %d: body differs", p.ID)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2500 {
		t.Errorf("fetched %d products", n)
	}

	res, err := loadgen.RunGRPC(ctx, loadgen.GRPCRun{Addr: ln.Addr().String(), Conns: 2, Callers: 4, Duration: 100 * time.Millisecond, MaxID: 2500, Batch: 10})
	if err != nil || res.Calls == 0 || res.Errors != 0 || math.Abs(res.ProductsPS-10*res.RPS) > 1e-6*res.ProductsPS {
		t.Errorf("load: %+v, %v", res, err)
	}
}

// TestBatchGetHTTP runs the warm-up client against a fake batch endpoint.
func TestBatchGetHTTP(t *testing.T) {
	bodies, protoBodies := testProducts(t, 2345)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ProductIDs []int64 `json:"product_ids"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/v1/inventory:batchGet" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var ps []string
		var missing []string
		for _, id := range req.ProductIDs {
			if id%1000 == 0 {
				missing = append(missing, strconv.FormatInt(id, 10))
				continue
			}
			ps = append(ps, string(bodies[id]))
		}
		_, _ = io.WriteString(w, `{"products":[`+strings.Join(ps, ",")+`],"not_found":[`+strings.Join(missing, ",")+`]}`)
	}))
	defer srv.Close()
	seen := map[int64]bool{}
	notFound, err := probe.BatchGetHTTP(context.Background(), srv.Client(), srv.URL, 2345, 1000, 2, func(ps []probe.Product) {
		for _, p := range ps {
			if seen[p.ID] || !bytes.Equal(p.Body, bodies[p.ID]) {
				t.Errorf("product %d: duplicate or wrong body", p.ID)
			}
			seen[p.ID] = true
			if n, err := probe.ProtoSizeOfJSON(p.Body); err != nil || n != len(protoBodies[p.ID]) {
				t.Errorf("product %d: protobuf size %d, %v; want %d", p.ID, n, err, len(protoBodies[p.ID]))
			}
		}
	})
	if err != nil || notFound != 2 || len(seen) != 2343 {
		t.Errorf("notFound %d, found %d, err %v", notFound, len(seen), err)
	}

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }))
	defer failing.Close()
	if _, err := probe.BatchGetHTTP(context.Background(), failing.Client(), failing.URL, 5000, 1000, 2, func([]probe.Product) {}); err == nil {
		t.Error("no error from a failing server")
	}
}
