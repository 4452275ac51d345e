package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/inventory"
)

// memStore is a Store over generated data: product p is stocked in 1–5 of 8
// warehouses, like the demo data.
type memStore struct{}

func (memStore) LoadProducts(_ context.Context, ids []inventory.ProductID) (app.Snapshot, error) {
	snap := app.Snapshot{Pos: inventory.Position{File: 1, Offset: 4}, Stock: map[inventory.ProductID][]inventory.Stock{}}
	for _, id := range ids {
		n := int(id)%5 + 1
		for w := range n {
			snap.Stock[id] = append(snap.Stock[id], inventory.Stock{Warehouse: inventory.WarehouseID((int(id)+w)%8 + 1), Qty: int32(id*7) % 500})
		}
	}
	return snap, nil
}

func (memStore) LoadWarehouses(context.Context) ([]inventory.Warehouse, inventory.Position, error) {
	var ws []inventory.Warehouse
	for i, code := range []string{"WH-AMS", "WH-BER", "WH-CDG", "WH-DUB", "WH-FRA", "WH-LIS", "WH-MAD", "WH-WAW"} {
		ws = append(ws, inventory.Warehouse{ID: inventory.WarehouseID(i + 1), Code: code, Active: i != 5})
	}
	return ws, inventory.Position{File: 1, Offset: 4}, nil
}

// discardWriter is a minimal http.ResponseWriter.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

const benchProducts = 100_000

// warmService returns a service over memStore with products 1..n cached,
// their bodies in format (for a bare baseline) and the service's logger.
func warmService(tb testing.TB, n int, format app.BodyFormat) (*app.Service, map[inventory.ProductID][]byte, *slog.Logger) {
	tb.Helper()
	c, err := cache.New(256 << 20)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := app.New(memStore{}, c, []app.Renderer{formatJSON: httpapi.JSONRenderer{}, formatProto: grpcapi.ProtoRenderer{}}, app.Config{}, log)
	if err := svc.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	bodies := make(map[inventory.ProductID][]byte, n)
	for id := inventory.ProductID(1); id <= inventory.ProductID(n); id++ {
		b, _, err := svc.Get(context.Background(), id, format, nil)
		if err != nil {
			tb.Fatal(err)
		}
		bodies[id] = b
	}
	return svc, bodies, log
}

// BenchmarkHTTPHitPath measures one cached read through the HTTP handler
// (routing, request id, metrics, cache lookup, write), without the network,
// against a bare handler that writes the same bytes from a map. Compare the
// two sub-benchmarks' ns/op.
func BenchmarkHTTPHitPath(b *testing.B) {
	svc, bodies, log := warmService(b, benchProducts, formatJSON)
	h := httpapi.New(svc, httpapi.Config{Format: formatJSON}, log, nil)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("product_id"))
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = w.Write(bodies[inventory.ProductID(id)])
	})
	bareMux := http.NewServeMux()
	bareMux.Handle("GET /v1/products/{product_id}/inventory", bare)
	reqs := make([]*http.Request, 1024)
	for i := range reqs {
		reqs[i], _ = http.NewRequest("GET", fmt.Sprintf("/v1/products/%d/inventory", (i*7919)%benchProducts+1), nil)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bareMux}, {"gintoki", h}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				i := 0
				for pb.Next() {
					clear(w.h)
					w.status = 0
					bc.h.ServeHTTP(w, reqs[i%len(reqs)])
					i++
				}
			})
		})
	}
}
