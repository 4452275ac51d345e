package main

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/grpcapi"
	"github.com/gintoki/gintoki/httpapi"
	"github.com/gintoki/gintoki/inventory"
)

// BenchmarkGetBatch measures the use case's batch read of 100 distinct
// cached products (protobuf bodies), without a transport, against reading
// the same bodies from a map.
func BenchmarkGetBatch(b *testing.B) {
	c, err := cache.New(256 << 20)
	if err != nil {
		b.Fatal(err)
	}
	svc := app.New(memStore{}, c, []app.Renderer{viewJSON: httpapi.JSONRenderer{}, viewProto: grpcapi.ProtoRenderer{}}, app.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := svc.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	bodies := make(map[inventory.ProductID][]byte, benchProducts)
	for id := 1; id <= benchProducts; id++ {
		body, err := svc.Get(context.Background(), inventory.ProductID(id), viewProto, nil)
		if err != nil {
			b.Fatal(err)
		}
		bodies[inventory.ProductID(id)] = body
	}
	rng := rand.New(rand.NewPCG(1, 2))
	batches := make([][]inventory.ProductID, 1024)
	for i := range batches {
		perm := rng.Perm(benchProducts)[:100]
		for _, p := range perm {
			batches[i] = append(batches[i], inventory.ProductID(p+1))
		}
	}
	b.Run("map", func(b *testing.B) {
		var n int
		for i := 0; b.Loop(); i++ {
			for _, id := range batches[i%len(batches)] {
				n += len(bodies[id])
			}
		}
		_ = n
	})
	b.Run("gintoki", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := svc.GetBatch(context.Background(), batches[i%len(batches)], viewProto); err != nil {
				b.Fatal(err)
			}
		}
	})
}
