package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/inventory"
)

// BenchmarkWarm measures the node's own share of a warm start, per product
// (ns/op, allocs/op): the fill machinery, rendering both views and the
// cache install, over an in-memory store, so without SQL. The database's
// share is measured end to end (README, "Warm start").
func BenchmarkWarm(b *testing.B) {
	const products = 100_000
	ids := make([]inventory.ProductID, products)
	for i := range ids {
		ids[i] = inventory.ProductID(i + 1)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		c, err := cache.New(64 << 20)
		if err != nil {
			b.Fatal(err)
		}
		svc := app.New(memStore{}, c, []app.Renderer{formatJSON: httpapi.JSONRenderer{}, formatProto: grpcapi.ProtoRenderer{}}, app.Config{}, log)
		if err := svc.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := svc.Warm(context.Background(), nil, ids, app.WarmConfig{}, new(app.WarmProgress), log); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		svc.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*products), "ns/product")
}
