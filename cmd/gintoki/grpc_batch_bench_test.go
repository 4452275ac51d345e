package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/grpcraw"
	"github.com/gintoki/gintoki/inventory"
)

// BenchmarkGRPCBatch measures BatchGetInventory of 100 distinct cached ids
// over loopback TCP against a bare grpc-go server that frames the same
// pre-encoded bodies from a map (as `gintoki-bench bare-grpc` does), with no
// interceptor. Compare the sub-benchmarks' ns/op.
func BenchmarkGRPCBatch(b *testing.B) {
	contenders := grpcContenders(b, benchProducts, "BatchGetInventory",
		func(bodies map[inventory.ProductID][]byte, dec func(any) error) (any, error) {
			var req inventoryv1.BatchGetInventoryRequest
			if err := dec(&req); err != nil {
				return nil, err
			}
			var out []byte
			for _, id := range req.GetProductIds() {
				out = protowire.AppendTag(out, 1, protowire.BytesType)
				out = protowire.AppendBytes(out, bodies[inventory.ProductID(id)])
			}
			return grpcraw.Message(out), nil
		})
	rng := rand.New(rand.NewPCG(1, 2))
	batches := make([][]int64, 1024)
	for i := range batches {
		for _, p := range rng.Perm(benchProducts)[:100] {
			batches[i] = append(batches[i], int64(p+1))
		}
	}
	runGRPCContenders(b, contenders, 8, func() grpcCall {
		i := rand.IntN(len(batches))
		return func(client inventoryv1.InventoryServiceClient) error {
			i++
			resp, err := client.BatchGetInventory(context.Background(), &inventoryv1.BatchGetInventoryRequest{ProductIds: batches[i%len(batches)]})
			if err != nil || len(resp.GetProducts()) != 100 {
				return fmt.Errorf("%d products, err %v", len(resp.GetProducts()), err)
			}
			return nil
		}
	})
}
