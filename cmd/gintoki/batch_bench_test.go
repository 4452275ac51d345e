package main

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

// BenchmarkGetBatch measures the use case's batch read of 100 distinct
// cached products (protobuf bodies), without a transport, against reading
// the same bodies from a map.
func BenchmarkGetBatch(b *testing.B) {
	svc, bodies, _ := warmService(b, benchProducts, formatProto)
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
			if _, err := svc.GetBatch(context.Background(), batches[i%len(batches)], formatProto); err != nil {
				b.Fatal(err)
			}
		}
	})
}
